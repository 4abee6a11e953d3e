//! Commit signature verification, in pure Rust: the `gpgsig` header of a commit is checked
//! against allowed SSH public keys (`sshsig`, namespace `git`, as `git -c gpg.format=ssh` signs)
//! or an armored OpenPGP keyring. The signed bytes are the raw commit object without that
//! header, exactly as Git hands them to `ssh-keygen -Y sign` / `gpg --detach-sign`.
//!
//! Limits, stated: only the commit the source resolved to is checked (Flux's `HEAD` mode);
//! OpenPGP key expiry and revocation are not evaluated (keep the keyring current instead);
//! a subkey counts only when its binding signature verifies; X.509 (`gpgsm`) signatures are
//! refused as unsupported.

use std::io::Cursor;

use pgp::composed::{Deserializable, DetachedSignature, SignedPublicKey};
use pgp::types::KeyDetails;
use ssh_key::{HashAlg, PublicKey, SshSig};

/// The `sshsig` namespace Git signs commits in.
const GIT_NAMESPACE: &str = "git";

/// Why a commit's signature was not accepted, or the keys could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The commit carries no signature at all.
    #[error("commit {commit} is not signed")]
    Unsigned {
        /// The commit id.
        commit: String,
    },
    /// The signature was made by a key that is not in the allowed set.
    #[error("commit {commit} is signed by {signer}, which is not an allowed key")]
    NotAllowed {
        /// The commit id.
        commit: String,
        /// The signing key as the signature names it (SSH fingerprint or OpenPGP key id).
        signer: String,
    },
    /// The signature names an allowed key but does not verify over the commit.
    #[error("commit {commit}: the {format} signature by {signer} does not verify")]
    Invalid {
        /// The commit id.
        commit: String,
        /// `ssh` or `openpgp`.
        format: &'static str,
        /// The signing key.
        signer: String,
    },
    /// The signature is malformed or of a kind we do not verify.
    #[error("commit {commit}: {reason}")]
    Unsupported {
        /// The commit id.
        commit: String,
        /// Why.
        reason: String,
    },
    /// The commit object cannot be read.
    #[error("commit {commit}: {reason}")]
    Read {
        /// The commit id.
        commit: String,
        /// Why.
        reason: String,
    },
    /// An allowed-keys file cannot be parsed.
    #[error("{origin}: {reason}")]
    Keys {
        /// Where the keys came from (a file name).
        origin: String,
        /// Why.
        reason: String,
    },
}

/// Who signed an accepted commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signer {
    /// `ssh` or `openpgp`.
    pub format: &'static str,
    /// The key's fingerprint (`SHA256:...` for SSH, upper-case hex for OpenPGP).
    pub fingerprint: String,
}

/// The keys allowed to sign commits.
#[derive(Default)]
pub struct AllowedSigners {
    ssh: Vec<PublicKey>,
    pgp: Vec<SignedPublicKey>,
}

impl AllowedSigners {
    /// No keys: every commit is refused until keys are added.
    pub fn new() -> Self {
        Self::default()
    }

    /// True when no key was added.
    pub fn is_empty(&self) -> bool {
        self.ssh.is_empty() && self.pgp.is_empty()
    }

