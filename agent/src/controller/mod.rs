//! The in-cluster agent: a `GitSource` controller (fetch on an interval, record the revision)
//! and a `Sync` controller (render → apply → prune → health → status), the sealing keys, and
//! leader election, on kube-runtime.

pub mod applier;
pub mod gitsource;
pub mod kubeapi;
pub mod lease;
pub mod sealing;
pub mod sync;
pub mod tokens;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use futures::StreamExt;
use kube::core::PartialObjectMeta;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::events::{Recorder, Reporter};
use kube::runtime::reflector::{self, ObjectRef};
use kube::runtime::{Predicate, WatchStreamExt, predicates, watcher};
use kube::{Api, Client, Resource, ResourceExt};
use sigil_crds::sigil::{GitSource, Sync};
use zeroize::Zeroizing;

use crate::cache::RenderCache;
use crate::controller::kubeapi::{ApiError, KubeApi};
use crate::http::State;
use crate::secrets::SealedSecrets;
use crate::secrets::external::ExternalSecrets;
use crate::vault::VaultKv;

/// How the agent runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// The agent's namespace (sealing keys, Lease).
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
    /// This replica's name (the Lease holder identity).
    pub identity: String,
    /// Reconciles at once, per controller.
    pub concurrency: u16,
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
    /// The sealing keys could not be loaded or created.
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
    /// Renders by (commit, path, keys).
    pub render_cache: RenderCache,
    /// The SealedSecret resolver over the current keys, and the keys' generation.
    pub sealed: RwLock<(Arc<SealedSecrets>, u64)>,
    /// The Vault client shared by every Sync's ExternalSecrets.
    pub vault: Arc<VaultKv>,
    /// Each Sync's ExternalSecret resolver (its value cache lives across reconciles), keyed by
    /// `namespace/name`, with the configuration it was made for.
    pub external: Mutex<HashMap<String, (String, Arc<ExternalSecrets>)>>,
    /// Kubernetes events.
    pub recorder: Recorder,
    /// The Syncs known (for dependsOn).
    pub syncs: reflector::Store<Sync>,
}

