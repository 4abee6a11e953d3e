//! The Sync controller. One reconcile: dependencies ready? → the source's revision → render
//! (decrypting, unsealing, fetching; cached) → apply what drifted → prune → health → status
//! and events. A failure anywhere before apply applies nothing.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::reflector::ObjectRef;
use kube::{Resource, ResourceExt};
use sigil_crds::sigil::{GitSource, Inventory, InventoryEntry, Sync, SyncStatus};

use crate::apply::inventory::Entry;
use crate::conditions::{self, reason};
use crate::controller::applier::{Applier, Report};
use crate::controller::{Ctx, Error, secret_data};
use crate::pipeline::{self, Namespaces};
use crate::secrets::external::ExternalSecrets;
use crate::secrets::{Policy, SecretResolver};

/// The annotation that asks for a reconcile now (its value is echoed in the status).
pub const REQUESTED_AT: &str = "reconcile.sigil.dev/requestedAt";
/// Reason when the source has no usable artifact.
pub const ARTIFACT_FAILED: &str = "ArtifactFailed";
/// Reason when the spec cannot be acted on.
pub const INVALID: &str = "InvalidSpec";

/// A reconcile that did not get to the end.
struct Failed {
    reason: &'static str,
    message: String,
    revision: Option<String>,
}

fn failed(reason: &'static str, message: impl Into<String>, revision: Option<&str>) -> Failed {
    Failed {
        reason,
        message: message.into(),
        revision: revision.map(str::to_string),
    }
}

struct Done {
    revision: String,
    report: Report,
    pruned: Vec<String>,
    healthy: Option<bool>,
    refresh: Option<Duration>,
}

fn dependency_ready(ctx: &Ctx, sync: &Sync, ns: &str) -> Result<(), Failed> {
    for d in &sync.spec.depends_on {
        let dns = d.namespace.clone().unwrap_or_else(|| ns.to_string());
        let r = ObjectRef::<Sync>::new(&d.name).within(&dns);
        let ready = ctx.syncs.get(&r).is_some_and(|dep| {
            dep.status.as_ref().is_some_and(|st| {
                conditions::is_true(&st.conditions, "Ready") && st.observed_generation == dep.meta().generation
            })
        });
        if !ready {
            return Err(failed(
                reason::DEPENDENCY_NOT_READY,
                format!("dependency '{dns}/{}' is not ready", d.name),
                None,
            ));
        }
    }
    Ok(())
}

async fn source_revision(ctx: &Ctx, sync: &Sync, ns: &str) -> Result<(GitSource, String), Failed> {
    let sns = sync.spec.source_ref.namespace.clone().unwrap_or_else(|| ns.to_string());
    let name = &sync.spec.source_ref.name;
    let api: Api<GitSource> = Api::namespaced(ctx.client(), &sns);
    let gs = api
        .get_opt(name)
        .await
        .map_err(|e| failed(ARTIFACT_FAILED, format!("GitSource {sns}/{name}: {e}"), None))?
        .ok_or_else(|| failed(ARTIFACT_FAILED, format!("GitSource {sns}/{name} not found"), None))?;
    if let Some(st) = &gs.status
        && let Some(c) = st.conditions.iter().find(|c| c.type_ == "Ready" && c.status == "False")
        && c.reason == crate::gitsource::VERIFICATION_FAILED
    {
        return Err(failed(
            reason::VERIFICATION_FAILED,
            format!("GitSource {sns}/{name}: {}", c.message),
            None,
        ));
    }
    let revision = gs
        .status
        .as_ref()
        .and_then(|s| s.artifact.as_ref())
        .map(|a| a.revision.clone())
        .ok_or_else(|| {
            failed(
                ARTIFACT_FAILED,
                format!("GitSource {sns}/{name} has no artifact yet"),
                None,
            )
        })?;
    Ok((gs, revision))
}

fn external_resolver(ctx: &Ctx, key: &str, sync: &Sync, keys: &pipeline::DecryptionKeys) -> Arc<ExternalSecrets> {
    let vault = sync.spec.vault.as_ref();
    let config = format!(
        "{}|{}|{}",
        keys.generation,
        vault.map(|v| v.store_name.as_str()).unwrap_or(""),
        vault.and_then(|v| v.store_kind.as_deref()).unwrap_or("")
    );
    let mut map = match ctx.external.lock() {
        Ok(m) => m,
        Err(p) => p.into_inner(),
    };
    if let Some((c, r)) = map.get(key)
        && *c == config
    {
        return Arc::clone(r);
    }
    let issuer = super::tokens::ServiceAccountTokens::new(Arc::clone(&ctx.api), sync.namespace().unwrap_or_default());
    let mut r =
        ExternalSecrets::new(Arc::clone(&ctx.vault), keys.vault_token.clone(), None).token_issuer(Arc::new(issuer));
    if let Some(v) = vault {
        r = r.default_store(&v.store_name, v.store_kind.as_deref());
    }
    let r = Arc::new(r);
    map.insert(key.to_string(), (config, Arc::clone(&r)));
    r
}

