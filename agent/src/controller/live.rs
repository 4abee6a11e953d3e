//! What the agent knows of the live objects it manages, from metadata-only watches: per object
//! (by a hash of its kind, namespace and name) its resourceVersion, which Sync it is labelled
//! for, and the opt-out annotations it carries (`apply::policy`). A Sync that applied an object
//! at resourceVersion R and still sees R here knows the object has not changed since — so an
//! unchanged reconcile makes no API request at all (drift is seen in the watch, not found by
//! dry-running every object on every interval). One watch per kind, started the first time the
//! agent applies that kind, cluster-wide but only for objects labelled `sigil.dev/sync-name`;
//! entries are kept only for this agent's Syncs (so a shard remembers its own objects). A kind
//! the agent may not watch (RBAC) is "unknown": its objects are checked with a request each
//! time, as before.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use futures::StreamExt;
use kube::Client;
use kube::api::{Api, ApiResource, DynamicObject};
use kube::core::PartialObjectMeta;
use kube::runtime::watcher;

use crate::apply::policy::Policy;
use crate::controller::applier::{SYNC_NAME_LABEL, SYNC_NAMESPACE_LABEL};

/// An object's identity in the index.
pub type ObjectKey = u64;

/// The index key of an object (`group`, `kind`, `namespace`, `name`).
pub fn object_key(group: &str, kind: &str, namespace: &str, name: &str) -> ObjectKey {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (group, kind, namespace, name).hash(&mut h);
    h.finish()
}

/// The index key of a Sync (`namespace`, `name`), as objects carry it in their labels.
pub fn owner_key(namespace: &str, name: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    ("sync", namespace, name).hash(&mut h);
    h.finish()
}

/// A resourceVersion as a number (they are etcd revisions; anything else is hashed).
pub fn version(rv: &str) -> u64 {
    rv.parse().unwrap_or_else(|_| {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        rv.hash(&mut h);
        h.finish()
    })
}

/// What of an object's metadata shows a change to what we applied when its resourceVersion
/// moved for another reason (a controller writing its status): the generation, which every
/// spec change bumps, with its labels and annotations. 0 for kinds that keep no generation
/// (ConfigMaps, Secrets, ...): for them only the resourceVersion tells.
pub fn shape<'a>(
    generation: Option<i64>,
    labels: impl Iterator<Item = (&'a str, &'a str)>,
    annotations: impl Iterator<Item = (&'a str, &'a str)>,
) -> u64 {
    let Some(g) = generation.filter(|g| *g > 0) else {
        return 0;
    };
    let mut labels: Vec<_> = labels.collect();
    labels.sort_unstable();
    let mut annotations: Vec<_> = annotations.collect();
    annotations.sort_unstable();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (g, labels, annotations).hash(&mut h);
    // Never 0 for an object that has a generation.
    h.finish().max(1)
}

/// [`shape`] of an object as the API server returned it.
pub fn shape_of(o: &serde_json::Value) -> u64 {
    let meta = o.get("metadata");
    let pairs = |field: &str| -> Vec<(&str, &str)> {
        meta.and_then(|m| m.get(field))
            .and_then(|m| m.as_object())
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| v.as_str().map(|v| (k.as_str(), v)))
                    .collect()
            })
            .unwrap_or_default()
    };
    let generation = meta.and_then(|m| m.get("generation")).and_then(|g| g.as_i64());
    shape(
        generation,
        pairs("labels").into_iter(),
        pairs("annotations").into_iter(),
    )
}

/// Policy flags packed in a byte.
fn pack(p: Policy) -> u8 {
    u8::from(p.skip) | u8::from(p.if_not_present) << 1 | u8::from(p.force) << 2 | u8::from(p.keep) << 3
}

fn unpack(b: u8) -> Policy {
    Policy {
        skip: b & 1 != 0,
        if_not_present: b & 2 != 0,
        force: b & 4 != 0,
        keep: b & 8 != 0,
    }
}

/// One live object, as last seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Live {
    /// Its resourceVersion ([`version`]).
    pub rv: u64,
    /// The Sync it is labelled for ([`owner_key`]).
    pub owner: u64,
    /// Its [`shape`].
    pub shape: u64,
    bits: u8,
    slot: u16,
    epoch: u32,
}

impl Live {
    /// Its opt-out annotations.
    pub fn policy(&self) -> Policy {
        unpack(self.bits)
    }
}

/// What the index can say about an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Known {
    /// Seen, labelled for a Sync.
    Present(Live),
    /// No labelled object of that name (it may exist without Sigil's labels).
    Absent,
    /// The kind is not (yet) watched: ask the API server.
    Unknown,
}

struct KindWatch {
    slot: u16,
    synced: Arc<AtomicBool>,
    failed: Arc<AtomicBool>,
    epoch: Arc<AtomicU32>,
}

