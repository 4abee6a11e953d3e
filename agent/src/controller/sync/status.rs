//! A reconcile's outcome and the status it writes: `Ready`/`Healthy`/`Stalled` conditions with
//! `observedGeneration`, the revisions, the inventory. The inventory is also written on its own
//! as soon as objects are applied (before pruning and health checks), so a failure after the
//! apply never orphans what was just created.

use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, Patch, PatchParams};
use kube::{Resource, ResourceExt};
use sigil_crds::sigil::{Inventory, InventoryEntry, Sync, SyncStatus};

use crate::apply::inventory::Entry;
use crate::conditions::{self, reason};
use crate::controller::applier::Report;
use crate::controller::prune::Pruned;
use crate::controller::{Ctx, Error};

/// The annotation that asks for a reconcile now (its value is echoed in the status).
pub const REQUESTED_AT: &str = "reconcile.sigil.dev/requestedAt";
/// Reason when the source has no usable artifact.
pub const ARTIFACT_FAILED: &str = "ArtifactFailed";
/// Reason when the spec cannot be acted on.
pub const INVALID: &str = "InvalidSpec";
/// Reason when the agent's tenancy rules refuse the spec or an object.
pub const ACCESS_DENIED: &str = "AccessDenied";
/// Reason when a reconcile ran past its `timeout`.
pub const TIMED_OUT: &str = "ReconciliationTimedOut";

/// A reconcile that did not get to the end.
#[derive(Debug)]
pub struct Failed {
    /// The condition reason.
    pub reason: &'static str,
    /// What failed (names files and objects, never values).
    pub message: String,
    /// The revision attempted, if known.
    pub revision: Option<String>,
    /// The inventory after a partial success (apply done, prune or health failed).
    pub inventory: Option<Vec<Entry>>,
}

/// A failure.
pub fn failed(reason: &'static str, message: impl Into<String>, revision: Option<&str>) -> Failed {
    Failed {
        reason,
        message: message.into(),
        revision: revision.map(str::to_string),
        inventory: None,
    }
}

/// A reconcile that got to the end.
pub struct Done {
    /// The revision applied.
    pub revision: String,
    /// What the apply did.
    pub report: Report,
    /// What the prune did.
    pub pruned: Pruned,
    /// `Some(true)` when health checks ran and passed.
    pub healthy: Option<bool>,
    /// When ExternalSecrets need a new read.
    pub refresh: Option<Duration>,
}