async fn attempt(ctx: &Ctx, sync: &Sync, ns: &str, name: &str, timeout: Duration) -> Result<Done, Failed> {
    dependency_ready(ctx, sync, ns)?;
    let (gs, revision) = source_revision(ctx, sync, ns).await?;
    let rev = Some(revision.as_str());
    let sha = revision.rsplit_once("sha1:").map(|(_, s)| s).unwrap_or(&revision);
    let commit = gix::ObjectId::from_hex(sha.as_bytes())
        .map_err(|_| failed(ARTIFACT_FAILED, format!("revision {revision} names no commit"), rev))?;
    let cache = super::gitsource::cache_of(ctx, &gs.namespace().unwrap_or_default(), &gs.name_any());
    let tree = crate::source::open(&gs.spec.url, &cache)
        .and_then(|repo| crate::source::CommitTree::new(repo, commit))
        .map_err(|e| failed(ARTIFACT_FAILED, e.to_string(), rev))?;

    let keys = match sync.spec.decryption.as_ref().and_then(|d| d.secret_ref.as_ref()) {
        None => pipeline::decryption_keys(&Default::default()),
        Some(r) => {
            let data = secret_data(ctx, ns, &r.name)
                .await
                .map_err(|e| failed(reason::DECRYPTION_FAILED, e.to_string(), rev))?
                .ok_or_else(|| {
                    failed(
                        reason::DECRYPTION_FAILED,
                        format!("decryption Secret {ns}/{} not found", r.name),
                        rev,
                    )
                })?;
            pipeline::decryption_keys(&data)
        }
    }
    .map_err(|e| failed(reason::DECRYPTION_FAILED, e.to_string(), rev))?;
    let (sealed, sealed_generation) = match ctx.sealed.read() {
        Ok(s) => (Arc::clone(&s.0), s.1),
        Err(p) => {
            let s = p.into_inner();
            (Arc::clone(&s.0), s.1)
        }
    };
    let external = external_resolver(ctx, &format!("{ns}/{name}"), sync, &keys);
    let resolvers: Vec<Box<dyn SecretResolver>> = vec![Box::new(sealed), Box::new(external)];
    let namespaces = Namespaces {
        target: sync.spec.target_namespace.clone(),
        default: Some(ns.to_string()),
    };
    let policy = Policy {
        deny_plaintext_secrets: sync
            .spec
            .secrets_policy
            .as_ref()
            .is_some_and(|p| p.deny_plaintext_secrets),
    };
    let path = sync.spec.path.clone().unwrap_or_else(|| ".".into());
    let path = path.trim_start_matches("./");
    let path = if path.is_empty() { "." } else { path };
    let rendered = pipeline::render(
        &tree,
        &revision,
        Path::new(path),
        &namespaces,
        &keys.keyring,
        keys.generation ^ sealed_generation.rotate_left(17),
        &resolvers,
        policy,
        &ctx.render_cache,
    )
    .await
    .map_err(|f| failed(f.reason, f.message, rev))?;

    let applier = Applier {
        api: &ctx.api,
        sync_name: name,
        sync_namespace: ns,
        impersonate: sync
            .spec
            .service_account_name
            .as_ref()
            .map(|sa| format!("system:serviceaccount:{ns}:{sa}")),
    };
    let report = applier
        .apply(&rendered.objects, timeout)
        .await
        .map_err(|e| failed(reason::APPLY_FAILED, e.to_string(), rev))?;

    let mut pruned = Vec::new();
    if sync.spec.prune {
        let old: Vec<Entry> = sync
            .status
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
            .unwrap_or_default();
        pruned = applier
            .prune(&old, &report.inventory)
            .await
            .map_err(|e| failed(reason::PRUNE_FAILED, e.to_string(), rev))?;
    }

    let mut targets: Vec<(String, String, String, String)> = Vec::new();
    if sync.spec.wait {
        for o in rendered.objects.iter() {
            let ns = if crate::kustomize::is_cluster_scoped(o.api_version(), o.kind()) || o.kind() == "Namespace" {
                String::new()
            } else {
                o.namespace().to_string()
            };
            targets.push((o.api_version().into(), o.kind().into(), ns, o.name().into()));
        }
    }
    for h in &sync.spec.health_checks {
        targets.push((
            h.api_version.clone().unwrap_or_else(|| "v1".into()),
            h.kind.clone(),
            h.namespace.clone().unwrap_or_else(|| ns.to_string()),
            h.name.clone(),
        ));
    }
    let healthy = if targets.is_empty() {
        None
    } else {
        applier.wait_healthy(&targets, timeout).await.map_err(|m| Failed {
            reason: reason::HEALTH_CHECK_FAILED,
            message: m,
            revision: Some(revision.clone()),
        })?;
        Some(true)
    };
    Ok(Done {
        revision,
        report,
        pruned,
        healthy,
        refresh: rendered.refresh,
    })
}

