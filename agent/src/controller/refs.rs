//! The Secrets and ConfigMaps that Syncs read (decryption keys, `postBuild.substituteFrom`),
//! watched metadata-only: their resourceVersions go into a Sync's input digest (so a changed
//! key or variable makes the next reconcile a full one, and an unchanged one costs no read), and
//! a change wakes the Syncs that read them. The ConfigMap watch starts only when a Sync first
//! reads a ConfigMap.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures::StreamExt;
use futures::channel::mpsc::UnboundedSender;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::Api;
use kube::core::PartialObjectMeta;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::watcher;
use kube::{Client, ResourceExt};
use sigil_crds::sigil::Sync;

use crate::controller::live;
use crate::controller::triggers;

/// The two kinds a Sync reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefKind {
    /// A Secret.
    Secret,
    /// A ConfigMap.
    ConfigMap,
}

/// What the index knows of a referenced object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefVersion {
    /// It exists at this resourceVersion.
    At(u64),
    /// It does not exist.
    Missing,
    /// Not known yet (the watch has not listed): read it.
    Unknown,
}

struct Watched {
    versions: RwLock<HashMap<u64, u64>>,
    synced: AtomicBool,
    started: AtomicBool,
}

/// The index, and where to send wake-ups.
pub struct RefIndex {
    client: Client,
    syncs: Store<Sync>,
    wake: UnboundedSender<ObjectRef<Sync>>,
    secrets: Arc<Watched>,
    configmaps: Arc<Watched>,
}

fn key(namespace: &str, name: &str) -> u64 {
    live::object_key("", "", namespace, name)
}

impl RefIndex {
    /// Starts the Secret watch; wake-ups for Syncs go to `wake`.
    pub fn start(client: Client, syncs: Store<Sync>, wake: UnboundedSender<ObjectRef<Sync>>) -> Arc<Self> {
        let new = || {
            Arc::new(Watched {
                versions: RwLock::default(),
                synced: AtomicBool::new(false),
                started: AtomicBool::new(false),
            })
        };
        let index = Arc::new(RefIndex {
            client,
            syncs,
            wake,
            secrets: new(),
            configmaps: new(),
        });
        index.ensure(RefKind::Secret);
        index
    }

    fn watched(&self, kind: RefKind) -> &Arc<Watched> {
        match kind {
            RefKind::Secret => &self.secrets,
            RefKind::ConfigMap => &self.configmaps,
        }
    }

    fn ensure(&self, kind: RefKind) {
        let w = self.watched(kind);
        if w.started.swap(true, Ordering::AcqRel) {
            return;
        }
        let (w, syncs, wake) = (Arc::clone(w), self.syncs.clone(), self.wake.clone());
        let client = self.client.clone();
        tokio::spawn(async move {
            match kind {
                RefKind::Secret => run(Api::<PartialObjectMeta<Secret>>::all(client), kind, w, syncs, wake).await,
                RefKind::ConfigMap => run(Api::<PartialObjectMeta<ConfigMap>>::all(client), kind, w, syncs, wake).await,
            }
        });
    }

    /// The version of `namespace/name`.
    pub fn version(&self, kind: RefKind, namespace: &str, name: &str) -> RefVersion {
        self.ensure(kind);
        let w = self.watched(kind);
        if !w.synced.load(Ordering::Acquire) {
            return RefVersion::Unknown;
        }
        match w
            .versions
            .read()
            .ok()
            .and_then(|v| v.get(&key(namespace, name)).copied())
        {
            Some(rv) => RefVersion::At(rv),
            None => RefVersion::Missing,
        }
    }
}

async fn run<K>(api: Api<K>, kind: RefKind, w: Arc<Watched>, syncs: Store<Sync>, wake: UnboundedSender<ObjectRef<Sync>>)
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug + Send + 'static,
{
    let mut stream = watcher::watcher(api, watcher::Config::default()).boxed();
    let mut pending: HashMap<u64, u64> = HashMap::new();
    let mut pause = Duration::from_millis(500);
    while let Some(event) = stream.next().await {
        let event = match event {
            Ok(e) => {
                pause = Duration::from_millis(500);
                e
            }
            Err(e) => {
                tracing::debug!(?kind, error = %e, "watch of referenced objects interrupted");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(30));
                continue;
            }
        };
        let touched = match event {
            watcher::Event::Init => {
                pending.clear();
                None
            }
            watcher::Event::InitApply(o) => {
                let (ns, name) = (o.namespace().unwrap_or_default(), o.name_any());
                pending.insert(
                    key(&ns, &name),
                    live::version(&o.resource_version().unwrap_or_default()),
                );
                None
            }
            watcher::Event::InitDone => {
                if let Ok(mut v) = w.versions.write() {
                    *v = std::mem::take(&mut pending);
                }
                w.synced.store(true, Ordering::Release);
                None
            }
            watcher::Event::Apply(o) => {
                let (ns, name) = (o.namespace().unwrap_or_default(), o.name_any());
                if let Ok(mut v) = w.versions.write() {
                    v.insert(
                        key(&ns, &name),
                        live::version(&o.resource_version().unwrap_or_default()),
                    );
                }
                Some((ns, name))
            }
            watcher::Event::Delete(o) => {
                let (ns, name) = (o.namespace().unwrap_or_default(), o.name_any());
                if let Ok(mut v) = w.versions.write() {
                    v.remove(&key(&ns, &name));
                }
                Some((ns, name))
            }
        };
        if let Some((ns, name)) = touched {
            for r in triggers::refs(&syncs.state(), |s| triggers::reads(s, kind, &ns, &name)) {
                let _ = wake.unbounded_send(r);
            }
        }
    }
}
