//! A Vault/OpenBao KV client for ExternalSecrets: one login per credential, its token
//! cached and renewed before it expires (re-login on 403 or when not renewable), bounded
//! concurrency, a timeout per call, retries with backoff on 5xx and connection errors
//! only. KV v1 and v2 (`version` pins a v2 version). Tokens and values never reach an error
//! message or a log line.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::object::Object;

/// Default bound on one call.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Calls in flight at once.
pub const DEFAULT_CONCURRENCY: usize = 16;
const RETRIES: u32 = 3;

/// Why a read failed. Names the server and path; never a token or value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VaultError {
    /// Unreachable, timed out, or a 5xx after retries.
    #[error("{server}: {reason}")]
    Unavailable {
        /// The server.
        server: String,
        /// Why.
        reason: String,
    },
    /// 401/403.
    #[error("{server}: permission denied on {path}")]
    Denied {
        /// The server.
        server: String,
        /// The Vault path.
        path: String,
    },
    /// 404.
    #[error("{server}: no secret at {path}")]
    NotFound {
        /// The server.
        server: String,
        /// The Vault path.
        path: String,
    },
    /// Login failed.
    #[error("{server}: {method} login at auth/{mount} failed: {reason}")]
    Login {
        /// The server.
        server: String,
        /// `approle`, `jwt`, `kubernetes`.
        method: &'static str,
        /// The mount.
        mount: String,
        /// Why (status and Vault's error list; Vault never echoes credentials).
        reason: String,
    },
    /// Anything else (bad CA, unexpected response).
    #[error("{server}: {reason}")]
    Other {
        /// The server.
        server: String,
        /// Why.
        reason: String,
    },
}

/// How to authenticate.
#[derive(Clone)]
pub enum Credential {
    /// A token, used as is.
    Token(SecretString),
    /// AppRole login.
    AppRole {
        /// Mount (e.g. `approle`).
        mount: String,
        /// Role id.
        role_id: String,
        /// Secret id.
        secret_id: SecretString,
    },
    /// JWT login (also Kubernetes service-account tokens with the `jwt` method).
    Jwt {
        /// Mount (e.g. `jwt`).
        mount: String,
        /// Role.
        role: String,
        /// The JWT.
        jwt: SecretString,
    },
    /// Kubernetes login.
    Kubernetes {
        /// Mount (e.g. `kubernetes`).
        mount: String,
        /// Role.
        role: String,
        /// The service-account token.
        jwt: SecretString,
    },
}

impl Credential {
    /// A SHA-256 digest identifying the credential (never the credential itself).
    pub(crate) fn fingerprint(&self) -> [u8; 32] {
        let mut h = Sha256::new();
        let mut put = |s: &str| {
            h.update((s.len() as u64).to_be_bytes());
            h.update(s.as_bytes());
        };
        match self {
            Credential::Token(t) => {
                put("token");
                put(t.expose_secret());
            }
            Credential::AppRole {
                mount,
                role_id,
                secret_id,
            } => {
                put("approle");
                put(mount);
                put(role_id);
                put(secret_id.expose_secret());
            }
            Credential::Jwt { mount, role, jwt } => {
                put("jwt");
                put(mount);
                put(role);
                put(jwt.expose_secret());
            }
            Credential::Kubernetes { mount, role, jwt } => {
                put("kubernetes");
                put(mount);
                put(role);
                put(jwt.expose_secret());
            }
        }
        h.finalize().into()
    }
}

/// Where a store's Vault is.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Endpoint {
    /// `https://vault:8200` (no trailing slash).
    pub server: String,
    /// `X-Vault-Namespace`.
    pub namespace: Option<String>,
    /// Extra trusted CA certificates (PEM).
    pub ca_pem: Option<Vec<u8>>,
}

/// A KV secret location.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KvPath {
    /// Mount (e.g. `secret`).
    pub mount: String,
    /// Path under the mount.
    pub key: String,
    /// KV engine version: 1 or 2.
    pub kv_version: u8,
    /// A pinned KV v2 version.
    pub version: Option<String>,
}

