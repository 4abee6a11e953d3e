//! The Sync's finalizer: added on the first reconcile, so that deleting a Sync with
//! `prune: true` first deletes everything in its inventory (reverse apply order, as a prune
//! does — annotations and foreign labels respected) and only then lets the Sync go. With
//! `prune: false`, or a suspended Sync, the objects stay. A ServiceAccount to impersonate that
//! no longer exists leaves them too (and says so), rather than holding the Sync forever.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::{Resource, ResourceExt};
use sigil_crds::sigil::Sync;

use crate::apply::inventory::Entry;
use crate::controller::applier::Applier;
use crate::controller::{Ctx, Error};

/// The finalizer Sigil puts on Syncs.
pub const FINALIZER: &str = "finalizers.sigil.dev";

fn json_patch(ops: serde_json::Value) -> Result<json_patch::Patch, Error> {
    serde_json::from_value(ops).map_err(|e| Error::Keys(format!("finalizer patch: {e}")))
}

/// Adds the finalizer when missing. `Ok(false)`: the Sync changed meanwhile (retry soon).
pub async fn ensure(ctx: &Ctx, sync: &Sync) -> Result<bool, Error> {
    if sync.finalizers().iter().any(|f| f == FINALIZER) {
        return Ok(true);
    }
    let (ns, name) = (sync.namespace().unwrap_or_default(), sync.name_any());
    let ops = if sync.meta().finalizers.is_none() {
        serde_json::json!([
            {"op": "test", "path": "/metadata/resourceVersion", "value": sync.resource_version()},
            {"op": "add", "path": "/metadata/finalizers", "value": [FINALIZER]},
        ])
    } else {
        serde_json::json!([{"op": "add", "path": "/metadata/finalizers/-", "value": FINALIZER}])
    };
    ctx.api.count("other");
    let api: Api<Sync> = Api::namespaced(ctx.client(), &ns);
    match api
        .patch(&name, &PatchParams::default(), &Patch::Json::<()>(json_patch(ops)?))
        .await
    {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(e)) if matches!(e.code, 409 | 422) => Ok(false),
        Err(e) => Err(Error::Kube(format!("Sync {ns}/{name} finalizer"), e)),
    }
}

async fn remove(ctx: &Ctx, sync: &Sync) -> Result<(), Error> {
    let (ns, name) = (sync.namespace().unwrap_or_default(), sync.name_any());
    let Some(i) = sync.finalizers().iter().position(|f| f == FINALIZER) else {
        return Ok(());
    };
    let ops = serde_json::json!([
        {"op": "test", "path": format!("/metadata/finalizers/{i}"), "value": FINALIZER},
        {"op": "remove", "path": format!("/metadata/finalizers/{i}")},
    ]);
    ctx.api.count("other");
    let api: Api<Sync> = Api::namespaced(ctx.client(), &ns);
    match api
        .patch(&name, &PatchParams::default(), &Patch::Json::<()>(json_patch(ops)?))
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
        Err(e) => Err(Error::Kube(format!("Sync {ns}/{name} finalizer"), e)),
    }
}

/// A Sync being deleted: garbage-collect (when it prunes), then release it.
pub async fn finalize(ctx: &Arc<Ctx>, sync: &Sync) -> Result<Action, Error> {
    let (ns, name) = (sync.namespace().unwrap_or_default(), sync.name_any());
    let key = format!("{ns}/{name}");
    if !sync.finalizers().iter().any(|f| f == FINALIZER) {
        ctx.forget(&key);
        return Ok(Action::await_change());
    }
    let inventory: Vec<Entry> = super::status::inventory(sync);
    if sync.spec.prune && !sync.spec.suspend && !inventory.is_empty() {
        let account = super::service_account(ctx, sync);
        let account_gone = match &account {
            Some(sa) => !super::service_account_exists(ctx, &ns, sa).await?,
            None => false,
        };
        if account_gone {
            let sa = account.unwrap_or_default();
            let msg = format!(
                "the ServiceAccount {ns}/{sa} to delete as is gone: {} objects left in place",
                inventory.len()
            );
            tracing::warn!(sync = %key, "{msg}");
            ctx.event(sync, true, "PruneFailed", "Delete", msg).await;
        } else {
            let progress = Mutex::new(String::new());
            let applier = Applier {
                api: &ctx.api,
                live: &ctx.live,
                digests: &ctx.digests(),
                sync_name: &name,
                sync_namespace: &ns,
                impersonate: account.map(|sa| format!("system:serviceaccount:{ns}:{sa}")),
                force: false,
                deadline: Instant::now() + Duration::from_secs(120),
                progress: &progress,
            };
            match applier.prune(&inventory, &[]).await {
                Ok(p) => {
                    let mut lines: Vec<String> = p.deleted.iter().map(|d| format!("{d} deleted")).collect();
                    lines.extend(p.kept.iter().map(|k| format!("{k} kept (annotation)")));
                    lines.extend(p.unresolved.iter().map(|u| format!("{u}: not deleted")));
                    tracing::info!(sync = %key, deleted = p.deleted.len(), kept = p.kept.len(), "garbage-collected on deletion");
                    if !lines.is_empty() {
                        ctx.event(sync, !p.unresolved.is_empty(), "Pruned", "Delete", lines.join("\n"))
                            .await;
                    }
                }
                Err(e) => {
                    let msg = format!("deleting the inventory failed: {e}");
                    tracing::warn!(sync = %key, "{msg}");
                    ctx.event(sync, true, "PruneFailed", "Delete", msg).await;
                    return Ok(Action::requeue(Duration::from_secs(10)));
                }
            }
        }
    }
    remove(ctx, sync).await?;
    ctx.forget(&key);
    Ok(Action::await_change())
}
