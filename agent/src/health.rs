//! Health of applied objects, after kstatus (what `kubectl wait`/Flux use): first for every
//! kind — being deleted, a controller that has not observed the latest generation, or a
//! `Reconciling=True` condition is in progress, `Stalled=True` is failed — then workloads
//! rolled out (StatefulSets with a `partition` only up to it), Jobs complete, claims bound,
//! and for any other kind its `Ready` condition (Flux's HelmRelease and Kustomization, Sigil's
//! Sync, most operators' resources): `True` is current, `False`/`Unknown` in progress.

use serde_json::Value;

use crate::object::Object;

/// An object's health.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Health {
    /// Reconciled and ready.
    Current,
    /// Not yet: why.
    InProgress(String),
    /// Will not get ready without a change: why.
    Failed(String),
}

fn int(v: &Value, ptr: &str) -> i64 {
    v.pointer(ptr).and_then(|x| x.as_i64()).unwrap_or(0)
}

fn condition<'a>(v: &'a Value, kind: &str) -> Option<&'a Value> {
    v.pointer("/status/conditions")?
        .as_array()?
        .iter()
        .find(|c| c.get("type").and_then(|t| t.as_str()) == Some(kind))
}

fn cond_status<'a>(v: &'a Value, kind: &str) -> Option<&'a str> {
    condition(v, kind)?.get("status")?.as_str()
}

fn cond_text(v: &Value, kind: &str) -> String {
    let c = condition(v, kind);
    let f = |k: &str| c.and_then(|c| c.get(k)).and_then(|x| x.as_str()).unwrap_or("");
    [f("reason"), f("message")]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(": ")
}

/// The health of a live object.
pub fn health(o: &Object) -> Health {
    let v = &o.0;
    if v.pointer("/metadata/deletionTimestamp").is_some_and(|t| !t.is_null()) {
        return Health::InProgress("being deleted".into());
    }
    let generation = int(v, "/metadata/generation");
    let observed = v.pointer("/status/observedGeneration").and_then(|x| x.as_i64());
    if let Some(obs) = observed
        && obs != generation
    {
        return Health::InProgress(format!("observed generation {obs} of {generation}"));
    }
    if cond_status(v, "Reconciling") == Some("True") {
        return Health::InProgress(format!("reconciling: {}", cond_text(v, "Reconciling")));
    }
    if cond_status(v, "Stalled") == Some("True") {
        return Health::Failed(format!("stalled: {}", cond_text(v, "Stalled")));
    }
    match (o.api_version(), o.kind()) {
        ("apps/v1", "Deployment") => {
            if cond_status(v, "Progressing") == Some("False")
                && cond_text(v, "Progressing").contains("ProgressDeadlineExceeded")
            {
                return Health::Failed(format!("progress deadline exceeded: {}", cond_text(v, "Progressing")));
            }
            if observed.is_none() {
                return Health::InProgress("rollout not observed yet".into());
            }
            let want = v.pointer("/spec/replicas").and_then(|x| x.as_i64()).unwrap_or(1);
            let (updated, ready, available, total) = (
                int(v, "/status/updatedReplicas"),
                int(v, "/status/readyReplicas"),
                int(v, "/status/availableReplicas"),
                int(v, "/status/replicas"),
            );
            if updated < want {
                return Health::InProgress(format!("{updated} of {want} replicas updated"));
            }
            if total > updated {
                return Health::InProgress(format!("{} old replicas pending termination", total - updated));
            }
            if available < want || ready < want {
                return Health::InProgress(format!("{available} of {want} replicas available"));
            }
            Health::Current
        }
        ("apps/v1", "StatefulSet") => statefulset(v, observed.is_some()),
        ("apps/v1", "DaemonSet") => {
            if observed.is_none() {
                return Health::InProgress("rollout not observed yet".into());
            }
            let want = int(v, "/status/desiredNumberScheduled");
            let (updated, available) = (
                int(v, "/status/updatedNumberScheduled"),
                int(v, "/status/numberAvailable"),
            );
            if updated < want || available < want {
                return Health::InProgress(format!("{available} of {want} pods available ({updated} updated)"));
            }
            Health::Current
        }
        ("batch/v1", "Job") => {
            if cond_status(v, "Failed") == Some("True") {
                return Health::Failed(format!("job failed: {}", cond_text(v, "Failed")));
            }
            if cond_status(v, "Complete") == Some("True") {
                return Health::Current;
            }
            Health::InProgress("job not complete".into())
        }
        ("v1", "PersistentVolumeClaim") => match v.pointer("/status/phase").and_then(|x| x.as_str()) {
            Some("Bound") => Health::Current,
            Some("Lost") => Health::Failed("claim lost".into()),
            p => Health::InProgress(format!("claim {}", p.unwrap_or("pending"))),
        },
        ("v1", "Pod") => match v.pointer("/status/phase").and_then(|x| x.as_str()) {
            Some("Succeeded") => Health::Current,
            Some("Failed") => Health::Failed("pod failed".into()),
            _ if cond_status(v, "Ready") == Some("True") => Health::Current,
            _ => Health::InProgress("pod not ready".into()),
        },
        ("v1", "Service") => {
            if v.pointer("/spec/type").and_then(|x| x.as_str()) == Some("LoadBalancer")
                && v.pointer("/status/loadBalancer/ingress")
                    .and_then(|x| x.as_array())
                    .is_none_or(|a| a.is_empty())
            {
                return Health::InProgress("load balancer not provisioned".into());
            }
            Health::Current
        }
        _ => match cond_status(v, "Ready") {
            Some("True") | None => Health::Current,
            Some(_) => Health::InProgress(format!("not ready: {}", cond_text(v, "Ready"))),
        },
    }
}

