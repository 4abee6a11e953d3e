//! Applying a render to the cluster with server-side apply (field manager `sigil`), in two
//! stages (CRDs and Namespaces — waited for — then the rest in reconcile order). Within a stage
//! every object that may have changed is first dry-run, so one invalid object applies nothing
//! of its stage; then each is applied for real (the API server writes nothing when nothing
//! changed). An object whose desired form and live resourceVersion are those of our last apply
//! is not touched at all: the watch (`live`) says it has not changed. Per-object annotations
//! (`apply::policy`) skip, create-once or force-recreate objects; a change of an immutable field
//! recreates the object only when forced, and otherwise names the object and field.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures::StreamExt;

use crate::apply::inventory::{self, Entry};
use crate::apply::policy::Policy;
use crate::apply::secret_changes::{self, KeyChange};
use crate::apply::stage;
use crate::controller::kubeapi::{ApiError, Kind, KubeApi};
use crate::controller::live::{self, Known, LiveIndex, ObjectKey};
use crate::digest::DigestKey;
use crate::object::Object;

/// Label naming the Sync that applied an object.
pub const SYNC_NAME_LABEL: &str = "sigil.dev/sync-name";
/// Label naming the Sync's namespace.
pub const SYNC_NAMESPACE_LABEL: &str = "sigil.dev/sync-namespace";

/// What happened to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It did not exist.
    Created,
    /// It drifted from Git and was re-applied.
    Configured,
    /// It was deleted and created again (an immutable field changed, forced).
    Recreated,
    /// Live state already matched.
    Unchanged,
    /// Left alone by an annotation (`reconcile: disabled`, `ssa: Ignore`, `ssa: IfNotPresent`).
    Skipped,
}

/// An applied object as last seen: how to recognise it unchanged next time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tracked {
    /// Its index key.
    pub key: ObjectKey,
    /// Its resourceVersion after our apply.
    pub rv: u64,
    /// A keyed digest of what we applied.
    pub digest: u64,
    /// Its [`live::shape`] after our apply (0: the kind keeps no generation).
    pub shape: u64,
}

/// The result of applying a render.
#[derive(Debug, Default)]
pub struct Report {
    /// Objects and what happened to them, in apply order.
    pub objects: Vec<(String, Outcome)>,
    /// Secrets that changed: which keys, with keyed digests of the old and new values.
    pub secret_changes: Vec<(String, Vec<(String, KeyChange)>)>,
    /// The inventory of what was applied (skipped objects included, as Flux keeps them).
    pub inventory: Vec<Entry>,
    /// How to recognise each object unchanged next time.
    pub tracked: Vec<Tracked>,
    /// Objects that were not touched because nothing changed since the last apply.
    pub untouched: usize,
}

impl Report {
    /// Objects created, configured or recreated.
    pub fn changed(&self) -> usize {
        self.objects
            .iter()
            .filter(|(_, o)| matches!(o, Outcome::Created | Outcome::Configured | Outcome::Recreated))
            .count()
    }

    /// One line per change, for events and logs (Secret values never appear).
    pub fn summary(&self) -> String {
        let mut lines: Vec<String> = self
            .objects
            .iter()
            .filter_map(|(id, o)| match o {
                Outcome::Created => Some(format!("{id} created")),
                Outcome::Configured => Some(format!("{id} configured")),
                Outcome::Recreated => Some(format!("{id} recreated")),
                Outcome::Unchanged | Outcome::Skipped => None,
            })
            .collect();
        for (id, changes) in &self.secret_changes {
            let keys: Vec<String> = changes
                .iter()
                .map(|(k, c)| match c {
                    KeyChange::Added(n) => format!("+{k} (hmac:{n})"),
                    KeyChange::Removed => format!("-{k}"),
                    KeyChange::Changed(o, n) => format!("~{k} (hmac:{o} -> hmac:{n})"),
                })
                .collect();
            lines.push(format!("{id} keys: {}", keys.join(", ")));
        }
        lines.join("\n")
    }
}

/// A failed apply: the API's error, or an immutable field changed without force.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApplyError {
    /// A call failed.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// An immutable field changed and the object may not be recreated.
    #[error(
        "{0} (an immutable field changed: set spec.force, or annotate the object sigil.dev/force: enabled, to recreate it)"
    )]
    Immutable(ApiError),
    /// The deadline passed.
    #[error("{0}: timed out")]
    TimedOut(String),
}

