//! The Sync controller. One reconcile: deleted? (finalizer: garbage-collect) → suspended? →
//! the spec and the agent's tenancy rules → dependencies Ready → the source's revision → when
//! none of the inputs and none of the applied objects changed since the last apply, nothing
//! more (no request at all) → otherwise render (decrypting, unsealing, fetching; off the
//! async workers) → apply what may have changed → inventory written → prune → health → status
//! and events. A failure anywhere before the apply applies nothing; `timeout` bounds it all.

pub mod finalize;
pub mod inputs;
pub mod status;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::runtime::controller::Action;
use kube::{Resource, ResourceExt};
use sigil_crds::sigil::Sync;

use crate::apply::inventory::Entry;
use crate::conditions::reason;
use crate::controller::applier::{Applier, ApplyError, Report, Tracked};
use crate::controller::prune::Pruned;
use crate::controller::{Ctx, Error};
use crate::object::Object;
use crate::pipeline::{self, Namespaces};
use crate::secrets::external::ExternalSecrets;
use crate::secrets::{Policy, SecretResolver};
use status::{ACCESS_DENIED, ARTIFACT_FAILED, Done, Failed, INVALID, TIMED_OUT, failed};

/// What the agent remembers of a Sync's last successful reconcile (in memory only).
#[derive(Debug, Clone)]
pub struct Remembered {
    /// The digest of its inputs then.
    pub inputs: u64,
    /// The revision applied.
    pub revision: String,
    /// The objects applied, to recognise them unchanged.
    pub tracked: Vec<Tracked>,
    /// When ExternalSecrets must be read again.
    pub refresh_at: Option<Instant>,
    /// Whether health checks ran (and passed).
    pub healthy: Option<bool>,
    /// How many objects the inventory holds.
    pub objects: usize,
}

/// The ServiceAccount a Sync applies as: its own `serviceAccountName`, or the agent's
/// `--default-service-account` (in the Sync's namespace).
pub fn service_account(ctx: &Ctx, sync: &Sync) -> Option<String> {
    sync.spec
        .service_account_name
        .clone()
        .or_else(|| ctx.config.default_service_account.clone())
}

/// Whether ServiceAccount `ns/name` exists.
pub async fn service_account_exists(ctx: &Ctx, ns: &str, name: &str) -> Result<bool, Error> {
    let kind = ctx.api.kind("ServiceAccount", "v1", "ServiceAccount").await?;
    Ok(ctx.api.get(&kind, ns, name, None).await?.is_some())
}

fn external_resolver(
    ctx: &Ctx,
    key: &str,
    ns: &str,
    vault: Option<&sigil_crds::sigil::VaultDefault>,
    keys: &pipeline::DecryptionKeys,
) -> Arc<ExternalSecrets> {
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
    let issuer = super::tokens::ServiceAccountTokens::new(Arc::clone(&ctx.api), ns.to_string());
    let mut r =
        ExternalSecrets::new(Arc::clone(&ctx.vault), keys.vault_token.clone(), None).token_issuer(Arc::new(issuer));
    if let Some(v) = vault {
        r = r.default_store(&v.store_name, v.store_kind.as_deref());
    }
    let r = Arc::new(r);
    map.insert(key.to_string(), (config, Arc::clone(&r)));
    r
}

/// The spec and the agent's tenancy rules: what a Sync may refer to.
fn check_spec(ctx: &Ctx, sync: &Sync, ns: &str) -> Result<(), Failed> {
    let kind = sync.spec.source_ref.kind();
    if kind != "GitSource" {
        return Err(failed(
            INVALID,
            format!("sourceRef.kind {kind:?} is not supported (GitSource)"),
            None,
        ));
    }
    if let Some(v) = &sync.spec.source_ref.api_version
        && v != "sigil.dev/v1alpha1"
    {
        return Err(failed(
            INVALID,
            format!("sourceRef.apiVersion {v:?} is not sigil.dev/v1alpha1"),
            None,
        ));
    }
    if ctx.config.no_cross_namespace_refs {
        if let Some(sns) = &sync.spec.source_ref.namespace
            && sns != ns
        {
            return Err(failed(
                ACCESS_DENIED,
                format!(
                    "cross-namespace references are not allowed: sourceRef GitSource {sns}/{}",
                    sync.spec.source_ref.name
                ),
                None,
            ));
        }
        if let Some(d) = sync
            .spec
            .depends_on
            .iter()
            .find(|d| d.namespace.as_deref().is_some_and(|d| d != ns))
        {
            return Err(failed(
                ACCESS_DENIED,
                format!(
                    "cross-namespace references are not allowed: dependsOn Sync {}/{}",
                    d.namespace.as_deref().unwrap_or(""),
                    d.name
                ),
                None,
            ));
        }
    }
    Ok(())
}

