//! The inventory: `<namespace>_<name>_<group>_<kind>` plus version per applied object (Flux's
//! format, so its tooling reads ours), the stale set (in the last inventory, not in the new
//! render), and the order to prune it.
//!
//! Namespaces, groups and kinds never contain `_`; names of RBAC objects may (and `:`, which is
//! written `__`, as Flux's inventory does). So an id is read as: namespace up to the first `_`,
//! kind after the last, group after the one before it, and the name is what lies between.

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

/// An entry read back: where the object is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parts {
    /// Namespace (empty: cluster-scoped).
    pub namespace: String,
    /// Name (with `:` restored).
    pub name: String,
    /// API group (empty: core).
    pub group: String,
    /// Kind.
    pub kind: String,
}

fn is_rbac(group: &str, kind: &str) -> bool {
    group == "rbac.authorization.k8s.io"
        && matches!(kind, "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding")
}

impl Entry {
    /// The entry for an object.
    pub fn of(o: &Object) -> Entry {
        let (group, version) = match o.api_version().rsplit_once('/') {
            Some((g, v)) => (g, v),
            None => ("", o.api_version()),
        };
        let name = if is_rbac(group, o.kind()) {
            o.name().replace(':', "__")
        } else {
            o.name().to_string()
        };
        Entry {
            id: format!("{}_{}_{}_{}", o.namespace(), name, group, o.kind()),
            v: version.to_string(),
        }
    }

    /// Where the object is, or why the id cannot be read.
    pub fn parts(&self) -> Result<Parts, String> {
        let bad = || format!("inventory entry {:?} is not <namespace>_<name>_<group>_<kind>", self.id);
        let (namespace, rest) = self.id.split_once('_').ok_or_else(bad)?;
        let (rest, kind) = rest.rsplit_once('_').ok_or_else(bad)?;
        let (name, group) = rest.rsplit_once('_').ok_or_else(bad)?;
        if name.is_empty() || kind.is_empty() || self.v.is_empty() {
            return Err(bad());
        }
        let name = if is_rbac(group, kind) {
            name.replace("__", ":")
        } else {
            name.to_string()
        };
        Ok(Parts {
            namespace: namespace.to_string(),
            name,
            group: group.to_string(),
            kind: kind.to_string(),
        })
    }

    /// The kind (empty when the id cannot be read).
    pub fn kind(&self) -> String {
        self.parts().map(|p| p.kind).unwrap_or_default()
    }

    /// `apiVersion` of the entry.
    pub fn api_version(&self) -> String {
        match self.parts() {
            Ok(p) if !p.group.is_empty() => format!("{}/{}", p.group, self.v),
            _ => self.v.clone(),
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
    out.sort_by_key(|e| prune_rank(&e.kind()));
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
    fn names_with_underscores_and_colons_round_trip() {
        let rbac = |kind: &str, ns: &str, name: &str| Entry::of(&obj("rbac.authorization.k8s.io/v1", kind, ns, name));
        let e = rbac("ClusterRole", "", "system:controller:my_role");
        assert_eq!(
            e.id,
            "_system__controller__my_role_rbac.authorization.k8s.io_ClusterRole"
        );
        let p = e.parts().unwrap();
        assert_eq!(
            (p.namespace.as_str(), p.name.as_str(), p.kind.as_str()),
            ("", "system:controller:my_role", "ClusterRole")
        );
        let p = rbac("RoleBinding", "team-a", "read_all").parts().unwrap();
        assert_eq!(
            (p.namespace.as_str(), p.name.as_str(), p.group.as_str()),
            ("team-a", "read_all", "rbac.authorization.k8s.io")
        );
        for bad in ["nounderscores", "a_b", "ns__", "ns___Kind"] {
            let e = Entry {
                id: bad.into(),
                v: "v1".into(),
            };
            assert!(e.parts().unwrap_err().contains(bad), "{bad}");
        }
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