/// Who applies, where it is recorded, and what it may do.
pub struct Applier<'a> {
    /// The client.
    pub api: &'a KubeApi,
    /// The watch-fed index of managed objects.
    pub live: &'a LiveIndex,
    /// Keys the digests of Secret values shown in events.
    pub digests: &'a DigestKey,
    /// The Sync's name.
    pub sync_name: &'a str,
    /// The Sync's namespace.
    pub sync_namespace: &'a str,
    /// `system:serviceaccount:<ns>:<name>` when applying as a ServiceAccount.
    pub impersonate: Option<String>,
    /// `spec.force`: recreate any object whose immutable fields changed.
    pub force: bool,
    /// When the reconcile must be over.
    pub deadline: Instant,
    /// What the reconcile is doing now (reported if it times out).
    pub progress: &'a Mutex<String>,
}

fn labelled(o: &Object, name: &str, namespace: &str) -> Object {
    let mut o = o.clone();
    if let Some(meta) = o.0.get_mut("metadata").and_then(|m| m.as_object_mut()) {
        let labels = meta
            .entry("labels")
            .or_insert_with(|| serde_json::Value::Object(Default::default()));
        if let Some(l) = labels.as_object_mut() {
            l.insert(SYNC_NAME_LABEL.into(), name.into());
            l.insert(SYNC_NAMESPACE_LABEL.into(), namespace.into());
        }
    }
    o
}

fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

/// An object's index key.
pub fn key_of(o: &Object) -> ObjectKey {
    live::object_key(group_of(o.api_version()), o.kind(), o.namespace(), o.name())
}

fn digest_of(o: &Object) -> u64 {
    let bytes = zeroize::Zeroizing::new(serde_json::to_vec(&o.0).unwrap_or_default());
    let mut m = crate::digest::process_key().mac();
    m.update(&bytes);
    m.finish_u64()
}

fn rv_of(o: &Object) -> &str {
    o.0.pointer("/metadata/resourceVersion")
        .and_then(|v| v.as_str())
        .unwrap_or("")
}

/// Requests to the API server at once within one Sync's stage.
const PARALLEL: usize = 8;

/// What a dry run decided.
enum Checked {
    /// Left alone (an annotation says so); how to recognise it next time.
    Skipped(String, Tracked),
    /// To apply.
    Apply(Box<Pending>),
}

/// An object applied.
struct Applied {
    id: String,
    outcome: Outcome,
    tracked: Tracked,
    secret_changes: Option<Vec<(String, KeyChange)>>,
}

/// One object on its way: what we know before applying it.
struct Pending {
    object: Object,
    kind: Kind,
    key: ObjectKey,
    digest: u64,
    /// The live object (Secrets only, for the key report), or `None`.
    before: Option<Object>,
    /// The live resourceVersion before applying ("" when absent).
    rv_before: String,
    recreate: bool,
}

