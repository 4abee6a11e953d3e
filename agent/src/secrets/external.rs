//! The `ExternalSecret` resolver (External Secrets Operator's manifests, Vault provider): an
//! ExternalSecret found in the render becomes its target Secret, fetched from Vault/OpenBao
//! in memory; `SecretStore`/`ClusterSecretStore` objects are consumed, not applied. Stores
//! and the Secrets holding their credentials come from the render (SOPS-decrypted or
//! unsealed there). Values fetched are cached for the ExternalSecret's `refreshInterval`.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use secrecy::SecretString;
use serde_json::Value;
use sigil_crds::externalsecret::{
    self, CLUSTER_STORE_KIND, ExternalSecret, RemoteRef, STORE_KIND, SecretKeyRef, SecretStore, VaultProvider,
};
use sigil_crds::gotemplate;
use zeroize::Zeroizing;

use super::{Context, ResolveError, SecretResolver};
use crate::object::Object;
use crate::vault::{Credential, Endpoint, KvPath, VaultKv};

/// Default `refreshInterval` (ESO's).
pub const DEFAULT_REFRESH: Duration = Duration::from_secs(3600);

pub use crate::duration::parse as parse_duration;

/// (endpoint, credential digest, API path, pinned version).
type CacheKey = (Endpoint, [u8; 32], String, Option<String>);

struct Cached {
    at: Instant,
    ttl: Option<Duration>,
    value: Object,
}

/// Issues ServiceAccount tokens for stores that log in as one (`auth.kubernetes.serviceAccountRef`,
/// `auth.jwt.kubernetesServiceAccountToken`). The agent implements it with the TokenRequest API.
#[async_trait::async_trait]
pub trait TokenIssuer: Send + Sync {
    /// A token for ServiceAccount `namespace/name` with `audiences` (empty: the API server's).
    async fn token(&self, namespace: &str, name: &str, audiences: &[String]) -> Result<SecretString, String>;
}

/// Resolves ExternalSecrets against Vault/OpenBao.
pub struct ExternalSecrets {
    kv: Arc<VaultKv>,
    token: Option<SecretString>,
    address: Option<String>,
    default_store: Option<externalsecret::StoreRef>,
    issuer: Option<Arc<dyn TokenIssuer>>,
    cache: Mutex<HashMap<CacheKey, Cached>>,
}

impl ExternalSecrets {
    /// A resolver. `token` and `address` (the CLI's `--vault-token-file`/`--vault-addr`, or
    /// `VAULT_TOKEN`/`VAULT_ADDR`) override every store's auth and server when given.
    pub fn new(kv: Arc<VaultKv>, token: Option<SecretString>, address: Option<String>) -> Self {
        ExternalSecrets {
            kv,
            token,
            address: address.map(|a| a.trim().trim_end_matches('/').to_string()),
            default_store: None,
            issuer: None,
            cache: Mutex::default(),
        }
    }

    /// Where ServiceAccount tokens come from (without one, such stores are refused).
    pub fn token_issuer(mut self, issuer: Arc<dyn TokenIssuer>) -> Self {
        self.issuer = Some(issuer);
        self
    }

    /// The store used by ExternalSecrets that name none (a Sync's `spec.vault`).
    pub fn default_store(mut self, name: &str, kind: Option<&str>) -> Self {
        self.default_store = Some(externalsecret::StoreRef {
            name: name.to_string(),
            kind: kind.map(str::to_string),
        });
        self
    }

    /// The Vault client (for its counters).
    pub fn client(&self) -> &VaultKv {
        &self.kv
    }
}

fn find<'a>(ctx: &'a Context<'_>, kind: &str, name: &str, namespace: Option<&str>) -> Option<&'a Object> {
    ctx.objects.iter().find(|o| {
        o.kind() == kind
            && o.name() == name
            && namespace.is_none_or(|ns| o.namespace() == ns || (ns.is_empty() && o.namespace().is_empty()))
    })
}

