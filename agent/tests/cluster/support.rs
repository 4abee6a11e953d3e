//! What every cluster test shares: a [`TestEnv`] (a client, a unique id, namespaces named
//! after it and removed afterwards, Sigil's CRDs installed), `sigil-agent run` processes that
//! only see this test's GitSources and Syncs (`--watch-label-selector sigil.dev/test=<id>`, so
//! tests run side by side on one API server), Git repositories made with `git`, and waiting.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use kube::api::{Api, Patch, PatchParams};
use kube::{Client, Resource};
use serde_json::{Value, json};
use sigil_crds::sigil::{GitSource, Sync};
use sigil_tests::ok;
use sigil_tests::servers::free_port;

/// The label that ties GitSources and Syncs to one test's agent.
pub const TEST_LABEL: &str = "sigil.dev/test";

/// One test's slice of the cluster.
pub struct TestEnv {
    /// The kubeconfig (cluster-admin).
    pub kubeconfig: PathBuf,
    /// A client with it.
    pub client: Client,
    /// Unique per test and run: namespaces are `<id>-<suffix>`.
    pub id: String,
    /// The agent's namespace, `<id>-system`.
    pub system: String,
    /// Scratch space (repositories, agent logs, caches).
    pub dir: tempfile::TempDir,
    namespaces: std::sync::Mutex<Vec<String>>,
    cluster_scoped: std::sync::Mutex<Vec<(String, String)>>,
}

/// A client for `kubeconfig`.
pub async fn client(kubeconfig: &Path) -> Client {
    let kc = kube::config::Kubeconfig::read_from(kubeconfig).unwrap();
    let config = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .unwrap();
    Client::try_from(config).unwrap()
}

impl TestEnv {
    /// A new environment named after the test (`name`: short, DNS-label characters), or
    /// `None` when there is no cluster (a skip; a failure under CI).
    pub async fn new(name: &str) -> Option<TestEnv> {
        let kubeconfig = sigil_tests::kubeconfig()?;
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = client(&kubeconfig).await;
        let id = format!("{name}-{}", std::process::id());
        let env = TestEnv {
            system: format!("{id}-system"),
            kubeconfig,
            client,
            id,
            dir: tempfile::tempdir().unwrap(),
            namespaces: Default::default(),
            cluster_scoped: Default::default(),
        };
        env.install_crds().await;
        let system = env.system.clone();
        env.create_namespace(&system).await;
        Some(env)
    }

    /// Applies Sigil's CRDs (as `sigil-agent crds` prints them) and waits until established.
    pub async fn install_crds(&self) {
        let out = Command::new(env!("CARGO_BIN_EXE_sigil-agent"))
            .arg("crds")
            .output()
            .unwrap();
        let docs = sigil_crds::manifest::load(&ok(&out, "sigil-agent crds")).unwrap();
        let crds: Api<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> =
            Api::all(self.client.clone());
        for d in docs {
            let name = d["metadata"]["name"].as_str().unwrap().to_string();
            apply(&crds, &name, d).await;
            self.wait("CRD established", Duration::from_secs(30), || async {
                let c = crds.get(&name).await.ok()?;
                let established = c
                    .status?
                    .conditions?
                    .iter()
                    .any(|c| c.type_ == "Established" && c.status == "True");
                established.then_some(())
            })
            .await;
        }
    }

