//! Git sources through gix: fetch a repository into a bare cache (only the committed bytes
//! ever touch disk), resolve a ref as Flux does (commit > semver > tag > branch), and read
//! files straight from the object database at that commit — no work tree.

use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use gix::protocol::transport::client::blocking_io::http::Options as HttpOptions;

use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::load::{FileTree, LoadError};

/// Why a source could not be fetched or read. Never shows a credential.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// Fetching failed (unreachable, auth refused, not a repository).
    #[error("fetching {url}: {reason}")]
    Fetch {
        /// The URL (credentials never embedded in it by us).
        url: String,
        /// Why.
        reason: String,
    },
    /// The ref does not resolve.
    #[error("{url}: {reason}")]
    Ref {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// The cache directory cannot be used.
    #[error("cache {0}: {1}")]
    Cache(String, String),
}

/// Which revision to build (precedence commit > semver > tag > branch, as Flux).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GitRef {
    /// A branch name.
    pub branch: Option<String>,
    /// A tag name.
    pub tag: Option<String>,
    /// A semver range over tags (`>=1.0.0, <2.0.0`).
    pub semver: Option<String>,
    /// A commit SHA (full or abbreviated).
    pub commit: Option<String>,
}

mod http;
mod ssh;
pub mod verify;

pub use http::CaBundle;

/// Credentials for the remote, in memory only (`Debug` shows which are set, never a value).
#[derive(Clone, Default)]
pub struct Credentials {
    /// Basic-auth user name.
    pub username: Option<String>,
    /// Basic-auth password (or token).
    pub password: Option<SecretString>,
    /// HTTPS bearer token, sent as `Authorization: Bearer` (never over plain `http://`).
    pub bearer_token: Option<SecretString>,
    /// An unencrypted OpenSSH private key for `ssh://` URLs.
    pub ssh_key: Option<SecretString>,
    /// `known_hosts` lines the SSH server's host key must match (required for `ssh://`).
    pub known_hosts: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("bearer_token", &self.bearer_token.as_ref().map(|_| "<redacted>"))
            .field("ssh_key", &self.ssh_key.as_ref().map(|_| "<redacted>"))
            .field("known_hosts", &self.known_hosts.as_ref().map(|k| k.lines().count()))
            .finish()
    }
}

/// How to fetch: credentials, TLS trust and a time limit.
#[derive(Clone, Debug)]
pub struct FetchOptions {
    /// Credentials for the remote.
    pub credentials: Credentials,
    /// Extra (or the only) CA certificates trusted for HTTPS.
    pub ca: Option<CaBundle>,
    /// The longest a fetch may take; connections and each network read are bounded by it too.
    pub timeout: Duration,
}

/// Flux's default `GitRepository` timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            credentials: Credentials::default(),
            ca: None,
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

/// A resolved revision: `<ref>@sha1:<sha>` as Flux writes it, and the commit id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    /// `main@sha1:...`, `v1.2.0@sha1:...`, or `sha1:...`.
    pub name: String,
    /// The commit.
    pub commit: gix::ObjectId,
}

/// The bare cache directory for `url` under `cache`.
fn cache_dir(cache: &Path, url: &str) -> PathBuf {
    let h = hex::encode(Sha256::digest(url.as_bytes()));
    cache.join(&h[..16])
}

/// The bare cache of `url` under `cache`, as the last [`fetch`] left it (no network).
pub fn open(url: &str, cache: &Path) -> Result<gix::Repository, SourceError> {
    let dir = cache_dir(cache, url);
    gix::open(&dir).map_err(|e| SourceError::Cache(dir.display().to_string(), e.to_string()))
}