/// A key of a Secret (or ConfigMap) in the render.
fn secret_value(ctx: &Context<'_>, kind: &str, r: &SecretKeyRef, ns: &str) -> Result<Zeroizing<Vec<u8>>, String> {
    let ns = r.namespace.as_deref().unwrap_or(ns);
    let obj = find(ctx, kind, &r.name, Some(ns))
        .ok_or_else(|| format!("{kind} {ns}/{} (referenced by the store) is not in the render", r.name))?;
    if let Some(s) = obj
        .0
        .pointer(&format!("/stringData/{}", r.key.replace('~', "~0").replace('/', "~1")))
        .and_then(|v| v.as_str())
    {
        return Ok(Zeroizing::new(s.as_bytes().to_vec()));
    }
    let data = obj.0.get("data").and_then(|d| d.get(&r.key));
    match (kind, data.and_then(|v| v.as_str())) {
        ("Secret", Some(b64)) => STANDARD
            .decode(b64.trim())
            .map(Zeroizing::new)
            .map_err(|_| format!("Secret {ns}/{} key {}: not base64", r.name, r.key)),
        (_, Some(s)) => Ok(Zeroizing::new(s.as_bytes().to_vec())),
        _ => Err(format!("{kind} {ns}/{} has no key {}", r.name, r.key)),
    }
}

fn secret_string(ctx: &Context<'_>, r: &SecretKeyRef, ns: &str) -> Result<SecretString, String> {
    let v = secret_value(ctx, "Secret", r, ns)?;
    let s = std::str::from_utf8(&v).map_err(|_| format!("Secret {}/{} key {}: not UTF-8", ns, r.name, r.key))?;
    Ok(SecretString::from(s.trim().to_string()))
}

