//! One Sync's render, as the reconciler runs it: keys from the Sync's decryption Secret
//! (`*.agekey`, `sops.aws-kms`, `sops.vault-token` — Flux's keys); the build (cached by commit,
//! path and key generation, shared by Syncs with the same inputs); then, per Sync, namespaces
//! placed, post-build variables substituted and secrets resolved; a failure mapped to the
//! status reason it reports (`BuildFailed`, `DecryptionFailed`). Nothing here talks to the
//! cluster.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use secrecy::SecretString;
use sigil_crypto::keys::Keyring;
use sigil_crypto::keys::age::AgeKeys;
use sigil_crypto::keys::awskms::AwsKms;
use sigil_crypto::keys::awskms::StaticCredentials;
use sigil_crypto::keys::vault::VaultTransit;
use zeroize::Zeroizing;

use crate::cache::{RenderCache, RenderKey};
use crate::load::{FileTree, LoadError, Loader};
use crate::object::Object;
use crate::render::{self, RenderError};
use crate::secrets::{self, Policy, ResolveError, SecretResolver};
use crate::substitute::Vars;

/// Condition reason: the render failed (kustomize, YAML, paths, policy).
pub const BUILD_FAILED: &str = "BuildFailed";
/// Condition reason: a SOPS file, SealedSecret or ExternalSecret could not be opened or fetched.
pub const DECRYPTION_FAILED: &str = "DecryptionFailed";

/// A failed render: the status reason and a message naming the file or object (never a value).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}: {message}")]
pub struct Failure {
    /// `BuildFailed` or `DecryptionFailed`.
    pub reason: &'static str,
    /// What failed.
    pub message: String,
}

/// Why a decryption Secret cannot be used. Names the key, never its content.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeysError {
    /// A key's content is unusable.
    #[error("decryption Secret key {key}: {reason}")]
    Invalid {
        /// The Secret's key.
        key: String,
        /// Why.
        reason: String,
    },
}

/// What a decryption Secret provides.
pub struct DecryptionKeys {
    /// Key sources for SOPS.
    pub keyring: Keyring,
    /// `sops.vault-token`, also the default token for ExternalSecrets.
    pub vault_token: Option<SecretString>,
    /// Changes whenever the Secret's content changes (for the render cache).
    pub generation: u64,
}

fn text(key: &str, v: &[u8]) -> Result<Zeroizing<String>, KeysError> {
    String::from_utf8(v.to_vec())
        .map(Zeroizing::new)
        .map_err(|_| KeysError::Invalid {
            key: key.into(),
            reason: "not UTF-8".into(),
        })
}

/// Keys from a decryption Secret's data (already base64-decoded). Only the Secret's own
/// credentials are used: never the agent's ambient AWS chain, `VAULT_TOKEN` or home files.
pub fn decryption_keys(data: &BTreeMap<String, Zeroizing<Vec<u8>>>) -> Result<DecryptionKeys, KeysError> {
    // Keyed with this process's own key: a cache key, never shown.
    let mut h = crate::digest::process_key().mac();
    for (k, v) in data {
        h.update(&(k.len() as u64).to_be_bytes());
        h.update(k.as_bytes());
        h.update(&(v.len() as u64).to_be_bytes());
        h.update(v.as_slice());
    }
    let generation = h.finish_u64();
    let mut age = AgeKeys::new();
    let mut keyring = Keyring::new();
    let mut vault_token = None;
    for (k, v) in data {
        if k.ends_with(".agekey") {
            age.add_text(&text(k, v)?, k).map_err(|e| KeysError::Invalid {
                key: k.clone(),
                reason: e.to_string(),
            })?;
        } else if k == "sops.aws-kms" {
            let docs = sigil_crds::manifest::load(v).map_err(|_| KeysError::Invalid {
                key: k.clone(),
                reason: "not YAML".into(),
            })?;
            let doc = Object(docs.into_iter().next().unwrap_or_default());
            let field = |f: &str| doc.0.get(f).and_then(|x| x.as_str()).map(str::to_string);
            let (Some(id), Some(secret)) = (field("aws_access_key_id"), field("aws_secret_access_key")) else {
                return Err(KeysError::Invalid {
                    key: k.clone(),
                    reason: "needs aws_access_key_id and aws_secret_access_key".into(),
                });
            };
            keyring = keyring.with(AwsKms::with_credentials(StaticCredentials {
                access_key_id: id,
                secret_access_key: SecretString::from(secret),
                session_token: field("aws_session_token").map(SecretString::from),
            }));
        } else if k == "sops.vault-token" {
            vault_token = Some(SecretString::from(text(k, v)?.trim().to_string()));
        }
    }
    let keyring = keyring.with(age).with(VaultTransit::new_explicit(vault_token.clone()));
    Ok(DecryptionKeys {
        keyring,
        vault_token,
        generation,
    })
}