/// Objects a Sync may not apply: sealing keys anywhere, and anything in the agent's own
/// namespace unless the Sync lives there (the platform team's).
fn check_objects(ctx: &Ctx, ns: &str, objects: &[Object], rev: Option<&str>) -> Result<(), Failed> {
    for o in objects {
        let labels = o.0.pointer("/metadata/labels");
        let key_label = [crate::sealing_keys::SIGIL_LABEL, crate::sealing_keys::BITNAMI_LABEL]
            .iter()
            .any(|l| labels.and_then(|m| m.get(*l)).is_some());
        if o.kind() == "Secret" && key_label {
            return Err(failed(
                ACCESS_DENIED,
                format!("{}: a Sync may not apply a sealing key", o.id()),
                rev,
            ));
        }
        let agent_ns = &ctx.config.namespace;
        let into_agent = o.namespace() == agent_ns || (o.kind() == "Namespace" && o.name() == agent_ns);
        if into_agent && ns != agent_ns {
            return Err(failed(
                ACCESS_DENIED,
                format!(
                    "{}: only Syncs in the agent's namespace {agent_ns} may apply objects there",
                    o.id()
                ),
                rev,
            ));
        }
    }
    Ok(())
}

fn jitter(d: Duration, percent: u8) -> Duration {
    if percent == 0 || percent >= 100 {
        return d;
    }
    let p = f64::from(percent) / 100.0;
    d.mul_f64(1.0 + p * (2.0 * rand::random::<f64>() - 1.0))
}

/// One Sync reconcile.
#[tracing::instrument(skip(sync, ctx), fields(sync = %format!("{}/{}", sync.namespace().unwrap_or_default(), sync.name_any())))]
pub async fn reconcile(sync: Arc<Sync>, ctx: Arc<Ctx>) -> Result<Action, Error> {
    if sync.meta().deletion_timestamp.is_some() {
        return finalize::finalize(&ctx, &sync).await;
    }
    if !finalize::ensure(&ctx, &sync).await? {
        return Ok(Action::requeue(Duration::from_millis(500)));
    }
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
    // Flux's default: the interval less 30 s, at least 30 s.
    let timeout = match &sync.spec.timeout {
        Some(t) => parse(t),
        None => interval.map(|i| i.saturating_sub(Duration::from_secs(30)).max(Duration::from_secs(30))),
    };
    let progress = Mutex::new(String::from("starting"));
    let result = match (interval, timeout) {
        (Some(_), Some(t)) => match check_spec(&ctx, &sync, &ns) {
            Err(f) => Err(f),
            Ok(()) => match tokio::time::timeout(t, attempt(&ctx, &sync, &ns, &name, t, &progress)).await {
                Ok(r) => r,
                Err(_) => {
                    let at = progress.lock().map(|p| p.clone()).unwrap_or_default();
                    Err(failed(
                        TIMED_OUT,
                        format!("reconcile timed out after {}s while {at}", t.as_secs()),
                        None,
                    ))
                }
            },
        },
        _ => Err(failed(
            INVALID,
            format!(
                "invalid interval {:?} or timeout {:?} (Go durations such as 10m, 1h30m)",
                sync.spec.interval, sync.spec.timeout
            ),
            None,
        )),
    };
    if result.is_err() {
        ctx.forget(&key);
    }
    let status = status::new_status(&sync, &result, Time(jiff::Timestamp::now()));
    if sync.status.as_ref() != Some(&status) {
        status::patch_status(&ctx, &ns, &name, &status).await?;
    }
    let seconds = started.elapsed().as_secs_f64();
    ctx.http.metrics.reconciled(&key, result.is_ok(), seconds);
    let percent = ctx.config.jitter_percent;
    match &result {
        Ok(d) => {
            ctx.http
                .metrics
                .objects(&key, d.report.changed() as u64, d.pruned.deleted.len() as u64);
            if d.report.changed() > 0 || !d.pruned.deleted.is_empty() {
                ctx.http
                    .metrics
                    .applied_at(&key, jiff::Timestamp::now().as_millisecond() as f64 / 1000.0);
            }
            let mut summary = d.report.summary();
            for p in &d.pruned.deleted {
                summary.push_str(&format!("\n{p} deleted"));
            }
            let summary = summary.trim().to_string();
            tracing::debug!(revision = %d.revision, changed = d.report.changed(), untouched = d.report.untouched,
                pruned = d.pruned.deleted.len(), seconds, "reconciled");
            if !summary.is_empty() {
                tracing::info!(revision = %d.revision, changes = %summary, "applied");
                ctx.event(&*sync, false, reason::SUCCEEDED, "Apply", summary).await;
            }
            if !d.pruned.unresolved.is_empty() {
                let msg = format!("inventory entries left in place: {}", d.pruned.unresolved.join("; "));
                ctx.event(&*sync, true, "PruneSkipped", "Prune", msg).await;
            }
            let next = match (interval, d.refresh) {
                (Some(i), Some(r)) => i.min(r),
                (Some(i), None) => jitter(i, percent),
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
                (reason::DEPENDENCY_NOT_READY, _) => Action::requeue(jitter(ctx.config.dependency_requeue, percent)),
                (INVALID | ACCESS_DENIED, _) | (_, None) => Action::await_change(),
                (_, Some(r)) => Action::requeue(jitter(r, percent)),
            })
        }
    }
}