/// Canonical JSON (sorted keys), as Go's `json.Marshal` of a map.
fn canonical(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let sorted: BTreeMap<&String, Value> = m.iter().map(|(k, v)| (k, canonical(v))).collect();
            Value::Object(sorted.into_iter().map(|(k, v)| (k.clone(), v)).collect())
        }
        Value::Array(a) => Value::Array(a.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

fn value_bytes(v: &Value) -> Zeroizing<Vec<u8>> {
    match v {
        Value::String(s) => Zeroizing::new(s.as_bytes().to_vec()),
        other => {
            let c = Object(canonical(other));
            Zeroizing::new(serde_json::to_vec(&c.0).unwrap_or_default())
        }
    }
}

/// ESO's property lookup: empty → the whole secret as JSON; an exact top-level key; then a
/// nested `a.b.c` path.
fn property(secret: &Value, prop: Option<&str>) -> Option<Zeroizing<Vec<u8>>> {
    match prop.filter(|p| !p.is_empty()) {
        None => Some(value_bytes(secret)),
        Some(p) => {
            if let Some(v) = secret.get(p) {
                return Some(value_bytes(v));
            }
            let mut cur = secret;
            for part in p.split('.') {
                cur = match cur {
                    Value::Object(m) => m.get(part)?,
                    Value::Array(a) => a.get(part.parse::<usize>().ok()?)?,
                    _ => return None,
                };
            }
            Some(value_bytes(cur))
        }
    }
}

fn decode(strategy: Option<&str>, v: Zeroizing<Vec<u8>>) -> Result<Zeroizing<Vec<u8>>, String> {
    let text = || {
        std::str::from_utf8(&v)
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    };
    match strategy.unwrap_or("None") {
        "None" | "" => Ok(v),
        "Base64" => STANDARD
            .decode(text())
            .map(Zeroizing::new)
            .map_err(|_| "Base64 decoding failed".into()),
        "Base64URL" => URL_SAFE
            .decode(text())
            .or_else(|_| URL_SAFE_NO_PAD.decode(text()))
            .map(Zeroizing::new)
            .map_err(|_| "Base64URL decoding failed".into()),
        "Auto" => Ok(STANDARD
            .decode(text())
            .or_else(|_| URL_SAFE.decode(text()))
            .or_else(|_| URL_SAFE_NO_PAD.decode(text()))
            .map(Zeroizing::new)
            .unwrap_or(v)),
        other => Err(format!("unknown decodingStrategy {other}")),
    }
}

impl ExternalSecrets {
    fn endpoint(&self, p: &VaultProvider, ctx: &Context<'_>, ns: &str) -> Result<Endpoint, String> {
        let server = self
            .address
            .clone()
            .unwrap_or_else(|| p.server.trim().trim_end_matches('/').to_string());
        if server.is_empty() {
            return Err("no Vault server (spec.provider.vault.server)".into());
        }
        let ca_pem = match (&p.ca_bundle, &p.ca_provider) {
            (Some(b), _) if !b.trim().is_empty() => Some(
                STANDARD
                    .decode(b.trim())
                    .map_err(|_| "caBundle is not base64".to_string())?,
            ),
            (_, Some(cp)) => {
                let kind = if cp.type_ == "ConfigMap" { "ConfigMap" } else { "Secret" };
                let r = SecretKeyRef {
                    name: cp.name.clone(),
                    key: cp.key.clone(),
                    namespace: cp.namespace.clone(),
                };
                Some(secret_value(ctx, kind, &r, ns)?.to_vec())
            }
            _ => None,
        };
        Ok(Endpoint {
            server,
            namespace: p.namespace.clone().filter(|n| !n.is_empty()),
            ca_pem,
        })
    }

    async fn service_account_token(&self, sa: &serde_json::Value, ns: &str) -> Result<SecretString, String> {
        let Some(issuer) = &self.issuer else {
            return Err("a ServiceAccount token needs the agent running against a cluster".into());
        };
        let name = sa
            .get("name")
            .and_then(|n| n.as_str())
            .filter(|n| !n.is_empty())
            .ok_or("serviceAccountRef needs a name")?;
        let sa_ns = sa.get("namespace").and_then(|n| n.as_str()).unwrap_or(ns);
        let audiences: Vec<String> = sa
            .get("audiences")
            .and_then(|a| a.as_array())
            .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        issuer.token(sa_ns, name, &audiences).await
    }

    async fn credential(&self, p: &VaultProvider, ctx: &Context<'_>, ns: &str) -> Result<Credential, String> {
        if let Some(t) = &self.token {
            return Ok(Credential::Token(t.clone()));
        }
        let a = &p.auth;
        if let Some(r) = &a.token_secret_ref {
            return Ok(Credential::Token(secret_string(ctx, r, ns)?));
        }
        if let Some(ar) = &a.app_role {
            let role_id = match (&ar.role_id, &ar.role_ref) {
                (Some(id), _) if !id.is_empty() => id.clone(),
                (_, Some(r)) => {
                    use secrecy::ExposeSecret;
                    secret_string(ctx, r, ns)?.expose_secret().to_string()
                }
                _ => return Err("appRole needs roleId or roleRef".into()),
            };
            let secret_id = secret_string(ctx, ar.secret_ref.as_ref().ok_or("appRole needs secretRef")?, ns)?;
            return Ok(Credential::AppRole {
                mount: ar.path.clone().unwrap_or_else(|| "approle".into()),
                role_id,
                secret_id,
            });
        }
        if let Some(j) = &a.jwt {
            let jwt = match (&j.secret_ref, &j.kubernetes_service_account_token) {
                (Some(r), _) => secret_string(ctx, r, ns)?,
                (None, Some(t)) => {
                    let mut sa = t.get("serviceAccountRef").cloned().unwrap_or_default();
                    if let (Some(aud), Some(m)) = (t.get("audiences"), sa.as_object_mut()) {
                        m.entry("audiences").or_insert(aud.clone());
                    }
                    self.service_account_token(&sa, ns).await?
                }
                (None, None) => return Err("jwt auth needs secretRef or kubernetesServiceAccountToken".into()),
            };
            return Ok(Credential::Jwt {
                mount: j.path.clone().unwrap_or_else(|| "jwt".into()),
                role: j.role.clone().unwrap_or_default(),
                jwt,
            });
        }
        if let Some(k) = &a.kubernetes {
            let jwt = match (&k.secret_ref, &k.service_account_ref) {
                (Some(r), _) => secret_string(ctx, r, ns)?,
                (None, Some(sa)) => self.service_account_token(sa, ns).await?,
                (None, None) => return Err("kubernetes auth needs serviceAccountRef or secretRef".into()),
            };
            return Ok(Credential::Kubernetes {
                mount: k.mount_path.clone().unwrap_or_else(|| "kubernetes".into()),
                role: k.role.clone(),
                jwt,
            });
        }
        if let Some(other) = a.other.keys().next() {
            return Err(format!("vault auth method {other} not supported"));
        }
        Err("no vault auth configured (and no --vault-token-file / VAULT_TOKEN given)".into())
    }

    async fn fetch(
        &self,
        ep: &Endpoint,
        cred: &Credential,
        kv: &KvPath,
        ttl: Option<Duration>,
    ) -> Result<Object, String> {
        let key = (ep.clone(), cred.fingerprint(), kv.api_path(), kv.version.clone());
        {
            let cache = self.cache.lock().map_err(|_| "cache poisoned".to_string())?;
            if let Some(c) = cache.get(&key)
                && c.ttl.is_none_or(|t| c.at.elapsed() < t)
            {
                return Ok(c.value.clone());
            }
        }
        let v = self.kv.read(ep, cred, kv).await.map_err(|e| e.to_string())?;
        self.cache.lock().map_err(|_| "cache poisoned".to_string())?.insert(
            key,
            Cached {
                at: Instant::now(),
                ttl,
                value: v.clone(),
            },
        );
        Ok(v)
    }

    async fn build(&self, es: &ExternalSecret, ctx: &Context<'_>) -> Result<Object, String> {
        let ns = es.metadata.namespace.as_str();
        let sref = es
            .spec
            .secret_store_ref
            .as_ref()
            .or(self.default_store.as_ref())
            .ok_or("no spec.secretStoreRef, and no default store (Sync spec.vault)")?;
        let store_kind = sref.kind.as_deref().unwrap_or(STORE_KIND);
        let store_obj = match store_kind {
            STORE_KIND => find(ctx, STORE_KIND, &sref.name, Some(ns)),
            CLUSTER_STORE_KIND => find(ctx, CLUSTER_STORE_KIND, &sref.name, None),
            other => return Err(format!("unknown store kind {other}")),
        }
        .ok_or_else(|| format!("{store_kind} {} is not in the render", sref.name))?;
        let store: SecretStore =
            serde_json::from_value(store_obj.0.clone()).map_err(|e| format!("{store_kind} {}: {e}", sref.name))?;
        let in_store = |e: String| format!("store {}: {e}", sref.name);
        let provider = store.vault().map_err(in_store)?;
        // A ClusterSecretStore's referenced Secrets live in their given namespace (or the ES's).
        let ep = self.endpoint(&provider, ctx, ns).map_err(in_store)?;
        let cred = self.credential(&provider, ctx, ns).await.map_err(in_store)?;
        let mount = provider.path.clone().unwrap_or_else(|| "secret".into());
        let kv_version = match provider.version.as_deref() {
            None | Some("v2") => 2,
            Some("v1") => 1,
            Some(other) => return Err(in_store(format!("unknown KV version {other}"))),
        };
        let ttl = match es.spec.refresh_interval.as_deref() {
            None => Some(DEFAULT_REFRESH),
            Some(s) => match parse_duration(s) {
                Some(Duration::ZERO) => None,
                Some(d) => Some(d),
                None => return Err(format!("invalid refreshInterval {s}")),
            },
        };
        let t = &es.spec.target;
        if let Some(p) = t.creation_policy.as_deref().filter(|p| *p != "Owner") {
            return Err(format!("target.creationPolicy {p} is not supported yet (Owner is)"));
        }
        let kv_of = |r: &RemoteRef| KvPath {
            mount: mount.clone(),
            key: r.key.clone(),
            kv_version,
            version: r.version.clone().filter(|v| !v.is_empty()),
        };
        let mut values: BTreeMap<String, Zeroizing<Vec<u8>>> = BTreeMap::new();
        for df in &es.spec.data_from {
            if df.find.is_some() {
                return Err("dataFrom.find is not supported yet (dataFrom.extract is)".into());
            }
            let Some(r) = &df.extract else { continue };
            let kv = kv_of(r);
            let shown = format!("{} {}", ep.server, kv.api_path());
            let secret = self.fetch(&ep, &cred, &kv, ttl).await.map_err(in_store)?;
            let Value::Object(m) = &secret.0 else {
                return Err(in_store(format!("{shown}: not a key/value secret")));
            };
            for (k, v) in m {
                let b = decode(r.decoding_strategy.as_deref(), value_bytes(v))
                    .map_err(|e| format!("{shown} key {k}: {e}"))?;
                values.insert(k.clone(), b);
            }
        }
        for d in &es.spec.data {
            let r = &d.remote_ref;
            let kv = kv_of(r);
            let secret = self.fetch(&ep, &cred, &kv, ttl).await.map_err(in_store)?;
            let prop = r.property.as_deref();
            let raw = property(&secret.0, prop).ok_or_else(|| {
                format!(
                    "store {}: property {} not found in {} {}",
                    sref.name,
                    prop.unwrap_or(""),
                    ep.server,
                    kv.api_path()
                )
            })?;
            let b = decode(r.decoding_strategy.as_deref(), raw)
                .map_err(|e| format!("{} {}: {e}", ep.server, kv.api_path()))?;
            values.insert(d.secret_key.clone(), b);
        }
        // The target Secret.
        let mut data = values;
        let mut type_ = "Opaque".to_string();
        let mut labels = BTreeMap::new();
        let mut annotations = BTreeMap::new();
        if let Some(tpl) = &t.template {
            if !tpl.template_from.is_empty() {
                return Err("target.template.templateFrom is not supported yet".into());
            }
            if let Some(v) = tpl.engine_version.as_deref().filter(|v| *v != "v2") {
                return Err(format!("template engineVersion {v} is not supported (v2 is)"));
            }
            if let Some(ty) = &tpl.type_ {
                type_ = ty.clone();
            }
            if let Some(m) = &tpl.metadata {
                labels = m.labels.clone();
                annotations = m.annotations.clone();
            }
            if !tpl.data.is_empty() {
                let mut out = match tpl.merge_policy.as_deref() {
                    Some("Merge") => data.clone(),
                    None | Some("Replace") => BTreeMap::new(),
                    Some(other) => return Err(format!("template mergePolicy {other} is not supported")),
                };
                for (k, tmpl) in &tpl.data {
                    let v = gotemplate::render(tmpl, &data).map_err(|e| format!("template key {k}: {e}"))?;
                    out.insert(k.clone(), v);
                }
                data = out;
            }
        }
        let mut encoded = serde_json::Map::new();
        for (k, v) in &data {
            encoded.insert(k.clone(), Value::String(STANDARD.encode(&**v)));
        }
        let mut meta = serde_json::Map::new();
        meta.insert(
            "name".into(),
            Value::String(
                t.name
                    .clone()
                    .filter(|n| !n.is_empty())
                    .unwrap_or_else(|| es.metadata.name.clone()),
            ),
        );
        if !ns.is_empty() {
            meta.insert("namespace".into(), Value::String(ns.to_string()));
        }
        if !labels.is_empty() {
            meta.insert("labels".into(), serde_json::to_value(&labels).unwrap_or_default());
        }
        if !annotations.is_empty() {
            meta.insert(
                "annotations".into(),
                serde_json::to_value(&annotations).unwrap_or_default(),
            );
        }
        let mut obj = serde_json::Map::new();
        obj.insert("apiVersion".into(), "v1".into());
        obj.insert("kind".into(), "Secret".into());
        obj.insert("metadata".into(), Value::Object(meta));
        obj.insert("type".into(), Value::String(type_));
        obj.insert("data".into(), Value::Object(encoded));
        if t.immutable == Some(true) {
            obj.insert("immutable".into(), Value::Bool(true));
        }
        Ok(Object(Value::Object(obj)))
    }
}

/// Whether `obj` is an External Secrets Operator object (ExternalSecret or a store).
pub fn is_external(obj: &Object) -> bool {
    externalsecret::is_eso_api(obj.api_version())
        && matches!(obj.kind(), externalsecret::KIND | STORE_KIND | CLUSTER_STORE_KIND)
}

/// When the render must be redone for its ExternalSecrets even if Git did not change: the
/// shortest `refreshInterval` among them (default 1h; `0` = fetched once, never refreshed).
/// `None` when there is nothing to refresh. The reconciler requeues the Sync after it; the
/// value cache expires at the same time, so the re-render fetches again and only Secrets
/// whose values changed differ (and are re-applied).
pub fn next_refresh(objects: &[Object]) -> Option<Duration> {
    objects
        .iter()
        .filter(|o| o.kind() == externalsecret::KIND && externalsecret::is_eso_api(o.api_version()))
        .filter_map(
            |o| match o.0.pointer("/spec/refreshInterval").and_then(|v| v.as_str()) {
                None => Some(DEFAULT_REFRESH),
                Some(s) => parse_duration(s).filter(|d| !d.is_zero()),
            },
        )
        .min()
}

#[async_trait]
impl SecretResolver for ExternalSecrets {
    fn handles(&self, obj: &Object) -> bool {
        is_external(obj)
    }

    async fn resolve(&self, obj: &Object, ctx: &Context<'_>) -> Result<Option<Object>, ResolveError> {
        if obj.kind() != externalsecret::KIND {
            return Ok(None);
        }
        let err = |reason: String| ResolveError::External {
            object: obj.id(),
            reason,
        };
        let es: ExternalSecret = serde_json::from_value(obj.0.clone()).map_err(|e| err(format!("invalid: {e}")))?;
        let secret = self.build(&es, ctx).await.map_err(err)?;
        tracing::debug!(object = %obj.id(), secret = %secret.id(), "external secret resolved");
        Ok(Some(secret))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_refresh_is_the_shortest_interval() {
        let es = |r: Option<&str>| {
            let mut v = serde_json::json!({"apiVersion": "external-secrets.io/v1", "kind": "ExternalSecret", "metadata": {"name": "x"}, "spec": {}});
            if let Some(r) = r {
                v["spec"]["refreshInterval"] = r.into();
            }
            Object(v)
        };
        assert_eq!(next_refresh(&[]), None);
        assert_eq!(next_refresh(&[es(None)]), Some(DEFAULT_REFRESH));
        assert_eq!(next_refresh(&[es(Some("0"))]), None, "0: fetched once");
        assert_eq!(
            next_refresh(&[es(None), es(Some("15m")), es(Some("0"))]),
            Some(Duration::from_secs(900))
        );
    }

    #[test]
    fn go_durations() {
        assert_eq!(parse_duration("1h"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("90s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("0"), Some(Duration::ZERO));
        assert_eq!(parse_duration("1x"), None);
        assert_eq!(parse_duration("10"), None);
    }

    #[test]
    fn property_lookup_as_eso() {
        let s = serde_json::json!({"b": "2", "a": {"x": 1, "y": "z"}, "a.x": "literal"});
        assert_eq!(&*property(&s, Some("b")).unwrap(), b"2");
        assert_eq!(&*property(&s, Some("a.x")).unwrap(), b"literal", "exact key first");
        assert_eq!(&*property(&s, Some("a.y")).unwrap(), b"z");
        assert_eq!(&*property(&s, Some("a")).unwrap(), br#"{"x":1,"y":"z"}"#);
        assert_eq!(
            &*property(&s, None).unwrap(),
            br#"{"a":{"x":1,"y":"z"},"a.x":"literal","b":"2"}"#
        );
        assert!(property(&s, Some("nope")).is_none());
    }

    #[test]
    fn decoding_strategies() {
        let z = |s: &str| Zeroizing::new(s.as_bytes().to_vec());
        assert_eq!(&*decode(Some("Base64"), z("aGk=")).unwrap(), b"hi");
        assert_eq!(&*decode(Some("Base64URL"), z("aGk")).unwrap(), b"hi");
        assert_eq!(&*decode(Some("Auto"), z("not base64!")).unwrap(), b"not base64!");
        assert_eq!(&*decode(None, z("aGk=")).unwrap(), b"aGk=");
        assert!(decode(Some("Base64"), z("!!")).is_err());
    }
}
