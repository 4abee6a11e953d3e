//! `bitnami.com/v1alpha1 SealedSecret`: sealing a `Secret` into one, and unsealing one into
//! the `Secret` the Bitnami controller would produce.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use sigil_crypto::sealed::{self, PublicCert, Scope, SealError, SealingKey};
use zeroize::Zeroizing;

use crate::gotemplate::{self, TemplateError};
use crate::meta::ObjectMeta;
use crate::secret::{Secret, SecretBytes};

/// API version of SealedSecrets.
pub const API_VERSION: &str = "bitnami.com/v1alpha1";
/// Kind of SealedSecrets.
pub const KIND: &str = "SealedSecret";
/// Most values one SealedSecret may hold. Each costs an RSA decryption per key tried, and a
/// YAML alias makes a value a few bytes of input, so this bounds the work one object causes.
/// Bitnami sets no limit, but etcd's 1.5 MiB object limit does: about 2,200 values sealed to
/// the default RSA-4096 keys fit in one SealedSecret (about 4,200 tiny ones with 2048-bit keys).
pub const MAX_VALUES: usize = 4096;

/// An opened value and the fingerprint of the key that opened it.
type Opened = (Zeroizing<Vec<u8>>, String);

/// Unsealed values kept in memory by digest of (scope label, ciphertext), so an unchanged
/// SealedSecret is not opened again (RSA work) on the next render. Values are wiped when
/// evicted or dropped. Bounded: when full, it is emptied.
pub struct UnsealCache {
    entries: std::sync::Mutex<std::collections::HashMap<[u8; 32], Opened>>,
    capacity: usize,
    hits: std::sync::atomic::AtomicU64,
}

impl UnsealCache {
    /// A cache holding at most `capacity` values.
    pub fn new(capacity: usize) -> Self {
        UnsealCache {
            entries: Default::default(),
            capacity,
            hits: Default::default(),
        }
    }

    fn digest(label: &[u8], blob: &[u8]) -> [u8; 32] {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        h.update((label.len() as u64).to_be_bytes());
        h.update(label);
        h.update(blob);
        h.finalize().into()
    }

    fn get(&self, label: &[u8], blob: &[u8]) -> Option<(Zeroizing<Vec<u8>>, String)> {
        let hit = self.entries.lock().ok()?.get(&Self::digest(label, blob)).cloned();
        if hit.is_some() {
            self.hits.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        hit
    }

    fn put(&self, label: &[u8], blob: &[u8], v: &(Zeroizing<Vec<u8>>, String)) {
        if let Ok(mut e) = self.entries.lock() {
            if e.len() >= self.capacity {
                e.clear();
            }
            e.insert(Self::digest(label, blob), v.clone());
        }
    }

    /// Values served from the cache so far.
    pub fn hits(&self) -> u64 {
        self.hits.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Values held.
    pub fn len(&self) -> usize {
        self.entries.lock().map(|e| e.len()).unwrap_or(0)
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The template the unsealed Secret is built from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SecretTemplate {
    /// Metadata of the Secret.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// Secret type.
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    /// Whether the Secret is immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub immutable: Option<bool>,
    /// Templated values (Go templates over the decrypted values).
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "crate::meta::string_map"
    )]
    pub data: BTreeMap<String, String>,
}

/// `spec` of a SealedSecret.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SealedSecretSpec {
    /// The template of the Secret.
    #[serde(default)]
    pub template: SecretTemplate,
    /// One sealed value per key (base64).
    #[serde(default)]
    pub encrypted_data: BTreeMap<String, String>,
    /// The deprecated whole-Secret ciphertext (base64).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
}

/// A `SealedSecret`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SealedSecret {
    /// `bitnami.com/v1alpha1`.
    pub api_version: String,
    /// `SealedSecret`.
    pub kind: String,
    /// Metadata (its name, namespace and scope annotations decide the label).
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// The sealed data.
    #[serde(default)]
    pub spec: SealedSecretSpec,
}

