//! serde types for External Secrets Operator's `ExternalSecret`, `SecretStore` and
//! `ClusterSecretStore` (`external-secrets.io/v1`, `v1beta1` accepted) — the Vault provider.
//! Other providers are recognised only to be refused by name.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::meta::ObjectMeta;

/// The API group.
pub const GROUP: &str = "external-secrets.io";
/// Kind of an ExternalSecret.
pub const KIND: &str = "ExternalSecret";
/// Kind of a namespaced store.
pub const STORE_KIND: &str = "SecretStore";
/// Kind of a cluster-wide store.
pub const CLUSTER_STORE_KIND: &str = "ClusterSecretStore";

/// Whether `api_version` is one of ESO's versions Sigil reads.
pub fn is_eso_api(api_version: &str) -> bool {
    matches!(api_version, "external-secrets.io/v1" | "external-secrets.io/v1beta1")
}

/// An `ExternalSecret`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalSecret {
    /// `external-secrets.io/v1` or `v1beta1`.
    #[serde(default)]
    pub api_version: String,
    /// `ExternalSecret`.
    #[serde(default)]
    pub kind: String,
    /// Metadata.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// Spec.
    #[serde(default)]
    pub spec: ExternalSecretSpec,
}

/// `ExternalSecret.spec`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalSecretSpec {
    /// The store to read from.
    #[serde(default)]
    pub secret_store_ref: Option<StoreRef>,
    /// The Secret to make.
    #[serde(default)]
    pub target: Target,
    /// Refresh interval (`1h`, `15m`, `0` = once). Default 1h.
    #[serde(default)]
    pub refresh_interval: Option<String>,
    /// One key each.
    #[serde(default)]
    pub data: Vec<DataItem>,
    /// Whole secrets, each key becoming a key of the Secret.
    #[serde(default)]
    pub data_from: Vec<DataFrom>,
}

/// `secretStoreRef`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoreRef {
    /// Store name.
    #[serde(default)]
    pub name: String,
    /// `SecretStore` (default) or `ClusterSecretStore`.
    #[serde(default)]
    pub kind: Option<String>,
}

/// `spec.target`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Target {
    /// Secret name (default: the ExternalSecret's).
    #[serde(default)]
    pub name: Option<String>,
    /// `Owner` (default); others are refused for now.
    #[serde(default)]
    pub creation_policy: Option<String>,
    /// `Retain`/`Delete`/`Merge` (accepted, not acted on at render time).
    #[serde(default)]
    pub deletion_policy: Option<String>,
    /// Template of the Secret.
    #[serde(default)]
    pub template: Option<Template>,
    /// `immutable`.
    #[serde(default)]
    pub immutable: Option<bool>,
}

/// `spec.target.template`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Template {
    /// Secret type.
    #[serde(default, rename = "type")]
    pub type_: Option<String>,
    /// Labels and annotations of the Secret.
    #[serde(default)]
    pub metadata: Option<TemplateMeta>,
    /// `v2` (the only engine supported).
    #[serde(default)]
    pub engine_version: Option<String>,
    /// `Replace` (default) or `Merge`.
    #[serde(default)]
    pub merge_policy: Option<String>,
    /// Templated values.
    #[serde(default)]
    pub data: BTreeMap<String, String>,
    /// Template sources from ConfigMaps/Secrets (refused for now).
    #[serde(default)]
    pub template_from: Vec<serde_json::Value>,
}

/// Labels and annotations given by a template.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TemplateMeta {
    /// Labels.
    #[serde(default, deserialize_with = "crate::meta::string_map")]
    pub labels: BTreeMap<String, String>,
    /// Annotations.
    #[serde(default, deserialize_with = "crate::meta::string_map")]
    pub annotations: BTreeMap<String, String>,
}

/// `spec.data[]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataItem {
    /// Key in the Secret.
    #[serde(default)]
    pub secret_key: String,
    /// Where the value is.
    #[serde(default)]
    pub remote_ref: RemoteRef,
}

/// `remoteRef`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoteRef {
    /// Secret path under the store's mount.
    #[serde(default)]
    pub key: String,
    /// Property (top-level key or nested `a.b` path); empty = the whole secret as JSON.
    #[serde(default)]
    pub property: Option<String>,
    /// KV v2 version.
    #[serde(default)]
    pub version: Option<String>,
    /// `None` (default), `Base64`, `Base64URL`, `Auto`.
    #[serde(default)]
    pub decoding_strategy: Option<String>,
}

/// `spec.dataFrom[]`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataFrom {
    /// `extract`: the whole secret, its keys becoming Secret keys.
    #[serde(default)]
    pub extract: Option<RemoteRef>,
    /// `find` (refused for now).
    #[serde(default)]
    pub find: Option<serde_json::Value>,
}

/// A `SecretStore` or `ClusterSecretStore`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretStore {
    /// API version.
    #[serde(default)]
    pub api_version: String,
    /// Kind.
    #[serde(default)]
    pub kind: String,
    /// Metadata.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// Spec.
    #[serde(default)]
    pub spec: StoreSpec,
}

/// `SecretStore.spec`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoreSpec {
    /// Providers: exactly one is set.
    #[serde(default)]
    pub provider: BTreeMap<String, serde_json::Value>,
}

