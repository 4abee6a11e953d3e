//! One end-to-end run of `sigil-agent run` against an API (the kmock emulator, or a real
//! cluster): a GitSource on a local repository made with `git`, a Sync with a SOPS Secret (real
//! `sops` + `age-keygen`) and a SealedSecret, a second Sync that depends on it. Then: prune
//! after a commit removes an object, a hand edit reverted, a tampered SOPS file that applies
//! nothing, suspend, and no plaintext in logs, events or statuses. Also the helpers other
//! controller tests share (repository, agent process, waiting).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams};
use kube::{Client, ResourceExt};
use serde_json::json;
use sigil_crds::sigil::{GitSource, Sync};
use sigil_crypto::sealed::{PublicCert, Scope, SealingKey};
use sigil_tests::servers::free_port;
use sigil_tests::{Sops, age_keygen, ok};

static AGENT_LOG: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

pub const SOPS_CANARY: &str = "Cluster-Sops-Canary-7";
pub const SEALED_CANARY: &str = "Cluster-Sealed-Canary-8";

/// Where the scenario runs.
pub struct Target {
    /// A kubeconfig for the API.
    pub kubeconfig: PathBuf,
    /// A real API server (field ownership and no-op checks apply).
    pub real: bool,
}

pub struct Agent {
    child: Child,
    /// Its log file.
    pub log: PathBuf,
    /// Its HTTP port's base URL.
    pub http: String,
}

/// Starts `sigil-agent run` against `kubeconfig` with its namespace `system`, logging to
/// `dir/agent.log` (and working in `dir`).
pub fn start_agent(kubeconfig: &Path, system: &str, dir: &Path) -> Agent {
    let port = free_port();
    let log = dir.join("agent.log");
    let _ = AGENT_LOG.set(log.clone());
    let child = Command::new(env!("CARGO_BIN_EXE_sigil-agent"))
        .args(["run", "--kubeconfig"])
        .arg(kubeconfig)
        .args([
            "--leader-elect",
            "--namespace",
            system,
            "--http-addr",
            &format!("127.0.0.1:{port}"),
            "--git-cache-dir",
        ])
        .arg(dir.join("cache"))
        .env(
            "SIGIL_LOG",
            std::env::var("SIGIL_TEST_AGENT_LOG").unwrap_or_else(|_| "debug".into()),
        )
        .env_remove("KUBECONFIG")
        .env_remove("VAULT_ADDR")
        .env_remove("VAULT_TOKEN")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    Agent {
        child,
        log,
        http: format!("http://127.0.0.1:{port}"),
    }
}

/// A client for `kubeconfig`.
pub async fn client(kubeconfig: &Path) -> Client {
    let kc = kube::config::Kubeconfig::read_from(kubeconfig).unwrap();
    let config = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .unwrap();
    Client::try_from(config).unwrap()
}

/// A kubeconfig for an unauthenticated API at `url` (the emulator).
pub fn kubeconfig_for(url: &str, dir: &Path) -> PathBuf {
    let path = dir.join("kubeconfig");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: kmock\n  cluster:\n    server: {url}\ncontexts:\n- name: kmock\n  context:\n    cluster: kmock\n    user: anonymous\n    namespace: default\nusers:\n- name: anonymous\n  user: {{}}\ncurrent-context: kmock\n"
        ),
    )
    .unwrap();
    path
}

/// A new repository in `dir/repo` (branch main).
pub fn new_repo(dir: &Path) -> PathBuf {
    let repo = dir.join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    repo
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

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

pub fn write(dir: &Path, rel: &str, text: &str) -> PathBuf {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, text).unwrap();
    p
}

pub fn commit(repo: &Path, msg: &str) -> String {
    git(repo, &["add", "-A"]);
    git(repo, &["commit", "-q", "-m", msg]);
    git(repo, &["rev-parse", "HEAD"])
}

pub async fn wait_for<T, F, Fut>(what: &str, limit: Duration, mut f: F) -> T
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
            let log = AGENT_LOG
                .get()
                .and_then(|p| std::fs::read_to_string(p).ok())
                .unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(80).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            panic!(
                "timed out waiting for {what}; the agent's log ends:\n{}",
                tail.join("\n")
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

pub fn ready(s: &Sync) -> Option<(String, String, String)> {
    let st = s.status.as_ref()?;
    let c = st.conditions.iter().find(|c| c.type_ == "Ready")?;
    Some((c.status.clone(), c.reason.clone(), c.message.clone()))
}

pub async fn apply<K>(api: &Api<K>, name: &str, v: serde_json::Value)
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    api.patch(name, &PatchParams::apply("sigil-test").force(), &Patch::Apply(&v))
        .await
        .unwrap_or_else(|e| panic!("apply {name}: {e}"));
}