/// Why a SealedSecret could not be sealed or unsealed. Never contains a value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UnsealError {
    /// No key opened a value.
    #[error("no key could open value `{key}` of `{object}`: sealed with another key, or for another name/namespace than `{object}` (tried fingerprints {})", .tried.join(", "))]
    NoKey {
        /// The value's key.
        key: String,
        /// `namespace/name`.
        object: String,
        /// Fingerprints of the keys tried.
        tried: Vec<String>,
    },
    /// A key opened the value, but only under another scope: it was sealed for elsewhere.
    #[error("scope mismatch for value `{key}`: sealed for `{sealed_for}`, found at `{found_at}`")]
    ScopeMismatch {
        /// The value's key.
        key: String,
        /// Where it was sealed for.
        sealed_for: String,
        /// Where it was found.
        found_at: String,
    },
    /// The ciphertext is not base64, too short, or corrupt.
    #[error("value `{key}` of `{object}`: {reason}")]
    Corrupt {
        /// The value's key.
        key: String,
        /// `namespace/name`.
        object: String,
        /// Why.
        reason: String,
    },
    /// A `template.data` entry cannot be rendered.
    #[error("template.data.{key} of `{object}`: {source}")]
    Template {
        /// The templated key.
        key: String,
        /// `namespace/name`.
        object: String,
        /// Why.
        source: Box<TemplateError>,
    },
    /// The object is not a usable SealedSecret or Secret.
    #[error("{0}")]
    Invalid(String),
    /// The object holds more sealed values than [`MAX_VALUES`].
    #[error("`{object}` holds {count} sealed values; at most {MAX_VALUES} are allowed")]
    TooManyValues {
        /// `namespace/name`.
        object: String,
        /// How many values it holds (or would hold, when sealing).
        count: usize,
    },
    /// Sealing failed.
    #[error("sealing value `{key}` failed: {source}")]
    Seal {
        /// The value's key.
        key: String,
        /// Why.
        source: SealError,
    },
}

/// Tries every key on one blob under `label`; returns the plaintext and the key's fingerprint.
fn open_any(keys: &[SealingKey], blob: &[u8], label: &[u8]) -> Result<(Zeroizing<Vec<u8>>, String), SealError> {
    let mut last = SealError::Rsa;
    for k in keys {
        match sealed::open(&k.private, blob, label) {
            Ok(p) => return Ok((p, k.fingerprint.clone())),
            Err(e @ SealError::Truncated) => return Err(e),
            Err(e) => last = e,
        }
    }
    Err(last)
}

impl SealedSecret {
    /// The scope its annotations declare.
    pub fn scope(&self) -> Scope {
        Scope::from_annotations(|k| self.metadata.annotations.get(k).map(String::as_str))
    }

    /// Parses a SealedSecret from a JSON value.
    pub fn from_value(v: serde_json::Value) -> Result<Self, UnsealError> {
        let ss: SealedSecret =
            serde_json::from_value(v).map_err(|e| UnsealError::Invalid(format!("not a SealedSecret: {e}")))?;
        if ss.kind != KIND || !ss.api_version.starts_with("bitnami.com/") {
            return Err(UnsealError::Invalid(format!(
                "not a SealedSecret (kind {} {})",
                ss.api_version, ss.kind
            )));
        }
        Ok(ss)
    }

    /// Unseals into the Secret the Bitnami controller would make, as `namespace/name`
    /// (`at`, default: the object's own) — the scope label is checked against that place.
    /// Returns the Secret and, per value, the fingerprint of the key that opened it.
    pub fn unseal(
        &self,
        keys: &[SealingKey],
        at: Option<(&str, &str)>,
    ) -> Result<(Secret, BTreeMap<String, String>), UnsealError> {
        self.unseal_cached(keys, at, None)
    }