/// kstatus's StatefulSet rules: with `OnDelete` it is current once observed; otherwise all
/// replicas must exist and be ready, and then — with a `partition` — only the replicas at or
/// above it need the update, else every replica must run the update revision.
fn statefulset(v: &Value, observed: bool) -> Health {
    if !observed {
        return Health::InProgress("rollout not observed yet".into());
    }
    let strategy = v
        .pointer("/spec/updateStrategy/type")
        .and_then(|x| x.as_str())
        .unwrap_or("RollingUpdate");
    if strategy == "OnDelete" {
        return Health::Current;
    }
    let want = v.pointer("/spec/replicas").and_then(|x| x.as_i64()).unwrap_or(1);
    let (replicas, ready) = (int(v, "/status/replicas"), int(v, "/status/readyReplicas"));
    if want > replicas {
        return Health::InProgress(format!("replicas: {replicas}/{want}"));
    }
    if want > ready {
        return Health::InProgress(format!("ready: {ready}/{want}"));
    }
    if replicas > want {
        return Health::InProgress(format!("pending termination: {}", replicas - want));
    }
    if let Some(partition) = v
        .pointer("/spec/updateStrategy/rollingUpdate/partition")
        .and_then(|x| x.as_i64())
    {
        let updated = int(v, "/status/updatedReplicas");
        let need = want.saturating_sub(partition).max(0);
        if updated < need {
            return Health::InProgress(format!("partitioned rollout: updated {updated}/{need}"));
        }
        return Health::Current;
    }
    let current = int(v, "/status/currentReplicas");
    if want > current {
        return Health::InProgress(format!("current: {current}/{want}"));
    }
    let (cur, upd) = (
        v.pointer("/status/currentRevision").and_then(|x| x.as_str()),
        v.pointer("/status/updateRevision").and_then(|x| x.as_str()),
    );
    if cur != upd {
        return Health::InProgress("waiting for the update revision to become current".into());
    }
    Health::Current
}

#[cfg(test)]
mod tests {
    use super::*;

    fn o(v: Value) -> Object {
        Object(v)
    }

