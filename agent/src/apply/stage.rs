//! Apply stages: cluster definitions (CRDs and Namespaces) first — the apply waits until
//! they are established — then everything else, each stage in render order.

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

/// (definitions, the rest), each in render order.
pub fn stages(objects: Vec<Object>) -> (Vec<Object>, Vec<Object>) {
    objects.into_iter().partition(is_definition)
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
        assert_eq!(names(&first), ["ns", "widgets.example.com"]);
        assert_eq!(names(&rest), ["a", "w", "b"]);
    }
}
