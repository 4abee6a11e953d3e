//! The GitSource controller: check the URL (only `https`, `http`, `ssh`; `file://` with
//! `--allow-local-sources`), read the credentials and trusted keys, fetch (off the async
//! runtime), record the revision, requeue after the interval. Deleting a GitSource is safe:
//! its Syncs keep what they applied and report the missing source; its cache directory is
//! removed by a periodic sweep.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::{Resource, ResourceExt};
use sigil_crds::sigil::GitSource;

use crate::controller::{Ctx, Error, secret_data};
use crate::gitsource::{self as logic, Failure};

/// The cache directory of one GitSource.
pub fn cache_of(ctx: &Ctx, namespace: &str, name: &str) -> std::path::PathBuf {
    ctx.config.git_cache.join(namespace).join(name)
}

fn invalid(message: String) -> Failure {
    Failure {
        reason: logic::INVALID,
        message,
    }
}

/// Fetches GitSource `gs` into this replica's cache (one fetch per source at a time): the
/// GitSource reconcile does, and so does a Sync that finds its commit missing (a new leader
/// starts with an empty cache).
pub async fn fetch(ctx: &Ctx, gs: &GitSource) -> Result<crate::source::Revision, Failure> {
    let ns = gs.namespace().unwrap_or_default();
    let lock = {
        let mut locks = match ctx.fetch_locks.lock() {
            Ok(l) => l,
            Err(p) => p.into_inner(),
        };
        Arc::clone(locks.entry(format!("{ns}/{}", gs.name_any())).or_default())
    };
    let _held = lock.lock().await;
    let result = attempt(gs, ctx, &ns).await;
    ctx.forget_repo(&cache_of(ctx, &ns, &gs.name_any()));
    result
}

async fn attempt(gs: &GitSource, ctx: &Ctx, ns: &str) -> Result<crate::source::Revision, Failure> {
    let spec = gs.spec.clone();
    logic::check_url(&spec.url, ctx.config.allow_local_sources)?;
    let creds = match &spec.secret_ref {
        None => None,
        Some(r) => Some(
            secret_data(ctx, ns, &r.name)
                .await
                .map_err(|e| invalid(e.to_string()))?
                .ok_or_else(|| invalid(format!("credentials Secret {ns}/{} not found", r.name)))?,
        ),
    };
    let opts = logic::fetch_options(&spec, creds.as_ref())?;
    let signers = match &spec.verify {
        None => None,
        Some(v) => {
            let data = secret_data(ctx, ns, &v.secret_ref.name)
                .await
                .map_err(|e| invalid(e.to_string()))?
                .ok_or_else(|| invalid(format!("verification Secret {ns}/{} not found", v.secret_ref.name)))?;
            Some(logic::allowed_signers(&data)?)
        }
    };
    let cache = cache_of(ctx, ns, &gs.name_any());
    tokio::task::spawn_blocking(move || logic::fetch(&spec, &opts, signers.as_ref(), &cache))
        .await
        .map_err(|e| Failure {
            reason: logic::GIT_FAILED,
            message: format!("fetch task: {e}"),
        })?
}

/// One GitSource reconcile.
#[tracing::instrument(skip(gs, ctx), fields(gitsource = %format!("{}/{}", gs.namespace().unwrap_or_default(), gs.name_any())))]
pub async fn reconcile(gs: Arc<GitSource>, ctx: Arc<Ctx>) -> Result<Action, Error> {
    if gs.spec.suspend {
        return Ok(Action::await_change());
    }
    let ns = gs.namespace().unwrap_or_default();
    let name = gs.name_any();
    let generation = gs.meta().generation;
    let interval = crate::duration::parse(&gs.spec.interval).filter(|d| !d.is_zero());
    let result = match interval {
        None => Err(invalid(format!("invalid interval {:?}", gs.spec.interval))),
        Some(_) => fetch(&ctx, &gs).await,
    };
    let previous = gs
        .status
        .as_ref()
        .and_then(|s| s.artifact.as_ref())
        .map(|a| a.revision.clone());
    let status = logic::status(gs.status.as_ref(), &result, generation, Time(jiff::Timestamp::now()));
    if gs.status.as_ref() != Some(&status) {
        ctx.api.count("status");
        let api: Api<GitSource> = Api::namespaced(ctx.client(), &ns);
        api.patch_status(
            &name,
            &PatchParams::default(),
            &Patch::Merge(serde_json::json!({ "status": status })),
        )
        .await
        .map_err(|e| Error::Kube(format!("GitSource {ns}/{name} status"), e))?;
    }
    match &result {
        Ok(rev) if previous.as_deref() != Some(rev.name.as_str()) => {
            tracing::info!(revision = %rev.name, "new revision");
            ctx.event(
                &*gs,
                false,
                "NewArtifact",
                "Fetch",
                format!("stored revision {}", rev.name),
            )
            .await;
        }
        Ok(_) => {}
        Err(f) => {
            tracing::warn!(reason = f.reason, message = %f.message, "fetch failed");
            ctx.event(&*gs, true, f.reason, "Fetch", f.message.clone()).await;
        }
    }
    Ok(match interval {
        Some(i) => Action::requeue(i),
        None => Action::await_change(),
    })
}

/// Removes, every `every`, the cache directories of GitSources that no longer exist.
pub async fn collect_caches(ctx: Arc<Ctx>, every: Duration) {
    loop {
        tokio::time::sleep(every).await;
        let known: std::collections::HashSet<std::path::PathBuf> = ctx
            .gitsources
            .state()
            .iter()
            .map(|g| cache_of(&ctx, &g.namespace().unwrap_or_default(), &g.name_any()))
            .collect();
        let root = ctx.config.git_cache.clone();
        let _ = tokio::task::spawn_blocking(move || {
            let Ok(namespaces) = std::fs::read_dir(&root) else {
                return;
            };
            for ns in namespaces.flatten() {
                let Ok(sources) = std::fs::read_dir(ns.path()) else {
                    continue;
                };
                for src in sources.flatten() {
                    if !known.contains(&src.path()) {
                        tracing::info!(cache = %src.path().display(), "removing the cache of a deleted GitSource");
                        let _ = std::fs::remove_dir_all(src.path());
                    }
                }
            }
        })
        .await;
    }
}

/// After an error the reconcile could not report in the status.
pub fn error_policy(_gs: Arc<GitSource>, e: &Error, _ctx: Arc<Ctx>) -> Action {
    super::retry_after(e)
}
