//! Secret resolvers: kinds in the render that become `Secret`s (and are not applied
//! themselves). One trait, one implementation per kind: `SealedSecret` now, `ExternalSecret`
//! later. A plaintext `Secret` in Git passes unless the policy denies it.

use async_trait::async_trait;
use sigil_crds::sealedsecret::SealedSecret;
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
}

/// Turns objects of one kind into the Secret they stand for.
#[async_trait]
pub trait SecretResolver: Send + Sync {
    /// Whether this resolver handles `obj`.
    fn handles(&self, obj: &Object) -> bool;

    /// The Secret `obj` stands for.
    async fn resolve(&self, obj: &Object) -> Result<Object, ResolveError>;
}

/// Unseals Bitnami-format SealedSecrets with the cluster's sealing keys (newest first); the
/// scope is checked against the object's final namespace and name.
pub struct SealedSecrets {
    keys: Vec<SealingKey>,
}

impl SealedSecrets {
    /// A resolver with these private keys.
    pub fn new(mut keys: Vec<SealingKey>) -> Self {
        sigil_crypto::sealed::keys::sort_newest_first(&mut keys);
        SealedSecrets { keys }
    }
}

#[async_trait]
impl SecretResolver for SealedSecrets {
    fn handles(&self, obj: &Object) -> bool {
        obj.kind() == sigil_crds::sealedsecret::KIND && obj.api_version().starts_with("bitnami.com/")
    }

    async fn resolve(&self, obj: &Object) -> Result<Object, ResolveError> {
        let err = |reason: String| ResolveError::Unseal {
            object: obj.id(),
            reason,
        };
        let ss = SealedSecret::from_value(obj.0.clone()).map_err(|e| err(e.to_string()))?;
        let (secret, used) = ss.unseal(&self.keys, None).map_err(|e| err(e.to_string()))?;
        for (key, fp) in &used {
            tracing::debug!(object = %obj.id(), key = %key, fingerprint = %fp, "unsealed");
        }
        serde_json::to_value(&secret)
            .map(Object)
            .map_err(|e| err(e.to_string()))
    }
}

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
    let mut out = Vec::with_capacity(objects.len());
    for (obj, from_sops) in objects {
        if let Some(r) = resolvers.iter().find(|r| r.handles(&obj)) {
            out.push(r.resolve(&obj).await?);
            continue;
        }
        if policy.deny_plaintext_secrets && !from_sops && obj.kind() == "Secret" && obj.api_version() == "v1" {
            let has_values = ["data", "stringData"]
                .iter()
                .any(|k| obj.0.get(k).and_then(|v| v.as_object()).is_some_and(|m| !m.is_empty()));
            if has_values {
                return Err(ResolveError::PlaintextDenied(obj.id()));
            }
        }
        out.push(obj);
    }
    Ok(out)
}
