//! The in-cluster agent: a `GitSource` controller (fetch on an interval, record the revision)
//! and a `Sync` controller (render → apply → prune → health → status), the sealing keys, the
//! watch-fed indexes that let an unchanged reconcile cost nothing (`live`, `refs`), and leader
//! election, on kube-runtime.

pub mod applier;
pub mod events;
pub mod gitsource;
pub mod kubeapi;
pub mod lease;
pub mod live;
pub mod prune;
pub mod refs;
pub mod sealing_keys;
pub mod sync;
pub mod tokens;
pub mod triggers;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use futures::StreamExt;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client, Resource, ResourceExt};
use sigil_crds::sigil::{GitSource, Sync};
use zeroize::Zeroizing;

use crate::cache::RenderCache;
use crate::controller::kubeapi::{ApiError, KubeApi};
use crate::controller::live::LiveIndex;
use crate::controller::refs::RefIndex;
use crate::controller::sync::Remembered;
use crate::digest::DigestKey;
use crate::http::State;
use crate::secrets::SealedSecrets;
use crate::secrets::external::ExternalSecrets;
use crate::vault::VaultKv;

/// How the agent runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// The agent's namespace (sealing keys, digest key, Lease).
    pub namespace: String,
    /// Where Git repositories are cached (one bare repository per GitSource).
    pub git_cache: PathBuf,
    /// Sealing-key renewal period.
    pub key_renew: Duration,
    /// Sealing-key size in bits.
    pub key_bits: usize,
    /// Only GitSources and Syncs matching this label selector (sharding).
    pub label_selector: Option<String>,
    /// Hold a Lease before reconciling.
    pub leader_elect: bool,
    /// The Lease's timing.
    pub lease: lease::Timing,
    /// This replica's name (the Lease holder identity).
    pub identity: String,
    /// Reconciles at once, per controller.
    pub concurrency: u16,
    /// Renders at once (CPU-bound, on the blocking pool).
    pub render_slots: usize,
    /// Bytes of renders kept in the render cache.
    pub render_cache_bytes: usize,
    /// Syncs without `serviceAccountName` apply as this ServiceAccount of their namespace.
    pub default_service_account: Option<String>,
    /// Refuse `sourceRef` and `dependsOn` in another namespace.
    pub no_cross_namespace_refs: bool,
    /// Allow `file://` GitSource URLs (tests, local use).
    pub allow_local_sources: bool,
    /// ± this percentage of randomness on requeue intervals (Flux: 5).
    pub jitter_percent: u8,
    /// How soon a Sync whose dependency is not ready looks again (Flux: 30 s).
    pub dependency_requeue: Duration,
}

/// A reconcile that could not finish (the API server could not be reached, a status could not
/// be written); failures of the Sync itself are reported in its status instead.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A call about a rendered object or a Secret.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// A call through a typed client.
    #[error("{0}: {1}")]
    Kube(String, #[source] kube::Error),
    /// The sealing keys or the digest key could not be loaded or created.
    #[error("sealing keys: {0}")]
    Keys(String),
    /// Another replica took the Lease, or it could not be renewed.
    #[error("leadership lost")]
    LeadershipLost,
    /// The Git cache directory is unusable.
    #[error("git cache {0}: {1}")]
    Cache(String, String),
}

/// What every reconcile shares.
pub struct Ctx {
    /// The raw client for rendered objects and Secrets.
    pub api: Arc<KubeApi>,
    /// How the agent runs.
    pub config: Config,
    /// The HTTP port's state (certificate, readiness, metrics).
    pub http: Arc<State>,
    /// Renders by (commit, path, inputs).
    pub render_cache: RenderCache,
    /// Renders running at once.
    pub render_slots: Arc<tokio::sync::Semaphore>,
    /// The SealedSecret resolver over the current keys, and the keys' generation.
    pub sealed: RwLock<(Arc<SealedSecrets>, u64)>,
    /// The key of digests shown in events (from the agent's digest-key Secret).
    pub digest_key: RwLock<Arc<DigestKey>>,
    /// The Vault client shared by every Sync's ExternalSecrets.
    pub vault: Arc<VaultKv>,
    /// Each Sync's ExternalSecret resolver (its value cache lives across reconciles), keyed by
    /// `namespace/name`, with the configuration it was made for.
    pub external: Mutex<HashMap<String, (String, Arc<ExternalSecrets>)>>,
    /// Kubernetes events.
    pub events: events::Events,
    /// The Syncs known.
    pub syncs: Store<Sync>,
    /// The GitSources known.
    pub gitsources: Store<GitSource>,
    /// The live state of managed objects, from watches.
    pub live: LiveIndex,
    /// The Secrets and ConfigMaps Syncs read, from watches.
    pub refs: Arc<RefIndex>,
    /// Each Sync's last successful reconcile, by `namespace/name`.
    pub remembered: Mutex<HashMap<String, Remembered>>,
    /// One fetch at a time per GitSource cache (`namespace/name`).
    pub fetch_locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Open repository handles by (cache directory, URL), reopened after each fetch.
    pub repos: Mutex<HashMap<(PathBuf, String), gix::ThreadSafeRepository>>,
}

