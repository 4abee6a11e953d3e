//! Commit signature verification: commits signed by the real tools (`git commit -S` through
//! `ssh-keygen -Y sign` and through `gpg` in a private GNUPGHOME), verified by `render --git`.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::{failure, have, names, render};

/// Runs git in `repo` with `env`; returns stdout.
fn git(repo: &Path, env: &[(&str, &Path)], args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(repo)
        .args([
            "-c",
            "user.email=t@example.invalid",
            "-c",
            "user.name=test",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .envs(env.iter().map(|(k, v)| (*k, v.as_os_str())))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Commits one new file, signed as `sign` says (git `-c` options plus `-S...`), and tags it.
fn commit(repo: &Path, env: &[(&str, &Path)], name: &str, sign: &[&str]) -> String {
    std::fs::write(
        repo.join("apps").join(format!("{name}.yaml")),
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n"),
    )
    .unwrap();
    git(repo, env, &["add", "."]);
    let (config, flag): (Vec<&str>, Vec<&str>) = sign.iter().partition(|a| !a.starts_with("-S"));
    git(
        repo,
        env,
        &[&config[..], &["commit", "-q", "-m", name], &flag[..]].concat(),
    );
    git(repo, env, &["tag", name]);
    git(repo, env, &["rev-parse", "HEAD"]).trim().to_string()
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// Stops the gpg-agent that signing started in our GNUPGHOME.
struct GpgHome(PathBuf);

impl Drop for GpgHome {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf")
            .args(["--kill", "gpg-agent"])
            .env("GNUPGHOME", &self.0)
            .status();
    }
}

fn gpg(home: &Path, args: &[&str]) -> String {
    let out = Command::new("gpg")
        .args(["--batch", "--no-tty", "--homedir"])
        .arg(home)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "gpg {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A new signing key for `uid`; returns its fingerprint.
fn gpg_key(home: &Path, uid: &str) -> String {
    gpg(
        home,
        &["--passphrase", "", "--quick-gen-key", uid, "ed25519", "sign", "never"],
    );
    let listing = gpg(home, &["--with-colons", "--list-keys", uid]);
    listing
        .lines()
        .find_map(|l| l.strip_prefix("fpr:").map(|r| r.trim_matches(':').to_string()))
        .unwrap()
}

#[test]
fn commit_signatures_ssh_and_openpgp() {
    if !have("ssh-keygen", &["-?"]) || !have("gpg", &["--version"]) {
        sigil_tests::skip("ssh-keygen or gpg is missing (Debian: openssh-client, gnupg)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let keygen = |name: &str| {
        let key = d.join(name);
        let st = Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
            .arg(&key)
            .status()
            .unwrap();
        assert!(st.success());
        key
    };
    let (allowed_ssh, other_ssh) = (keygen("allowed_ssh"), keygen("other_ssh"));
    let home = d.join("gnupg");
    std::fs::create_dir(&home).unwrap();
    std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o700)).unwrap();
    let _agent = GpgHome(home.clone());
    let allowed_pgp = gpg_key(&home, "Allowed Signer <allowed@example.invalid>");
    let other_pgp = gpg_key(&home, "Other Signer <other@example.invalid>");
    let ring = d.join("ring.asc");
    std::fs::write(&ring, gpg(&home, &["--armor", "--export", &allowed_pgp])).unwrap();

    let repo = d.join("repo");
    std::fs::create_dir_all(repo.join("apps")).unwrap();
    let env = [("GNUPGHOME", home.as_path())];
    git(&repo, &env, &["init", "-q"]);
    let ssh_sign = |key: &Path| {
        vec![
            "-c".to_string(),
            "gpg.format=ssh".into(),
            "-c".into(),
            format!("user.signingkey={}", key.display()),
            "-S".into(),
        ]
    };
    let pgp_sign = |fpr: &str| vec!["-c".to_string(), "gpg.format=openpgp".into(), format!("-S{fpr}")];
    let ssh_signed = commit(&repo, &env, "ssh-signed", &strs(&ssh_sign(&allowed_ssh)));
    let pgp_signed = commit(&repo, &env, "pgp-signed", &strs(&pgp_sign(&allowed_pgp)));
    let unsigned = commit(&repo, &env, "unsigned", &[]);
    let other_ssh_signed = commit(&repo, &env, "other-ssh", &strs(&ssh_sign(&other_ssh)));
    let other_pgp_signed = commit(&repo, &env, "other-pgp", &strs(&pgp_sign(&other_pgp)));
    // The signed commit with its message changed and the signature kept.
    let raw = git(&repo, &env, &["cat-file", "commit", &ssh_signed]);
    assert!(raw.contains("-----BEGIN SSH SIGNATURE-----"));
    let forged = raw.replace("\nssh-signed\n", "\nssh-signed, and something else\n");
    let mut child = Command::new("git")
        .current_dir(&repo)
        .args(["hash-object", "-t", "commit", "-w", "--stdin"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), forged.as_bytes()).unwrap();
    let tampered = String::from_utf8(child.wait_with_output().unwrap().stdout)
        .unwrap()
        .trim()
        .to_string();
    git(&repo, &env, &["tag", "tampered", &tampered]);

    // Keys: the allowed SSH key in Git's allowed_signers form, and the exported keyring.
    let allowed = d.join("allowed_signers");
    let public = std::fs::read_to_string(allowed_ssh.with_extension("pub")).unwrap();
    std::fs::write(
        &allowed,
        format!("# who may sign\nallowed@example.invalid namespaces=\"git\" {public}"),
    )
    .unwrap();
    let url = repo.display().to_string();
    let cache = d.join("cache");
    let (allowed, ring) = (allowed.to_str().unwrap(), ring.to_str().unwrap());
    let both = ["--verify-ssh-keys", allowed, "--verify-pgp-keyring", ring];
    let with = |r: &str, keys: &[&str]| render(&url, &cache, &[&["--ref", r][..], keys].concat());

    // Good signatures are accepted, each with its own key list and with both given.
    let out = with("ssh-signed", &["--verify-ssh-keys", allowed]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("signed by SHA256:"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(names(&out), ["ssh-signed"]);
    let out = with("pgp-signed", &["--verify-pgp-keyring", ring]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&format!("signed by {allowed_pgp} (openpgp)")),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(names(&out), ["pgp-signed", "ssh-signed"]);
    assert_eq!(names(&with("ssh-signed", &both)), ["ssh-signed"]);
    assert_eq!(names(&with("pgp-signed", &both)), ["pgp-signed", "ssh-signed"]);

    // Refusals name the commit and the reason.
    let err = failure(&with("unsigned", &both));
    assert!(err.contains(&format!("commit {unsigned} is not signed")), "{err}");
    let err = failure(&with("other-ssh", &both));
    assert!(
        err.contains(&format!("commit {other_ssh_signed} is signed by SHA256:"))
            && err.contains("which is not an allowed key"),
        "{err}"
    );
    let err = failure(&with("other-pgp", &both));
    assert!(
        err.contains(&format!(
            "commit {other_pgp_signed} is signed by {other_pgp}, which is not an allowed key"
        )),
        "{err}"
    );
    let err = failure(&with("pgp-signed", &["--verify-ssh-keys", allowed]));
    assert!(
        err.contains(&format!(
            "commit {pgp_signed} is signed by {allowed_pgp}, which is not an allowed key"
        )),
        "{err}"
    );
    let err = failure(&with("tampered", &both));
    assert!(
        err.contains(&format!("commit {tampered}: the ssh signature by SHA256:")) && err.contains("does not verify"),
        "{err}"
    );
    // Without verification flags nothing is checked.
    assert_eq!(names(&with("unsigned", &[])), ["pgp-signed", "ssh-signed", "unsigned"]);
}