/// The inventory in a Sync's status (what it applied last).
pub fn inventory(sync: &Sync) -> Vec<Entry> {
    sync.status
        .as_ref()
        .and_then(|s| s.inventory.as_ref())
        .map(|i| {
            i.entries
                .iter()
                .map(|e| Entry {
                    id: e.id.clone(),
                    v: e.v.clone(),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn entries(inv: &[Entry]) -> Inventory {
    Inventory {
        entries: inv
            .iter()
            .map(|e| InventoryEntry {
                id: e.id.clone(),
                v: e.v.clone(),
            })
            .collect(),
    }
}

/// The status after `result`.
pub fn new_status(sync: &Sync, result: &Result<Done, Failed>, now: Time) -> SyncStatus {
    let generation = sync.meta().generation;
    let mut st = sync.status.clone().unwrap_or_default();
    let mut conds = std::mem::take(&mut st.conditions);
    match result {
        Ok(d) => {
            st.last_applied_revision = Some(d.revision.clone());
            st.last_attempted_revision = Some(d.revision.clone());
            st.inventory = Some(entries(&d.report.inventory));
            let msg = format!("Applied revision: {}", d.revision);
            conditions::set(
                &mut conds,
                "Ready",
                true,
                reason::SUCCEEDED,
                &msg,
                generation,
                now.clone(),
            );
            match d.healthy {
                Some(_) => conditions::set(
                    &mut conds,
                    "Healthy",
                    true,
                    "Succeeded",
                    "Health check passed",
                    generation,
                    now,
                ),
                None => conditions::remove(&mut conds, "Healthy"),
            }
            conditions::remove(&mut conds, "Stalled");
        }
        Err(f) => {
            if f.revision.is_some() {
                st.last_attempted_revision = f.revision.clone();
            }
            if let Some(inv) = &f.inventory {
                st.inventory = Some(entries(inv));
            }
            conditions::set(
                &mut conds,
                "Ready",
                false,
                f.reason,
                &f.message,
                generation,
                now.clone(),
            );
            if f.reason == reason::HEALTH_CHECK_FAILED {
                conditions::set(
                    &mut conds,
                    "Healthy",
                    false,
                    f.reason,
                    &f.message,
                    generation,
                    now.clone(),
                );
            }
            if f.reason == INVALID || f.reason == ACCESS_DENIED {
                conditions::set(&mut conds, "Stalled", true, f.reason, &f.message, generation, now);
            } else {
                conditions::remove(&mut conds, "Stalled");
            }
        }
    }
    conditions::remove(&mut conds, "Reconciling");
    st.conditions = conds;
    st.observed_generation = generation;
    st.last_handled_reconcile_at = sync.annotations().get(REQUESTED_AT).cloned();
    st
}

/// Writes the status (a merge patch of the status subresource).
pub async fn patch_status(ctx: &Ctx, ns: &str, name: &str, status: &SyncStatus) -> Result<(), Error> {
    ctx.api.count("status");
    let api: Api<Sync> = Api::namespaced(ctx.client(), ns);
    api.patch_status(
        name,
        &PatchParams::default(),
        &Patch::Merge(serde_json::json!({ "status": status })),
    )
    .await
    .map_err(|e| Error::Kube(format!("Sync {ns}/{name} status"), e))?;
    Ok(())
}

/// Records the inventory right after an apply, with `Reconciling` saying what follows, when it
/// differs from the one in the status.
pub async fn write_inventory(ctx: &Ctx, sync: &Sync, inventory: &[Entry], next: &str) -> Result<(), Error> {
    let mut st = sync.status.clone().unwrap_or_default();
    let inv = entries(inventory);
    if st.inventory.as_ref() == Some(&inv) {
        return Ok(());
    }
    st.inventory = Some(inv);
    conditions::set(
        &mut st.conditions,
        "Reconciling",
        true,
        "Progressing",
        next,
        sync.meta().generation,
        Time(jiff::Timestamp::now()),
    );
    patch_status(ctx, &sync.namespace().unwrap_or_default(), &sync.name_any(), &st).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use sigil_crds::sigil::SyncSpec;

    fn sync(generation: i64) -> Sync {
        let mut s = Sync::new("app", SyncSpec::default());
        s.metadata.namespace = Some("apps".into());
        s.metadata.generation = Some(generation);
        s.metadata.annotations = Some([(REQUESTED_AT.to_string(), "42".to_string())].into());
        s
    }

    fn at(secs: i64) -> Time {
        Time(jiff::Timestamp::from_second(secs).unwrap())
    }

    fn done(rev: &str) -> Result<Done, Failed> {
        Ok(Done {
            revision: rev.into(),
            report: Report {
                inventory: vec![Entry {
                    id: "apps_web_apps_Deployment".into(),
                    v: "v1".into(),
                }],
                ..Report::default()
            },
            pruned: Pruned::default(),
            healthy: Some(true),
            refresh: None,
        })
    }

    #[test]
    fn success_then_failure_keeps_the_last_applied_revision_and_inventory() {
        let mut s = sync(3);
        let st = new_status(&s, &done("main@sha1:aaa"), at(100));
        assert_eq!(st.last_applied_revision.as_deref(), Some("main@sha1:aaa"));
        assert_eq!(st.observed_generation, Some(3));
        assert_eq!(st.last_handled_reconcile_at.as_deref(), Some("42"));
        assert!(conditions::is_true(&st.conditions, "Ready"));
        assert!(conditions::is_true(&st.conditions, "Healthy"));
        assert_eq!(st.inventory.as_ref().unwrap().entries[0].id, "apps_web_apps_Deployment");
        s.status = Some(st.clone());

        // The same result again: nothing changes (no status write, no transition).
        assert_eq!(new_status(&s, &done("main@sha1:aaa"), at(200)), st);

        let f = Err(failed(
            reason::DECRYPTION_FAILED,
            "app/db.yaml: MAC mismatch",
            Some("main@sha1:bbb"),
        ));
        let st2 = new_status(&s, &f, at(300));
        assert_eq!(st2.last_applied_revision.as_deref(), Some("main@sha1:aaa"));
        assert_eq!(st2.last_attempted_revision.as_deref(), Some("main@sha1:bbb"));
        assert_eq!(
            st2.inventory, st.inventory,
            "the inventory stays that of the last apply"
        );
        let ready = st2.conditions.iter().find(|c| c.type_ == "Ready").unwrap();
        assert_eq!(
            (ready.status.as_str(), ready.reason.as_str()),
            ("False", "DecryptionFailed")
        );
        assert_eq!(ready.last_transition_time, at(300));
        assert!(
            !st2.conditions
                .iter()
                .any(|c| c.type_ == "Stalled" || c.type_ == "Reconciling")
        );

        // Applied, then the health check failed: the new inventory is kept.
        let mut f = failed(
            reason::HEALTH_CHECK_FAILED,
            "Deployment apps/web: timed out",
            Some("main@sha1:ccc"),
        );
        f.inventory = Some(vec![Entry {
            id: "apps_new_apps_Deployment".into(),
            v: "v1".into(),
        }]);
        let st3 = new_status(&s, &Err(f), at(400));
        assert_eq!(st3.inventory.unwrap().entries[0].id, "apps_new_apps_Deployment");
    }

    #[test]
    fn invalid_spec_stalls_and_health_failure_marks_unhealthy() {
        let s = sync(1);
        let st = new_status(&s, &Err(failed(INVALID, "invalid interval", None)), at(1));
        assert!(conditions::is_true(&st.conditions, "Stalled"));
        assert_eq!(st.last_attempted_revision, None);
        let st = new_status(
            &s,
            &Err(failed(
                reason::HEALTH_CHECK_FAILED,
                "Deployment apps/web: timed out",
                Some("r"),
            )),
            at(2),
        );
        let healthy = st.conditions.iter().find(|c| c.type_ == "Healthy").unwrap();
        assert_eq!(healthy.status, "False");
    }
}