    /// [`SealedSecret::unseal`], with values opened before served from `cache`.
    pub fn unseal_cached(
        &self,
        keys: &[SealingKey],
        at: Option<(&str, &str)>,
        cache: Option<&UnsealCache>,
    ) -> Result<(Secret, BTreeMap<String, String>), UnsealError> {
        let (namespace, name) = at.unwrap_or((&self.metadata.namespace, &self.metadata.name));
        let object = format!("{namespace}/{name}");
        let count = self.spec.encrypted_data.len();
        if count > MAX_VALUES {
            return Err(UnsealError::TooManyValues { object, count });
        }
        let scope = self.scope();
        let label = scope.label(namespace, name);
        let mut used = BTreeMap::new();
        let mut secret = Secret::default();
        secret.api_version = "v1".into();
        secret.kind = "Secret".into();
        secret.metadata = self.spec.template.metadata.clone();
        secret.type_ = self.spec.template.type_.clone();
        secret.immutable = self.spec.template.immutable;
        if let Some(legacy) = &self.spec.data {
            if !self.spec.encrypted_data.is_empty() {
                return Err(UnsealError::Invalid(format!(
                    "`{object}`: cannot use both encryptedData and the deprecated data field"
                )));
            }
            let blob = B64.decode(legacy.trim()).map_err(|_| UnsealError::Corrupt {
                key: "data".into(),
                object: object.clone(),
                reason: "not base64".into(),
            })?;
            let (plain, fp) = self.open_value("data", &blob, &label, keys, namespace, name)?;
            let inner: Secret = serde_json::from_slice(&plain).map_err(|_| UnsealError::Corrupt {
                key: "data".into(),
                object: object.clone(),
                reason: "decrypted data is not a Secret".into(),
            })?;
            used.insert("data".into(), fp);
            secret = inner;
        } else {
            let mut plain: BTreeMap<String, Zeroizing<Vec<u8>>> = BTreeMap::new();
            let mut opened: std::collections::HashMap<String, (Zeroizing<Vec<u8>>, String)> = Default::default();
            for (key, value) in &self.spec.encrypted_data {
                let blob = B64.decode(value.trim()).map_err(|_| UnsealError::Corrupt {
                    key: key.clone(),
                    object: object.clone(),
                    reason: "not base64".into(),
                })?;
                // Identical ciphertexts (e.g. YAML aliases) are opened once: bounded RSA work.
                let (p, fp) = match opened.get(value.trim()) {
                    Some(hit) => hit.clone(),
                    None => {
                        let r = match cache.and_then(|c| c.get(&label, &blob)) {
                            Some(hit) => hit,
                            None => {
                                let r = self.open_value(key, &blob, &label, keys, namespace, name)?;
                                if let Some(c) = cache {
                                    c.put(&label, &blob, &r);
                                }
                                r
                            }
                        };
                        opened.insert(value.trim().to_string(), r.clone());
                        r
                    }
                };
                used.insert(key.clone(), fp);
                plain.insert(key.clone(), p);
            }
            for (key, tmpl) in &self.spec.template.data {
                let v = gotemplate::render(tmpl, &plain).map_err(|source| UnsealError::Template {
                    key: key.clone(),
                    object: object.clone(),
                    source: Box::new(source),
                })?;
                secret.data.insert(key.clone(), SecretBytes(v));
            }
            for (key, p) in plain {
                secret.data.entry(key).or_insert(SecretBytes(p));
            }
        }
        secret.metadata.name = name.to_string();
        secret.metadata.namespace = namespace.to_string();
        Ok((secret, used))
    }

    fn open_value(
        &self,
        key: &str,
        blob: &[u8],
        label: &[u8],
        keys: &[SealingKey],
        namespace: &str,
        name: &str,
    ) -> Result<(Zeroizing<Vec<u8>>, String), UnsealError> {
        let object = format!("{namespace}/{name}");
        match open_any(keys, blob, label) {
            Ok(v) => Ok(v),
            Err(SealError::Truncated) => Err(UnsealError::Corrupt {
                key: key.into(),
                object,
                reason: "truncated ciphertext".into(),
            }),
            Err(SealError::Aead) => Err(UnsealError::Corrupt {
                key: key.into(),
                object,
                reason: "corrupt ciphertext".into(),
            }),
            Err(_) => {
                // Find out whether it was sealed for another place, to say so.
                let t = &self.spec.template.metadata;
                let mut candidates: Vec<(Scope, String, String)> = vec![
                    (Scope::ClusterWide, String::new(), String::new()),
                    (Scope::NamespaceWide, namespace.to_string(), String::new()),
                    (
                        Scope::Strict,
                        self.metadata.namespace.clone(),
                        self.metadata.name.clone(),
                    ),
                    (Scope::NamespaceWide, self.metadata.namespace.clone(), String::new()),
                ];
                if !t.namespace.is_empty() || !t.name.is_empty() {
                    candidates.push((Scope::Strict, t.namespace.clone(), t.name.clone()));
                    candidates.push((Scope::NamespaceWide, t.namespace.clone(), String::new()));
                }
                for (scope, ns, n) in candidates {
                    let l = scope.label(&ns, &n);
                    if l != label && open_any(keys, blob, &l).is_ok() {
                        return Err(UnsealError::ScopeMismatch {
                            key: key.into(),
                            sealed_for: scope.describe(&ns, &n),
                            found_at: self.scope().describe(namespace, name),
                        });
                    }
                }
                Err(UnsealError::NoKey {
                    key: key.into(),
                    object,
                    tried: keys.iter().map(|k| k.fingerprint.clone()).collect(),
                })
            }
        }
    }
}