/// Fetches all branches and tags of `url` into a bare repository under `cache` (incremental
/// on later calls) and returns it. The whole fetch is bounded by `opts.timeout`.
pub fn fetch(url: &str, cache: &Path, opts: &FetchOptions) -> Result<gix::Repository, SourceError> {
    let fetch_err = |reason: String| SourceError::Fetch {
        url: url.to_string(),
        reason,
    };
    // reqwest (gix's HTTP transport) is built without a default TLS provider: use ring.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let scheme = gix::url::parse(url)
        .map_err(|e| fetch_err(format!("invalid URL: {e}")))?
        .scheme;
    let creds = &opts.credentials;
    let bearer = match (&creds.bearer_token, &scheme) {
        (Some(_), gix::url::Scheme::Http) => {
            return Err(fetch_err(
                "refusing to send a bearer token in clear text over http://".into(),
            ));
        }
        (Some(token), gix::url::Scheme::Https) => Some(http::bearer_header(token).map_err(fetch_err)?),
        _ => None,
    };
    // Only for this fetch: the key file exists from here until `ssh_session` drops.
    let ssh_session = if scheme == gix::url::Scheme::Ssh {
        let known_hosts = creds.known_hosts.as_deref().ok_or_else(|| {
            fetch_err("ssh needs the server's host key: give known_hosts (unknown hosts are refused)".into())
        })?;
        Some(
            ssh::SshSession::new(creds.ssh_key.as_ref(), known_hosts, opts.timeout)
                .map_err(|e| fetch_err(format!("preparing ssh: {e}")))?,
        )
    } else {
        None
    };
    let dir = cache_dir(cache, url);
    let cache_err = |e: &dyn std::fmt::Display| SourceError::Cache(dir.display().to_string(), e.to_string());
    let mut repo = if dir.join("HEAD").is_file() {
        gix::open(&dir).map_err(|e| cache_err(&e))?
    } else {
        std::fs::create_dir_all(&dir).map_err(|e| cache_err(&e))?;
        gix::init_bare(&dir).map_err(|e| cache_err(&e))?
    };
    if let Some(session) = &ssh_session {
        // Appended last, so it wins over GIT_SSH_COMMAND and any core.sshCommand in config.
        repo.config_snapshot_mut()
            .append_config(
                [
                    format!("core.sshCommand={}", session.command()),
                    "ssh.variant=ssh".to_string(),
                ],
                gix::config::Source::Api,
            )
            .map_err(|e| fetch_err(chain(&e)))?;
    }
    let interrupt = AtomicBool::new(false);
    let result = std::thread::scope(|s| {
        let (done, wait) = std::sync::mpsc::channel::<()>();
        let interrupt = &interrupt;
        s.spawn(move || {
            if wait.recv_timeout(opts.timeout) == Err(std::sync::mpsc::RecvTimeoutError::Timeout) {
                interrupt.store(true, Ordering::Relaxed);
            }
        });
        let r = receive(&repo, url, opts, bearer, interrupt);
        drop(done);
        r
    });
    match result {
        Err(_) if interrupt.load(Ordering::Relaxed) => {
            return Err(fetch_err(format!("timed out after {}s", opts.timeout.as_secs_f32())));
        }
        Err(reason) => return Err(fetch_err(explain(reason, url, creds, ssh_session.as_ref()))),
        Ok(()) => {}
    }
    // The key leaves the disk now (early returns above drop it too).
    drop(ssh_session);
    gix::open(&dir).map_err(|e| cache_err(&e))
}

/// Connects and receives the pack; the error is a plain reason (never holds a credential).
fn receive(
    repo: &gix::Repository,
    url: &str,
    opts: &FetchOptions,
    bearer: Option<reqwest::header::HeaderValue>,
    interrupt: &AtomicBool,
) -> Result<(), String> {
    let remote = repo
        .remote_at(url)
        .map_err(|e| e.to_string())?
        .with_refspecs(
            ["+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"],
            gix::remote::Direction::Fetch,
        )
        .map_err(|e| e.to_string())?;
    let mut connection = remote.connect(gix::remote::Direction::Fetch).map_err(|e| chain(&e))?;
    let transport = repo.transport_options(url, None).map_err(|e| chain(&e))?;
    if let Some(http_opts) = transport.and_then(|o| o.downcast::<HttpOptions>().ok()) {
        let configured = http::configure(*http_opts, opts.ca.as_ref(), bearer, opts.timeout);
        connection.set_transport_options(Box::new(configured));
    }
    let (user, pass) = (opts.credentials.username.clone(), opts.credentials.password.clone());
    let connection = connection.with_credentials(move |action| match action {
        gix::credentials::helper::Action::Get(ctx) => match (&user, &pass) {
            (Some(u), Some(p)) => Ok(Some(gix::credentials::protocol::Outcome {
                identity: gix::sec::identity::Account {
                    username: u.clone(),
                    password: p.expose_secret().to_string(),
                    oauth_refresh_token: None,
                },
                next: ctx.into(),
            })),
            _ => Ok(None),
        },
        _ => Ok(None),
    });
    connection
        .prepare_fetch(gix::progress::Discard, Default::default())
        .map_err(|e| chain(&e))?
        .receive(gix::progress::Discard, interrupt)
        .map_err(|e| chain(&e))?;
    Ok(())
}