pub async fn annotate<K>(api: &Api<K>, name: &str, value: &str)
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let p = json!({"metadata": {"annotations": {"reconcile.sigil.dev/requestedAt": value}}});
    api.patch(name, &PatchParams::default(), &Patch::Merge(&p))
        .await
        .unwrap();
}

pub fn http_get(base: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let addr = base.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

/// GitSource `repo` on the local repository `repo`, branch main.
pub async fn git_source(sources: &Api<GitSource>, repo: &Path, interval: &str) {
    let spec = json!({"url": repo.display().to_string(), "ref": {"branch": "main"}, "interval": interval});
    let gs =
        json!({"apiVersion": "sigil.dev/v1alpha1", "kind": "GitSource", "metadata": {"name": "repo"}, "spec": spec});
    apply(sources, "repo", gs).await;
}

/// Runs the scenario; `prefix` keeps namespaces apart between runs.
pub async fn run(target: Target, prefix: &str) {
    let Some(sops) = Sops::find() else { return };
    let dir = tempfile::tempdir().unwrap();
    let Some(age) = age_keygen(dir.path(), "sync") else {
        return;
    };
    let system = format!("{prefix}-system");
    let apps = format!("{prefix}-apps");

    // The repository.
    let repo = new_repo(dir.path());
    write(
        &repo,
        "app/kustomization.yaml",
        "resources: [config.yaml, db.yaml, api.sealed.yaml, deploy.yaml]\n",
    );
    write(
        &repo,
        "app/config.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: one\n",
    );
    let db = write(
        &repo,
        "app/db.yaml",
        &format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: {SOPS_CANARY}\n"),
    );
    ok(
        &sops.encrypt(
            &repo,
            &[
                "-i",
                "--age",
                &age.recipient,
                "--encrypted-regex",
                "^(data|stringData)$",
                db.to_str().unwrap(),
            ],
        ),
        "sops -e",
    );
    write(
        &repo,
        "app/deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels: {app: web}\nspec:\n  replicas: 0\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: web\n        image: registry.k8s.io/pause:3.10\n",
    );
    let key = SealingKey::generate(2048).unwrap();
    let cert_pem = key.self_signed_cert().unwrap();
    let cert = PublicCert::parse(&cert_pem, "cert").unwrap();
    let mut s = sigil_crds::secret::Secret::default();
    s.metadata.name = "api".into();
    s.metadata.namespace = apps.clone();
    s.string_data.insert("token".into(), SEALED_CANARY.into());
    let ss = sigil_crds::sealedsecret::seal(&s, &cert, Scope::Strict).unwrap();
    write(
        &repo,
        "app/api.sealed.yaml",
        &sigil_crds::manifest::to_yaml(&[serde_json::to_value(&ss).unwrap()]),
    );
    write(
        &repo,
        "extra/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: after-app\ndata:\n  ok: \"yes\"\n",
    );
    let c1 = commit(&repo, "first");

    // The cluster side.
    let kc = kube::config::Kubeconfig::read_from(&target.kubeconfig).unwrap();
    let config = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .unwrap();
    let client = Client::try_from(config).unwrap();
    let crds: Api<k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition> =
        Api::all(client.clone());
    for crd in sigil_crds::sigil::crds() {
        let v = serde_json::to_value(&crd).unwrap();
        apply(&crds, &crd.name_any(), v).await;
    }
    drop(crds);
    let namespaces: Api<Namespace> = Api::all(client.clone());
    // (kmock cannot address a Namespace by name; it needs none to exist.)
    for ns in [&system, &apps].into_iter().filter(|_| target.real) {
        apply(
            &namespaces,
            ns,
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
        )
        .await;
    }
    let key_secret = sigil_crypto::sealed::keys::key_secret_manifest(&key, &cert_pem, &system).unwrap();
    let key_secret = sigil_crds::manifest::load(key_secret.as_bytes()).unwrap().remove(0);
    let sys_secrets: Api<Secret> = Api::namespaced(client.clone(), &system);
    apply(
        &sys_secrets,
        key_secret["metadata"]["name"].as_str().unwrap(),
        key_secret.clone(),
    )
    .await;
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &apps);
    let age_text = std::fs::read_to_string(&age.key_file).unwrap();
    apply(
        &secrets,
        "sops-age",
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "sops-age"},
               "stringData": {"age.agekey": age_text}}),
    )
    .await;

    // The agent.
    let agent = start_agent(&target.kubeconfig, &system, dir.path());

    let sources: Api<GitSource> = Api::namespaced(client.clone(), &apps);
    let syncs: Api<Sync> = Api::namespaced(client.clone(), &apps);
    git_source(&sources, &repo, "1m").await;
    apply(
        &syncs,
        "after",
        json!({"apiVersion": "sigil.dev/v1alpha1", "kind": "Sync", "metadata": {"name": "after"},
               "spec": {"sourceRef": {"name": "repo"}, "path": "./extra", "interval": "10m",
                        "dependsOn": [{"name": "app"}]}}),
    )
    .await;
    apply(
        &syncs,
        "app",
        json!({"apiVersion": "sigil.dev/v1alpha1", "kind": "Sync", "metadata": {"name": "app"},
               "spec": {"sourceRef": {"name": "repo"}, "path": "./app", "interval": "10m", "retryInterval": "2s",
                        "prune": true, "decryption": {"secretRef": {"name": "sops-age"}},
                        "secretsPolicy": {"denyPlaintextSecrets": true}}}),
    )
    .await;

    let applied = |want: String| {
        let syncs = syncs.clone();
        move || {
            let syncs = syncs.clone();
            let want = want.clone();
            async move {
                let s = syncs.get("app").await.ok()?;
                let st = s.status.as_ref()?;
                (st.last_applied_revision.as_deref()? == want).then_some(s)
            }
        }
    };
    let limit = Duration::from_secs(90);
    let s = wait_for("the first revision applied", limit, applied(format!("main@sha1:{c1}"))).await;
    assert_eq!(ready(&s).unwrap().0, "True", "{:?}", ready(&s));
    let inventory = &s.status.as_ref().unwrap().inventory.as_ref().unwrap().entries;
    assert!(
        inventory
            .iter()
            .any(|e| e.id == format!("{apps}_web_apps_Deployment") && e.v == "v1"),
        "{inventory:?}"
    );

    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), &apps);
    let cm = cms.get("settings").await.unwrap();
    assert_eq!(cm.labels().get("sigil.dev/sync-name").map(String::as_str), Some("app"));
    assert_eq!(cm.labels().get("sigil.dev/sync-namespace"), Some(&apps));
    let value = |s: &Secret, k: &str| {
        let v = serde_json::to_value(s).unwrap();
        match v["data"][k].as_str() {
            Some(x) => String::from_utf8(B64.decode(x).unwrap()).unwrap(),
            // kmock keeps stringData as sent (an API server folds it into data).
            None => v["stringData"][k].as_str().unwrap_or_default().to_string(),
        }
    };
    assert_eq!(value(&secrets.get("db").await.unwrap(), "password"), SOPS_CANARY);
    assert_eq!(value(&secrets.get("api").await.unwrap(), "token"), SEALED_CANARY);
    let deploys: Api<Deployment> = Api::namespaced(client.clone(), &apps);
    assert!(deploys.get("web").await.is_ok());

    // The dependant is woken when its dependency becomes Ready.
    wait_for("the dependant Sync ready", limit, || async {
        let s = syncs.get("after").await.ok()?;
        (ready(&s)?.0 == "True").then_some(())
    })
    .await;
    assert!(cms.get("after-app").await.is_ok());

    // The HTTP port.
    let cert_reply = http_get(&agent.http, "/v1/cert.pem");
    assert!(cert_reply.contains(cert_pem.trim()), "{cert_reply}");
    let metrics = http_get(&agent.http, "/metrics");
    assert!(
        metrics.contains(&format!(
            "sigil_reconcile_total{{sync=\"{apps}/app\",result=\"success\"}}"
        )),
        "{metrics}"
    );

    if target.real {
        // Field ownership: the agent's apply is server-side, as manager "sigil".
        let d = deploys.get("web").await.unwrap();
        let managers: Vec<String> = d
            .metadata
            .managed_fields
            .unwrap_or_default()
            .iter()
            .filter(|m| m.operation.as_deref() == Some("Apply"))
            .filter_map(|m| m.manager.clone())
            .collect();
        assert!(managers.contains(&"sigil".to_string()), "{managers:?}");
        // A no-op reconcile patches nothing.
        let rv = cms.get("settings").await.unwrap().resource_version();
        annotate(&syncs, "app", "noop").await;
        wait_for("the no-op reconcile", limit, || async {
            let s = syncs.get("app").await.ok()?;
            (s.status?.last_handled_reconcile_at.as_deref() == Some("noop")).then_some(())
        })
        .await;
        assert_eq!(
            cms.get("settings").await.unwrap().resource_version(),
            rv,
            "no-op reconcile patched"
        );
        // Impersonation: a Sync applying as a ServiceAccount without rights is refused by the
        // API server, and says so.
        let sas: Api<k8s_openapi::api::core::v1::ServiceAccount> = Api::namespaced(client.clone(), &apps);
        apply(
            &sas,
            "nobody",
            json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "nobody"}}),
        )
        .await;
        apply(
            &syncs,
            "as-nobody",
            json!({"apiVersion": "sigil.dev/v1alpha1", "kind": "Sync", "metadata": {"name": "as-nobody"},
                   "spec": {"sourceRef": {"name": "repo"}, "path": "./extra", "interval": "10m",
                            "serviceAccountName": "nobody"}}),
        )
        .await;
        let (_, reason, message) = wait_for("the impersonated apply refused", limit, || async {
            let s = syncs.get("as-nobody").await.ok()?;
            ready(&s).filter(|r| r.0 == "False")
        })
        .await;
        assert_eq!(reason, "ApplyFailed", "{message}");
        assert!(message.contains("forbidden"), "{message}");
        syncs.delete("as-nobody", &DeleteParams::default()).await.unwrap();
    }

    // A commit that drops the ConfigMap: pruned.
    std::fs::remove_file(repo.join("app/config.yaml")).unwrap();
    write(
        &repo,
        "app/kustomization.yaml",
        "resources: [db.yaml, api.sealed.yaml, deploy.yaml]\n",
    );
    let c2 = commit(&repo, "drop settings");
    annotate(&sources, "repo", "2").await;
    wait_for("the second revision applied", limit, applied(format!("main@sha1:{c2}"))).await;
    wait_for("settings pruned", limit, || async {
        cms.get_opt("settings").await.ok()?.is_none().then_some(())
    })
    .await;

    // A hand edit is reverted at the next reconcile.
    deploys
        .patch(
            "web",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"replicas": 3}})),
        )
        .await
        .unwrap();
    annotate(&syncs, "app", "drift").await;
    wait_for("the hand edit reverted", limit, || async {
        let d = deploys.get("web").await.ok()?;
        (d.spec.replicas == Some(0)).then_some(())
    })
    .await;

    // A tampered SOPS file: nothing applied, the reason and file named, objects intact.
    let good_db = std::fs::read_to_string(repo.join("app/db.yaml")).unwrap();
    let tampered = good_db.replacen("ENC[AES256_GCM,data:", "ENC[AES256_GCM,data:AA", 1);
    assert_ne!(tampered, good_db);
    write(&repo, "app/db.yaml", &tampered);
    write(
        &repo,
        "app/kustomization.yaml",
        "resources: [db.yaml, api.sealed.yaml, deploy.yaml, late.yaml]\n",
    );
    write(
        &repo,
        "app/late.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: late\ndata:\n  x: \"1\"\n",
    );
    let c3 = commit(&repo, "tampered");
    annotate(&sources, "repo", "3").await;
    let s = wait_for("the tampered revision refused", limit, || async {
        let s = syncs.get("app").await.ok()?;
        let st = s.status.as_ref()?;
        (st.last_attempted_revision.as_deref() == Some(&format!("main@sha1:{c3}"))).then_some(s)
    })
    .await;
    let (status, reason, message) = ready(&s).unwrap();
    assert_eq!(
        (status.as_str(), reason.as_str()),
        ("False", "DecryptionFailed"),
        "{message}"
    );
    assert!(message.contains("db.yaml"), "{message}");
    let st = s.status.as_ref().unwrap();
    assert_eq!(
        st.last_applied_revision.as_deref(),
        Some(format!("main@sha1:{c2}").as_str())
    );
    assert!(
        cms.get_opt("late").await.unwrap().is_none(),
        "a failed render applied something"
    );
    assert_eq!(value(&secrets.get("db").await.unwrap(), "password"), SOPS_CANARY);

    // Suspended: a good commit is not applied until resumed.
    syncs
        .patch(
            "app",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"suspend": true}})),
        )
        .await
        .unwrap();
    write(&repo, "app/db.yaml", &good_db);
    let c4 = commit(&repo, "fixed");
    annotate(&sources, "repo", "4").await;
    wait_for("the GitSource at the fourth revision", limit, || async {
        let g = sources.get("repo").await.ok()?;
        (g.status?.artifact?.revision == format!("main@sha1:{c4}")).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(cms.get_opt("late").await.unwrap().is_none(), "a suspended Sync applied");
    syncs
        .patch(
            "app",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"suspend": false}})),
        )
        .await
        .unwrap();
    let s = wait_for("the fourth revision applied", limit, applied(format!("main@sha1:{c4}"))).await;
    assert_eq!(ready(&s).unwrap().0, "True");
    assert!(cms.get_opt("late").await.unwrap().is_some());

    // No plaintext anywhere: logs (debug), events, statuses.
    let logs = std::fs::read_to_string(&agent.log).unwrap();
    let events: Api<k8s_openapi::api::events::v1::Event> = Api::namespaced(client.clone(), &apps);
    let events = events.list(&ListParams::default()).await.unwrap();
    let notes: Vec<String> = events.items.iter().filter_map(|e| e.note.clone()).collect();
    assert!(
        notes.iter().any(|n| n.contains("Secret") && n.contains("keys:")) || !target.real || notes.is_empty(),
        "{notes:?}"
    );
    let statuses = serde_json::to_string(&syncs.list(&ListParams::default()).await.unwrap().items).unwrap();
    for (what, text) in [("logs", &logs), ("events", &notes.join("\n")), ("statuses", &statuses)] {
        for canary in [SOPS_CANARY, SEALED_CANARY] {
            assert!(!text.contains(canary), "{what} leak a secret value");
            assert!(
                !text.contains(&B64.encode(canary)),
                "{what} leak a secret value (base64)"
            );
        }
    }
    assert!(!notes.is_empty(), "no events published");
    drop(agent);
    if target.real {
        for ns in [&system, &apps] {
            let _ = namespaces.delete(ns, &DeleteParams::default()).await;
        }
    }
}