fn classify_load(e: &LoadError) -> &'static str {
    if e.is_decryption() {
        DECRYPTION_FAILED
    } else {
        BUILD_FAILED
    }
}

fn render_failure(e: RenderError) -> Failure {
    let reason = match &e {
        RenderError::Load(l) => classify_load(l),
        RenderError::Kustomize { source, .. } => match source {
            crate::kustomize::KustomizeError::Load(l) => classify_load(l),
            _ => BUILD_FAILED,
        },
    };
    Failure {
        reason,
        message: e.to_string(),
    }
}

fn resolve_failure(e: ResolveError) -> Failure {
    let reason = match &e {
        ResolveError::PlaintextDenied(_) => BUILD_FAILED,
        _ => DECRYPTION_FAILED,
    };
    Failure {
        reason,
        message: e.to_string(),
    }
}

/// Where namespaced objects go: `target` overrides every namespace (a Sync's
/// `targetNamespace`), `default` fills in a missing one. Decided before secrets are resolved,
/// since a SealedSecret's scope is its final namespace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Namespaces {
    /// Overrides the namespace of every namespaced object.
    pub target: Option<String>,
    /// The namespace of namespaced objects that name none.
    pub default: Option<String>,
}

impl Namespaces {
    fn place(&self, objects: &mut [(Object, bool)]) {
        if self.target.is_none() && self.default.is_none() {
            return;
        }
        for (o, _) in objects.iter_mut() {
            if crate::kustomize::is_cluster_scoped(o.api_version(), o.kind()) || o.kind() == "Namespace" {
                continue;
            }
            let ns = match (&self.target, o.namespace().is_empty()) {
                (Some(t), _) => t.clone(),
                (None, true) => self.default.clone().unwrap_or_default(),
                (None, false) => continue,
            };
            if let Some(meta) = o.0.get_mut("metadata").and_then(|m| m.as_object_mut()) {
                meta.insert("namespace".into(), serde_json::Value::String(ns));
            }
        }
    }
}

/// A render with its secrets resolved.
pub struct Rendered {
    /// The objects to apply.
    pub objects: Vec<Object>,
    /// The shortest ExternalSecret refresh interval, when the render has any.
    pub refresh: Option<std::time::Duration>,
}

/// The build of `path` at `commit` — files read (SOPS files decrypted with `keyring`, MACs
/// verified), kustomize or plain YAML — each object with whether it came from SOPS files
/// only. Cached in `cache` by (commit, path, `keys_generation`): Syncs of one source and path
/// with the same keys share one build (a Sync with other keys never sees it). Blocking work
/// happens on the calling thread: the agent calls this off its async workers.
pub async fn build(
    tree: &dyn FileTree,
    commit: &str,
    path: &Path,
    keyring: &Keyring,
    keys_generation: u64,
    cache: &RenderCache,
) -> Result<Arc<Vec<(Object, bool)>>, Failure> {
    let key = RenderKey {
        commit: commit.to_string(),
        path: path.display().to_string(),
        inputs: keys_generation,
    };
    if let Some(objects) = cache.get(&key) {
        return Ok(objects);
    }
    let loader = Loader { tree, keyring };
    let objects = render::render(&loader, path).await.map_err(render_failure)?;
    Ok(cache.insert(key, objects))
}

