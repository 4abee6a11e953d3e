//! Sigil's own resources, `sigil.dev/v1alpha1`: `GitSource` (where to fetch) and `Sync`
//! (what to render and apply from it). Field names follow Flux's where the meaning is the
//! same (`GitRepository`, `Kustomization`).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A reference to an object in the same namespace.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct LocalObjectReference {
    /// Name.
    pub name: String,
}

/// A reference to an object, in the referrer's namespace unless one is given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct NamespacedObjectReference {
    /// Name.
    pub name: String,
    /// Namespace (default: the referrer's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// Where a Sync's manifests come from (Flux's `sourceRef`): a `GitSource` (the default
/// kind), in the Sync's namespace unless one is given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SourceReference {
    /// API version of the source (default `sigil.dev/v1alpha1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// Kind of the source: `GitSource` (the default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Name.
    pub name: String,
    /// Namespace (default: the Sync's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

impl SourceReference {
    /// The kind, defaulted.
    pub fn kind(&self) -> &str {
        self.kind.as_deref().unwrap_or("GitSource")
    }
}

/// A ConfigMap or Secret in the Sync's namespace whose data are substitution variables.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SubstituteReference {
    /// `ConfigMap` or `Secret`.
    pub kind: String,
    /// Name.
    pub name: String,
    /// A missing object is not an error.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub optional: bool,
}

/// Variable substitution after the render (Flux's `postBuild`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PostBuild {
    /// Variables given inline (they override `substituteFrom`).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub substitute: std::collections::BTreeMap<String, String>,
    /// ConfigMaps and Secrets whose data are variables, later entries overriding earlier ones.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub substitute_from: Vec<SubstituteReference>,
}

/// Which revision of the repository to build (precedence commit > semver > tag > branch).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct GitRef {
    /// A branch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// A tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// A semver range over tags (`>=1.0.0 <2.0.0`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub semver: Option<String>,
    /// A commit SHA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
}

/// Commit-signature verification.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Verification {
    /// `HEAD`: the resolved commit must be signed by a trusted key.
    pub mode: String,
    /// Secret holding the trusted keys (`*.pub` SSH keys, `*.asc` OpenPGP keyrings).
    #[serde(rename = "secretRef")]
    pub secret_ref: LocalObjectReference,
}

/// `GitSource.spec`: a Git repository fetched on an interval.
#[derive(CustomResource, Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "sigil.dev",
    version = "v1alpha1",
    kind = "GitSource",
    namespaced,
    status = "GitSourceStatus",
    shortname = "gs",
    printcolumn = r#"{"name":"URL","type":"string","jsonPath":".spec.url"}"#,
    printcolumn = r#"{"name":"Revision","type":"string","jsonPath":".status.artifact.revision"}"#,
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Status","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].message"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct GitSourceSpec {
    /// `https://`, `ssh://`, `git://`, `file://` or a local path.
    pub url: String,
    /// The revision to build.
    #[serde(default, rename = "ref", skip_serializing_if = "Option::is_none")]
    pub git_ref: Option<GitRef>,
    /// How often to fetch (`1m`).
    pub interval: String,
    /// Bound on one fetch (default `60s`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    /// Secret with credentials: `username`/`password`, `bearerToken`, `ca.crt`,
    /// `identity`/`known_hosts`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
    /// Commit-signature verification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify: Option<Verification>,
    /// Stop fetching.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub suspend: bool,
}

/// The fetched revision.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Artifact {
    /// `<branch>@sha1:<sha>` (Flux's format).
    pub revision: String,
    /// When it was fetched (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_update_time: Option<String>,
}

/// `GitSource.status`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GitSourceStatus {
    /// The last fetched revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact: Option<Artifact>,
    /// `Ready`, `Reconciling`, `Stalled`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// Generation last reconciled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

/// An object whose health gates the Sync's readiness.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct HealthCheck {
    /// API version (default `v1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_version: Option<String>,
    /// Kind.
    pub kind: String,
    /// Name.
    pub name: String,
    /// Namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// Where SOPS keys and resolver credentials come from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Decryption {
    /// Secret in the Sync's namespace: `*.agekey`, `sops.aws-kms` (YAML with
    /// `aws_access_key_id`/`aws_secret_access_key`/`aws_session_token`), `sops.vault-token`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<LocalObjectReference>,
}

/// What a Sync accepts from Git.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecretsPolicy {
    /// Refuse plaintext `Secret` manifests (SOPS-encrypted, sealed and external ones pass).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub deny_plaintext_secrets: bool,
}

/// The default store for ExternalSecrets that name none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct VaultDefault {
    /// `SecretStore` or `ClusterSecretStore` name.
    pub store_name: String,
    /// `SecretStore` (default) or `ClusterSecretStore`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store_kind: Option<String>,
}

