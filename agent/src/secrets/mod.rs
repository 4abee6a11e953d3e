//! Secret resolvers: kinds in the render that become `Secret`s (and are not applied
//! themselves). One trait, one implementation per kind: `SealedSecret` (here) and
//! `ExternalSecret` (`external`, fetched from Vault/OpenBao). A plaintext `Secret` in Git
//! passes unless the policy denies it.

#[cfg(feature = "cloud")]
pub mod external;

use async_trait::async_trait;
use sigil_crds::sealedsecret::{SealedSecret, UnsealCache};
use sigil_crypto::sealed::SealingKey;

use crate::object::Object;

/// Why a secret could not be resolved. Names the object; never a value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResolveError {
    /// A SealedSecret could not be unsealed (wrong key, wrong scope, corrupt, bad template).
    #[error("{object}: {reason}")]
    Unseal {
        /// `SealedSecret ns/name`.
        object: String,
        /// Why.
        reason: String,
    },
    /// The policy refuses plaintext Secrets in Git.
    #[error("{0}: plaintext Secret in Git is denied by policy (seal it or encrypt it with SOPS)")]
    PlaintextDenied(String),
    /// An ExternalSecret could not be resolved (store, auth, Vault path, property).
    #[error("{object}: {reason}")]
    External {
        /// `ExternalSecret ns/name`.
        object: String,
        /// Why (names the store and Vault path, never a value or token).
        reason: String,
    },
}

/// What a resolver may consult besides the object: the whole render (stores, the Secrets
/// holding store credentials).
pub struct Context<'a> {
    /// Every object of the render, before resolution.
    pub objects: &'a [Object],
}

/// Turns objects of one kind into the Secret they stand for.
#[async_trait]
pub trait SecretResolver: Send + Sync {
    /// Whether this resolver handles `obj`.
    fn handles(&self, obj: &Object) -> bool;

    /// The Secret `obj` stands for, or `None` when the object is consumed by the resolver
    /// without becoming anything (e.g. a `SecretStore`).
    async fn resolve(&self, obj: &Object, ctx: &Context<'_>) -> Result<Option<Object>, ResolveError>;
}

/// A shared resolver (the agent keeps one per Sync, so its caches outlive a reconcile).
#[async_trait]
impl<T: SecretResolver + ?Sized> SecretResolver for std::sync::Arc<T> {
    fn handles(&self, obj: &Object) -> bool {
        (**self).handles(obj)
    }

    async fn resolve(&self, obj: &Object, ctx: &Context<'_>) -> Result<Option<Object>, ResolveError> {
        (**self).resolve(obj, ctx).await
    }
}

/// Unseals Bitnami-format SealedSecrets with the cluster's sealing keys (newest first); the
/// scope is checked against the object's final namespace and name.
pub struct SealedSecrets {
    keys: Vec<SealingKey>,
    cache: UnsealCache,
}

impl SealedSecrets {
    /// A resolver with these private keys (unsealed values cached for its lifetime).
    pub fn new(mut keys: Vec<SealingKey>) -> Self {
        sigil_crypto::sealed::keys::sort_newest_first(&mut keys);
        SealedSecrets {
            keys,
            cache: UnsealCache::new(65_536),
        }
    }

    /// Values served from the unsealed-value cache so far.
    pub fn cache_hits(&self) -> u64 {
        self.cache.hits()
    }
}

#[async_trait]
impl SecretResolver for SealedSecrets {
    fn handles(&self, obj: &Object) -> bool {
        obj.kind() == sigil_crds::sealedsecret::KIND && obj.api_version().starts_with("bitnami.com/")
    }

    async fn resolve(&self, obj: &Object, _ctx: &Context<'_>) -> Result<Option<Object>, ResolveError> {
        let err = |reason: String| ResolveError::Unseal {
            object: obj.id(),
            reason,
        };
        let ss = SealedSecret::from_value(obj.0.clone()).map_err(|e| err(e.to_string()))?;
        let (secret, used) = ss
            .unseal_cached(&self.keys, None, Some(&self.cache))
            .map_err(|e| err(e.to_string()))?;
        for (key, fp) in &used {
            tracing::debug!(object = %obj.id(), key = %key, fingerprint = %fp, "unsealed");
        }
        serde_json::to_value(&secret)
            .map(|v| Some(Object(v)))
            .map_err(|e| err(e.to_string()))
    }
}

/// Objects resolved at once.
const RESOLVE_CONCURRENCY: usize = 16;

/// What to do with plaintext `Secret` manifests found in Git.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Policy {
    /// Refuse them (the render fails).
    pub deny_plaintext_secrets: bool,
}

/// Replaces every object a resolver handles by its Secret; fails the whole render on the
/// first error. `from_sops` marks objects that were SOPS-encrypted in Git (not plaintext).
pub async fn resolve_all(
    objects: Vec<(Object, bool)>,
    resolvers: &[Box<dyn SecretResolver>],
    policy: Policy,
) -> Result<Vec<Object>, ResolveError> {
    let all: Vec<Object> = objects.iter().map(|(o, _)| o.clone()).collect();
    let ctx = Context { objects: &all };
    // Resolved concurrently (bounded), in order; the first failure fails the render.
    use futures::StreamExt;
    let results: Vec<Result<Option<Object>, ResolveError>> = futures::stream::iter(objects)
        .map(|(obj, from_sops)| {
            let ctx = &ctx;
            async move {
                if let Some(r) = resolvers.iter().find(|r| r.handles(&obj)) {
                    return r.resolve(&obj, ctx).await;
                }
                if policy.deny_plaintext_secrets && !from_sops && obj.kind() == "Secret" && obj.api_version() == "v1" {
                    let has_values = ["data", "stringData"]
                        .iter()
                        .any(|k| obj.0.get(k).and_then(|v| v.as_object()).is_some_and(|m| !m.is_empty()));
                    if has_values {
                        return Err(ResolveError::PlaintextDenied(obj.id()));
                    }
                }
                Ok(Some(obj))
            }
        })
        .buffered(RESOLVE_CONCURRENCY)
        .collect()
        .await;
    let mut out = Vec::with_capacity(results.len());
    for r in results {
        if let Some(o) = r? {
            out.push(o);
        }
    }
    Ok(out)
}
