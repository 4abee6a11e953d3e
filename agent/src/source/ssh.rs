//! The `ssh` client gix spawns for `ssh://` URLs, configured for one fetch only.
//!
//! OpenSSH reads keys and known hosts only from files, so for the duration of one fetch we
//! write them into a private temporary directory (mode 0700, under `$TMPDIR`): the
//! private key mode 0600, the given `known_hosts`, and an `ssh_config` that uses nothing else
//! (`-F` replaces `~/.ssh/config` and `/etc/ssh/ssh_config`; no agent, no `~/.ssh` files,
//! `StrictHostKeyChecking yes`, batch mode). The key file is overwritten with zeros and the
//! directory removed when the session drops, right after the fetch.

use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

/// A private directory holding what one `ssh` invocation needs; removed on drop.
pub(crate) struct SshSession {
    dir: tempfile::TempDir,
    key: Option<PathBuf>,
    key_len: usize,
}

impl SshSession {
    /// Writes the key (if any), `known_hosts` and the client configuration.
    pub(crate) fn new(key: Option<&SecretString>, known_hosts: &str, timeout: Duration) -> std::io::Result<Self> {
        // Mode 0700 explicitly: tempfile otherwise leaves directories to the umask.
        let dir = tempfile::Builder::new()
            .prefix("sigil-ssh-")
            .permissions(std::fs::Permissions::from_mode(0o700))
            .tempdir()?;
        let mut session = SshSession {
            dir,
            key: None,
            key_len: 0,
        };
        let path = |name: &str| session.dir.path().join(name);
        let (key_path, hosts_path, config_path) = (path("key"), path("known_hosts"), path("ssh_config"));
        for p in [&key_path, &hosts_path, &config_path] {
            if p.to_str().is_none_or(|s| s.contains(['"', '\'', '\n', '%'])) {
                return Err(std::io::Error::other(
                    "the temporary directory's path cannot be quoted for ssh",
                ));
            }
        }
        if let Some(key) = key {
            let mut text = key.expose_secret().trim().to_string();
            text.push('\n');
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&key_path)?;
            f.write_all(text.as_bytes())?;
            session.key_len = text.len();
            zeroize::Zeroize::zeroize(&mut text);
            session.key = Some(key_path.clone());
        }
        write_private(&hosts_path, known_hosts.as_bytes())?;
        let secs = timeout.as_secs().max(1);
        let identity = match &session.key {
            Some(k) => format!("IdentityFile \"{}\"\n", k.display()),
            None => "IdentityFile none\n".to_string(),
        };
        let config = format!(
            "Host *\n\
             {identity}\
             IdentitiesOnly yes\n\
             IdentityAgent none\n\
             UserKnownHostsFile \"{}\"\n\
             GlobalKnownHostsFile /dev/null\n\
             StrictHostKeyChecking yes\n\
             UpdateHostKeys no\n\
             CheckHostIP no\n\
             BatchMode yes\n\
             PasswordAuthentication no\n\
             KbdInteractiveAuthentication no\n\
             ControlMaster no\n\
             ControlPath none\n\
             ForwardAgent no\n\
             ConnectTimeout {secs}\n\
             ServerAliveInterval {}\n\
             ServerAliveCountMax 3\n\
             LogLevel ERROR\n",
            hosts_path.display(),
            (secs / 3).max(1),
        );
        write_private(&config_path, config.as_bytes())?;
        Ok(session)
    }

    /// The value for `core.sshCommand`. `-E` keeps ssh's messages out of our stderr: they are
    /// read back by [`Self::diagnosis`] when the fetch fails.
    pub(crate) fn command(&self) -> String {
        let p = |name: &str| self.dir.path().join(name).display().to_string();
        format!("ssh -F '{}' -E '{}'", p("ssh_config"), p("ssh.log"))
    }

    /// Why ssh failed, from its log, in words an operator can act on; `None` when it said nothing.
    /// `host` is the server as known_hosts names it.
    pub(crate) fn diagnosis(&self, host: &str) -> Option<String> {
        let log = std::fs::read_to_string(self.dir.path().join("ssh.log")).ok()?;
        if log.contains("Host key verification failed") {
            return Some(format!(
                "the SSH host key of {host} is not in the given known_hosts (unknown hosts are refused)"
            ));
        }
        if log.contains("Permission denied") {
            return Some(format!(
                "{host} refused the SSH key (Permission denied): is its public key authorized for this user?"
            ));
        }
        // Otherwise the last thing ssh said (never key material: ssh does not log keys).
        log.lines()
            .map(str::trim)
            .rfind(|l| !l.is_empty() && !l.starts_with('@'))
            .map(|l| format!("ssh: {l}"))
    }

    /// The private directory (for tests of its lifetime).
    #[cfg(test)]
    pub(crate) fn dir(&self) -> &Path {
        self.dir.path()
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?
        .write_all(bytes)
}

impl Drop for SshSession {
    fn drop(&mut self) {
        // Best effort before unlinking; the TempDir then removes the directory.
        if let Some(k) = &self.key
            && let Ok(mut f) = std::fs::OpenOptions::new().write(true).open(k)
        {
            let _ = f.write_all(&vec![0u8; self.key_len]);
            let _ = f.sync_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_files_and_cleanup() {
        let key = SecretString::from("-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----");
        let s = SshSession::new(Some(&key), "[127.0.0.1]:22 ssh-ed25519 AAAA\n", Duration::from_secs(30)).unwrap();
        let dir = s.dir().to_path_buf();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join("key")), 0o600);
        assert!(
            std::fs::read_to_string(dir.join("key"))
                .unwrap()
                .ends_with("KEY-----\n")
        );
        let config = std::fs::read_to_string(dir.join("ssh_config")).unwrap();
        assert!(config.contains("StrictHostKeyChecking yes") && config.contains("ConnectTimeout 30"));
        assert!(s.command().starts_with("ssh -F '") && s.command().contains("ssh.log"));
        assert_eq!(s.diagnosis("h"), None);
        std::fs::write(
            dir.join("ssh.log"),
            "ssh: connect to host 127.0.0.1 port 1: Connection refused\r\n",
        )
        .unwrap();
        assert_eq!(
            s.diagnosis("h").unwrap(),
            "ssh: ssh: connect to host 127.0.0.1 port 1: Connection refused"
        );
        drop(s);
        assert!(!dir.exists());
    }
}
