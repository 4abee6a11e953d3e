//! Per-object annotations, as Flux users know them (a label works too; values compare without
//! case): `sigil.dev/reconcile: disabled` (neither applied nor pruned), `sigil.dev/ssa: Ignore`
//! (the same), `sigil.dev/ssa: IfNotPresent` (created once, never overwritten; pruned),
//! `sigil.dev/prune: disabled` (applied, never deleted), `sigil.dev/force: enabled` (recreated
//! when an immutable field changes). Read from the object in Git and from the live object.

use std::collections::BTreeMap;

/// `sigil.dev/reconcile`.
pub const RECONCILE: &str = "sigil.dev/reconcile";
/// `sigil.dev/prune`.
pub const PRUNE: &str = "sigil.dev/prune";
/// `sigil.dev/force`.
pub const FORCE: &str = "sigil.dev/force";
/// `sigil.dev/ssa`.
pub const SSA: &str = "sigil.dev/ssa";

/// What the annotations of one object ask for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Policy {
    /// Leave it alone: not applied, not pruned (`reconcile: disabled`, `ssa: Ignore`).
    pub skip: bool,
    /// Create it when absent, never update it (`ssa: IfNotPresent`).
    pub if_not_present: bool,
    /// Recreate it when an immutable field changed (`force: enabled`).
    pub force: bool,
    /// Never delete it (`prune: disabled`).
    pub keep: bool,
}

impl Policy {
    /// The policy of an object's metadata (labels and annotations).
    pub fn of_metadata(meta: Option<&serde_json::Value>) -> Policy {
        let get =
            |field: &str, key: &str| -> Option<String> { meta?.get(field)?.get(key)?.as_str().map(str::to_string) };
        Policy::from_lookup(|key| get("annotations", key).or_else(|| get("labels", key)))
    }

    /// The policy of an object given as JSON.
    pub fn of(obj: &serde_json::Value) -> Policy {
        Policy::of_metadata(obj.get("metadata"))
    }

    /// The policy from label and annotation maps.
    pub fn of_maps(labels: &BTreeMap<String, String>, annotations: &BTreeMap<String, String>) -> Policy {
        Policy::from_lookup(|key| annotations.get(key).or_else(|| labels.get(key)).cloned())
    }

    fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Policy {
        let is = |key: &str, value: &str| get(key).is_some_and(|v| v.eq_ignore_ascii_case(value));
        Policy {
            skip: is(RECONCILE, "disabled") || is(SSA, "Ignore"),
            if_not_present: is(SSA, "IfNotPresent"),
            force: is(FORCE, "enabled"),
            keep: is(PRUNE, "disabled"),
        }
    }

    /// Whether a prune or the deletion of the Sync must leave the object.
    pub fn never_delete(&self) -> bool {
        self.skip || self.keep
    }

    /// Both policies together (Git's and the live object's): any opt-out of either counts.
    pub fn or(self, other: Policy) -> Policy {
        Policy {
            skip: self.skip || other.skip,
            if_not_present: self.if_not_present || other.if_not_present,
            force: self.force || other.force,
            keep: self.keep || other.keep,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations_or_labels_any_case() {
        let p =
            Policy::of(&serde_json::json!({"metadata": {"annotations": {RECONCILE: "Disabled", FORCE: "enabled"}}}));
        assert!(p.skip && p.force && !p.keep && p.never_delete());
        let p = Policy::of(&serde_json::json!({"metadata": {"labels": {SSA: "ifnotpresent", PRUNE: "disabled"}}}));
        assert!(p.if_not_present && p.keep && !p.skip);
        assert!(Policy::of(&serde_json::json!({"metadata": {"annotations": {SSA: "Ignore"}}})).skip);
        assert_eq!(Policy::of(&serde_json::json!({"kind": "ConfigMap"})), Policy::default());
    }
}