fn new_status(sync: &Sync, result: &Result<Done, Failed>, now: Time) -> SyncStatus {
    let generation = sync.meta().generation;
    let mut st = sync.status.clone().unwrap_or_default();
    let mut conds = std::mem::take(&mut st.conditions);
    match result {
        Ok(d) => {
            st.last_applied_revision = Some(d.revision.clone());
            st.last_attempted_revision = Some(d.revision.clone());
            st.inventory = Some(Inventory {
                entries: d
                    .report
                    .inventory
                    .iter()
                    .map(|e| InventoryEntry {
                        id: e.id.clone(),
                        v: e.v.clone(),
                    })
                    .collect(),
            });
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
            if f.reason == INVALID {
                conditions::set(&mut conds, "Stalled", true, f.reason, &f.message, generation, now);
            }
        }
    }
    conditions::remove(&mut conds, "Reconciling");
    st.conditions = conds;
    st.observed_generation = generation;
    st.last_handled_reconcile_at = sync.annotations().get(REQUESTED_AT).cloned();
    st
}

async fn patch_status(ctx: &Ctx, ns: &str, name: &str, status: &SyncStatus) -> Result<(), Error> {
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

/// One Sync reconcile.
#[tracing::instrument(skip(sync, ctx), fields(sync = %format!("{}/{}", sync.namespace().unwrap_or_default(), sync.name_any())))]
pub async fn reconcile(sync: Arc<Sync>, ctx: Arc<Ctx>) -> Result<Action, Error> {
    if sync.spec.suspend {
        return Ok(Action::await_change());
    }
    let started = Instant::now();
    let ns = sync.namespace().unwrap_or_default();
    let name = sync.name_any();
    let key = format!("{ns}/{name}");
    let parse = |s: &str| crate::duration::parse(s).filter(|d| !d.is_zero());
    let interval = parse(&sync.spec.interval);
    let retry = sync.spec.retry_interval.as_deref().and_then(parse).or(interval);
    let timeout = sync.spec.timeout.as_deref().and_then(parse).or(interval);
    let result = match (interval, timeout) {
        (Some(_), Some(t)) => {
            // Say that work started when there is something new to do.
            let st = sync.status.as_ref();
            let new_generation = st.and_then(|s| s.observed_generation) != sync.meta().generation;
            if new_generation {
                let mut s = st.cloned().unwrap_or_default();
                conditions::set(
                    &mut s.conditions,
                    "Reconciling",
                    true,
                    "Progressing",
                    "reconciliation in progress",
                    sync.meta().generation,
                    Time(jiff::Timestamp::now()),
                );
                patch_status(&ctx, &ns, &name, &s).await?;
            }
            attempt(&ctx, &sync, &ns, &name, t).await
        }
        _ => Err(failed(
            INVALID,
            format!(
                "invalid interval {:?} or timeout {:?}",
                sync.spec.interval, sync.spec.timeout
            ),
            None,
        )),
    };
    let status = new_status(&sync, &result, Time(jiff::Timestamp::now()));
    if sync.status.as_ref() != Some(&status) {
        patch_status(&ctx, &ns, &name, &status).await?;
    }
    let seconds = started.elapsed().as_secs_f64();
    ctx.http.metrics.reconciled(&key, result.is_ok(), seconds);
    match &result {
        Ok(d) => {
            ctx.http
                .metrics
                .objects(&key, d.report.changed() as u64, d.pruned.len() as u64);
            ctx.http
                .metrics
                .applied_at(&key, jiff::Timestamp::now().as_millisecond() as f64 / 1000.0);
            let mut summary = d.report.summary();
            for p in &d.pruned {
                summary.push_str(&format!("\n{p} deleted"));
            }
            let summary = summary.trim().to_string();
            tracing::info!(
                revision = %d.revision,
                changed = d.report.changed(),
                pruned = d.pruned.len(),
                seconds,
                "reconciled"
            );
            if !summary.is_empty() {
                tracing::info!(changes = %summary, "applied");
                ctx.event(&*sync, false, reason::SUCCEEDED, "Apply", summary).await;
            }
            let next = match (interval, d.refresh) {
                (Some(i), Some(r)) => i.min(r),
                (Some(i), None) => i,
                (None, r) => r.unwrap_or(Duration::from_secs(600)),
            };
            Ok(Action::requeue(next))
        }
        Err(f) => {
            if f.reason == reason::DECRYPTION_FAILED {
                ctx.http.metrics.decrypt_failed(&key);
            }
            tracing::warn!(reason = f.reason, message = %f.message, "reconcile failed");
            ctx.event(&*sync, true, f.reason, "Reconcile", f.message.clone()).await;
            Ok(match (f.reason, retry) {
                // Woken when the dependency becomes Ready; the interval is only a backstop.
                (reason::DEPENDENCY_NOT_READY, _) => Action::requeue(interval.unwrap_or(Duration::from_secs(600))),
                (INVALID, _) | (_, None) => Action::await_change(),
                (_, Some(r)) => Action::requeue(r),
            })
        }
    }
}

/// After an error the reconcile could not report in the status.
pub fn error_policy(_sync: Arc<Sync>, e: &Error, _ctx: Arc<Ctx>) -> Action {
    super::retry_after(e)
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
            pruned: vec![],
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