impl Applier<'_> {
    pub(crate) fn who(&self) -> Option<&str> {
        self.impersonate.as_deref()
    }

    /// The index key of the Sync applying.
    pub fn owner(&self) -> u64 {
        live::owner_key(self.sync_namespace, self.sync_name)
    }

    pub(crate) fn at(&self, what: &str) {
        if let Ok(mut p) = self.progress.lock() {
            p.clear();
            p.push_str(what);
        }
    }

    fn check_deadline(&self, what: &str) -> Result<(), ApplyError> {
        if Instant::now() >= self.deadline {
            return Err(ApplyError::TimedOut(what.to_string()));
        }
        Ok(())
    }

    /// Applies `objects` (labels are added here), definitions first. `previous` is what the
    /// last apply of this Sync left (by index key), to leave untouched what did not change.
    pub async fn apply(
        &self,
        objects: &[Object],
        previous: &HashMap<ObjectKey, Tracked>,
    ) -> Result<Report, ApplyError> {
        let objects: Vec<Object> = objects
            .iter()
            .map(|o| labelled(o, self.sync_name, self.sync_namespace))
            .collect();
        let (first, rest) = stage::stages(objects);
        let mut report = Report::default();
        self.apply_stage(&first, previous, &mut report).await?;
        self.wait_established(&first).await?;
        self.apply_stage(&rest, previous, &mut report).await?;
        report.inventory = inventory::of(&first).into_iter().chain(inventory::of(&rest)).collect();
        Ok(report)
    }

    async fn apply_stage(
        &self,
        objects: &[Object],
        previous: &HashMap<ObjectKey, Tracked>,
        report: &mut Report,
    ) -> Result<(), ApplyError> {
        // 1. What needs a look: not the objects unchanged in Git and in the cluster.
        let mut pending = Vec::new();
        for o in objects {
            let id = o.id();
            let kind = self.api.kind(&id, o.api_version(), o.kind()).await?;
            let key = key_of(o);
            let digest = digest_of(o);
            if let Some(prev) = previous.get(&key)
                && prev.digest == digest
                && let Known::Present(l) = self.live.lookup(&kind.resource, key)
                && (l.rv == prev.rv || (prev.shape != 0 && l.shape == prev.shape))
            {
                report.untouched += 1;
                report.objects.push((
                    id,
                    if Policy::of(&o.0).skip {
                        Outcome::Skipped
                    } else {
                        Outcome::Unchanged
                    },
                ));
                report.tracked.push(*prev);
                continue;
            }
            pending.push((o, kind, key, digest));
        }
        // 2. Dry runs (several at once): every object of the stage must be accepted before any
        //    is applied.
        let mut checks = Vec::with_capacity(pending.len());
        for (o, kind, key, digest) in pending {
            checks.push(self.check(o, kind, key, digest));
        }
        let checked: Vec<Result<Checked, ApplyError>> =
            futures::stream::iter(checks).buffered(PARALLEL).collect().await;
        let mut to_apply = Vec::new();
        for c in checked {
            match c? {
                Checked::Skipped(id, tracked) => {
                    report.objects.push((id, Outcome::Skipped));
                    report.tracked.push(tracked);
                }
                Checked::Apply(p) => to_apply.push(*p),
            }
        }
        // 3. The applies, several at once — admission webhook configurations after the rest,
        //    as they may judge what comes with them.
        let (late, first): (Vec<Pending>, Vec<Pending>) = to_apply
            .into_iter()
            .partition(|p| stage::rank(p.object.kind()) > stage::rank("Unlisted"));
        for batch in [first, late] {
            let mut applies = Vec::with_capacity(batch.len());
            for p in batch {
                applies.push(self.apply_one(p));
            }
            let done: Vec<Result<Applied, ApplyError>> =
                futures::stream::iter(applies).buffered(PARALLEL).collect().await;
            for d in done {
                let d = d?;
                report.tracked.push(d.tracked);
                if let Some(changes) = d.secret_changes {
                    report.secret_changes.push((d.id.clone(), changes));
                }
                report.objects.push((d.id, d.outcome));
            }
        }
        Ok(())
    }

    /// The dry run of one object, and what it tells: skip it, or apply it (recreating it when
    /// an immutable field changed and that is allowed).
    async fn check(&self, o: &Object, kind: Kind, key: ObjectKey, digest: u64) -> Result<Checked, ApplyError> {
        let id = o.id();
        self.check_deadline(&format!("applying {id}"))?;
        self.at(&format!("dry-running {id}"));
        let desired = Policy::of(&o.0);
        let known = self.live.lookup(&kind.resource, key);
        if desired.skip {
            let rv = match known {
                Known::Present(l) => l.rv,
                _ => 0,
            };
            return Ok(Checked::Skipped(
                id,
                Tracked {
                    key,
                    rv,
                    digest,
                    shape: 0,
                },
            ));
        }
        let is_secret = o.kind() == "Secret" && o.api_version() == "v1";
        let before = if is_secret {
            self.api.get(&kind, o.namespace(), o.name(), self.who()).await?
        } else {
            None
        };
        let live_policy = match known {
            Known::Present(l) => l.policy(),
            _ => Policy::default(),
        };
        let (dry, recreate) = match self.api.apply(&kind, o, true, self.who()).await {
            Ok(d) => (Some(d), false),
            Err(e) if e.is_immutable() => {
                if !(self.force || desired.force || live_policy.force) {
                    return Err(ApplyError::Immutable(e));
                }
                (None, true)
            }
            Err(e) => return Err(e.into()),
        };
        let merged = match &dry {
            Some(d) => Policy::of(&d.0).or(live_policy),
            None => live_policy,
        };
        let rv_before = match (&before, &dry, known) {
            (Some(b), _, _) => rv_of(b).to_string(),
            (None, Some(d), _) => rv_of(d).to_string(),
            (None, None, Known::Present(l)) => l.rv.to_string(),
            _ => String::new(),
        };
        if merged.skip || (desired.if_not_present && !rv_before.is_empty()) {
            let tracked = Tracked {
                key,
                rv: live::version(&rv_before),
                digest,
                shape: 0,
            };
            return Ok(Checked::Skipped(id, tracked));
        }
        Ok(Checked::Apply(Box::new(Pending {
            object: o.clone(),
            kind,
            key,
            digest,
            before,
            rv_before,
            recreate,
        })))
    }

    /// Applies one checked object.
    async fn apply_one(&self, p: Pending) -> Result<Applied, ApplyError> {
        let id = p.object.id();
        self.check_deadline(&format!("applying {id}"))?;
        self.at(&format!("applying {id}"));
        let mut outcome = if p.rv_before.is_empty() {
            Outcome::Created
        } else {
            Outcome::Configured
        };
        if p.recreate {
            self.recreate_delete(&p).await?;
            outcome = Outcome::Recreated;
        }
        let applied = self.api.apply(&p.kind, &p.object, false, self.who()).await?;
        let rv_after = rv_of(&applied).to_string();
        if outcome == Outcome::Configured && rv_after == p.rv_before {
            outcome = Outcome::Unchanged;
        }
        let policy = Policy::of(&applied.0);
        let shape = live::shape_of(&applied.0);
        self.live
            .record(&p.kind.resource, p.key, &rv_after, shape, self.owner(), policy);
        let secret_changes =
            if outcome != Outcome::Unchanged && p.object.kind() == "Secret" && p.object.api_version() == "v1" {
                Some(secret_changes::secret_changes(
                    p.before.as_ref(),
                    &p.object,
                    self.digests,
                ))
                .filter(|c| !c.is_empty())
            } else {
                None
            };
        tracing::debug!(object = %id, ?outcome, "applied");
        Ok(Applied {
            id,
            outcome,
            tracked: Tracked {
                key: p.key,
                rv: live::version(&rv_after),
                digest: p.digest,
                shape,
            },
            secret_changes,
        })
    }

    /// Deletes an object whose immutable field changed and waits until it is gone.
    async fn recreate_delete(&self, p: &Pending) -> Result<(), ApplyError> {
        let (ns, name) = (p.object.namespace(), p.object.name());
        let id = p.object.id();
        self.at(&format!("recreating {id}"));
        tracing::info!(object = %id, "an immutable field changed: recreating");
        self.api.delete(&p.kind, ns, name, self.who()).await?;
        self.live.forget(p.key);
        let mut pause = Duration::from_millis(200);
        while self.api.get(&p.kind, ns, name, self.who()).await?.is_some() {
            self.check_deadline(&format!("waiting for {id} to be deleted"))?;
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(2));
        }
        Ok(())
    }

    async fn wait_established(&self, definitions: &[Object]) -> Result<(), ApplyError> {
        for o in definitions.iter().filter(|o| o.kind() == "CustomResourceDefinition") {
            let kind = self.api.kind(&o.id(), o.api_version(), o.kind()).await?;
            self.at(&format!("waiting for {} to be established", o.id()));
            loop {
                let live = self.api.get(&kind, "", o.name(), self.who()).await?;
                let established = live.as_ref().is_some_and(|l| {
                    l.0.pointer("/status/conditions")
                        .and_then(|c| c.as_array())
                        .is_some_and(|c| {
                            c.iter().any(|c| {
                                c.get("type").and_then(|t| t.as_str()) == Some("Established")
                                    && c.get("status").and_then(|s| s.as_str()) == Some("True")
                            })
                        })
                });
                if established {
                    break;
                }
                self.check_deadline(&format!("waiting for {} to be established", o.id()))?;
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_added_and_summary_shows_no_values() {
        let o = Object(
            serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "n"}}),
        );
        let l = labelled(&o, "web", "apps");
        assert_eq!(l.0["metadata"]["labels"][SYNC_NAME_LABEL], "web");
        assert_eq!(l.0["metadata"]["labels"][SYNC_NAMESPACE_LABEL], "apps");
        assert_ne!(digest_of(&o), digest_of(&l));
        assert_eq!(key_of(&o), key_of(&l));
        let r = Report {
            objects: vec![
                ("ConfigMap n/a".into(), Outcome::Created),
                ("Secret n/s".into(), Outcome::Configured),
                ("ConfigMap n/b".into(), Outcome::Unchanged),
                ("ConfigMap n/c".into(), Outcome::Skipped),
                ("Job n/j".into(), Outcome::Recreated),
            ],
            secret_changes: vec![(
                "Secret n/s".into(),
                vec![(
                    "password".into(),
                    KeyChange::Changed("aaaaaaaaaaaa".into(), "bbbbbbbbbbbb".into()),
                )],
            )],
            ..Report::default()
        };
        assert_eq!(r.changed(), 3);
        assert_eq!(
            r.summary(),
            "ConfigMap n/a created\nSecret n/s configured\nJob n/j recreated\nSecret n/s keys: ~password (hmac:aaaaaaaaaaaa -> hmac:bbbbbbbbbbbb)"
        );
    }
}