/// Puts the transport's wording in terms an operator can act on. For ssh, the reason ssh
/// itself gave (its log) beats the transport's.
fn explain(reason: String, url: &str, creds: &Credentials, ssh: Option<&ssh::SshSession>) -> String {
    if let Some(session) = ssh {
        let host = match gix::url::parse(url).map(|u| (u.host().map(str::to_string), u.port)) {
            Ok((Some(h), Some(p))) => format!("[{h}]:{p}"),
            Ok((Some(h), None)) => h,
            _ => String::new(),
        };
        return match session.diagnosis(&host) {
            Some(why) => format!("{why} ({reason})"),
            None => reason,
        };
    }
    // gix asks its credential callback after a 401; ours has nothing more to give.
    if reason.contains("No credentials were returned") {
        let given = creds.bearer_token.is_some() || creds.password.is_some();
        return if given {
            "the server refused the credentials given (HTTP 401)".into()
        } else {
            "the server requires credentials (HTTP 401) and none were given".into()
        };
    }
    reason
}

/// An error with its causes, `a: b: c` (gix nests the useful part).
fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let m = c.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        cur = c.source();
    }
    s
}

fn version_of(tag: &str) -> Option<semver::Version> {
    semver::Version::parse(tag.strip_prefix('v').unwrap_or(tag)).ok()
}

/// Resolves `r` in a fetched repository.
pub fn resolve(repo: &gix::Repository, url: &str, r: &GitRef) -> Result<Revision, SourceError> {
    let err = |reason: String| SourceError::Ref {
        url: url.to_string(),
        reason,
    };
    let peel = |name: &str| -> Result<gix::ObjectId, SourceError> {
        let mut reference = repo
            .find_reference(name)
            .map_err(|_| err(format!("{name} not found")))?;
        let commit = reference.peel_to_commit().map_err(|e| err(format!("{name}: {e}")))?;
        Ok(commit.id)
    };
    if let Some(c) = &r.commit {
        let id = repo
            .rev_parse_single(c.as_str())
            .map_err(|_| err(format!("commit {c} not found")))?;
        let commit = repo.find_commit(id).map_err(|_| err(format!("{c} is not a commit")))?;
        let name = match &r.branch {
            Some(b) => format!("{b}@sha1:{}", commit.id),
            None => format!("sha1:{}", commit.id),
        };
        return Ok(Revision {
            name,
            commit: commit.id,
        });
    }
    if let Some(range) = &r.semver {
        let req = semver::VersionReq::parse(range).map_err(|e| err(format!("invalid semver range {range:?}: {e}")))?;
        let refs = repo.references().map_err(|e| err(e.to_string()))?;
        let mut best: Option<(semver::Version, String)> = None;
        for reference in refs.tags().map_err(|e| err(e.to_string()))?.flatten() {
            let full = reference.name().as_bstr().to_string();
            let tag = full.trim_start_matches("refs/tags/").to_string();
            if let Some(v) = version_of(&tag)
                && req.matches(&v)
                && best.as_ref().is_none_or(|(b, _)| v > *b)
            {
                best = Some((v, tag));
            }
        }
        let (_, tag) = best.ok_or_else(|| err(format!("no tag matches semver range {range:?}")))?;
        let id = peel(&format!("refs/tags/{tag}"))?;
        return Ok(Revision {
            name: format!("{tag}@sha1:{id}"),
            commit: id,
        });
    }
    if let Some(tag) = &r.tag {
        let id = peel(&format!("refs/tags/{tag}"))?;
        return Ok(Revision {
            name: format!("{tag}@sha1:{id}"),
            commit: id,
        });
    }
    let branch = r.branch.clone().unwrap_or_else(|| "master".into());
    let id = peel(&format!("refs/heads/{branch}"))?;
    Ok(Revision {
        name: format!("{branch}@sha1:{id}"),
        commit: id,
    })
}

/// The files of one commit, read from the object database.
pub struct CommitTree {
    repo: gix::ThreadSafeRepository,
    tree: gix::ObjectId,
    max_file: u64,
    label: String,
}

impl CommitTree {
    /// The tree of `commit`.
    pub fn new(repo: gix::Repository, commit: gix::ObjectId) -> Result<Self, SourceError> {
        Self::shared(repo.into_sync(), commit)
    }

    /// The tree of `commit` in a repository handle shared between threads (kept open across
    /// renders by the agent).
    pub fn shared(repo: gix::ThreadSafeRepository, commit: gix::ObjectId) -> Result<Self, SourceError> {
        let label = format!("sha1:{commit}");
        let tree = repo
            .to_thread_local()
            .find_commit(commit)
            .and_then(|c| c.tree_id().map(|t| t.detach()))
            .map_err(|e| SourceError::Ref {
                url: label.clone(),
                reason: e.to_string(),
            })?;
        Ok(CommitTree {
            repo,
            tree,
            max_file: crate::load::DEFAULT_MAX_FILE,
            label,
        })
    }