/// One Sync's part, after the build: namespaces placed, post-build variables substituted,
/// secrets resolved (`resolvers`) under `policy`.
pub async fn finish(
    built: &[(Object, bool)],
    namespaces: &Namespaces,
    vars: &Vars,
    resolvers: &[Box<dyn SecretResolver>],
    policy: Policy,
) -> Result<Rendered, Failure> {
    let mut objects = built.to_vec();
    namespaces.place(&mut objects);
    if !vars.is_empty() {
        let (plain, encrypted): (Vec<Object>, Vec<bool>) = objects.into_iter().unzip();
        let plain = crate::substitute::substitute(plain, vars).map_err(|e| Failure {
            reason: BUILD_FAILED,
            message: e.to_string(),
        })?;
        objects = plain.into_iter().zip(encrypted).collect();
    }
    let refresh = {
        let plain: Vec<Object> = objects.iter().map(|(o, _)| o.clone()).collect();
        secrets::external::next_refresh(&plain)
    };
    let objects = secrets::resolve_all(objects, resolvers, policy)
        .await
        .map_err(resolve_failure)?;
    Ok(Rendered { objects, refresh })
}

/// Whether a build holds objects an ExternalSecret resolver handles (the agent makes one for a
/// Sync only then).
pub fn needs_external(built: &[(Object, bool)]) -> bool {
    built.iter().any(|(o, _)| secrets::external::is_external(o))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::DirTree;

    #[test]
    fn keys_from_a_flux_style_secret() {
        let (identity, _) = sigil_crypto::keys::age::generate();
        let mut data = BTreeMap::new();
        data.insert(
            "identity.agekey".to_string(),
            Zeroizing::new(identity.as_bytes().to_vec()),
        );
        data.insert("sops.vault-token".to_string(), Zeroizing::new(b"s.token\n".to_vec()));
        data.insert(
            "sops.aws-kms".to_string(),
            Zeroizing::new(b"aws_access_key_id: AKIA\naws_secret_access_key: shh\n".to_vec()),
        );
        let k = decryption_keys(&data).unwrap();
        assert!(k.vault_token.is_some());
        let g = k.generation;
        data.insert("other.agekey".to_string(), Zeroizing::new(b"not a key".to_vec()));
        let e = decryption_keys(&data).err().unwrap().to_string();
        assert!(e.starts_with("decryption Secret key other.agekey:"), "{e}");
        data.remove("other.agekey");
        assert_eq!(
            decryption_keys(&data).unwrap().generation,
            g,
            "same content, same generation"
        );
        data.insert(
            "sops.aws-kms".to_string(),
            Zeroizing::new(b"aws_access_key_id: AKIA\n".to_vec()),
        );
        assert!(decryption_keys(&data).is_err());
    }

    #[test]
    fn failures_carry_their_reason_and_the_cache_serves_a_second_render() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("cm.yaml"),
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
        )
        .unwrap();
        let tree = DirTree::new(dir.path()).unwrap();
        let keyring = Keyring::new();
        let cache = RenderCache::new(1 << 20);
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let (namespaces, vars) = (Namespaces::default(), Vars::new());
        let run = |commit: &str| {
            rt.block_on(async {
                let built = build(&tree, commit, Path::new("."), &keyring, 1, &cache).await?;
                finish(&built, &namespaces, &vars, &[], Policy::default()).await
            })
        };
        assert_eq!(run("sha1:a").unwrap().objects.len(), 1);
        std::fs::write(dir.path().join("kustomization.yaml"), "resources: [missing.yaml]\n").unwrap();
        assert_eq!(
            run("sha1:a").unwrap().objects.len(),
            1,
            "same commit: served from the cache"
        );
        let f = run("sha1:b").err().unwrap();
        assert_eq!(f.reason, BUILD_FAILED);
        assert!(f.message.contains("missing.yaml"), "{f}");
        std::fs::remove_file(dir.path().join("kustomization.yaml")).unwrap();
        std::fs::write(
            dir.path().join("s.yaml"),
            "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {a: b}\nsops:\n  mac: x\n  version: 3.11.0\n  lastmodified: \"2026-01-01T00:00:00Z\"\n  age:\n  - recipient: age1x\n    enc: x\n",
        )
        .unwrap();
        let f = run("sha1:c").err().unwrap();
        assert_eq!(f.reason, DECRYPTION_FAILED, "{f}");
        assert!(f.message.contains("s.yaml"), "{f}");
    }
}