/// ExternalSecrets through a Sync: a store that logs in to OpenBao with Kubernetes auth as a
/// ServiceAccount (token from the TokenRequest API; OpenBao checks it with TokenReview against
/// the API), the Sync's `spec.vault` as the default store, and `refreshInterval` bringing a
/// changed Vault value to the cluster without a new commit.
pub async fn external_secrets(target: Target, prefix: &str) {
    use sigil_tests::servers::bao_api;
    const V1: &str = "Refresh-Canary-One-3";
    const V2: &str = "Refresh-Canary-Two-4";
    let Some(bao) = sigil_tests::servers::bao() else { return };
    let system = format!("{prefix}-system");
    let apps = format!("{prefix}-apps");
    let client = client(&target.kubeconfig).await;
    let kc = kube::config::Kubeconfig::read_from(&target.kubeconfig).unwrap();
    let cluster = kc.clusters[0].cluster.clone().unwrap();
    let mut auth_config = json!({"kubernetes_host": cluster.server.clone().unwrap(), "disable_local_ca_jwt": true});
    auth_config["kubernetes_ca_cert"] = match &cluster.certificate_authority_data {
        Some(ca) => String::from_utf8(B64.decode(ca).unwrap()).unwrap().into(),
        // Plain http (the emulator): OpenBao still wants a CA; any certificate will do.
        None => std::fs::read_to_string(sigil_tests::workspace_root().join("examples/keys/sealing-cert.pem"))
            .unwrap()
            .into(),
    };
    if target.real {
        let namespaces: Api<Namespace> = Api::all(client.clone());
        for ns in [&system, &apps] {
            apply(
                &namespaces,
                ns,
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
            )
            .await;
        }
        // The ServiceAccount, allowed to have tokens reviewed (Vault reviews with the login token).
        let sas: Api<k8s_openapi::api::core::v1::ServiceAccount> = Api::namespaced(client.clone(), &apps);
        apply(
            &sas,
            "vault-reader",
            json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "vault-reader"}}),
        )
        .await;
        let crbs: Api<k8s_openapi::api::rbac::v1::ClusterRoleBinding> = Api::all(client.clone());
        let crb = format!("{prefix}-vault-reader-auth-delegator");
        apply(&crbs, &crb, json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": crb},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:auth-delegator"},
            "subjects": [{"kind": "ServiceAccount", "name": "vault-reader", "namespace": apps}]})).await;
    }
    let call = |m: &str, p: &str, b: serde_json::Value| {
        let (code, text) = bao_api(&bao, m, p, &b.to_string(), None);
        assert!(code < 300, "{m} {p}: {code} {text}");
    };
    call("POST", "sys/auth/kubernetes", json!({"type": "kubernetes"}));
    call("POST", "auth/kubernetes/config", auth_config);
    call(
        "PUT",
        "sys/policies/acl/read-app",
        json!({"policy": "path \"secret/data/app\" { capabilities = [\"read\"] }"}),
    );
    call(
        "POST",
        "auth/kubernetes/role/app",
        json!({"bound_service_account_names": ["vault-reader"], "bound_service_account_namespaces": [apps],
               "token_policies": ["read-app"], "ttl": "1h"}),
    );
    call("POST", "secret/data/app", json!({"data": {"password": V1}}));

    let dir = tempfile::tempdir().unwrap();
    let repo = new_repo(dir.path());
    write(
        &repo,
        "app/store.yaml",
        &format!(
            "apiVersion: external-secrets.io/v1\nkind: SecretStore\nmetadata:\n  name: vault\nspec:\n  provider:\n    vault:\n      server: {}\n      path: secret\n      version: v2\n      auth:\n        kubernetes:\n          mountPath: kubernetes\n          role: app\n          serviceAccountRef:\n            name: vault-reader\n",
            bao.url
        ),
    );
    write(
        &repo,
        "app/es.yaml",
        "apiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata:\n  name: db\nspec:\n  refreshInterval: 2s\n  target:\n    name: db\n  data:\n  - secretKey: password\n    remoteRef:\n      key: app\n      property: password\n",
    );
    let c1 = commit(&repo, "external");
    let agent = start_agent(&target.kubeconfig, &system, dir.path());
    let sources: Api<GitSource> = Api::namespaced(client.clone(), &apps);
    let syncs: Api<Sync> = Api::namespaced(client.clone(), &apps);
    git_source(&sources, &repo, "10m").await;
    apply(
        &syncs,
        "ext",
        json!({"apiVersion": "sigil.dev/v1alpha1", "kind": "Sync", "metadata": {"name": "ext"},
               "spec": {"sourceRef": {"name": "repo"}, "path": "app", "interval": "10m",
                        "vault": {"storeName": "vault"}}}),
    )
    .await;
    let secrets: Api<Secret> = Api::namespaced(client.clone(), &apps);
    let password = |want: &'static str| {
        let secrets = secrets.clone();
        move || {
            let secrets = secrets.clone();
            async move {
                let s = secrets.get("db").await.ok()?;
                let v = s.data?.get("password")?.0.clone();
                (v == want.as_bytes()).then_some(())
            }
        }
    };
    let limit = Duration::from_secs(60);
    wait_for("the ExternalSecret's value applied", limit, password(V1)).await;
    let s = syncs.get("ext").await.unwrap();
    assert_eq!(
        s.status.unwrap().last_applied_revision.unwrap(),
        format!("main@sha1:{c1}")
    );
    // Vault changes, Git does not: the refresh brings the new value.
    call("POST", "secret/data/app", json!({"data": {"password": V2}}));
    wait_for("the refreshed value applied", limit, password(V2)).await;
    let logs = std::fs::read_to_string(&agent.log).unwrap();
    for v in [V1, V2] {
        assert!(!logs.contains(v), "the agent's log shows a Vault value");
    }
    assert!(!logs.contains("eyJ"), "the agent's log shows a token");
    drop(agent);
    if target.real {
        let namespaces: Api<Namespace> = Api::all(client.clone());
        for ns in [&system, &apps] {
            let _ = namespaces.delete(ns, &DeleteParams::default()).await;
        }
        let crbs: Api<k8s_openapi::api::rbac::v1::ClusterRoleBinding> = Api::all(client.clone());
        let _ = crbs
            .delete(
                &format!("{prefix}-vault-reader-auth-delegator"),
                &DeleteParams::default(),
            )
            .await;
    }
}