    /// Creates namespace `name` (removed when the environment drops).
    pub async fn create_namespace(&self, name: &str) {
        let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(self.client.clone());
        apply(
            &namespaces,
            name,
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}),
        )
        .await;
        self.namespaces.lock().unwrap().push(name.to_string());
    }

    /// Removes namespace `name` (made by someone else) when the environment drops.
    pub fn track_namespace(&self, name: &str) {
        self.namespaces.lock().unwrap().push(name.to_string());
    }

    /// Creates and returns namespace `<id>-<suffix>`.
    pub async fn namespace(&self, suffix: &str) -> String {
        let name = format!("{}-{suffix}", self.id);
        self.create_namespace(&name).await;
        name
    }

    /// Remembers a cluster-scoped object (`kind/name` for kubectl) to delete at the end.
    pub fn forget_later(&self, kind: &str, name: &str) {
        self.cluster_scoped
            .lock()
            .unwrap()
            .push((kind.to_string(), name.to_string()));
    }

    /// A typed namespaced API.
    pub fn api<K>(&self, namespace: &str) -> Api<K>
    where
        K: Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>,
    {
        Api::namespaced(self.client.clone(), namespace)
    }

    /// Starts `sigil-agent run` for this test (namespace `self.system`, only this test's
    /// GitSources and Syncs) with `extra` arguments; its log is `<dir>/<log_name>.log`.
    pub fn agent(&self, log_name: &str, extra: &[&str]) -> Agent {
        let selector = format!("{TEST_LABEL}={}", self.id);
        let mut args: Vec<String> = vec![
            "--namespace".into(),
            self.system.clone(),
            "--watch-label-selector".into(),
            selector,
            "--git-cache-dir".into(),
            self.dir.path().join(format!("{log_name}-cache")).display().to_string(),
            "--key-bits".into(),
            "2048".into(),
            "--allow-local-sources".into(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        start_agent(
            &self.kubeconfig,
            &self.dir.path().join(format!("{log_name}.log")),
            &args,
        )
    }

    /// Waits for `f` to give a value, up to `limit`; on timeout panics with the tails of this
    /// environment's agent logs.
    pub async fn wait<T, F, Fut>(&self, what: &str, limit: Duration, mut f: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(v) = f().await {
                return v;
            }
            if Instant::now() >= deadline {
                panic!("timed out waiting for {what}; {}", self.log_tails());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The last lines of every agent log of this environment.
    pub fn log_tails(&self) -> String {
        let mut out = String::new();
        for e in std::fs::read_dir(self.dir.path()).unwrap().flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "log") {
                let text = std::fs::read_to_string(&p).unwrap_or_default();
                let lines: Vec<&str> = text.lines().collect();
                let tail = &lines[lines.len().saturating_sub(60)..];
                out.push_str(&format!(
                    "\n--- {} (last {} lines)\n{}",
                    p.display(),
                    tail.len(),
                    tail.join("\n")
                ));
            }
        }
        out
    }

    /// Everything every agent of this environment logged.
    pub fn logs(&self) -> String {
        let mut out = String::new();
        for e in std::fs::read_dir(self.dir.path()).unwrap().flatten() {
            if e.path().extension().is_some_and(|x| x == "log") {
                out.push_str(&std::fs::read_to_string(e.path()).unwrap_or_default());
            }
        }
        out
    }

    /// A GitSource `name` in `namespace` on the local repository `repo` (branch main),
    /// labelled for this test's agent.
    pub async fn git_source(&self, namespace: &str, name: &str, repo: &Path, interval: &str) {
        let spec =
            json!({"url": format!("file://{}", repo.display()), "ref": {"branch": "main"}, "interval": interval});
        self.git_source_spec(namespace, name, spec).await;
    }

    /// A GitSource with the given spec, labelled for this test's agent.
    pub async fn git_source_spec(&self, namespace: &str, name: &str, spec: Value) {
        let gs = json!({"apiVersion": "sigil.dev/v1alpha1", "kind": "GitSource",
                        "metadata": {"name": name, "labels": {TEST_LABEL: self.id}}, "spec": spec});
        apply(&self.api::<GitSource>(namespace), name, gs).await;
    }

    /// A Sync with the given spec, labelled for this test's agent.
    pub async fn sync(&self, namespace: &str, name: &str, spec: Value) {
        let s = json!({"apiVersion": "sigil.dev/v1alpha1", "kind": "Sync",
                       "metadata": {"name": name, "labels": {TEST_LABEL: self.id}}, "spec": spec});
        apply(&self.api::<Sync>(namespace), name, s).await;
    }

    /// Waits until Sync `namespace/name` has applied `revision` (`main@sha1:<commit>`).
    pub async fn applied(&self, namespace: &str, name: &str, revision: &str) -> Sync {
        let syncs = self.api::<Sync>(namespace);
        self.wait(
            &format!("Sync {namespace}/{name} at {revision}"),
            Duration::from_secs(90),
            || async {
                let s = syncs.get(name).await.ok()?;
                (s.status.as_ref()?.last_applied_revision.as_deref()? == revision).then_some(s)
            },
        )
        .await
    }

    /// Waits until Sync `namespace/name` is not Ready for `reason`; returns the message.
    pub async fn failed_with(&self, namespace: &str, name: &str, reason: &str) -> String {
        let syncs = self.api::<Sync>(namespace);
        self.wait(
            &format!("Sync {namespace}/{name} Ready=False {reason}"),
            Duration::from_secs(90),
            || async {
                let s = syncs.get(name).await.ok()?;
                ready(&s).filter(|r| r.0 == "False" && r.1 == reason).map(|r| r.2)
            },
        )
        .await
    }

    /// Waits until the events about `involved` in `namespace` mention every one of `needles`;
    /// returns all their notes, oldest first.
    pub async fn events_with(&self, namespace: &str, involved: &str, needles: &[&str]) -> String {
        self.wait(
            &format!("events about {involved} mentioning {needles:?}"),
            Duration::from_secs(60),
            || async {
                let notes = event_notes(self, namespace, involved).await.join("\n");
                needles.iter().all(|n| notes.contains(n)).then_some(notes)
            },
        )
        .await
    }

    /// Waits until Sync `namespace/name`'s Ready condition has `status` (and returns it as
    /// (status, reason, message)).
    pub async fn ready_is(&self, namespace: &str, name: &str, status: &str) -> (String, String, String) {
        let syncs = self.api::<Sync>(namespace);
        self.wait(
            &format!("Sync {namespace}/{name} Ready={status}"),
            Duration::from_secs(90),
            || async {
                let s = syncs.get(name).await.ok()?;
                ready(&s).filter(|r| r.0 == status)
            },
        )
        .await
    }
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        // Namespaces go with their Syncs; finalizers of an agent that is gone would hold them.
        let kubectl = |args: &[&str]| {
            let _ = Command::new("kubectl")
                .arg("--kubeconfig")
                .arg(&self.kubeconfig)
                .args(args)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        };
        let namespaces = self.namespaces.lock().unwrap().clone();
        for ns in &namespaces {
            for kind in ["syncs.sigil.dev", "gitsources.sigil.dev"] {
                let out = Command::new("kubectl")
                    .arg("--kubeconfig")
                    .arg(&self.kubeconfig)
                    .args(["-n", ns, "get", kind, "-o", "name"])
                    .output();
                let Ok(out) = out else { continue };
                for obj in String::from_utf8_lossy(&out.stdout).lines() {
                    kubectl(&[
                        "-n",
                        ns,
                        "patch",
                        obj,
                        "--type=merge",
                        "-p",
                        r#"{"metadata":{"finalizers":null}}"#,
                    ]);
                }
            }
        }
        if !namespaces.is_empty() {
            let mut args = vec!["delete", "namespace", "--wait=false", "--ignore-not-found"];
            args.extend(namespaces.iter().map(String::as_str));
            kubectl(&args);
        }
        for (kind, name) in self.cluster_scoped.lock().unwrap().iter() {
            kubectl(&["delete", kind, name, "--wait=false", "--ignore-not-found"]);
        }
    }
}

