//! ServiceAccount tokens for ExternalSecret stores that log in to Vault as one, from the
//! TokenRequest API. A Sync gets tokens only for ServiceAccounts of its own namespace (its
//! tenancy boundary), and a token is reused until half its lifetime has passed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use secrecy::SecretString;

use crate::controller::kubeapi::KubeApi;
use crate::secrets::external::TokenIssuer;

/// How long a requested token is reused (tokens are requested for 10 minutes).
const REUSE: Duration = Duration::from_secs(300);

/// A ServiceAccount name and the audiences asked for.
type TokenKey = (String, Vec<String>);

/// The token source of one Sync.
pub struct ServiceAccountTokens {
    api: Arc<KubeApi>,
    namespace: String,
    cache: Mutex<HashMap<TokenKey, (SecretString, Instant)>>,
}

impl ServiceAccountTokens {
    /// Tokens for ServiceAccounts of `namespace` (the Sync's).
    pub fn new(api: Arc<KubeApi>, namespace: String) -> Self {
        ServiceAccountTokens {
            api,
            namespace,
            cache: Mutex::default(),
        }
    }
}

#[async_trait::async_trait]
impl TokenIssuer for ServiceAccountTokens {
    async fn token(&self, namespace: &str, name: &str, audiences: &[String]) -> Result<SecretString, String> {
        if namespace != self.namespace {
            return Err(format!(
                "ServiceAccount {namespace}/{name} is outside the Sync's namespace {}",
                self.namespace
            ));
        }
        let key = (name.to_string(), audiences.to_vec());
        if let Ok(c) = self.cache.lock()
            && let Some((t, at)) = c.get(&key)
            && at.elapsed() < REUSE
        {
            return Ok(t.clone());
        }
        let t = self
            .api
            .service_account_token(namespace, name, audiences)
            .await
            .map_err(|e| e.to_string())?;
        if let Ok(mut c) = self.cache.lock() {
            c.insert(key, (t.clone(), Instant::now()));
        }
        Ok(t)
    }
}