    fn entry(&self, rel: &Path, hops: usize) -> Result<Option<(gix::objs::tree::EntryMode, gix::ObjectId)>, LoadError> {
        let shown = rel.display().to_string();
        let clean = normalize(rel).ok_or_else(|| LoadError::Escapes(shown.clone()))?;
        if clean.as_os_str().is_empty() {
            return Ok(Some((gix::objs::tree::EntryKind::Tree.into(), self.tree)));
        }
        let repo = self.repo.to_thread_local();
        let tree = repo.find_tree(self.tree).map_err(|e| io_err(&shown, e))?;
        let Some(entry) = tree.lookup_entry_by_path(&clean).map_err(|e| io_err(&shown, e))? else {
            return Ok(None);
        };
        let mode = entry.mode();
        if mode.is_link() {
            // A symlink in Git is a blob holding its target: follow it only inside the tree.
            if hops > 8 {
                return Err(LoadError::SymlinkEscapes(shown));
            }
            let blob = repo.find_blob(entry.object_id()).map_err(|e| io_err(&shown, e))?;
            let target = String::from_utf8_lossy(&blob.data).to_string();
            let joined = clean.parent().unwrap_or(Path::new("")).join(&target);
            if Path::new(&target).is_absolute() || normalize(&joined).is_none() {
                return Err(LoadError::SymlinkEscapes(shown));
            }
            return self.entry(&joined, hops + 1);
        }
        Ok(Some((mode, entry.object_id())))
    }
}

fn io_err(path: &str, e: impl std::fmt::Display) -> LoadError {
    LoadError::Io {
        path: path.to_string(),
        reason: e.to_string(),
    }
}

/// Removes `.` and resolves `..` lexically; `None` when the path leaves the root.
fn normalize(p: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::Normal(s) => out.push(s),
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

impl FileTree for CommitTree {
    fn name(&self) -> &str {
        &self.label
    }

    fn exists(&self, rel: &Path) -> bool {
        matches!(self.entry(rel, 0), Ok(Some(_)))
    }

    fn is_dir(&self, rel: &Path) -> bool {
        matches!(self.entry(rel, 0), Ok(Some((mode, _))) if mode.is_tree())
    }

    fn read(&self, rel: &Path) -> Result<Zeroizing<Vec<u8>>, LoadError> {
        let shown = rel.display().to_string();
        let (_, id) = self
            .entry(rel, 0)?
            .ok_or_else(|| io_err(&shown, "no such file in the commit"))?;
        let repo = self.repo.to_thread_local();
        let header = repo.find_header(id).map_err(|e| io_err(&shown, e))?;
        if header.size() > self.max_file {
            return Err(LoadError::TooLarge {
                path: shown,
                limit: self.max_file,
            });
        }
        let blob = repo.find_blob(id).map_err(|e| io_err(&shown, e))?;
        Ok(Zeroizing::new(blob.data.clone()))
    }

    fn files(&self, rel: &Path) -> Result<Vec<PathBuf>, LoadError> {
        let shown = rel.display().to_string();
        let (mode, id) = self
            .entry(rel, 0)?
            .ok_or_else(|| io_err(&shown, "no such directory in the commit"))?;
        if !mode.is_tree() {
            return Err(io_err(&shown, "not a directory"));
        }
        let repo = self.repo.to_thread_local();
        let tree = repo.find_tree(id).map_err(|e| io_err(&shown, e))?;
        let mut rec = gix::traverse::tree::Recorder::default();
        tree.traverse().breadthfirst(&mut rec).map_err(|e| io_err(&shown, e))?;
        let base = normalize(rel).unwrap_or_default();
        let mut out: Vec<PathBuf> = rec
            .records
            .into_iter()
            .filter(|e| !e.mode.is_tree())
            .map(|e| base.join(e.filepath.to_string()))
            .collect();
        out.sort();
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_debug_shows_no_secret() {
        let c = Credentials {
            username: Some("u".into()),
            password: Some(SecretString::from("pw-Canary")),
            bearer_token: Some(SecretString::from("tok-Canary")),
            ssh_key: Some(SecretString::from("key-Canary")),
            known_hosts: Some("h ssh-ed25519 AAAA\n".into()),
        };
        let shown = format!(
            "{:?}",
            FetchOptions {
                credentials: c,
                ..Default::default()
            }
        );
        assert!(!shown.contains("Canary") && shown.contains("<redacted>"), "{shown}");
    }
}