/// A running `sigil-agent run`; killed on drop.
pub struct Agent {
    child: Child,
    /// Its HTTP port's base URL.
    pub http: String,
}

/// Starts `sigil-agent run --kubeconfig KUBECONFIG --http-addr 127.0.0.1:<free> ARGS..`,
/// logging (debug) to `log`.
pub fn start_agent(kubeconfig: &Path, log: &Path, args: &[String]) -> Agent {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_sigil-agent"))
        .args(["run", "--kubeconfig"])
        .arg(kubeconfig)
        .args(["--http-addr", &format!("127.0.0.1:{port}")])
        .args(args)
        .env(
            "SIGIL_LOG",
            std::env::var("SIGIL_TEST_AGENT_LOG").unwrap_or_else(|_| "debug,kube=info,hyper=info,tower=info".into()),
        )
        .env_remove("KUBECONFIG")
        .env_remove("VAULT_ADDR")
        .env_remove("VAULT_TOKEN")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .unwrap();
    Agent {
        child,
        http: format!("http://127.0.0.1:{port}"),
    }
}

impl Agent {
    /// GET `path` on the agent's HTTP port: (status line, body).
    pub fn get(&self, path: &str) -> String {
        http_get(&self.http, path)
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A new repository in `dir/repo` (branch main).
pub fn new_repo(dir: &Path) -> PathBuf {
    let repo = dir.join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    repo
}

/// Runs git in `dir`.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .expect("git");
    String::from_utf8(ok(&out, "git")).unwrap().trim().to_string()
}

/// Writes `dir/rel` (parents created).
pub fn write(dir: &Path, rel: &str, text: &str) -> PathBuf {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, text).unwrap();
    p
}