/// Whether nothing changed since the last apply: same inputs, every applied object still at
/// the resourceVersion we left it at (per the watch), no ExternalSecret due.
fn unchanged(ctx: &Ctx, key: &str, inputs: u64) -> Option<Remembered> {
    let r = ctx.remembered(key)?;
    if r.inputs != inputs || r.refresh_at.is_some_and(|t| t <= Instant::now()) {
        return None;
    }
    r.tracked
        .iter()
        .all(|t| ctx.live.unchanged(t.key, t.rv, t.shape))
        .then_some(r)
}

async fn attempt(
    ctx: &Arc<Ctx>,
    sync: &Sync,
    ns: &str,
    name: &str,
    timeout: Duration,
    progress: &Mutex<String>,
) -> Result<Done, Failed> {
    let deadline = Instant::now() + timeout;
    let set = |what: &str| {
        if let Ok(mut p) = progress.lock() {
            *p = what.to_string();
        }
    };
    set("checking dependencies");
    inputs::dependencies_ready(ctx, sync, ns)?;
    let (gs, revision) = inputs::source(ctx, sync, ns)?;
    let rev = Some(revision.as_str());
    let key = format!("{ns}/{name}");
    let digest = inputs::digest(ctx, sync, ns, &revision);
    let extra_health = !sync.spec.health_checks.is_empty();
    if let Some(d) = digest
        && !extra_health
        && let Some(r) = unchanged(ctx, &key, d)
    {
        let report = Report {
            inventory: status::inventory(sync),
            untouched: r.tracked.len(),
            ..Report::default()
        };
        return Ok(Done {
            revision,
            report,
            pruned: Pruned::default(),
            healthy: r.healthy,
            refresh: r.refresh_at.map(|t| t.saturating_duration_since(Instant::now())),
        });
    }

    let sha = revision
        .rsplit_once("sha1:")
        .map(|(_, s)| s)
        .unwrap_or(&revision)
        .to_string();
    let commit = gix::ObjectId::from_hex(sha.as_bytes())
        .map_err(|_| failed(ARTIFACT_FAILED, format!("revision {revision} names no commit"), rev))?;
    let cache = super::gitsource::cache_of(ctx, &gs.namespace().unwrap_or_default(), &gs.name_any());
    // This replica may not have the commit yet (a new leader starts with an empty cache).
    let (url, cache2, ctx_check) = (gs.spec.url.clone(), cache.clone(), Arc::clone(ctx));
    let present = tokio::task::spawn_blocking(move || {
        ctx_check
            .repo(&url, &cache2)
            .is_ok_and(|repo| repo.to_thread_local().find_object(commit).is_ok())
    })
    .await
    .unwrap_or(false);
    if !present {
        set("fetching the source");
        super::gitsource::fetch(ctx, &gs)
            .await
            .map_err(|f| failed(ARTIFACT_FAILED, f.message, rev))?;
    }
    set("reading the decryption keys");
    let keys = inputs::decryption_keys(ctx, sync, ns, rev).await?;
    set("reading the substitution variables");
    let vars = inputs::variables(ctx, sync, ns, rev).await?;
    let (sealed, _) = ctx.sealed();
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
    let path = if path.is_empty() { "." } else { path }.to_string();

    // The render: CPU-bound work (YAML, kustomize, decryption, RSA unsealing) and blocking Git
    // reads, on a bounded blocking pool so the async workers (and the Lease renewal) keep running.
    set("rendering");
    let permit = Arc::clone(&ctx.render_slots)
        .acquire_owned()
        .await
        .map_err(|_| failed(reason::BUILD_FAILED, "the agent is shutting down", rev))?;
    let handle = tokio::runtime::Handle::current();
    let ctx2 = Arc::clone(ctx);
    let (url, commit_s, key2, ns2, vault) = (
        gs.spec.url.clone(),
        revision.clone(),
        key.clone(),
        ns.to_string(),
        sync.spec.vault.clone(),
    );
    let rendered = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let tree = ctx2
            .repo(&url, &cache)
            .and_then(|repo| crate::source::CommitTree::shared(repo, commit))
            .map_err(|e| failed(ARTIFACT_FAILED, e.to_string(), Some(&commit_s)))?;
        // Bounded by the reconcile's deadline here too, so a stuck key service or Vault frees
        // its render slot when the reconcile gives up.
        let timed_out = || {
            failed(
                TIMED_OUT,
                format!("reconcile timed out after {}s while rendering", timeout.as_secs()),
                Some(&commit_s),
            )
        };
        let left = deadline.saturating_duration_since(Instant::now());
        let build = pipeline::build(
            &tree,
            &commit_s,
            Path::new(&path),
            &keys.keyring,
            keys.generation,
            &ctx2.render_cache,
        );
        let built = handle
            .block_on(tokio::time::timeout(left, build))
            .map_err(|_| timed_out())?
            .map_err(|f| failed(f.reason, f.message, Some(&commit_s)))?;
        let mut resolvers: Vec<Box<dyn SecretResolver>> = vec![Box::new(sealed)];
        if pipeline::needs_external(&built) {
            resolvers.push(Box::new(external_resolver(&ctx2, &key2, &ns2, vault.as_ref(), &keys)));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let finish = pipeline::finish(&built, &namespaces, &vars, &resolvers, policy);
        handle
            .block_on(tokio::time::timeout(left, finish))
            .map_err(|_| timed_out())?
            .map_err(|f| failed(f.reason, f.message, Some(&commit_s)))
    })
    .await
    .map_err(|e| failed(reason::BUILD_FAILED, format!("render task: {e}"), rev))??;
    check_objects(ctx, ns, &rendered.objects, rev)?;

    let account = service_account(ctx, sync);
    let digests = ctx.digests();
    let applier = Applier {
        api: &ctx.api,
        live: &ctx.live,
        digests: &digests,
        sync_name: name,
        sync_namespace: ns,
        impersonate: account.map(|sa| format!("system:serviceaccount:{ns}:{sa}")),
        force: sync.spec.force,
        deadline,
        progress,
    };
    let previous: HashMap<_, _> = ctx
        .remembered(&key)
        .map(|r| r.tracked.into_iter().map(|t| (t.key, t)).collect())
        .unwrap_or_default();
    let report = applier.apply(&rendered.objects, &previous).await.map_err(|e| {
        let reason = match &e {
            ApplyError::TimedOut(_) => TIMED_OUT,
            _ => reason::APPLY_FAILED,
        };
        failed(reason, e.to_string(), rev)
    })?;
    let old: Vec<Entry> = status::inventory(sync);
    let stale = sync.spec.prune && !crate::apply::inventory::stale(&old, &report.inventory).is_empty();
    let mut targets: Vec<(String, String, String, String)> = Vec::new();
    if sync.spec.wait {
        for o in rendered.objects.iter() {
            let cluster_scoped =
                crate::kustomize::is_cluster_scoped(o.api_version(), o.kind()) || o.kind() == "Namespace";
            let ns = if cluster_scoped {
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
    // What was applied is recorded before anything that may fail or take long.
    if stale || !targets.is_empty() {
        let next = if stale { "pruning" } else { "waiting for health checks" };
        status::write_inventory(ctx, sync, &report.inventory, next)
            .await
            .map_err(|e| failed(reason::APPLY_FAILED, e.to_string(), rev))?;
    }
    let with_inventory = |mut f: Failed| {
        f.inventory = Some(report.inventory.clone());
        f
    };
    let mut pruned = Pruned::default();
    if sync.spec.prune {
        pruned = applier
            .prune(&old, &report.inventory)
            .await
            .map_err(|e| with_inventory(failed(reason::PRUNE_FAILED, e.to_string(), rev)))?;
    }
    let healthy = if targets.is_empty() {
        None
    } else {
        applier
            .wait_healthy(&targets)
            .await
            .map_err(|m| with_inventory(failed(reason::HEALTH_CHECK_FAILED, m, rev)))?;
        Some(true)
    };
    if let Some(d) = digest {
        ctx.remember(
            &key,
            Remembered {
                inputs: d,
                revision: revision.clone(),
                tracked: report.tracked.clone(),
                refresh_at: rendered.refresh.map(|r| Instant::now() + r),
                healthy,
                objects: report.inventory.len(),
            },
        );
    }
    Ok(Done {
        revision,
        report,
        pruned,
        healthy,
        refresh: rendered.refresh,
    })
}

/// After an error the reconcile could not report in the status.
pub fn error_policy(_sync: Arc<Sync>, e: &Error, _ctx: Arc<Ctx>) -> Action {
    super::retry_after(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_the_percentage() {
        let d = Duration::from_secs(100);
        for _ in 0..200 {
            let j = jitter(d, 5);
            assert!(j >= Duration::from_secs(95) && j <= Duration::from_secs(105), "{j:?}");
        }
        assert_eq!(jitter(d, 0), d);
    }
}
