//! A `GitSource` reconcile without the cluster: fetch options from the spec and its
//! credentials Secret (Flux's keys: `username`/`password`, `bearerToken`, `ca.crt`,
//! `identity`/`known_hosts`), trusted signing keys from the verification Secret, the fetch
//! and ref resolution (blocking: run it off the async runtime), and the status that results.
//! The controller reads the Secrets, calls these, and patches the status.

use std::collections::BTreeMap;
use std::path::Path;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use secrecy::SecretString;
use sigil_crds::sigil::{Artifact, GitSourceSpec, GitSourceStatus};
use zeroize::Zeroizing;

use crate::conditions;
use crate::source::verify::AllowedSigners;
use crate::source::{self, CaBundle, Credentials, FetchOptions, GitRef, Revision};

/// Status reason: the spec or a referenced Secret is unusable.
pub const INVALID: &str = "InvalidSpec";
/// Status reason: fetching or resolving failed.
pub const GIT_FAILED: &str = "GitOperationFailed";
/// Status reason: the commit's signature did not verify.
pub const VERIFICATION_FAILED: &str = "VerificationFailed";
/// Status reason: fetched.
pub const SUCCEEDED: &str = "Succeeded";

/// A failed reconcile: reason and a message naming what failed (never a credential).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}: {message}")]
pub struct Failure {
    /// One of the reasons above.
    pub reason: &'static str,
    /// What failed.
    pub message: String,
}

fn invalid(message: String) -> Failure {
    Failure {
        reason: INVALID,
        message,
    }
}

fn utf8(data: &BTreeMap<String, Zeroizing<Vec<u8>>>, key: &str) -> Result<Option<Zeroizing<String>>, Failure> {
    match data.get(key) {
        None => Ok(None),
        Some(v) => String::from_utf8(v.to_vec())
            .map(|s| Some(Zeroizing::new(s)))
            .map_err(|_| invalid(format!("credentials Secret key {key}: not UTF-8"))),
    }
}

/// Whether a GitSource may fetch `url`: `https://`, `http://` and `ssh://` (Flux's schemes);
/// `file://` only when the agent allows local sources (tests, a developer's machine).
pub fn check_url(url: &str, allow_local: bool) -> Result<(), Failure> {
    let scheme = url.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
    match scheme.as_deref() {
        Some("https" | "http" | "ssh") => Ok(()),
        Some("file") if allow_local => Ok(()),
        Some("file") => Err(invalid(format!(
            "url {url:?}: file:// sources are allowed only with --allow-local-sources"
        ))),
        Some(other) => Err(invalid(format!(
            "url {url:?}: scheme {other} is not supported (https, http, ssh)"
        ))),
        None => Err(invalid(format!("url {url:?}: not a URL (https://, http:// or ssh://)"))),
    }
}

/// Fetch options from the spec and the credentials Secret's data (base64-decoded).
pub fn fetch_options(
    spec: &GitSourceSpec,
    secret: Option<&BTreeMap<String, Zeroizing<Vec<u8>>>>,
) -> Result<FetchOptions, Failure> {
    let mut opts = FetchOptions::default();
    if let Some(t) = &spec.timeout {
        opts.timeout = crate::duration::parse(t)
            .filter(|d| !d.is_zero())
            .ok_or_else(|| invalid(format!("invalid timeout {t:?}")))?;
    }
    let Some(data) = secret else { return Ok(opts) };
    let secret = |k: &str| -> Result<Option<SecretString>, Failure> {
        Ok(utf8(data, k)?.map(|s| SecretString::from(s.trim_end_matches('\n').to_string())))
    };
    opts.credentials = Credentials {
        username: utf8(data, "username")?.map(|s| s.trim().to_string()),
        password: secret("password")?,
        bearer_token: secret("bearerToken")?,
        ssh_key: utf8(data, "identity")?.map(|s| SecretString::from(s.to_string())),
        known_hosts: utf8(data, "known_hosts")?.map(|s| s.to_string()),
    };
    if let Some(ca) = data.get("ca.crt") {
        opts.ca =
            Some(CaBundle::from_pem(ca, false).map_err(|e| invalid(format!("credentials Secret key ca.crt: {e}")))?);
    }
    Ok(opts)
}