impl Ctx {
    /// The client.
    pub fn client(&self) -> Client {
        self.api.client().clone()
    }

    /// The SealedSecret resolver and the keys' generation.
    pub fn sealed(&self) -> (Arc<SealedSecrets>, u64) {
        let s = match self.sealed.read() {
            Ok(s) => s,
            Err(p) => p.into_inner(),
        };
        (Arc::clone(&s.0), s.1)
    }

    /// The sealing keys' generation.
    pub fn sealed_generation(&self) -> u64 {
        self.sealed().1
    }

    /// The digest key.
    pub fn digests(&self) -> Arc<DigestKey> {
        match self.digest_key.read() {
            Ok(k) => Arc::clone(&k),
            Err(p) => Arc::clone(&p.into_inner()),
        }
    }

    /// The bare cache of `url` in GitSource cache directory `cache`, opened once (blocking).
    pub fn repo(
        &self,
        url: &str,
        cache: &std::path::Path,
    ) -> Result<gix::ThreadSafeRepository, crate::source::SourceError> {
        let key = (cache.to_path_buf(), url.to_string());
        if let Some(r) = self.repos.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return Ok(r);
        }
        let repo = crate::source::open(url, cache)?.into_sync();
        if let Ok(mut m) = self.repos.lock() {
            m.insert(key, repo.clone());
        }
        Ok(repo)
    }

    /// Forgets the open handle of a cache directory (it was fetched into, or removed).
    pub fn forget_repo(&self, cache: &std::path::Path) {
        if let Ok(mut m) = self.repos.lock() {
            m.retain(|(c, _), _| c != cache);
        }
    }

    /// What the last successful reconcile of Sync `key` left.
    pub fn remembered(&self, key: &str) -> Option<Remembered> {
        self.remembered.lock().ok()?.get(key).cloned()
    }

    /// Records a successful reconcile.
    pub fn remember(&self, key: &str, r: Remembered) {
        if let Ok(mut m) = self.remembered.lock() {
            m.insert(key.to_string(), r);
        }
    }

    /// Forgets Sync `key` (failed, or deleted).
    pub fn forget(&self, key: &str) {
        if let Ok(mut m) = self.remembered.lock() {
            m.remove(key);
        }
    }

    /// Publishes an event about `obj` (failures to publish are logged, not fatal).
    pub async fn event<K: Resource<DynamicType = ()>>(
        &self,
        obj: &K,
        warning: bool,
        reason: &str,
        action: &str,
        note: String,
    ) {
        // Events are capped by the API server (1 kB note); keep ours short.
        let mut note = note;
        if note.len() > 1000 {
            let mut cut = 990;
            while !note.is_char_boundary(cut) {
                cut -= 1;
            }
            note.truncate(cut);
            note.push_str(" …");
        }
        if let Err(e) = self
            .events
            .publish(&obj.object_ref(&()), warning, reason, action, &note)
            .await
        {
            tracing::debug!(error = %e, "event not published");
        }
    }
}

/// The data of Secret `namespace/name` (base64-decoded, `stringData` folded in), or `None`.
pub async fn secret_data(
    ctx: &Ctx,
    namespace: &str,
    name: &str,
) -> Result<Option<BTreeMap<String, Zeroizing<Vec<u8>>>>, ApiError> {
    let kind = ctx.api.kind("Secret", "v1", "Secret").await?;
    let Some(o) = ctx.api.get(&kind, namespace, name, None).await? else {
        return Ok(None);
    };
    let mut out = BTreeMap::new();
    if let Some(d) = o.0.get("data").and_then(|d| d.as_object()) {
        for (k, v) in d {
            let bytes = v.as_str().and_then(|s| B64.decode(s).ok()).unwrap_or_default();
            out.insert(k.clone(), Zeroizing::new(bytes));
        }
    }
    if let Some(d) = o.0.get("stringData").and_then(|d| d.as_object()) {
        for (k, v) in d {
            out.insert(k.clone(), Zeroizing::new(v.as_str().unwrap_or("").as_bytes().to_vec()));
        }
    }
    Ok(Some(out))
}