/// Decides whether an object labelled for Sync `(namespace, name)` is this agent's.
pub type Owns = Arc<dyn Fn(&str, &str) -> bool + Send + Sync>;

/// The index and its watches.
pub struct LiveIndex {
    client: Client,
    owns: Owns,
    kinds: Mutex<HashMap<(String, String), KindWatch>>,
    slots: RwLock<Vec<Arc<AtomicBool>>>,
    objects: Arc<RwLock<HashMap<ObjectKey, Live>>>,
    shutdown: tokio::sync::watch::Sender<bool>,
}

impl LiveIndex {
    /// An empty index; `owns` tells which Syncs' objects to remember.
    pub fn new(client: Client, owns: Owns) -> Self {
        LiveIndex {
            client,
            owns,
            kinds: Mutex::default(),
            slots: RwLock::default(),
            objects: Arc::default(),
            shutdown: tokio::sync::watch::channel(false).0,
        }
    }

    /// Stops every watch.
    pub fn stop(&self) {
        let _ = self.shutdown.send(true);
    }

    /// Objects remembered now.
    pub fn len(&self) -> usize {
        self.objects.read().map(|o| o.len()).unwrap_or(0)
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// What is known of an object of kind `resource`; starts watching the kind the first time.
    pub fn lookup(&self, resource: &ApiResource, key: ObjectKey) -> Known {
        let Some((synced, _slot)) = self.watch_kind(resource) else {
            return Known::Unknown;
        };
        if !synced {
            return Known::Unknown;
        }
        match self.objects.read().ok().and_then(|o| o.get(&key).copied()) {
            Some(l) => Known::Present(l),
            None => Known::Absent,
        }
    }

    /// The entry of an object, whatever the state of its kind's watch.
    pub fn get(&self, key: ObjectKey) -> Option<Live> {
        self.objects.read().ok()?.get(&key).copied()
    }

    /// Whether object `key` is, per its kind's listed and running watch, as we left it: still
    /// at `rv`, or — for kinds with a generation — at the same [`shape`] (only its status or
    /// others' metadata moved).
    pub fn unchanged(&self, key: ObjectKey, rv: u64, shape: u64) -> bool {
        let Some(l) = self.get(key) else { return false };
        (l.rv == rv || (shape != 0 && l.shape == shape))
            && self
                .slots
                .read()
                .ok()
                .and_then(|s| s.get(usize::from(l.slot)).map(|b| b.load(Ordering::Relaxed)))
                .unwrap_or(false)
    }

    /// Records what an apply of ours returned (the watch event confirms it later).
    pub fn record(&self, resource: &ApiResource, key: ObjectKey, rv: &str, shape: u64, owner: u64, policy: Policy) {
        let Some((_, slot)) = self.watch_kind(resource) else {
            return;
        };
        let epoch = self
            .kinds
            .lock()
            .ok()
            .and_then(|k| k.get(&kind_id(resource)).map(|w| w.epoch.load(Ordering::Relaxed)))
            .unwrap_or(0);
        if let Ok(mut o) = self.objects.write() {
            o.insert(
                key,
                Live {
                    rv: version(rv),
                    owner,
                    shape,
                    bits: pack(policy),
                    slot,
                    epoch,
                },
            );
        }
    }

    /// Forgets an object (deleted by us).
    pub fn forget(&self, key: ObjectKey) {
        if let Ok(mut o) = self.objects.write() {
            o.remove(&key);
        }
    }

    /// (synced, slot) of the kind's watch, starting it when new; `None` when it cannot be
    /// watched.
    fn watch_kind(&self, resource: &ApiResource) -> Option<(bool, u16)> {
        let mut kinds = self.kinds.lock().ok()?;
        let id = kind_id(resource);
        if let Some(w) = kinds.get(&id) {
            if w.failed.load(Ordering::Relaxed) {
                return None;
            }
            return Some((w.synced.load(Ordering::Relaxed), w.slot));
        }
        let slot = u16::try_from(kinds.len()).ok()?;
        let w = KindWatch {
            slot,
            synced: Arc::default(),
            failed: Arc::default(),
            epoch: Arc::default(),
        };
        if let Ok(mut slots) = self.slots.write() {
            slots.push(Arc::clone(&w.synced));
        }
        let task = WatchTask {
            api: Api::all_with(self.client.clone(), resource),
            kind: format!("{}/{}", resource.api_version, resource.kind),
            slot,
            group: resource.group.clone(),
            kind_name: resource.kind.clone(),
            synced: Arc::clone(&w.synced),
            failed: Arc::clone(&w.failed),
            epoch: Arc::clone(&w.epoch),
            objects: Arc::clone(&self.objects),
            owns: Arc::clone(&self.owns),
        };
        let mut stop = self.shutdown.subscribe();
        tokio::spawn(async move {
            tokio::select! {
                _ = task.run() => {}
                _ = stop.wait_for(|s| *s) => {}
            }
        });
        kinds.insert(id, w);
        Some((false, slot))
    }
}

fn kind_id(r: &ApiResource) -> (String, String) {
    (r.group.clone(), r.kind.clone())
}

struct WatchTask {
    api: Api<PartialObjectMeta<DynamicObject>>,
    kind: String,
    slot: u16,
    group: String,
    kind_name: String,
    synced: Arc<AtomicBool>,
    failed: Arc<AtomicBool>,
    epoch: Arc<AtomicU32>,
    objects: Arc<RwLock<HashMap<ObjectKey, Live>>>,
    owns: Owns,
}

impl WatchTask {
    async fn run(self) {
        let config = watcher::Config::default().labels(SYNC_NAME_LABEL);
        let mut stream = watcher::watcher(self.api.clone(), config).boxed();
        let mut pause = Duration::from_millis(500);
        while let Some(event) = stream.next().await {
            match event {
                Ok(e) => {
                    pause = Duration::from_millis(500);
                    self.handle(e);
                }
                Err(e) => {
                    if forbidden(&e) {
                        tracing::info!(kind = %self.kind, "managed objects of this kind cannot be watched (forbidden); they are checked with a request each reconcile");
                        self.failed.store(true, Ordering::Relaxed);
                        self.synced.store(false, Ordering::Relaxed);
                        return;
                    }
                    tracing::debug!(kind = %self.kind, error = %e, "watch of managed objects interrupted");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(30));
                }
            }
        }
    }