/// Trusted signing keys from the verification Secret: `*.pub` (SSH public keys or
/// allowed_signers lines) and `*.asc`/`*.gpg` (armored OpenPGP keyrings).
pub fn allowed_signers(data: &BTreeMap<String, Zeroizing<Vec<u8>>>) -> Result<AllowedSigners, Failure> {
    let mut a = AllowedSigners::new();
    for (k, v) in data {
        let origin = format!("verification Secret key {k}");
        if k.ends_with(".asc") || k.ends_with(".gpg") {
            a.add_pgp_keyring(v, &origin).map_err(|e| invalid(e.to_string()))?;
        } else {
            let text = std::str::from_utf8(v).map_err(|_| invalid(format!("{origin}: not UTF-8")))?;
            a.add_ssh_keys(text, &origin).map_err(|e| invalid(e.to_string()))?;
        }
    }
    if a.is_empty() {
        return Err(invalid("the verification Secret holds no key".into()));
    }
    Ok(a)
}

/// Fetches the repository into `cache`, resolves the spec's ref and, when asked, verifies the
/// commit's signature. Blocking.
pub fn fetch(
    spec: &GitSourceSpec,
    opts: &FetchOptions,
    verify: Option<&AllowedSigners>,
    cache: &Path,
) -> Result<Revision, Failure> {
    let git = |e: source::SourceError| Failure {
        reason: GIT_FAILED,
        message: e.to_string(),
    };
    let repo = source::fetch(&spec.url, cache, opts).map_err(git)?;
    let r = spec.git_ref.clone().unwrap_or_default();
    let wanted = GitRef {
        branch: r.branch,
        tag: r.tag,
        semver: r.semver,
        commit: r.commit,
    };
    let rev = source::resolve(&repo, &spec.url, &wanted).map_err(git)?;
    if let Some(signers) = verify {
        let signer = signers.verify_commit(&repo, rev.commit).map_err(|e| Failure {
            reason: VERIFICATION_FAILED,
            message: e.to_string(),
        })?;
        tracing::info!(revision = %rev.name, signer = %signer.fingerprint, "commit signature verified");
    }
    Ok(rev)
}

