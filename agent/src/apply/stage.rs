//! Apply stages: cluster definitions (CRDs, then Namespaces) first — the apply waits until
//! they are established — then everything else in Flux's reconcile order (cluster roles and
//! classes, quotas, service accounts and roles, config, services, workloads; unlisted kinds
//! after those; admission webhooks last), render order kept among equals. Prune and deletion
//! go in the reverse order.

use crate::object::Object;

/// Whether an object belongs to the first stage.
pub fn is_definition(o: &Object) -> bool {
    matches!(
        (o.api_version(), o.kind()),
        (
            "apiextensions.k8s.io/v1" | "apiextensions.k8s.io/v1beta1",
            "CustomResourceDefinition"
        ) | ("v1", "Namespace")
    )
}

/// Kinds applied early, in this order (after the definitions).
const EARLY: &[&str] = &[
    "ClusterRole",
    "ClusterClass",
    "RuntimeClass",
    "PriorityClass",
    "StorageClass",
    "VolumeSnapshotClass",
    "IngressClass",
    "GatewayClass",
    "ClusterRoleBinding",
    "ResourceQuota",
    "ServiceAccount",
    "Role",
    "RoleBinding",
    "ConfigMap",
    "Secret",
    "Service",
    "LimitRange",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
];
/// Kinds applied last (they may reject what follows them).
const LATE: &[&str] = &["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"];

/// Where a kind goes in the second stage.
pub fn rank(kind: &str) -> usize {
    if let Some(i) = EARLY.iter().position(|k| *k == kind) {
        return i;
    }
    match LATE.iter().position(|k| *k == kind) {
        Some(i) => EARLY.len() + 1 + i,
        None => EARLY.len(),
    }
}

/// (definitions: CRDs then Namespaces; the rest in reconcile order), render order kept
/// among objects of one rank.
pub fn stages(objects: Vec<Object>) -> (Vec<Object>, Vec<Object>) {
    let (mut first, mut rest): (Vec<Object>, Vec<Object>) = objects.into_iter().partition(is_definition);
    first.sort_by_key(|o| o.kind() != "CustomResourceDefinition");
    rest.sort_by_key(|o| rank(o.kind()));
    (first, rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crds_and_namespaces_first_order_kept() {
        let o = |av: &str, k: &str, n: &str| {
            Object(serde_json::json!({"apiVersion": av, "kind": k, "metadata": {"name": n}}))
        };
        let (first, rest) = stages(vec![
            o("v1", "ConfigMap", "a"),
            o("v1", "Namespace", "ns"),
            o("example.com/v1", "Widget", "w"),
            o(
                "apiextensions.k8s.io/v1",
                "CustomResourceDefinition",
                "widgets.example.com",
            ),
            o("v1", "Secret", "b"),
        ]);
        let names = |v: &[Object]| v.iter().map(|o| o.name().to_string()).collect::<Vec<_>>();
        assert_eq!(names(&first), ["widgets.example.com", "ns"]);
        assert_eq!(names(&rest), ["a", "b", "w"]);
        let (_, rest) = stages(vec![
            o(
                "admissionregistration.k8s.io/v1",
                "ValidatingWebhookConfiguration",
                "hook",
            ),
            o("apps/v1", "Deployment", "web"),
            o("v1", "ServiceAccount", "sa"),
            o("example.com/v1", "Widget", "w"),
        ]);
        assert_eq!(names(&rest), ["sa", "web", "w", "hook"]);
    }
}