fn watch_config(config: &Config) -> watcher::Config {
    let wc = watcher::Config::default();
    match &config.label_selector {
        Some(s) => wc.labels(s),
        None => wc,
    }
}

/// A hash of what, besides the spec, should wake a Sync or GitSource: generation,
/// annotations (the reconcile request), the deletion timestamp and finalizers.
fn wake_worthy<K: Resource>(o: &K) -> Option<u64> {
    use std::hash::{Hash, Hasher};
    let m = o.meta();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    m.generation.hash(&mut h);
    m.annotations.hash(&mut h);
    m.deletion_timestamp.as_ref().map(|t| t.0.as_second()).hash(&mut h);
    m.finalizers.hash(&mut h);
    Some(h.finish())
}

/// Runs the agent until `shutdown` resolves or (with leader election) leadership is lost:
/// every replica serves the HTTP port and the sealing certificate; the leader reconciles.
pub async fn run(
    client: Client,
    config: Config,
    http: Arc<State>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    let (sync_reader, sync_writer) = reflector::store::<Sync>();
    let (gs_reader, gs_writer) = reflector::store::<GitSource>();
    let (wake_tx, wake_rx) = futures::channel::mpsc::unbounded::<reflector::ObjectRef<Sync>>();
    let owned = sync_reader.clone();
    let owns: live::Owns =
        Arc::new(move |ns: &str, name: &str| owned.get(&reflector::ObjectRef::<Sync>::new(name).within(ns)).is_some());
    let ctx = Arc::new(Ctx {
        api: Arc::new(KubeApi::new(client.clone(), Arc::clone(&http.metrics.requests))),
        http: Arc::clone(&http),
        render_cache: RenderCache::new(config.render_cache_bytes),
        render_slots: Arc::new(tokio::sync::Semaphore::new(config.render_slots.max(1))),
        sealed: RwLock::new((Arc::new(SealedSecrets::new(Vec::new())), 0)),
        digest_key: RwLock::new(Arc::new(DigestKey::random())),
        vault: Arc::new(VaultKv::new()),
        external: Mutex::default(),
        events: events::Events::new(client.clone(), "sigil-agent", &config.identity),
        syncs: sync_reader.clone(),
        gitsources: gs_reader.clone(),
        live: LiveIndex::new(client.clone(), owns),
        refs: RefIndex::start(client.clone(), sync_reader.clone(), wake_tx.clone()),
        remembered: Mutex::default(),
        fetch_locks: Mutex::default(),
        repos: Mutex::default(),
        config,
    });
    std::fs::create_dir_all(&ctx.config.git_cache)
        .map_err(|e| Error::Cache(ctx.config.git_cache.display().to_string(), e.to_string()))?;

    // Every replica: ready to serve, the certificate kept current (read-only until leading).
    http.ready.store(true, std::sync::atomic::Ordering::Relaxed);
    if let Err(e) = sealing_keys::refresh(&ctx, false).await {
        tracing::warn!(error = %e, "sealing keys not loaded yet");
    }
    let leading = Arc::new(std::sync::atomic::AtomicBool::new(!ctx.config.leader_elect));
    let keys_task = tokio::spawn(sealing_keys::keep_fresh(
        Arc::clone(&ctx),
        Arc::clone(&leading),
        Duration::from_secs(60),
    ));

    let elector = ctx.config.leader_elect.then(|| {
        let name = lease::lease_name("sigil-agent-leader", ctx.config.label_selector.as_deref());
        Arc::new(lease::Elector::new(
            client.clone(),
            &ctx.config.namespace,
            &name,
            &ctx.config.identity,
            ctx.config.lease,
        ))
    });
    let result = tokio::select! {
        r = lead(Arc::clone(&ctx), client, elector.clone(), Arc::clone(&leading), (wake_tx, wake_rx), sync_writer, gs_writer) => r,
        _ = shutdown => Ok(()),
    };
    keys_task.abort();
    ctx.live.stop();
    http.ready.store(false, std::sync::atomic::Ordering::Relaxed);
    if let (Ok(()), Some(e)) = (&result, &elector) {
        e.release().await;
    }
    result
}