/// Commits everything; returns `main@sha1:<commit>`.
pub fn commit(repo: &Path, msg: &str) -> String {
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-q", "--allow-empty", "-m", msg]);
    format!("main@sha1:{}", git(repo, &["rev-parse", "HEAD"]))
}

/// The Ready condition as (status, reason, message).
pub fn ready(s: &Sync) -> Option<(String, String, String)> {
    let st = s.status.as_ref()?;
    let c = st.conditions.iter().find(|c| c.type_ == "Ready")?;
    Some((c.status.clone(), c.reason.clone(), c.message.clone()))
}

/// Server-side applies `v` as manager `sigil-test`.
pub async fn apply<K>(api: &Api<K>, name: &str, v: Value)
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    api.patch(name, &PatchParams::apply("sigil-test").force(), &Patch::Apply(&v))
        .await
        .unwrap_or_else(|e| panic!("apply {name}: {e}"));
}

/// Merge-patches `v` into `name`.
pub async fn merge<K>(api: &Api<K>, name: &str, v: Value)
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    api.patch(name, &PatchParams::default(), &Patch::Merge(&v))
        .await
        .unwrap_or_else(|e| panic!("patch {name}: {e}"));
}

/// Asks for a reconcile now (`reconcile.sigil.dev/requestedAt: value`).
pub async fn annotate<K>(api: &Api<K>, name: &str, value: &str)
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    merge(
        api,
        name,
        json!({"metadata": {"annotations": {"reconcile.sigil.dev/requestedAt": value}}}),
    )
    .await;
}

/// A plain HTTP/1.1 GET on loopback; the whole answer (status line, headers, body).
pub fn http_get(base: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let addr = base.trim_start_matches("http://");
    let Ok(mut s) = std::net::TcpStream::connect(addr) else {
        return String::new();
    };
    let mut out = String::new();
    if write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").is_ok() {
        let _ = s.read_to_string(&mut out);
    }
    out
}

/// The value of the metric line starting with `series` (name and labels) on the agent's
/// `/metrics`, or 0.
pub fn metric(agent: &Agent, series: &str) -> f64 {
    agent
        .get("/metrics")
        .lines()
        .find_map(|l| l.strip_prefix(series).and_then(|v| v.trim().parse().ok()))
        .unwrap_or(0.0)
}

/// The requests the agent made to the API server for objects (gets, lists, applies, dry
/// runs, creates, deletes), from its `/metrics`.
pub fn object_requests(agent: &Agent) -> f64 {
    ["get", "list", "apply", "dry-run", "create", "delete"]
        .iter()
        .map(|v| metric(agent, &format!("sigil_api_requests_total{{verb=\"{v}\"}}")))
        .sum()
}

/// The notes of the events about `involved` (a Sync's name) in `namespace`, oldest first.
pub async fn event_notes(env: &TestEnv, namespace: &str, involved: &str) -> Vec<String> {
    let events: Api<k8s_openapi::api::events::v1::Event> = env.api(namespace);
    let mut items = events.list(&Default::default()).await.unwrap().items;
    items.retain(|e| e.regarding.as_ref().and_then(|r| r.name.as_deref()) == Some(involved));
    items.sort_by_key(|e| e.event_time.as_ref().map(|t| t.0));
    items.into_iter().filter_map(|e| e.note).collect()
}
