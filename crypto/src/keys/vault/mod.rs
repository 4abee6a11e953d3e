//! HashiCorp Vault / OpenBao transit key entries (`hc_vault:` in SOPS metadata):
//! `vault_address`, `engine_path`, `key_name`, and `enc` (`vault:v1:...`).
//!
//! A thin client on the workspace's HTTP stack: transit is two POSTs, so a full Vault SDK
//! would add weight for nothing. The token is explicit, else `VAULT_TOKEN`, else
//! `~/.vault-token`. An address allowlist keeps a file from making us send the token to an
//! address recorded in it.

#[cfg(feature = "vault")]
mod client;

#[cfg(feature = "vault")]
pub use client::{DEFAULT_TIMEOUT, VaultTransit};

use crate::sops::metadata::{KeyKind, MasterKey};

/// A new `hc_vault` entry from a transit key URI (`https://host:8200/v1/transit/keys/NAME`).
pub fn master_key(uri: &str) -> Result<MasterKey, String> {
    let bad = || {
        format!("invalid Vault transit URI {uri:?} (expected https://vault.example.com:8200/v1/transit/keys/keyName)")
    };
    let (scheme, rest) = uri.split_once("://").ok_or_else(bad)?;
    let (host, path) = rest.split_once('/').ok_or_else(bad)?;
    let dirs: Vec<&str> = path.trim_matches('/').split('/').collect();
    if dirs.len() < 4 || !dirs[0].starts_with('v') || dirs[dirs.len() - 2] != "keys" || host.is_empty() {
        return Err(bad());
    }
    let engine = dirs[1..dirs.len() - 2].join("/");
    let name = dirs[dirs.len() - 1];
    Ok(MasterKey::new(
        KeyKind::HcVault,
        &[
            ("vault_address", &format!("{scheme}://{host}")),
            ("engine_path", &engine),
            ("key_name", name),
            (
                "created_at",
                &jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
            ),
            ("enc", ""),
        ],
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris() {
        let k = master_key("http://127.0.0.1:8200/v1/transit/keys/sops-key").unwrap();
        assert_eq!(k.get("vault_address"), "http://127.0.0.1:8200");
        assert_eq!(k.get("engine_path"), "transit");
        assert_eq!(k.get("key_name"), "sops-key");
        let k = master_key("https://v:8200/v1/my/transit/keys/k").unwrap();
        assert_eq!(k.get("engine_path"), "my/transit");
        assert!(master_key("http://v:8200/transit/k").is_err());
    }
}