    fn handle(&self, e: watcher::Event<PartialObjectMeta<DynamicObject>>) {
        match e {
            watcher::Event::Init => {
                self.synced.store(false, Ordering::Relaxed);
                self.epoch.fetch_add(1, Ordering::Relaxed);
            }
            watcher::Event::InitApply(o) | watcher::Event::Apply(o) => self.upsert(&o),
            watcher::Event::InitDone => {
                let epoch = self.epoch.load(Ordering::Relaxed);
                if let Ok(mut objects) = self.objects.write() {
                    objects.retain(|_, l| l.slot != self.slot || l.epoch == epoch);
                }
                self.synced.store(true, Ordering::Relaxed);
            }
            watcher::Event::Delete(o) => {
                let meta = &o.metadata;
                let key = object_key(
                    &self.group,
                    &self.kind_name,
                    meta.namespace.as_deref().unwrap_or(""),
                    meta.name.as_deref().unwrap_or(""),
                );
                if let Ok(mut objects) = self.objects.write() {
                    objects.remove(&key);
                }
            }
        }
    }

    fn upsert(&self, o: &PartialObjectMeta<DynamicObject>) {
        let meta = &o.metadata;
        let labels = meta.labels.clone().unwrap_or_default();
        let (Some(sync), Some(sync_ns)) = (labels.get(SYNC_NAME_LABEL), labels.get(SYNC_NAMESPACE_LABEL)) else {
            return;
        };
        let key = object_key(
            &self.group,
            &self.kind_name,
            meta.namespace.as_deref().unwrap_or(""),
            meta.name.as_deref().unwrap_or(""),
        );
        let Ok(mut objects) = self.objects.write() else { return };
        if !objects.contains_key(&key) && !(self.owns)(sync_ns, sync) {
            return;
        }
        let annotations = meta.annotations.clone().unwrap_or_default();
        let policy = Policy::of_maps(&labels, &annotations);
        let shape = shape(
            meta.generation,
            labels.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            annotations.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        );
        objects.insert(
            key,
            Live {
                rv: version(meta.resource_version.as_deref().unwrap_or("")),
                owner: owner_key(sync_ns, sync),
                shape,
                bits: pack(policy),
                slot: self.slot,
                epoch: self.epoch.load(Ordering::Relaxed),
            },
        );
    }
}

fn forbidden(e: &watcher::Error) -> bool {
    let api = match e {
        watcher::Error::InitialListFailed(kube::Error::Api(a))
        | watcher::Error::WatchStartFailed(kube::Error::Api(a))
        | watcher::Error::WatchFailed(kube::Error::Api(a)) => Some(a.code),
        watcher::Error::WatchError(s) => Some(s.code),
        _ => None,
    };
    matches!(api, Some(403..=405))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_versions_and_flags() {
        assert_ne!(
            object_key("", "ConfigMap", "a", "b"),
            object_key("", "Secret", "a", "b")
        );
        assert_eq!(
            object_key("apps", "Deployment", "n", "w"),
            object_key("apps", "Deployment", "n", "w")
        );
        assert_eq!(version("12345"), 12345);
        assert_ne!(version("abc"), version("abd"));
        let p = Policy {
            skip: true,
            if_not_present: false,
            force: true,
            keep: true,
        };
        assert_eq!(unpack(pack(p)), p);
    }
}
