//! The inventory: `<namespace>_<name>_<group>_<kind>` plus version per applied object, the
//! stale set (in the last inventory, not in the new render), and the order to prune it.

use std::collections::BTreeSet;

use crate::object::Object;

/// One applied object.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Entry {
    /// `<namespace>_<name>_<group>_<kind>` (namespace empty for cluster-scoped objects).
    pub id: String,
    /// API version (`v1`, `v1beta1`).
    pub v: String,
}

impl Entry {
    /// The entry for an object.
    pub fn of(o: &Object) -> Entry {
        let (group, version) = match o.api_version().rsplit_once('/') {
            Some((g, v)) => (g, v),
            None => ("", o.api_version()),
        };
        Entry {
            id: format!("{}_{}_{}_{}", o.namespace(), o.name(), group, o.kind()),
            v: version.to_string(),
        }
    }

    /// (namespace, name, group, kind) back from the id.
    pub fn parts(&self) -> Option<(&str, &str, &str, &str)> {
        // Names and namespaces have no `_`; groups have none either; kinds none.
        let mut it = self.id.splitn(4, '_');
        Some((it.next()?, it.next()?, it.next()?, it.next()?))
    }

    /// The kind.
    pub fn kind(&self) -> &str {
        self.parts().map_or("", |p| p.3)
    }

    /// `apiVersion` of the entry.
    pub fn api_version(&self) -> String {
        match self.parts() {
            Some((_, _, "", _)) | None => self.v.clone(),
            Some((_, _, g, _)) => format!("{g}/{}", self.v),
        }
    }
}

/// The inventory of a render, in apply order.
pub fn of(objects: &[Object]) -> Vec<Entry> {
    objects.iter().map(Entry::of).collect()
}

/// Entries of `old` that the new render no longer has (compared by id; a version change is
/// not a removal).
pub fn stale(old: &[Entry], new: &[Entry]) -> Vec<Entry> {
    let keep: BTreeSet<&str> = new.iter().map(|e| e.id.as_str()).collect();
    old.iter().filter(|e| !keep.contains(e.id.as_str())).cloned().collect()
}

fn prune_rank(kind: &str) -> u8 {
    match kind {
        "CustomResourceDefinition" => 2,
        "Namespace" => 1,
        _ => 0,
    }
}

/// The order to delete stale objects: the reverse of the order they were applied in, with
/// Namespaces and then CRDs last (their contents go first).
pub fn prune_order(stale: &[Entry]) -> Vec<Entry> {
    let mut out: Vec<Entry> = stale.iter().rev().cloned().collect();
    out.sort_by_key(|e| prune_rank(e.kind()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(av: &str, kind: &str, ns: &str, name: &str) -> Object {
        Object(serde_json::json!({"apiVersion": av, "kind": kind, "metadata": {"name": name, "namespace": ns}}))
    }

    #[test]
    fn ids_in_flux_format() {
        let e = Entry::of(&obj("apps/v1", "Deployment", "web", "shop"));
        assert_eq!(e.id, "web_shop_apps_Deployment");
        assert_eq!(e.v, "v1");
        assert_eq!(e.api_version(), "apps/v1");
        let c = Entry::of(&Object(
            serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "web"}}),
        ));
        assert_eq!(c.id, "_web__Namespace");
        assert_eq!(c.api_version(), "v1");
        assert_eq!(c.kind(), "Namespace");
    }

    #[test]
    fn stale_set_and_prune_order() {
        let old = of(&[
            obj(
                "apiextensions.k8s.io/v1",
                "CustomResourceDefinition",
                "",
                "widgets.example.com",
            ),
            obj("v1", "Namespace", "", "web"),
            obj("v1", "ConfigMap", "web", "a"),
            obj("apps/v1", "Deployment", "web", "shop"),
            obj("v1", "Secret", "web", "kept"),
        ]);
        // The Deployment moved to another version: still the same object, not stale.
        let new = of(&[
            obj("apps/v2", "Deployment", "web", "shop"),
            obj("v1", "Secret", "web", "kept"),
        ]);
        let s = stale(&old, &new);
        assert_eq!(s.len(), 3);
        let order: Vec<String> = prune_order(&s).iter().map(|e| e.kind().to_string()).collect();
        assert_eq!(order, ["ConfigMap", "Namespace", "CustomResourceDefinition"]);
    }
}