/// `Sync.spec`: render a path of a GitSource and apply it.
#[derive(CustomResource, Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "sigil.dev",
    version = "v1alpha1",
    kind = "Sync",
    namespaced,
    status = "SyncStatus",
    printcolumn = r#"{"name":"Source","type":"string","jsonPath":".spec.sourceRef.name"}"#,
    printcolumn = r#"{"name":"Path","type":"string","jsonPath":".spec.path"}"#,
    printcolumn = r#"{"name":"Revision","type":"string","jsonPath":".status.lastAppliedRevision"}"#,
    printcolumn = r#"{"name":"Ready","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].status"}"#,
    printcolumn = r#"{"name":"Status","type":"string","jsonPath":".status.conditions[?(@.type==\"Ready\")].message"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct SyncSpec {
    /// The source (a GitSource).
    pub source_ref: SourceReference,
    /// Path in the repository (default: the root).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// How often to reconcile (`10m`).
    pub interval: String,
    /// How soon to retry after a failure (default: `interval`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_interval: Option<String>,
    /// Bound on the whole reconcile, apply and health checks included (default: the interval
    /// less 30 s, at least 30 s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    /// Delete what left Git.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub prune: bool,
    /// Wait for everything applied to be healthy.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub wait: bool,
    /// Specific objects to wait for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub health_checks: Vec<HealthCheck>,
    /// Syncs that must be Ready first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<NamespacedObjectReference>,
    /// Stop reconciling.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub suspend: bool,
    /// Namespace set on every namespaced object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_namespace: Option<String>,
    /// Apply and prune as this ServiceAccount (impersonation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_account_name: Option<String>,
    /// Recreate objects whose immutable fields changed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub force: bool,
    /// Decryption keys and resolver credentials.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decryption: Option<Decryption>,
    /// Secrets policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secrets_policy: Option<SecretsPolicy>,
    /// Default store for ExternalSecrets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault: Option<VaultDefault>,
    /// Variable substitution after the render.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_build: Option<PostBuild>,
}

/// One applied object: `<namespace>_<name>_<group>_<kind>` and its version.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub struct InventoryEntry {
    /// `<namespace>_<name>_<group>_<kind>`.
    pub id: String,
    /// API version.
    pub v: String,
}

/// What a Sync applied last.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Inventory {
    /// The objects.
    pub entries: Vec<InventoryEntry>,
}

/// `Sync.status`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SyncStatus {
    /// Revision last applied successfully.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_applied_revision: Option<String>,
    /// Revision last attempted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_attempted_revision: Option<String>,
    /// The objects applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inventory: Option<Inventory>,
    /// `Ready`, `Healthy`, `Reconciling`, `Stalled`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// Generation last reconciled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Value of the last handled `reconcile.sigil.dev/requestedAt` annotation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_handled_reconcile_at: Option<String>,
}

/// The CRDs, as `deploy/` ships them.
pub fn crds() -> Vec<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> {
    use kube::CustomResourceExt;
    vec![GitSource::crd(), Sync::crd()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crds_have_status_subresources_and_columns() {
        for crd in crds() {
            let v = serde_json::to_value(&crd).unwrap();
            assert_eq!(v["spec"]["group"], "sigil.dev");
            assert_eq!(v["spec"]["scope"], "Namespaced");
            let ver = &v["spec"]["versions"][0];
            assert_eq!(ver["name"], "v1alpha1");
            assert!(ver["subresources"]["status"].is_object());
            assert!(ver["additionalPrinterColumns"].as_array().unwrap().len() >= 4);
        }
    }

    #[test]
    fn flux_style_sync_parses() {
        let s: SyncSpec = serde_json::from_value(serde_json::json!({
            "sourceRef": {"kind": "GitSource", "name": "repo"},
            "path": "./apps",
            "postBuild": {"substitute": {"cluster": "prod"}, "substituteFrom": [{"kind": "Secret", "name": "vars", "optional": true}]},
            "interval": "10m",
            "prune": true,
            "dependsOn": [{"name": "infra"}],
            "decryption": {"secretRef": {"name": "sops-age"}},
            "secretsPolicy": {"denyPlaintextSecrets": true}
        }))
        .unwrap();
        assert!(s.prune && s.secrets_policy.unwrap().deny_plaintext_secrets);
        assert_eq!(s.source_ref.kind(), "GitSource");
        let pb = s.post_build.unwrap();
        assert_eq!(pb.substitute["cluster"], "prod");
        assert!(pb.substitute_from[0].optional);
        assert_eq!(s.depends_on[0].name, "infra");
    }
}