/// The status after a reconcile: the artifact moves only on success; `Ready` says why.
pub fn status(
    prev: Option<&GitSourceStatus>,
    result: &Result<Revision, Failure>,
    generation: Option<i64>,
    now: Time,
) -> GitSourceStatus {
    let mut s = prev.cloned().unwrap_or_default();
    let mut conds: Vec<Condition> = std::mem::take(&mut s.conditions);
    match result {
        Ok(rev) => {
            let changed = s.artifact.as_ref().is_none_or(|a| a.revision != rev.name);
            if changed {
                s.artifact = Some(Artifact {
                    revision: rev.name.clone(),
                    last_update_time: Some(now.0.to_string()),
                });
            }
            conditions::set(
                &mut conds,
                "Ready",
                true,
                SUCCEEDED,
                &format!("stored artifact for revision '{}'", rev.name),
                generation,
                now,
            );
            conditions::remove(&mut conds, "Stalled");
        }
        Err(f) => {
            conditions::set(
                &mut conds,
                "Ready",
                false,
                f.reason,
                &f.message,
                generation,
                now.clone(),
            );
            if f.reason == INVALID {
                conditions::set(&mut conds, "Stalled", true, f.reason, &f.message, generation, now);
            }
        }
    }
    conditions::remove(&mut conds, "Reconciling");
    s.conditions = conds;
    s.observed_generation = generation;
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_schemes() {
        for ok in [
            "https://example.com/r.git",
            "http://h/r",
            "ssh://git@h/r.git",
            "HTTPS://x/y",
        ] {
            assert!(check_url(ok, false).is_ok(), "{ok}");
        }
        assert!(check_url("file:///tmp/repo", true).is_ok());
        for bad in [
            "file:///tmp/repo",
            "git://h/r",
            "/tmp/repo",
            "git@github.com:o/r.git",
            "ext::sh -c x",
        ] {
            let e = check_url(bad, false).unwrap_err();
            assert_eq!(e.reason, INVALID, "{bad}");
        }
    }
    use std::process::Command;

    fn git(dir: &Path, args: &[&str]) {
        let out = Command::new("git")
            .current_dir(dir)
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@example.com",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args)
            .output()
            .expect("git");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn t(s: i64) -> Time {
        Time(k8s_openapi::jiff::Timestamp::from_second(s).unwrap())
    }

    #[test]
    fn fetch_resolve_and_status_transitions() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        std::fs::create_dir(&repo).unwrap();
        git(&repo, &["init", "-q", "-b", "main"]);
        std::fs::write(repo.join("a.yaml"), "a: 1\n").unwrap();
        git(&repo, &["add", "."]);
        git(&repo, &["commit", "-q", "-m", "one"]);
        let spec = GitSourceSpec {
            url: format!("file://{}", repo.display()),
            git_ref: Some(sigil_crds::sigil::GitRef {
                branch: Some("main".into()),
                ..Default::default()
            }),
            interval: "1m".into(),
            ..Default::default()
        };
        let opts = fetch_options(&spec, None).unwrap();
        let cache = dir.path().join("cache");
        std::fs::create_dir(&cache).unwrap();
        let r = fetch(&spec, &opts, None, &cache);
        let rev = r.as_ref().unwrap().name.clone();
        assert!(rev.starts_with("main@sha1:"), "{rev}");
        let s1 = status(None, &r, Some(1), t(10));
        assert_eq!(s1.artifact.as_ref().unwrap().revision, rev);
        assert!(conditions::is_true(&s1.conditions, "Ready"));
        // A missing branch: Ready=False, the last artifact kept.
        let bad = GitSourceSpec {
            git_ref: Some(sigil_crds::sigil::GitRef {
                branch: Some("nope".into()),
                ..Default::default()
            }),
            ..spec.clone()
        };
        let r2 = fetch(&bad, &opts, None, &cache);
        let s2 = status(Some(&s1), &r2, Some(2), t(20));
        assert_eq!(s2.artifact, s1.artifact);
        let ready = s2.conditions.iter().find(|c| c.type_ == "Ready").unwrap();
        assert_eq!((ready.status.as_str(), ready.reason.as_str()), ("False", GIT_FAILED));
        assert!(ready.message.contains("nope"), "{}", ready.message);
        // Verification asked for, commit unsigned.
        let (_, public) = {
            let k = ssh_key::PrivateKey::random(&mut ssh_key::rand_core::OsRng, ssh_key::Algorithm::Ed25519).unwrap();
            let p = k.public_key().to_openssh().unwrap();
            (k, p)
        };
        let mut vdata = BTreeMap::new();
        vdata.insert("dev.pub".to_string(), Zeroizing::new(public.into_bytes()));
        let signers = allowed_signers(&vdata).unwrap();
        let r3 = fetch(&spec, &opts, Some(&signers), &cache);
        assert_eq!(r3.as_ref().unwrap_err().reason, VERIFICATION_FAILED);
        assert!(r3.unwrap_err().message.contains("not signed"));
    }

    #[test]
    fn options_from_a_flux_style_secret() {
        let spec = GitSourceSpec {
            url: "https://git.example/repo".into(),
            interval: "1m".into(),
            timeout: Some("90s".into()),
            ..Default::default()
        };
        let mut d = BTreeMap::new();
        d.insert("username".to_string(), Zeroizing::new(b"bot\n".to_vec()));
        d.insert("password".to_string(), Zeroizing::new(b"s3cret".to_vec()));
        d.insert("bearerToken".to_string(), Zeroizing::new(b"tok".to_vec()));
        let o = fetch_options(&spec, Some(&d)).unwrap();
        assert_eq!(o.timeout.as_secs(), 90);
        assert_eq!(o.credentials.username.as_deref(), Some("bot"));
        assert!(!format!("{o:?}").contains("s3cret"));
        d.insert("ca.crt".to_string(), Zeroizing::new(b"not a pem".to_vec()));
        assert_eq!(fetch_options(&spec, Some(&d)).unwrap_err().reason, INVALID);
        let bad = GitSourceSpec {
            timeout: Some("soon".into()),
            ..spec
        };
        assert!(
            fetch_options(&bad, None)
                .unwrap_err()
                .message
                .contains("invalid timeout")
        );
        assert!(allowed_signers(&BTreeMap::new()).is_err());
    }
}