impl KvPath {
    /// The API path (`secret/data/app/db`).
    pub fn api_path(&self) -> String {
        let key = self.key.trim_start_matches('/');
        // ESO accepts keys that already start with the mount.
        let key = key.strip_prefix(&format!("{}/", self.mount)).unwrap_or(key).to_string();
        if self.kv_version == 1 {
            format!("{}/{key}", self.mount)
        } else {
            let key = key.strip_prefix("data/").unwrap_or(&key).to_string();
            format!("{}/data/{key}", self.mount)
        }
    }
}

/// (credential fingerprint, endpoint).
type TokenKey = ([u8; 32], Endpoint);

struct Token {
    token: SecretString,
    expires: Option<Instant>,
    lease: Duration,
    renewable: bool,
}

/// The client. Cheap to share; holds the token and HTTP-client caches.
pub struct VaultKv {
    clients: Mutex<HashMap<Option<[u8; 32]>, reqwest::Client>>,
    tokens: Mutex<HashMap<TokenKey, Token>>,
    /// One login at a time per credential (concurrent reads wait for it, not log in too).
    login_locks: Mutex<HashMap<TokenKey, std::sync::Arc<tokio::sync::Mutex<()>>>>,
    limit: tokio::sync::Semaphore,
    timeout: Duration,
    logins: AtomicU64,
    renewals: AtomicU64,
    requests: AtomicU64,
}

impl Default for VaultKv {
    fn default() -> Self {
        Self::new()
    }
}

/// Counters, for tests and benchmarks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// Logins made.
    pub logins: u64,
    /// Token renewals made.
    pub renewals: u64,
    /// HTTP requests made (logins, renewals and reads, retries included).
    pub requests: u64,
}

fn status_reason(status: reqwest::StatusCode, body: &str) -> String {
    // Vault's `{"errors": [...]}` never holds credentials or secret values.
    let errors = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("errors").cloned())
        .and_then(|e| e.as_array().cloned())
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(String::from))
                .collect::<Vec<_>>()
                .join("; ")
        })
        .unwrap_or_default();
    if errors.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status}: {errors}")
    }
}

