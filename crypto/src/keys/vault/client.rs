//! The HTTP client side of the Vault transit key source (feature `vault`).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use crate::keys::{KeyError, KeySource, PlainKey};
use crate::sops::metadata::{KeyKind, MasterKey};

const PROVIDER: &str = "hc_vault";
/// Default bound on one Vault call.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The Vault transit key source.
pub struct VaultTransit {
    token: Option<SecretString>,
    address_override: Option<String>,
    allowlist: Option<Vec<String>>,
    timeout: Duration,
    http: reqwest::Client,
    calls: Arc<AtomicUsize>,
}

impl std::fmt::Debug for VaultTransit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VaultTransit")
            .field("address_override", &self.address_override)
            .field("allowlist", &self.allowlist)
            .finish_non_exhaustive()
    }
}

fn default_token() -> Option<SecretString> {
    if let Ok(t) = std::env::var("VAULT_TOKEN")
        && !t.trim().is_empty()
    {
        return Some(SecretString::from(t.trim().to_string()));
    }
    let home = std::env::var_os("HOME")?;
    let text = Zeroizing::new(std::fs::read_to_string(std::path::Path::new(&home).join(".vault-token")).ok()?);
    let t = text.trim();
    (!t.is_empty()).then(|| SecretString::from(t.to_string()))
}

fn normalize(addr: &str) -> String {
    addr.trim().trim_end_matches('/').to_string()
}

impl VaultTransit {
    /// A source using `token`, or (when `None`) `VAULT_TOKEN` / `~/.vault-token`.
    pub fn new(token: Option<SecretString>) -> Self {
        Self::new_explicit(token.or_else(default_token))
    }

    /// A source using only `token` — no `VAULT_TOKEN`, no `~/.vault-token` (the agent: a
    /// Sync's credentials come from its own namespace only).
    pub fn new_explicit(token: Option<SecretString>) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(DEFAULT_TIMEOUT)
            .build()
            .expect("the TLS provider is installed");
        VaultTransit {
            token,
            address_override: None,
            allowlist: None,
            timeout: DEFAULT_TIMEOUT,
            http,
            calls: Arc::default(),
        }
    }

    /// Talks to `addr` whatever address the file records (`--vault-addr`).
    pub fn address_override(mut self, addr: Option<String>) -> Self {
        self.address_override = addr.map(|a| normalize(&a));
        self
    }

    /// Only these addresses may receive the token.
    pub fn allowlist(mut self, addrs: Vec<String>) -> Self {
        self.allowlist = Some(addrs.iter().map(|a| normalize(a)).collect());
        self
    }

    /// Bounds each call (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How many Vault calls this source has made.
    pub fn calls(&self) -> Arc<AtomicUsize> {
        self.calls.clone()
    }

    fn address(&self, key: &MasterKey) -> Result<String, KeyError> {
        let addr = self
            .address_override
            .clone()
            .unwrap_or_else(|| normalize(key.get("vault_address")));
        if let Some(allowed) = &self.allowlist
            && !allowed.contains(&addr)
        {
            return Err(KeyError::new(
                PROVIDER,
                key,
                format!("vault address {addr} is not in the allowlist"),
            ));
        }
        if !(addr.starts_with("http://") || addr.starts_with("https://")) {
            return Err(KeyError::new(PROVIDER, key, format!("invalid vault address {addr:?}")));
        }
        Ok(addr)
    }

    async fn post(&self, key: &MasterKey, op: &str, body: serde_json::Value) -> Result<serde_json::Value, KeyError> {
        let token = self
            .token
            .as_ref()
            .ok_or_else(|| KeyError::new(PROVIDER, key, "no Vault token (set VAULT_TOKEN or ~/.vault-token)"))?;
        let url = format!(
            "{}/v1/{}/{op}/{}",
            self.address(key)?,
            key.get("engine_path").trim_matches('/'),
            key.get("key_name")
        );
        self.calls.fetch_add(1, Ordering::Relaxed);
        let mut req = self
            .http
            .post(&url)
            .timeout(self.timeout)
            .header("X-Vault-Token", token.expose_secret())
            .json(&body);
        if let Ok(ns) = std::env::var("VAULT_NAMESPACE")
            && !ns.is_empty()
        {
            req = req.header("X-Vault-Namespace", ns);
        }
        let resp = req.send().await.map_err(|e| {
            let why = if e.is_timeout() {
                "timed out".to_string()
            } else if e.is_connect() {
                "cannot reach Vault".to_string()
            } else {
                "request failed".to_string()
            };
            KeyError::new(PROVIDER, key, why)
        })?;
        let status = resp.status();
        let text = Zeroizing::new(
            resp.text()
                .await
                .map_err(|_| KeyError::new(PROVIDER, key, "cannot read Vault's answer"))?,
        );
        if !status.is_success() {
            // Vault's error strings name paths and reasons, never the plaintext or the token.
            let errors: Vec<String> = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| v.get("errors").and_then(|e| e.as_array()).cloned())
                .unwrap_or_default()
                .iter()
                .filter_map(|e| e.as_str().map(|s| s.replace('\n', " ")))
                .collect();
            let why = match status.as_u16() {
                403 => "permission denied (token revoked, expired, or not allowed)".to_string(),
                404 => "not found (is transit mounted at this path?)".to_string(),
                _ => format!("HTTP {status}"),
            };
            let detail = if errors.is_empty() {
                String::new()
            } else {
                format!(": {}", errors.join("; "))
            };
            return Err(KeyError::new(PROVIDER, key, format!("{why}{detail}")));
        }
        serde_json::from_str(&text).map_err(|_| KeyError::new(PROVIDER, key, "Vault's answer is not JSON"))
    }
}

#[async_trait]
impl KeySource for VaultTransit {
    fn kind(&self) -> KeyKind {
        KeyKind::HcVault
    }

    async fn unwrap(&self, key: &MasterKey) -> Result<Option<PlainKey>, KeyError> {
        let answer = self
            .post(key, "decrypt", serde_json::json!({ "ciphertext": key.enc() }))
            .await?;
        let plain = answer
            .pointer("/data/plaintext")
            .and_then(|p| p.as_str())
            .ok_or_else(|| KeyError::new(PROVIDER, key, "Vault returned no plaintext"))?;
        let bytes = B64
            .decode(plain)
            .map_err(|_| KeyError::new(PROVIDER, key, "Vault's plaintext is not base64"))?;
        Ok(Some(Zeroizing::new(bytes)))
    }

    async fn wrap(&self, key: &MasterKey, data_key: &[u8]) -> Result<String, KeyError> {
        let plain = Zeroizing::new(B64.encode(data_key));
        let answer = self
            .post(key, "encrypt", serde_json::json!({ "plaintext": plain.as_str() }))
            .await?;
        answer
            .pointer("/data/ciphertext")
            .and_then(|c| c.as_str())
            .map(String::from)
            .ok_or_else(|| KeyError::new(PROVIDER, key, "Vault returned no ciphertext"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::vault::master_key;

    #[test]
    fn allowlist_refuses_other_addresses() {
        let v = VaultTransit::new(Some(SecretString::from("t".to_string())))
            .allowlist(vec!["https://vault.internal".into()]);
        let k = master_key("http://evil.example:8200/v1/transit/keys/k").unwrap();
        let err = v.address(&k).unwrap_err();
        assert!(err.to_string().contains("not in the allowlist"));
    }
}