/// Waits for leadership (when electing), then runs the controllers while it lasts.
async fn lead(
    ctx: Arc<Ctx>,
    client: Client,
    elector: Option<Arc<lease::Elector>>,
    leading: Arc<std::sync::atomic::AtomicBool>,
    (wake_tx, wake): (
        futures::channel::mpsc::UnboundedSender<reflector::ObjectRef<Sync>>,
        futures::channel::mpsc::UnboundedReceiver<reflector::ObjectRef<Sync>>,
    ),
    sync_writer: reflector::store::Writer<Sync>,
    gs_writer: reflector::store::Writer<GitSource>,
) -> Result<(), Error> {
    if let Some(e) = &elector {
        e.acquire().await;
    }
    leading.store(true, std::sync::atomic::Ordering::Relaxed);
    sealing_keys::load_digest_key(&ctx).await?;
    sealing_keys::refresh(&ctx, true).await?;

    let wc = watch_config(&ctx.config);
    let cfg = kube::runtime::controller::Config::default().concurrency(ctx.config.concurrency);

    // GitSources: reconciled on spec and annotation changes, then on their interval. Every
    // event, once the store has it, also wakes the Syncs reading that source (a new revision,
    // or the source gone).
    let gs_api: Api<GitSource> = Api::all(client.clone());
    let (by_source, wake_by_source) = (ctx.syncs.clone(), wake_tx.clone());
    let gs_stream = watcher(gs_api, wc.clone())
        .default_backoff()
        .modify(|g: &mut GitSource| g.managed_fields_mut().clear())
        .reflect(gs_writer)
        .inspect(move |e| {
            if let Ok(watcher::Event::Apply(gs) | watcher::Event::Delete(gs) | watcher::Event::InitApply(gs)) = e {
                let key = (gs.namespace().unwrap_or_default(), gs.name_any());
                for r in triggers::refs(&by_source.state(), |s| triggers::source_of(s) == key) {
                    let _ = wake_by_source.unbounded_send(r);
                }
            }
        })
        .applied_objects()
        .predicate_filter(wake_worthy::<GitSource>, Default::default());
    let gc = tokio::spawn(gitsource::collect_caches(Arc::clone(&ctx), Duration::from_secs(600)));
    let sources = Controller::for_stream(gs_stream, ctx.gitsources.clone())
        .with_config(cfg.clone())
        .run(gitsource::reconcile, gitsource::error_policy, Arc::clone(&ctx))
        .for_each(|r| async move {
            if let Err(e) = r {
                tracing::debug!(error = %e, "gitsource reconcile");
            }
        });

    // Syncs: on spec, annotation and deletion changes, their interval, and wake-ups: a new
    // revision of their source, a change of a Secret or ConfigMap they read, a dependency
    // becoming Ready (seen here, in the same watch).
    let sync_api: Api<Sync> = Api::all(client.clone());
    let (by_dependency, wake_dependants) = (ctx.syncs.clone(), wake_tx);
    let sync_stream = watcher(sync_api, wc)
        .default_backoff()
        .modify(|s: &mut Sync| s.managed_fields_mut().clear())
        .reflect(sync_writer)
        .inspect(move |e| {
            if let Ok(watcher::Event::Apply(dep)) = e {
                let ready = dep
                    .status
                    .as_ref()
                    .is_some_and(|st| crate::conditions::is_true(&st.conditions, "Ready"));
                if ready {
                    let (ns, name) = (dep.namespace().unwrap_or_default(), dep.name_any());
                    for r in triggers::refs(&by_dependency.state(), |s| triggers::depends_on(s, &ns, &name)) {
                        let _ = wake_dependants.unbounded_send(r);
                    }
                }
            }
        })
        .applied_objects()
        .predicate_filter(wake_worthy::<Sync>, Default::default());
    let syncs = Controller::for_stream(sync_stream, ctx.syncs.clone())
        .with_config(cfg)
        .reconcile_on(wake)
        .run(sync::reconcile, sync::error_policy, Arc::clone(&ctx))
        .for_each(|r| async move {
            if let Err(e) = r {
                tracing::debug!(error = %e, "sync reconcile");
            }
        });

    tracing::info!(namespace = %ctx.config.namespace, "controllers started");
    let lost = async {
        match &elector {
            Some(e) => e.hold().await,
            None => std::future::pending::<()>().await,
        }
    };
    let result = tokio::select! {
        _ = futures::future::join(sources, syncs) => Ok(()),
        _ = lost => Err(Error::LeadershipLost),
    };
    gc.abort();
    leading.store(false, std::sync::atomic::Ordering::Relaxed);
    result
}

/// The requeue after a reconcile that could not finish.
pub fn retry_after(e: &Error) -> Action {
    tracing::warn!(error = %e, "reconcile failed; retrying");
    Action::requeue(Duration::from_secs(10))
}
