//! Which Syncs an event concerns: those reading a GitSource, a Secret or ConfigMap (decryption
//! keys, substitution variables — in their own namespace only), or depending on a Sync. Pure
//! functions over the Syncs known, tested here.

use std::sync::Arc;

use kube::ResourceExt;
use kube::runtime::reflector::ObjectRef;
use sigil_crds::sigil::Sync;

use crate::controller::refs::RefKind;

/// `(namespace, name)` of the source a Sync reads.
pub fn source_of(s: &Sync) -> (String, String) {
    let ns = s
        .spec
        .source_ref
        .namespace
        .clone()
        .unwrap_or_else(|| s.namespace().unwrap_or_default());
    (ns, s.spec.source_ref.name.clone())
}

/// The Syncs among `all` that `pick` selects, as controller references.
pub fn refs(all: &[Arc<Sync>], pick: impl Fn(&Sync) -> bool) -> Vec<ObjectRef<Sync>> {
    all.iter()
        .filter(|s| pick(s))
        .map(|s| ObjectRef::from_obj(&**s))
        .collect()
}

/// Whether `s` reads the `kind` object `namespace/name` (its decryption Secret, or a
/// `substituteFrom` entry). A Sync reads only objects of its own namespace.
pub fn reads(s: &Sync, kind: RefKind, namespace: &str, name: &str) -> bool {
    if s.namespace().as_deref() != Some(namespace) {
        return false;
    }
    let decryption = kind == RefKind::Secret
        && s.spec
            .decryption
            .as_ref()
            .and_then(|d| d.secret_ref.as_ref())
            .is_some_and(|r| r.name == name);
    let wanted = match kind {
        RefKind::Secret => "Secret",
        RefKind::ConfigMap => "ConfigMap",
    };
    let substitution = s
        .spec
        .post_build
        .as_ref()
        .is_some_and(|p| p.substitute_from.iter().any(|r| r.kind == wanted && r.name == name));
    decryption || substitution
}

/// Whether `s` depends on Sync `namespace/name` (a dependency without a namespace is in `s`'s).
pub fn depends_on(s: &Sync, namespace: &str, name: &str) -> bool {
    let own = s.namespace().unwrap_or_default();
    s.spec
        .depends_on
        .iter()
        .any(|d| d.name == name && d.namespace.as_deref().unwrap_or(&own) == namespace)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sigil_crds::sigil::{
        Decryption, LocalObjectReference, NamespacedObjectReference, PostBuild, SubstituteReference, SyncSpec,
    };

    fn sync(ns: &str, name: &str, f: impl FnOnce(&mut SyncSpec)) -> Arc<Sync> {
        let mut spec = SyncSpec::default();
        spec.source_ref.name = "repo".into();
        f(&mut spec);
        let mut s = Sync::new(name, spec);
        s.metadata.namespace = Some(ns.into());
        Arc::new(s)
    }

    #[test]
    fn triggers_map_to_the_right_syncs() {
        let all = vec![
            sync("a", "web", |s| {
                s.decryption = Some(Decryption {
                    secret_ref: Some(LocalObjectReference { name: "keys".into() }),
                })
            }),
            sync("a", "api", |s| {
                s.depends_on = vec![NamespacedObjectReference {
                    name: "web".into(),
                    namespace: None,
                }];
                s.post_build = Some(PostBuild {
                    substitute_from: vec![SubstituteReference {
                        kind: "ConfigMap".into(),
                        name: "vars".into(),
                        optional: false,
                    }],
                    ..PostBuild::default()
                });
            }),
            sync("b", "other", |s| {
                s.source_ref.namespace = Some("a".into());
                s.depends_on = vec![NamespacedObjectReference {
                    name: "web".into(),
                    namespace: Some("a".into()),
                }]
            }),
        ];
        let names = |v: Vec<ObjectRef<Sync>>| v.into_iter().map(|r| r.name).collect::<Vec<_>>();
        let key = ("a".to_string(), "repo".to_string());
        assert_eq!(names(refs(&all, |s| source_of(s) == key)), ["web", "api", "other"]);
        assert_eq!(names(refs(&all, |s| reads(s, RefKind::Secret, "a", "keys"))), ["web"]);
        assert!(
            refs(&all, |s| reads(s, RefKind::Secret, "b", "keys")).is_empty(),
            "Secrets of another namespace"
        );
        assert_eq!(
            names(refs(&all, |s| reads(s, RefKind::ConfigMap, "a", "vars"))),
            ["api"]
        );
        assert!(refs(&all, |s| reads(s, RefKind::Secret, "a", "vars")).is_empty());
        assert_eq!(names(refs(&all, |s| depends_on(s, "a", "web"))), ["api", "other"]);
        assert!(refs(&all, |s| depends_on(s, "b", "web")).is_empty());
    }
}