/// Seals every value of `secret` (data and stringData) to `cert` under `scope`, as kubeseal:
/// server-owned metadata, last-applied annotations and owner references are stripped.
pub fn seal(secret: &Secret, cert: &PublicCert, scope: Scope) -> Result<SealedSecret, UnsealError> {
    let mut meta = secret.metadata.clone();
    meta.strip_server_fields();
    for a in [
        sealed::scope::NAMESPACE_WIDE_ANNOTATION,
        sealed::scope::CLUSTER_WIDE_ANNOTATION,
    ] {
        meta.annotations.remove(a);
    }
    if let Some(a) = scope.annotation() {
        meta.annotations.insert(a.to_string(), "true".into());
    }
    if scope != Scope::ClusterWide && meta.namespace.is_empty() {
        return Err(UnsealError::Invalid(
            "the Secret must declare a namespace (or use --scope cluster-wide)".into(),
        ));
    }
    if scope == Scope::Strict && meta.name.is_empty() {
        return Err(UnsealError::Invalid(
            "the Secret must have a name (metadata.name)".into(),
        ));
    }
    meta.other.insert("creationTimestamp".into(), serde_json::Value::Null);
    let mut ss = SealedSecret {
        api_version: API_VERSION.into(),
        kind: KIND.into(),
        metadata: ObjectMeta {
            name: meta.name.clone(),
            namespace: meta.namespace.clone(),
            annotations: scope
                .annotation()
                .map(|a| [(a.to_string(), "true".to_string())].into())
                .unwrap_or_default(),
            other: [("creationTimestamp".to_string(), serde_json::Value::Null)]
                .into_iter()
                .collect(),
            ..Default::default()
        },
        spec: SealedSecretSpec {
            template: SecretTemplate {
                metadata: meta,
                type_: secret.type_.clone(),
                immutable: secret.immutable,
                data: BTreeMap::new(),
            },
            encrypted_data: BTreeMap::new(),
            data: None,
        },
    };
    merge(&mut ss, secret, cert)?;
    Ok(ss)
}

/// Seals the values of `secret` into an existing SealedSecret, replacing only those keys.
pub fn merge(ss: &mut SealedSecret, secret: &Secret, cert: &PublicCert) -> Result<(), UnsealError> {
    let values = secret.values();
    let added = values
        .keys()
        .filter(|k| !ss.spec.encrypted_data.contains_key(*k))
        .count();
    let count = ss.spec.encrypted_data.len() + added;
    if count > MAX_VALUES {
        let object = format!("{}/{}", ss.metadata.namespace, ss.metadata.name);
        return Err(UnsealError::TooManyValues { object, count });
    }
    let label = ss.scope().label(&ss.metadata.namespace, &ss.metadata.name);
    for (key, value) in values {
        let blob = sealed::seal(&cert.public, value.expose(), &label).map_err(|source| UnsealError::Seal {
            key: key.clone(),
            source,
        })?;
        ss.spec.encrypted_data.insert(key, B64.encode(blob));
    }
    Ok(())
}

/// Seals one raw value for `namespace/name` under `scope` (kubeseal `--raw`).
pub fn seal_raw(
    value: &[u8],
    cert: &PublicCert,
    scope: Scope,
    namespace: &str,
    name: &str,
) -> Result<String, UnsealError> {
    let blob =
        sealed::seal(&cert.public, value, &scope.label(namespace, name)).map_err(|source| UnsealError::Seal {
            key: "raw".into(),
            source,
        })?;
    Ok(B64.encode(blob))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_values(n: usize) -> SealedSecret {
        let mut ss = SealedSecret::from_value(serde_json::json!({
            "apiVersion": API_VERSION,
            "kind": KIND,
            "metadata": {"name": "db", "namespace": "apps"},
        }))
        .unwrap();
        for i in 0..n {
            ss.spec.encrypted_data.insert(format!("k{i:05}"), "AA==".into());
        }
        ss
    }

    #[test]
    fn value_count_is_bounded_before_any_rsa_work() {
        // At the limit the values are tried (with no keys, the first one fails).
        let err = with_values(MAX_VALUES).unseal(&[], None).unwrap_err();
        assert!(matches!(err, UnsealError::NoKey { .. }), "{err}");
        let err = with_values(MAX_VALUES + 1).unseal(&[], None).unwrap_err();
        assert!(
            matches!(&err, UnsealError::TooManyValues { object, count } if object == "apps/db" && *count == MAX_VALUES + 1),
            "{err}"
        );
    }

    #[test]
    fn sealing_past_the_bound_is_refused() {
        let key = SealingKey::generate(2048).unwrap();
        let cert = PublicCert::parse(&key.self_signed_cert().unwrap(), "cert.pem").unwrap();
        let mut ss = with_values(MAX_VALUES);
        let mut secret = Secret::default();
        secret
            .data
            .insert("k00000".into(), SecretBytes::new(b"replaced".to_vec()));
        merge(&mut ss, &secret, &cert).unwrap();
        secret.data.insert("one-more".into(), SecretBytes::new(b"v".to_vec()));
        let err = merge(&mut ss, &secret, &cert).unwrap_err();
        assert!(
            matches!(err, UnsealError::TooManyValues { count, .. } if count == MAX_VALUES + 1),
            "{err}"
        );
    }
}
