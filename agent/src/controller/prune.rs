//! Deleting what left Git (prune) and, when a Sync is deleted, everything it applied: entries
//! of the old inventory not in the new one, in reverse apply order with Namespaces and then
//! CRDs last, each only if the live object still carries this Sync's labels and no
//! `sigil.dev/prune: disabled` or `sigil.dev/reconcile: disabled`. An entry that cannot be
//! resolved (an unreadable id, a kind the cluster no longer serves) is reported, never skipped
//! in silence.

use std::time::Duration;

use crate::apply::inventory::{self, Entry};
use crate::apply::policy::Policy;
use crate::controller::applier::{Applier, ApplyError, SYNC_NAME_LABEL, SYNC_NAMESPACE_LABEL};
use crate::controller::kubeapi::ApiError;
use crate::controller::live::{self, Known};

/// What a prune did.
#[derive(Debug, Default)]
pub struct Pruned {
    /// Objects deleted, in order (`Kind ns/name`).
    pub deleted: Vec<String>,
    /// Objects left in place because an annotation or a foreign label says so.
    pub kept: Vec<String>,
    /// Inventory entries that could not be resolved, and why.
    pub unresolved: Vec<String>,
}

impl Applier<'_> {
    /// Deletes the entries of `old` that `new` does not have (see the module doc).
    pub async fn prune(&self, old: &[Entry], new: &[Entry]) -> Result<Pruned, ApplyError> {
        let mut out = Pruned::default();
        // Custom resources come before their CRDs in this order, so their kinds still resolve.
        for e in inventory::prune_order(&inventory::stale(old, new)) {
            let p = match e.parts() {
                Ok(p) => p,
                Err(why) => {
                    out.unresolved.push(why);
                    continue;
                }
            };
            let what = if p.namespace.is_empty() {
                format!("{} {}", p.kind, p.name)
            } else {
                format!("{} {}/{}", p.kind, p.namespace, p.name)
            };
            self.at(&format!("deleting {what}"));
            if std::time::Instant::now() >= self.deadline {
                return Err(ApplyError::TimedOut(format!("deleting {what}")));
            }
            let kind = match self.api.kind(&what, &e.api_version(), &p.kind).await {
                Ok(k) => k,
                Err(ApiError::UnknownKind { .. }) => {
                    out.unresolved.push(format!(
                        "{what}: the cluster no longer serves {} {}",
                        e.api_version(),
                        p.kind
                    ));
                    continue;
                }
                Err(err) => return Err(err.into()),
            };
            let key = live::object_key(&p.group, &p.kind, &p.namespace, &p.name);
            let ours = match self.live.lookup(&kind.resource, key) {
                Known::Present(l) => {
                    if l.owner != self.owner() {
                        Some(false)
                    } else if l.policy().never_delete() {
                        out.kept.push(what.clone());
                        continue;
                    } else {
                        Some(true)
                    }
                }
                // Watched, and no object of that name carries Sigil's labels: gone, or no
                // longer ours.
                Known::Absent => Some(false),
                Known::Unknown => None,
            };
            let ours = match ours {
                Some(o) => o,
                None => {
                    let Some(live) = self.api.get(&kind, &p.namespace, &p.name, self.who()).await? else {
                        continue;
                    };
                    let label = |k: &str| {
                        live.0
                            .pointer(&format!("/metadata/labels/{}", k.replace('/', "~1")))?
                            .as_str()
                    };
                    if Policy::of(&live.0).never_delete() {
                        out.kept.push(what.clone());
                        continue;
                    }
                    label(SYNC_NAME_LABEL) == Some(self.sync_name)
                        && label(SYNC_NAMESPACE_LABEL) == Some(self.sync_namespace)
                }
            };
            if !ours {
                tracing::info!(object = %what, "not pruned: it does not carry this Sync's labels");
                continue;
            }
            if self.api.delete(&kind, &p.namespace, &p.name, self.who()).await? {
                out.deleted.push(what);
            }
            self.live.forget(key);
        }
        if !out.unresolved.is_empty() {
            tracing::warn!(entries = ?out.unresolved, "inventory entries could not be resolved; their objects were left in place");
        }
        Ok(out)
    }

    /// Waits until each object in `targets` is healthy, or the deadline passes; the message
    /// names the objects that are not.
    pub async fn wait_healthy(&self, targets: &[(String, String, String, String)]) -> Result<(), String> {
        use crate::health::{self, Health};
        let mut pause = Duration::from_millis(250);
        loop {
            let mut pending = Vec::new();
            for (api_version, kind_name, ns, name) in targets {
                let what = if ns.is_empty() {
                    format!("{kind_name} {name}")
                } else {
                    format!("{kind_name} {ns}/{name}")
                };
                let state = match self.api.kind(&what, api_version, kind_name).await {
                    Err(e) => Health::InProgress(e.to_string()),
                    Ok(kind) => match self.api.get(&kind, ns, name, self.who()).await {
                        Ok(Some(live)) => health::health(&live),
                        Ok(None) => Health::InProgress("not found".into()),
                        Err(e) => Health::InProgress(e.to_string()),
                    },
                };
                match state {
                    Health::Current => {}
                    Health::Failed(why) => return Err(format!("{what}: {why}")),
                    Health::InProgress(why) => pending.push(format!("{what}: {why}")),
                }
            }
            if pending.is_empty() {
                return Ok(());
            }
            self.at(&format!("waiting for health: {}", pending.join("; ")));
            let now = std::time::Instant::now();
            if now + pause > self.deadline {
                return Err(format!("health check timed out, waiting for: {}", pending.join("; ")));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(5));
        }
    }
}