    /// Adds SSH public keys, one a line: `authorized_keys` style (`ssh-ed25519 AAAA... comment`)
    /// or Git's `allowed_signers` style (`principals [options] ssh-ed25519 AAAA...`). Blank lines
    /// and `#` comments are skipped. Returns how many keys were added.
    pub fn add_ssh_keys(&mut self, text: &str, origin: &str) -> Result<usize, VerifyError> {
        let mut added = 0;
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let words: Vec<&str> = line.split_whitespace().collect();
            // The key starts at the first word that parses as one (principals/options come first).
            let key = (0..words.len()).find_map(|i| PublicKey::from_openssh(&words[i..].join(" ")).ok());
            let Some(key) = key else {
                return Err(VerifyError::Keys {
                    origin: origin.to_string(),
                    reason: format!("line {}: not an SSH public key", n + 1),
                });
            };
            self.ssh.push(key);
            added += 1;
        }
        if added == 0 {
            return Err(VerifyError::Keys {
                origin: origin.to_string(),
                reason: "no SSH public key found".into(),
            });
        }
        Ok(added)
    }

    /// Adds every public key of an armored OpenPGP keyring (`gpg --export --armor`). Returns
    /// how many keys were added.
    pub fn add_pgp_keyring(&mut self, armored: &[u8], origin: &str) -> Result<usize, VerifyError> {
        let keys_err = |reason: String| VerifyError::Keys {
            origin: origin.to_string(),
            reason,
        };
        let (keys, _) = SignedPublicKey::from_armor_many(Cursor::new(armored))
            .map_err(|e| keys_err(format!("not an OpenPGP keyring: {e}")))?;
        let mut added = 0;
        for key in keys {
            let key = key.map_err(|e| keys_err(format!("unreadable key: {e}")))?;
            // Self-signatures and subkey bindings must hold, or a subkey could be grafted on.
            key.verify_bindings().map_err(|e| {
                keys_err(format!(
                    "key {:X}: its binding signatures do not verify: {e}",
                    key.primary_key.fingerprint()
                ))
            })?;
            self.pgp.push(key);
            added += 1;
        }
        if added == 0 {
            return Err(keys_err("no OpenPGP public key found".into()));
        }
        Ok(added)
    }

    /// Checks the signature of `commit` in `repo` against the allowed keys.
    pub fn verify_commit(&self, repo: &gix::Repository, commit: gix::ObjectId) -> Result<Signer, VerifyError> {
        let id = commit.to_string();
        let read_err = |reason: String| VerifyError::Read {
            commit: id.clone(),
            reason,
        };
        let object = repo.find_commit(commit).map_err(|e| read_err(e.to_string()))?;
        let (signature, signed) = object
            .signature()
            .map_err(|e| read_err(e.to_string()))?
            .ok_or_else(|| VerifyError::Unsigned { commit: id.clone() })?;
        let payload = signed.to_bstring();
        self.verify_payload(&id, signature.as_ref(), payload.as_ref())
    }

    /// Checks `signature` (a `gpgsig` header value) over `payload` for the commit `id`.
    fn verify_payload(&self, id: &str, signature: &[u8], payload: &[u8]) -> Result<Signer, VerifyError> {
        let unsupported = |reason: &str| VerifyError::Unsupported {
            commit: id.to_string(),
            reason: reason.to_string(),
        };
        let text = signature.trim_ascii_start();
        if text.starts_with(b"-----BEGIN SSH SIGNATURE-----") {
            self.verify_ssh(id, text, payload)
        } else if text.starts_with(b"-----BEGIN PGP SIGNATURE-----") {
            self.verify_pgp(id, text, payload)
        } else if text.starts_with(b"-----BEGIN SIGNED MESSAGE-----") {
            Err(unsupported("X.509 (gpgsm) signatures are not supported"))
        } else {
            Err(unsupported("the signature is in an unknown format"))
        }
    }

    fn verify_ssh(&self, id: &str, armored: &[u8], payload: &[u8]) -> Result<Signer, VerifyError> {
        let sig = SshSig::from_pem(armored).map_err(|e| VerifyError::Unsupported {
            commit: id.to_string(),
            reason: format!("malformed SSH signature: {e}"),
        })?;
        let signer = sig.public_key().fingerprint(HashAlg::Sha256).to_string();
        let Some(key) = self.ssh.iter().find(|k| k.key_data() == sig.public_key()) else {
            return Err(VerifyError::NotAllowed {
                commit: id.to_string(),
                signer,
            });
        };
        // Checks the namespace too: a signature made for another purpose is not a commit signature.
        key.verify(GIT_NAMESPACE, payload, &sig)
            .map_err(|_| VerifyError::Invalid {
                commit: id.to_string(),
                format: "ssh",
                signer: signer.clone(),
            })?;
        Ok(Signer {
            format: "ssh",
            fingerprint: signer,
        })
    }

    fn verify_pgp(&self, id: &str, armored: &[u8], payload: &[u8]) -> Result<Signer, VerifyError> {
        let (sig, _) =
            DetachedSignature::from_armor_single(Cursor::new(armored)).map_err(|e| VerifyError::Unsupported {
                commit: id.to_string(),
                reason: format!("malformed OpenPGP signature: {e}"),
            })?;
        let issuer = sig
            .signature
            .issuer_fingerprint()
            .first()
            .map(|f| format!("{f:X}"))
            .or_else(|| {
                sig.signature
                    .issuer_key_id()
                    .first()
                    .map(|k| hex::encode_upper(k.as_ref()))
            })
            .unwrap_or_else(|| "an unnamed key".into());
        let mut named_an_allowed_key = false;
        for key in &self.pgp {
            if sig.verify(&key.primary_key, payload).is_ok() {
                return Ok(Signer {
                    format: "openpgp",
                    fingerprint: format!("{:X}", key.primary_key.fingerprint()),
                });
            }
            for sub in &key.public_subkeys {
                if sig.verify(&sub.key, payload).is_ok() {
                    return Ok(Signer {
                        format: "openpgp",
                        fingerprint: format!("{:X}", sub.key.fingerprint()),
                    });
                }
            }
            named_an_allowed_key |=
                names(&sig, &key.primary_key) || key.public_subkeys.iter().any(|s| names(&sig, &s.key));
        }
        if named_an_allowed_key {
            Err(VerifyError::Invalid {
                commit: id.to_string(),
                format: "openpgp",
                signer: issuer,
            })
        } else {
            Err(VerifyError::NotAllowed {
                commit: id.to_string(),
                signer: issuer,
            })
        }
    }
}

/// True when `sig` says it was made by `key` (issuer fingerprint or key id).
fn names(sig: &DetachedSignature, key: &impl KeyDetails) -> bool {
    let fp = key.fingerprint();
    let kid = key.legacy_key_id();
    sig.signature.issuer_fingerprint().iter().any(|f| **f == fp)
        || sig.signature.issuer_key_id().iter().any(|k| **k == kid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_lines_in_both_styles_and_garbage() {
        let mut a = AllowedSigners::new();
        let key =
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILFJZuGdCRQsCZORb0PUw/G3a9/rPm6oSVSVgCaBEpql user@example.invalid";
        let text = format!("# comment\n\n{key}\nme@example.com namespaces=\"git\" {key}\n");
        assert_eq!(a.add_ssh_keys(&text, "keys").unwrap(), 2);
        let err = a.add_ssh_keys("not a key\n", "bad.pub").unwrap_err().to_string();
        assert_eq!(err, "bad.pub: line 1: not an SSH public key");
        assert!(a.add_pgp_keyring(b"nothing", "ring.asc").is_err());
    }

    #[test]
    fn unknown_formats_are_refused_by_name() {
        let a = AllowedSigners::new();
        let err = a.verify_payload("abc", b"garbage", b"tree x\n").unwrap_err();
        assert_eq!(err.to_string(), "commit abc: the signature is in an unknown format");
    }
}