    #[test]
    fn deployments() {
        let d = |status: Value| {
            o(
                serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"generation": 2}, "spec": {"replicas": 2}, "status": status}),
            )
        };
        assert!(
            matches!(health(&d(serde_json::json!({"observedGeneration": 1}))), Health::InProgress(m) if m.contains("generation"))
        );
        assert!(matches!(
            health(&d(
                serde_json::json!({"observedGeneration": 2, "updatedReplicas": 1, "replicas": 2})
            )),
            Health::InProgress(_)
        ));
        assert_eq!(
            health(&d(
                serde_json::json!({"observedGeneration": 2, "updatedReplicas": 2, "replicas": 2, "readyReplicas": 2, "availableReplicas": 2})
            )),
            Health::Current
        );
        let stuck = d(
            serde_json::json!({"observedGeneration": 2, "conditions": [{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}]}),
        );
        assert!(matches!(health(&stuck), Health::Failed(_)));
    }

    #[test]
    fn jobs_statefulsets_daemonsets_and_generic_conditions() {
        let job = |c: Value| {
            o(
                serde_json::json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {}, "status": {"conditions": [c]}}),
            )
        };
        assert_eq!(
            health(&job(serde_json::json!({"type": "Complete", "status": "True"}))),
            Health::Current
        );
        assert!(
            matches!(health(&job(serde_json::json!({"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}))), Health::Failed(m) if m.contains("Backoff"))
        );
        let sts = |spec: Value, status: Value| {
            let mut v = serde_json::json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"generation": 1},
                "spec": {"replicas": 3}, "status": {"observedGeneration": 1, "replicas": 3, "readyReplicas": 3}});
            for (field, extra) in [("spec", spec), ("status", status)] {
                for (k, x) in extra.as_object().unwrap() {
                    v[field][k] = x.clone();
                }
            }
            health(&o(v))
        };
        let rolling = serde_json::json!({"currentReplicas": 1, "updatedReplicas": 2, "currentRevision": "a", "updateRevision": "b"});
        assert!(matches!(sts(serde_json::json!({}), rolling.clone()), Health::InProgress(m) if m.contains("current")));
        // A partition at 1: replicas 1 and 2 must be updated, replica 0 may wait.
        let partitioned =
            serde_json::json!({"updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 1}}});
        assert_eq!(sts(partitioned.clone(), rolling.clone()), Health::Current);
        let one_updated = serde_json::json!({"updatedReplicas": 1, "currentRevision": "a", "updateRevision": "b"});
        assert!(matches!(sts(partitioned, one_updated), Health::InProgress(m) if m.contains("partitioned")));
        assert_eq!(
            sts(serde_json::json!({"updateStrategy": {"type": "OnDelete"}}), rolling),
            Health::Current
        );
        assert!(
            matches!(sts(serde_json::json!({}), serde_json::json!({"readyReplicas": 2})), Health::InProgress(m) if m.contains("ready: 2/3"))
        );
        let ds = o(
            serde_json::json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"generation": 1},
            "status": {"observedGeneration": 1, "desiredNumberScheduled": 3, "updatedNumberScheduled": 3, "numberAvailable": 3}}),
        );
        assert_eq!(health(&ds), Health::Current);
        let cr = |s: &str| {
            o(
                serde_json::json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {}, "status": {"conditions": [{"type": "Ready", "status": s}]}}),
            )
        };
        assert_eq!(health(&cr("True")), Health::Current);
        assert!(matches!(health(&cr("False")), Health::InProgress(_)));
        // Flux's HelmRelease, Sigil's Sync: Ready at the observed generation; Stalled fails.
        let release = |status: Value| {
            o(
                serde_json::json!({"apiVersion": "helm.toolkit.fluxcd.io/v2", "kind": "HelmRelease", "metadata": {"generation": 4}, "status": status}),
            )
        };
        let ready = serde_json::json!({"type": "Ready", "status": "True"});
        assert_eq!(
            health(&release(
                serde_json::json!({"observedGeneration": 4, "conditions": [ready.clone()]})
            )),
            Health::Current
        );
        assert!(matches!(
            health(&release(
                serde_json::json!({"observedGeneration": 3, "conditions": [ready]})
            )),
            Health::InProgress(_)
        ));
        let stalled = serde_json::json!({"observedGeneration": 4, "conditions": [{"type": "Ready", "status": "False"}, {"type": "Stalled", "status": "True", "reason": "InstallFailed"}]});
        assert!(matches!(health(&release(stalled)), Health::Failed(m) if m.contains("InstallFailed")));
        let reconciling = serde_json::json!({"observedGeneration": 4, "conditions": [{"type": "Reconciling", "status": "True"}, {"type": "Ready", "status": "True"}]});
        assert!(matches!(health(&release(reconciling)), Health::InProgress(_)));
        let deleting = o(
            serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"deletionTimestamp": "2026-01-01T00:00:00Z"}}),
        );
        assert!(matches!(health(&deleting), Health::InProgress(m) if m.contains("deleted")));
        let plain = o(serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}));
        assert_eq!(health(&plain), Health::Current);
    }
}
