//! Status conditions (`Ready`, `Healthy`, `Reconciling`, `Stalled`) and their transitions:
//! `lastTransitionTime` moves only when the status changes; reason, message and
//! `observedGeneration` always follow the latest reconcile. Messages name files and objects,
//! never values (they come from the render's errors, which never hold one).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};

/// Why a Sync is not Ready.
pub mod reason {
    /// Applied and healthy.
    pub const SUCCEEDED: &str = "ReconciliationSucceeded";
    /// The render failed (kustomize, YAML, paths).
    pub const BUILD_FAILED: &str = "BuildFailed";
    /// A SOPS file, SealedSecret or ExternalSecret could not be decrypted or fetched.
    pub const DECRYPTION_FAILED: &str = "DecryptionFailed";
    /// The commit's signature did not verify.
    pub const VERIFICATION_FAILED: &str = "VerificationFailed";
    /// Objects did not become healthy in time.
    pub const HEALTH_CHECK_FAILED: &str = "HealthCheckFailed";
    /// A dependency is not Ready.
    pub const DEPENDENCY_NOT_READY: &str = "DependencyNotReady";
    /// Deleting stale objects failed.
    pub const PRUNE_FAILED: &str = "PruneFailed";
    /// Server-side apply failed.
    pub const APPLY_FAILED: &str = "ApplyFailed";
}

/// Sets condition `kind` in `conds`.
pub fn set(
    conds: &mut Vec<Condition>,
    kind: &str,
    status: bool,
    reason: &str,
    message: &str,
    generation: Option<i64>,
    now: Time,
) {
    let status = if status { "True" } else { "False" }.to_string();
    match conds.iter_mut().find(|c| c.type_ == kind) {
        Some(c) => {
            if c.status != status {
                c.last_transition_time = now;
            }
            c.status = status;
            c.reason = reason.to_string();
            c.message = message.to_string();
            c.observed_generation = generation;
        }
        None => conds.push(Condition {
            type_: kind.to_string(),
            status,
            reason: reason.to_string(),
            message: message.to_string(),
            observed_generation: generation,
            last_transition_time: now,
        }),
    }
}

/// Removes condition `kind`.
pub fn remove(conds: &mut Vec<Condition>, kind: &str) {
    conds.retain(|c| c.type_ != kind);
}

/// Whether condition `kind` is True.
pub fn is_true(conds: &[Condition], kind: &str) -> bool {
    conds.iter().any(|c| c.type_ == kind && c.status == "True")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: i64) -> Time {
        Time(k8s_openapi::jiff::Timestamp::from_second(s).unwrap())
    }

    #[test]
    fn transition_time_moves_only_on_status_change() {
        let mut c = Vec::new();
        set(
            &mut c,
            "Ready",
            false,
            reason::BUILD_FAILED,
            "kustomization.yaml: bad",
            Some(1),
            t(10),
        );
        set(
            &mut c,
            "Ready",
            false,
            reason::DECRYPTION_FAILED,
            "db.yaml: MAC mismatch",
            Some(2),
            t(20),
        );
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].last_transition_time, t(10));
        assert_eq!(
            (c[0].reason.as_str(), c[0].observed_generation),
            (reason::DECRYPTION_FAILED, Some(2))
        );
        set(
            &mut c,
            "Ready",
            true,
            reason::SUCCEEDED,
            "Applied revision main@sha1:abc",
            Some(2),
            t(30),
        );
        assert_eq!(c[0].last_transition_time, t(30));
        assert!(is_true(&c, "Ready"));
        set(&mut c, "Reconciling", true, "Progressing", "", Some(2), t(30));
        remove(&mut c, "Reconciling");
        assert_eq!(c.len(), 1);
    }
}