impl Ctx {
    /// The client.
    pub fn client(&self) -> Client {
        self.api.client().clone()
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
        use kube::runtime::events::{Event, EventType};
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
        let ev = Event {
            type_: if warning { EventType::Warning } else { EventType::Normal },
            reason: reason.to_string(),
            note: Some(note),
            action: action.to_string(),
            secondary: None,
        };
        if let Err(e) = self.recorder.publish(&ev, &obj.object_ref(&())).await {
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

fn source_of(s: &Sync) -> (String, String) {
    let ns = s
        .spec
        .source_ref
        .namespace
        .clone()
        .unwrap_or_else(|| s.namespace().unwrap_or_default());
    (ns, s.spec.source_ref.name.clone())
}

/// The Syncs among `all` that `pick` selects, as controller references.
fn refs(all: &[Arc<Sync>], pick: impl Fn(&Sync) -> bool) -> Vec<ObjectRef<Sync>> {
    all.iter()
        .filter(|s| pick(s))
        .map(|s| ObjectRef::from_obj(&**s))
        .collect()
}

/// Whether `s` reads its decryption keys from Secret `namespace/name`.
fn reads_secret(s: &Sync, namespace: &str, name: &str) -> bool {
    s.namespace().as_deref() == Some(namespace)
        && s.spec
            .decryption
            .as_ref()
            .and_then(|d| d.secret_ref.as_ref())
            .is_some_and(|r| r.name == name)
}

/// Whether `s` depends on Sync `namespace/name` (a dependency without a namespace is in `s`'s).
fn depends_on(s: &Sync, namespace: &str, name: &str) -> bool {
    let own = s.namespace().unwrap_or_default();
    s.spec
        .depends_on
        .iter()
        .any(|d| d.name == name && d.namespace.as_deref().unwrap_or(&own) == namespace)
}

/// Runs both controllers until `shutdown` resolves or (with leader election) leadership is lost.
pub async fn run(
    client: Client,
    config: Config,
    http: Arc<State>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    let (sync_reader, sync_writer) = reflector::store::<Sync>();
    let ctx = Arc::new(Ctx {
        api: Arc::new(KubeApi::new(client.clone())),
        http: Arc::clone(&http),
        render_cache: RenderCache::new(4096),
        sealed: RwLock::new((Arc::new(SealedSecrets::new(Vec::new())), 0)),
        vault: Arc::new(VaultKv::new()),
        external: Mutex::default(),
        recorder: Recorder::new(
            client.clone(),
            Reporter {
                controller: "sigil-agent".into(),
                instance: Some(config.identity.clone()),
            },
        ),
        syncs: sync_reader.clone(),
        config,
    });
    std::fs::create_dir_all(&ctx.config.git_cache)
        .map_err(|e| Error::Cache(ctx.config.git_cache.display().to_string(), e.to_string()))?;

    let elector = ctx.config.leader_elect.then(|| {
        lease::Elector::new(
            client.clone(),
            &ctx.config.namespace,
            "sigil-agent-leader",
            &ctx.config.identity,
        )
    });
    if let Some(e) = &elector {
        e.acquire().await;
    }
    sealing::refresh(&ctx).await?;
    let keys_task = tokio::spawn(sealing::keep_fresh(Arc::clone(&ctx), Duration::from_secs(60)));

    let wc = watch_config(&ctx.config);
    let cfg = kube::runtime::controller::Config::default().concurrency(ctx.config.concurrency);

    // GitSources: reconciled on spec and annotation changes, then on their interval.
    let gs_api: Api<GitSource> = Api::all(client.clone());
    let (gs_reader, gs_writer) = reflector::store::<GitSource>();
    let gs_stream = watcher(gs_api.clone(), wc.clone())
        .default_backoff()
        .reflect(gs_writer)
        .applied_objects()
        .predicate_filter(
            predicates::generation.combine(predicates::annotations),
            Default::default(),
        );
    let sources = Controller::for_stream(gs_stream, gs_reader)
        .with_config(cfg.clone())
        .run(gitsource::reconcile, gitsource::error_policy, Arc::clone(&ctx))
        .for_each(|r| async move {
            if let Err(e) = r {
                tracing::debug!(error = %e, "gitsource reconcile");
            }
        });

    // Syncs: on spec and annotation changes, a new revision of their source, a change of their
    // decryption Secret, a dependency becoming Ready, and their interval.
    let sync_api: Api<Sync> = Api::all(client.clone());
    let sync_stream = watcher(sync_api.clone(), wc.clone())
        .default_backoff()
        .reflect(sync_writer)
        .applied_objects()
        .predicate_filter(
            predicates::generation.combine(predicates::annotations),
            Default::default(),
        );
    let by_source = sync_reader.clone();
    let by_secret = sync_reader.clone();
    let by_dependency = sync_reader.clone();
    let secrets = watcher(
        Api::<PartialObjectMeta<k8s_openapi::api::core::v1::Secret>>::all(client.clone()),
        watcher::Config::default(),
    )
    .default_backoff()
    .touched_objects()
    .predicate_filter(predicates::resource_version, Default::default());
    let syncs = Controller::for_stream(sync_stream, sync_reader.clone())
        .with_config(cfg)
        .watches(
            Api::<GitSource>::all(client.clone()),
            wc.clone(),
            move |gs: GitSource| {
                let key = (gs.namespace().unwrap_or_default(), gs.name_any());
                refs(&by_source.state(), |s| source_of(s) == key)
            },
        )
        .watches_stream(secrets, move |meta| {
            let (ns, name) = (meta.namespace().unwrap_or_default(), meta.name_any());
            refs(&by_secret.state(), |s| reads_secret(s, &ns, &name))
        })
        .watches(sync_api, wc, move |dep: Sync| {
            let ready = dep
                .status
                .as_ref()
                .is_some_and(|st| crate::conditions::is_true(&st.conditions, "Ready"));
            if !ready {
                return Vec::new();
            }
            let (ns, name) = (dep.namespace().unwrap_or_default(), dep.name_any());
            refs(&by_dependency.state(), |s| depends_on(s, &ns, &name))
        })
        .run(sync::reconcile, sync::error_policy, Arc::clone(&ctx))
        .for_each(|r| async move {
            if let Err(e) = r {
                tracing::debug!(error = %e, "sync reconcile");
            }
        });

    http.ready.store(true, std::sync::atomic::Ordering::Relaxed);
    tracing::info!(namespace = %ctx.config.namespace, "controllers started");
    let elector = elector.map(Arc::new);
    let elector_release = elector.clone();
    let lost = async move {
        match &elector {
            Some(e) => e.hold().await,
            None => std::future::pending::<()>().await,
        }
    };
    let result = tokio::select! {
        _ = futures::future::join(sources, syncs) => Ok(()),
        _ = shutdown => Ok(()),
        _ = lost => Err(Error::LeadershipLost),
    };
    keys_task.abort();
    http.ready.store(false, std::sync::atomic::Ordering::Relaxed);
    if let (Ok(()), Some(e)) = (&result, &elector_release) {
        e.release().await;
    }
    result
}

/// The requeue after a reconcile that could not finish.
pub fn retry_after(e: &Error) -> Action {
    tracing::warn!(error = %e, "reconcile failed; retrying");
    Action::requeue(Duration::from_secs(30))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sigil_crds::sigil::{Decryption, LocalObjectReference, NamespacedObjectReference, SyncSpec};

    fn sync(ns: &str, name: &str, f: impl FnOnce(&mut SyncSpec)) -> Arc<Sync> {
        let mut spec = SyncSpec::default();
        spec.source_ref.name = "repo".into();
        f(&mut spec);
        let mut s = Sync::new(name, spec);
        s.metadata.namespace = Some(ns.into());
        Arc::new(s)
    }

    #[test]
    fn triggers_map_to_the_right_syncs() {
        let all = vec![
            sync("a", "web", |s| {
                s.decryption = Some(Decryption {
                    secret_ref: Some(LocalObjectReference { name: "keys".into() }),
                })
            }),
            sync("a", "api", |s| {
                s.depends_on = vec![NamespacedObjectReference {
                    name: "web".into(),
                    namespace: None,
                }]
            }),
            sync("b", "other", |s| {
                s.source_ref.namespace = Some("a".into());
                s.depends_on = vec![NamespacedObjectReference {
                    name: "web".into(),
                    namespace: Some("a".into()),
                }]
            }),
        ];
        let names = |v: Vec<ObjectRef<Sync>>| v.into_iter().map(|r| r.name).collect::<Vec<_>>();
        let key = ("a".to_string(), "repo".to_string());
        assert_eq!(names(refs(&all, |s| source_of(s) == key)), ["web", "api", "other"]);
        assert_eq!(names(refs(&all, |s| reads_secret(s, "a", "keys"))), ["web"]);
        assert!(
            refs(&all, |s| reads_secret(s, "b", "keys")).is_empty(),
            "Secrets of another namespace"
        );
        assert_eq!(names(refs(&all, |s| depends_on(s, "a", "web"))), ["api", "other"]);
        assert!(refs(&all, |s| depends_on(s, "b", "web")).is_empty());
    }
}