/// The Vault provider of a store.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VaultProvider {
    /// `https://vault:8200`.
    #[serde(default)]
    pub server: String,
    /// KV mount path (e.g. `secret`).
    #[serde(default)]
    pub path: Option<String>,
    /// `v1` or `v2` (default).
    #[serde(default)]
    pub version: Option<String>,
    /// Vault Enterprise/OpenBao namespace.
    #[serde(default)]
    pub namespace: Option<String>,
    /// PEM CA bundle, base64.
    #[serde(default)]
    pub ca_bundle: Option<String>,
    /// CA from a Secret or ConfigMap.
    #[serde(default)]
    pub ca_provider: Option<CaProvider>,
    /// Authentication.
    #[serde(default)]
    pub auth: VaultAuth,
}

/// `caProvider`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CaProvider {
    /// `Secret` or `ConfigMap`.
    #[serde(default, rename = "type")]
    pub type_: String,
    /// Object name.
    #[serde(default)]
    pub name: String,
    /// Key.
    #[serde(default)]
    pub key: String,
    /// Namespace (ClusterSecretStore only).
    #[serde(default)]
    pub namespace: Option<String>,
}

/// A key of a Kubernetes Secret.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecretKeyRef {
    /// Secret name.
    #[serde(default)]
    pub name: String,
    /// Key.
    #[serde(default)]
    pub key: String,
    /// Namespace (ClusterSecretStore only).
    #[serde(default)]
    pub namespace: Option<String>,
}

/// `auth` of the Vault provider.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VaultAuth {
    /// A token in a Secret.
    #[serde(default)]
    pub token_secret_ref: Option<SecretKeyRef>,
    /// AppRole.
    #[serde(default)]
    pub app_role: Option<AppRoleAuth>,
    /// Kubernetes service-account login.
    #[serde(default)]
    pub kubernetes: Option<KubernetesAuth>,
    /// JWT/OIDC login.
    #[serde(default)]
    pub jwt: Option<JwtAuth>,
    /// Any other method (refused by name).
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

/// AppRole login.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppRoleAuth {
    /// Mount (default `approle`).
    #[serde(default)]
    pub path: Option<String>,
    /// Role id, inline.
    #[serde(default)]
    pub role_id: Option<String>,
    /// Role id from a Secret.
    #[serde(default)]
    pub role_ref: Option<SecretKeyRef>,
    /// Secret id from a Secret.
    #[serde(default)]
    pub secret_ref: Option<SecretKeyRef>,
}

/// Kubernetes login.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KubernetesAuth {
    /// Mount (default `kubernetes`).
    #[serde(default)]
    pub mount_path: Option<String>,
    /// Role.
    #[serde(default)]
    pub role: String,
    /// Service account whose token is used.
    #[serde(default)]
    pub service_account_ref: Option<serde_json::Value>,
    /// A token in a Secret.
    #[serde(default)]
    pub secret_ref: Option<SecretKeyRef>,
}

/// JWT login.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JwtAuth {
    /// Mount (default `jwt`).
    #[serde(default)]
    pub path: Option<String>,
    /// Role.
    #[serde(default)]
    pub role: Option<String>,
    /// The JWT in a Secret.
    #[serde(default)]
    pub secret_ref: Option<SecretKeyRef>,
    /// A service-account token requested from the cluster.
    #[serde(default)]
    pub kubernetes_service_account_token: Option<serde_json::Value>,
}

impl SecretStore {
    /// The Vault provider, or the name of the provider that is there instead.
    pub fn vault(&self) -> Result<VaultProvider, String> {
        match self.spec.provider.iter().next() {
            Some((name, v)) if name == "vault" => {
                serde_json::from_value(v.clone()).map_err(|e| format!("invalid vault provider: {e}"))
            }
            Some((name, _)) => Err(format!("provider {name} not supported")),
            None => Err("no provider configured".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_eso_manifests() {
        let es: ExternalSecret = serde_json::from_value(serde_json::json!({
            "apiVersion": "external-secrets.io/v1",
            "kind": "ExternalSecret",
            "metadata": {"name": "db"},
            "spec": {
                "secretStoreRef": {"name": "vault", "kind": "SecretStore"},
                "target": {"name": "db-creds", "template": {"type": "Opaque", "data": {"dsn": "{{ .user }}"}}},
                "data": [{"secretKey": "password", "remoteRef": {"key": "app/db", "property": "password"}}],
                "dataFrom": [{"extract": {"key": "app/all"}}]
            }
        }))
        .unwrap();
        assert_eq!(es.spec.data[0].remote_ref.property.as_deref(), Some("password"));
        assert_eq!(es.spec.target.template.unwrap().data["dsn"], "{{ .user }}");
        let store: SecretStore = serde_json::from_value(serde_json::json!({
            "apiVersion": "external-secrets.io/v1beta1",
            "kind": "SecretStore",
            "metadata": {"name": "vault"},
            "spec": {"provider": {"vault": {"server": "http://127.0.0.1:8200", "path": "secret",
                "auth": {"appRole": {"path": "approle", "roleId": "r", "secretRef": {"name": "s", "key": "id"}}}}}}
        }))
        .unwrap();
        let v = store.vault().unwrap();
        assert_eq!(v.auth.app_role.unwrap().role_id.as_deref(), Some("r"));
        let aws: SecretStore = serde_json::from_value(serde_json::json!({
            "spec": {"provider": {"aws": {"service": "SecretsManager"}}}
        }))
        .unwrap();
        assert_eq!(aws.vault().unwrap_err(), "provider aws not supported");
    }
}