impl VaultKv {
    /// A client with the default timeout and concurrency.
    pub fn new() -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        VaultKv {
            clients: Mutex::default(),
            tokens: Mutex::default(),
            login_locks: Mutex::default(),
            limit: tokio::sync::Semaphore::new(DEFAULT_CONCURRENCY),
            timeout: DEFAULT_TIMEOUT,
            logins: AtomicU64::new(0),
            renewals: AtomicU64::new(0),
            requests: AtomicU64::new(0),
        }
    }

    /// Sets the bound on one call.
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = t;
        self
    }

    /// Counters so far.
    pub fn stats(&self) -> Stats {
        Stats {
            logins: self.logins.load(Ordering::Relaxed),
            renewals: self.renewals.load(Ordering::Relaxed),
            requests: self.requests.load(Ordering::Relaxed),
        }
    }

    fn client(&self, ep: &Endpoint) -> Result<reqwest::Client, VaultError> {
        let key = ep.ca_pem.as_ref().map(|p| Sha256::digest(p).into());
        let mut clients = self.clients.lock().expect("client cache");
        if let Some(c) = clients.get(&key) {
            return Ok(c.clone());
        }
        let mut b = reqwest::Client::builder().timeout(self.timeout);
        if let Some(pem) = &ep.ca_pem {
            let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| VaultError::Other {
                server: ep.server.clone(),
                reason: format!("invalid CA bundle: {e}"),
            })?;
            for c in certs {
                b = b.add_root_certificate(c);
            }
        }
        let c = b.build().map_err(|e| VaultError::Other {
            server: ep.server.clone(),
            reason: format!("HTTP client: {e}"),
        })?;
        clients.insert(key, c.clone());
        Ok(c)
    }

    /// One request with retries on connection errors and 5xx.
    async fn send(
        &self,
        ep: &Endpoint,
        method: reqwest::Method,
        path: &str,
        token: Option<&SecretString>,
        body: Option<&serde_json::Value>,
    ) -> Result<(reqwest::StatusCode, Zeroizing<String>), VaultError> {
        let client = self.client(ep)?;
        let _permit = self.limit.acquire().await.map_err(|_| VaultError::Other {
            server: ep.server.clone(),
            reason: "client closed".into(),
        })?;
        let url = format!("{}/v1/{path}", ep.server);
        let mut last = String::new();
        for attempt in 0..RETRIES {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
            }
            let mut req = client.request(method.clone(), &url);
            if let Some(ns) = &ep.namespace {
                req = req.header("X-Vault-Namespace", ns);
            }
            if let Some(t) = token {
                req = req.header("X-Vault-Token", t.expose_secret());
            }
            if let Some(b) = body {
                req = req.json(b);
            }
            self.requests.fetch_add(1, Ordering::Relaxed);
            match req.send().await {
                Ok(resp) => {
                    let status = resp.status();
                    let text = Zeroizing::new(resp.text().await.unwrap_or_default());
                    if status.is_server_error() {
                        last = status_reason(status, &text);
                        continue;
                    }
                    return Ok((status, text));
                }
                Err(e) if e.is_timeout() => {
                    last = format!("timed out after {:?}", self.timeout);
                }
                Err(e) => {
                    last = if e.is_connect() {
                        "cannot connect".to_string()
                    } else {
                        "request failed".to_string()
                    };
                    let mut src = std::error::Error::source(&e);
                    while let Some(s) = src {
                        last = format!("{last}: {s}");
                        src = s.source();
                    }
                }
            }
        }
        Err(VaultError::Unavailable {
            server: ep.server.clone(),
            reason: format!("{last} (after {RETRIES} attempts)"),
        })
    }

    async fn login(&self, ep: &Endpoint, cred: &Credential) -> Result<Token, VaultError> {
        let (method, mount, body): (&'static str, &str, serde_json::Value) = match cred {
            Credential::Token(t) => {
                return Ok(Token {
                    token: t.clone(),
                    expires: None,
                    lease: Duration::ZERO,
                    renewable: false,
                });
            }
            Credential::AppRole {
                mount,
                role_id,
                secret_id,
            } => (
                "approle",
                mount,
                serde_json::json!({"role_id": role_id, "secret_id": secret_id.expose_secret()}),
            ),
            Credential::Jwt { mount, role, jwt } => (
                "jwt",
                mount,
                serde_json::json!({"role": role, "jwt": jwt.expose_secret()}),
            ),
            Credential::Kubernetes { mount, role, jwt } => (
                "kubernetes",
                mount,
                serde_json::json!({"role": role, "jwt": jwt.expose_secret()}),
            ),
        };
        let body = Object(body);
        let mount = mount.trim_matches('/').to_string();
        self.logins.fetch_add(1, Ordering::Relaxed);
        let (status, text) = self
            .send(
                ep,
                reqwest::Method::POST,
                &format!("auth/{mount}/login"),
                None,
                Some(&body.0),
            )
            .await?;
        let fail = |reason: String| VaultError::Login {
            server: ep.server.clone(),
            method,
            mount: mount.clone(),
            reason,
        };
        if !status.is_success() {
            return Err(fail(status_reason(status, &text)));
        }
        let v: Object = Object(serde_json::from_str(&text).map_err(|_| fail("unexpected response".into()))?);
        let auth = v.0.get("auth").ok_or_else(|| fail("no auth in response".into()))?;
        let token = auth
            .get("client_token")
            .and_then(|t| t.as_str())
            .ok_or_else(|| fail("no token in response".into()))?;
        let lease = Duration::from_secs(auth.get("lease_duration").and_then(|l| l.as_u64()).unwrap_or(0));
        Ok(Token {
            token: SecretString::from(token.to_string()),
            expires: (lease > Duration::ZERO).then(|| Instant::now() + lease),
            lease,
            renewable: auth.get("renewable").and_then(|r| r.as_bool()).unwrap_or(false),
        })
    }

    /// A usable token: cached, renewed when two thirds of its lease have passed, or a
    /// fresh login when it cannot be renewed.
    async fn token(&self, ep: &Endpoint, cred: &Credential) -> Result<SecretString, VaultError> {
        let key = (cred.fingerprint(), ep.clone());
        let lock = std::sync::Arc::clone(
            self.login_locks
                .lock()
                .expect("login locks")
                .entry(key.clone())
                .or_default(),
        );
        let _single_flight = lock.lock().await;
        let cached = {
            let tokens = self.tokens.lock().expect("token cache");
            tokens
                .get(&key)
                .map(|t| (t.token.clone(), t.expires, t.lease, t.renewable))
        };
        if let Some((tok, expires, lease, renewable)) = cached {
            match expires {
                None => return Ok(tok),
                Some(exp) => {
                    let left = exp.saturating_duration_since(Instant::now());
                    if left > lease / 3 {
                        return Ok(tok);
                    }
                    if renewable && left > Duration::from_secs(1) {
                        self.renewals.fetch_add(1, Ordering::Relaxed);
                        let (status, text) = self
                            .send(
                                ep,
                                reqwest::Method::POST,
                                "auth/token/renew-self",
                                Some(&tok),
                                Some(&serde_json::json!({})),
                            )
                            .await?;
                        if status.is_success()
                            && let Ok(v) = serde_json::from_str::<serde_json::Value>(&text)
                            && let Some(l) = v.pointer("/auth/lease_duration").and_then(|l| l.as_u64())
                            && l > 0
                        {
                            let lease = Duration::from_secs(l);
                            if let Some(t) = self.tokens.lock().expect("token cache").get_mut(&key) {
                                t.expires = Some(Instant::now() + lease);
                                t.lease = lease;
                            }
                            tracing::debug!(server = %ep.server, "vault token renewed");
                            return Ok(tok);
                        }
                    }
                }
            }
        }
        let t = self.login(ep, cred).await?;
        let tok = t.token.clone();
        self.tokens.lock().expect("token cache").insert(key, t);
        Ok(tok)
    }

    fn forget(&self, ep: &Endpoint, cred: &Credential) {
        self.tokens
            .lock()
            .expect("token cache")
            .remove(&(cred.fingerprint(), ep.clone()));
    }

    /// Reads a KV secret: its key/value map (strings wiped on drop).
    pub async fn read(&self, ep: &Endpoint, cred: &Credential, kv: &KvPath) -> Result<Object, VaultError> {
        let mut path = kv.api_path();
        if kv.kv_version == 2
            && let Some(v) = &kv.version
        {
            path = format!("{path}?version={v}");
        }
        let mut relogged = false;
        loop {
            let token = self.token(ep, cred).await?;
            let (status, text) = self.send(ep, reqwest::Method::GET, &path, Some(&token), None).await?;
            let shown = kv.api_path();
            match status.as_u16() {
                200 => {
                    let v = Object(serde_json::from_str(&text).map_err(|_| VaultError::Other {
                        server: ep.server.clone(),
                        reason: format!("unexpected response for {shown}"),
                    })?);
                    let data = if kv.kv_version == 2 {
                        v.0.pointer("/data/data")
                    } else {
                        v.0.get("data")
                    };
                    return match data {
                        Some(d @ serde_json::Value::Object(_)) => Ok(Object(d.clone())),
                        _ => Err(VaultError::NotFound {
                            server: ep.server.clone(),
                            path: shown,
                        }),
                    };
                }
                404 => {
                    return Err(VaultError::NotFound {
                        server: ep.server.clone(),
                        path: shown,
                    });
                }
                401 | 403 if !relogged && !matches!(cred, Credential::Token(_)) => {
                    // The token may have been revoked: log in again, once.
                    self.forget(ep, cred);
                    relogged = true;
                }
                401 | 403 => {
                    return Err(VaultError::Denied {
                        server: ep.server.clone(),
                        path: shown,
                    });
                }
                _ => {
                    return Err(VaultError::Other {
                        server: ep.server.clone(),
                        reason: format!("{shown}: {}", status_reason(status, &text)),
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_paths_as_eso_builds_them() {
        let p = |mount: &str, key: &str, v: u8| {
            KvPath {
                mount: mount.into(),
                key: key.into(),
                kv_version: v,
                version: None,
            }
            .api_path()
        };
        assert_eq!(p("secret", "app/db", 2), "secret/data/app/db");
        assert_eq!(p("secret", "secret/app/db", 2), "secret/data/app/db");
        assert_eq!(p("kv", "app", 1), "kv/app");
        assert_eq!(p("kv", "kv/app", 1), "kv/app");
    }

    #[test]
    fn credentials_fingerprint_by_value_without_showing_it() {
        let a = Credential::Token(SecretString::from("s.one".to_string()));
        let b = Credential::Token(SecretString::from("s.two".to_string()));
        assert_ne!(a.fingerprint(), b.fingerprint());
        assert_eq!(a.fingerprint(), a.clone().fingerprint());
    }
}
