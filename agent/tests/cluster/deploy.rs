//! `deploy/` on the real API server: `kubectl apply -k deploy/tenant`, then `deploy/`, with the
//! test playing the kubelet (there are no nodes): for each Pod of the agent's Deployment it
//! runs the real `sigil-agent` binary with the Pod's arguments and environment, authenticated
//! as the Pod's ServiceAccount (so the shipped RBAC and admission policy are what is tested),
//! marks the Pod ready when its `/readyz` answers, and stops the process when the Pod goes.
//! Rolling the Deployment's template with one and with two replicas must complete (readiness
//! does not wait for the Lease) and the new leader must carry on reconciling.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{ConfigMap, Pod, ServiceAccount};
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use kube::{Client, ResourceExt};
use serde_json::json;
use sigil_crds::sigil::{GitSource, Sync};
use sigil_tests::ok;

use crate::support::{TEST_LABEL, TestEnv, client, commit, http_get, merge, new_repo, write};

const NS: &str = "sigil-system";

struct Running {
    child: Child,
    port: u16,
    ready: bool,
}

/// The kubelet's part for the agent's Pods.
struct Kubelet {
    client: Client,
    server: String,
    ca: String,
    dir: PathBuf,
    /// Added to the Pod's arguments: the other cluster tests share this API server, and an
    /// agent watching every GitSource would reconcile theirs too (without their flags).
    selector: String,
    running: HashMap<String, Running>,
}

impl Drop for Kubelet {
    fn drop(&mut self) {
        for (_, mut r) in self.running.drain() {
            let _ = r.child.kill();
            let _ = r.child.wait();
        }
    }
}

fn stop(r: &mut Running) {
    let _ = Command::new("kill").arg(r.child.id().to_string()).status();
    let deadline = Instant::now() + Duration::from_secs(15);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = r.child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = r.child.kill();
    let _ = r.child.wait();
}

impl Kubelet {
    async fn token(&self, sa: &str) -> String {
        let body = json!({"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                          "spec": {"expirationSeconds": 3600}});
        let sas: Api<ServiceAccount> = Api::namespaced(self.client.clone(), NS);
        let tr: serde_json::Value = sas
            .create_subresource("token", sa, &PostParams::default(), &body)
            .await
            .unwrap();
        tr["status"]["token"].as_str().unwrap().to_string()
    }

    async fn start(&mut self, pod: &Pod) {
        let name = pod.name_any();
        let spec = pod.spec.as_ref().unwrap();
        let sa = spec.service_account_name.clone().unwrap_or_else(|| "default".into());
        let kubeconfig = self.dir.join(format!("{name}.kubeconfig"));
        let token = self.token(&sa).await;
        std::fs::write(
            &kubeconfig,
            format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {}\n    certificate-authority-data: {}\nusers:\n- name: sa\n  user:\n    token: {token}\ncontexts:\n- name: c\n  context: {{cluster: c, user: sa}}\ncurrent-context: c\n",
                self.server, self.ca
            ),
        )
        .unwrap();
        let c = &spec.containers[0];
        let port = sigil_tests::servers::free_port();
        let expand = |a: &str| a.replace("$(POD_NAMESPACE)", NS).replace("$(POD_NAME)", &name);
        let mut args: Vec<String> = c
            .args
            .clone()
            .unwrap_or_default()
            .iter()
            .filter(|a| !a.starts_with("--http-addr") && !a.starts_with("--git-cache-dir"))
            .map(|a| expand(a))
            .collect();
        args.extend([
            format!("--http-addr=127.0.0.1:{port}"),
            format!("--git-cache-dir={}", self.dir.join(format!("{name}-cache")).display()),
            format!("--kubeconfig={}", kubeconfig.display()),
            format!("--watch-label-selector={}", self.selector),
        ]);
        let child = Command::new(env!("CARGO_BIN_EXE_sigil-agent"))
            .args(&args)
            .env("POD_NAMESPACE", NS)
            .env("POD_NAME", &name)
            .env("SIGIL_LOG", "info")
            .env_remove("KUBECONFIG")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(self.dir.join(format!("{name}.log"))).unwrap())
            .spawn()
            .unwrap();
        self.running.insert(
            name,
            Running {
                child,
                port,
                ready: false,
            },
        );
    }

    /// One pass: start new Pods, stop the ones gone, mark ready the ones that answer.
    async fn sync(&mut self) {
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), NS);
        let Ok(list) = pods
            .list(&ListParams::default().labels("app.kubernetes.io/name=sigil-agent"))
            .await
        else {
            return;
        };
        let live: HashMap<String, &Pod> = list
            .items
            .iter()
            .filter(|p| p.metadata.deletion_timestamp.is_none())
            .map(|p| (p.name_any(), p))
            .collect();
        let gone: Vec<String> = self
            .running
            .keys()
            .filter(|n| !live.contains_key(*n))
            .cloned()
            .collect();
        for n in gone {
            if let Some(mut r) = self.running.remove(&n) {
                stop(&mut r);
            }
            // A Pod being deleted is removed once its process stopped, as a kubelet does.
            let _ = pods
                .delete(&n, &kube::api::DeleteParams::default().grace_period(0))
                .await;
        }
        for (n, p) in &live {
            if !self.running.contains_key(n) {
                self.start(p).await;
            }
        }
        for (n, r) in self.running.iter_mut() {
            if let Ok(Some(status)) = r.child.try_wait() {
                panic!("agent pod {n} exited: {status}");
            }
            if !r.ready && http_get(&format!("http://127.0.0.1:{}", r.port), "/readyz").starts_with("HTTP/1.1 200") {
                let now = jiff::Timestamp::now().to_string();
                let status = json!({"status": {"phase": "Running", "conditions": [
                    {"type": "PodScheduled", "status": "True", "lastTransitionTime": now},
                    {"type": "Initialized", "status": "True", "lastTransitionTime": now},
                    {"type": "ContainersReady", "status": "True", "lastTransitionTime": now},
                    {"type": "Ready", "status": "True", "lastTransitionTime": now}]}});
                if pods
                    .patch_status(n, &PatchParams::default(), &Patch::Merge(&status))
                    .await
                    .is_ok()
                {
                    r.ready = true;
                }
            }
        }
    }
}

fn kubectl(kubeconfig: &Path, args: &[&str]) {
    let out = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .output()
        .unwrap();
    ok(&out, &format!("kubectl {args:?}"));
}

/// Waits until `check` holds, playing the kubelet meanwhile.
async fn until<F, Fut>(env: &TestEnv, kubelet: &mut Kubelet, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        kubelet.sync().await;
        if check().await {
            return;
        }
        if Instant::now() > deadline {
            panic!("timed out waiting for {what}; {}", env.log_tails());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Whether the Deployment's rollout is done with `replicas` available.
async fn rolled_out(deploys: &Api<Deployment>, replicas: i32) -> bool {
    let Ok(d) = deploys.get("sigil-agent").await else {
        return false;
    };
    let Some(st) = d.status else { return false };
    st.observed_generation == d.metadata.generation
        && st.updated_replicas == Some(replicas)
        && st.replicas == Some(replicas)
        && st.available_replicas == Some(replicas)
}

async fn leader(leases: &Api<Lease>, selector: &str) -> Option<String> {
    let name = sigil_agent::controller::lease::lease_name("sigil-agent-leader", Some(selector));
    let l = leases.get(&name).await.ok()?;
    l.spec?.holder_identity
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deploy_installs_and_upgrades() {
    let Some(env) = TestEnv::new("deploy").await else {
        return;
    };
    let root = sigil_tests::workspace_root();
    for kind in ["clusterrole", "clusterrolebinding"] {
        env.forget_later(kind, "sigil-agent");
    }
    env.forget_later("clusterrolebinding", "sigil-agent-cluster-admin");
    env.forget_later("validatingadmissionpolicy", "sigil-agent-finalizers-only");
    env.forget_later("validatingadmissionpolicybinding", "sigil-agent-finalizers-only");
    env.track_namespace(NS);
    env.track_namespace("team-a");

    kubectl(
        &env.kubeconfig,
        &["apply", "-k", root.join("deploy/tenant").to_str().unwrap()],
    );
    let kc = kube::config::Kubeconfig::read_from(&env.kubeconfig).unwrap();
    let cluster = kc.clusters[0].cluster.clone().unwrap();
    let selector = format!("{TEST_LABEL}={}", env.id);
    let mut kubelet = Kubelet {
        client: env.client.clone(),
        server: cluster.server.clone().unwrap(),
        ca: cluster.certificate_authority_data.clone().unwrap(),
        dir: env.dir.path().to_path_buf(),
        selector: selector.clone(),
        running: HashMap::new(),
    };
    let deploys: Api<Deployment> = Api::namespaced(env.client.clone(), NS);
    let leases: Api<Lease> = Api::namespaced(env.client.clone(), NS);
    until(&env, &mut kubelet, "deploy/tenant rolled out", || {
        rolled_out(&deploys, 1)
    })
    .await;
    until(&env, &mut kubelet, "a leader", || async {
        leader(&leases, &selector).await.is_some()
    })
    .await;

    // A tenant, its source over HTTP, a Sync without serviceAccountName: it applies as the
    // tenant's sigil-deployer.
    kubectl(
        &env.kubeconfig,
        &[
            "apply",
            "-f",
            root.join("deploy/tenant/example-tenant.yaml").to_str().unwrap(),
        ],
    );
    let repos = env.dir.path().join("served");
    std::fs::create_dir_all(&repos).unwrap();
    let repo = new_repo(&repos);
    write(
        &repo,
        "app/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: one\ndata:\n  k: v\n",
    );
    let victim = env.namespace("victim").await;
    write(
        &repo,
        "other/cm.yaml",
        &format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: planted\n  namespace: {victim}\n"),
    );
    let c1 = commit(&repo, "one");
    let Some(server) = sigil_tests::servers::git_http(&repos, "open", &[]) else {
        return;
    };
    let url = format!("{}/repo", server.url);
    let gitsource = json!({"apiVersion": "sigil.dev/v1alpha1", "kind": "GitSource",
        "metadata": {"name": "repo", "labels": {TEST_LABEL: env.id}},
        "spec": {"url": url, "ref": {"branch": "main"}, "interval": "1h"}});
    crate::support::apply(&env.api::<GitSource>("team-a"), "repo", gitsource).await;
    let sync = |name: &str, path: &str| {
        json!({"apiVersion": "sigil.dev/v1alpha1", "kind": "Sync", "metadata": {"name": name, "labels": {TEST_LABEL: env.id}},
        "spec": {"sourceRef": {"name": "repo"}, "path": path, "interval": "1h", "retryInterval": "2s", "prune": true}})
    };
    let syncs = env.api::<Sync>("team-a");
    crate::support::apply(&syncs, "app", sync("app", "app")).await;
    crate::support::apply(&syncs, "other", sync("other", "other")).await;
    let applied = |name: &'static str, rev: String| {
        let syncs = syncs.clone();
        move || {
            let (syncs, rev) = (syncs.clone(), rev.clone());
            async move {
                syncs
                    .get(name)
                    .await
                    .ok()
                    .and_then(|s| s.status?.last_applied_revision)
                    .as_deref()
                    == Some(rev.as_str())
            }
        }
    };
    until(
        &env,
        &mut kubelet,
        "the tenant's Sync applied",
        applied("app", c1.clone()),
    )
    .await;
    assert!(env.api::<ConfigMap>("team-a").get_opt("one").await.unwrap().is_some());
    let refused = || async {
        let s = syncs.get("other").await.ok();
        s.and_then(|s| crate::support::ready(&s))
            .is_some_and(|r| r.0 == "False" && r.2.contains("forbidden"))
    };
    until(&env, &mut kubelet, "a write into another namespace refused", refused).await;
    assert!(
        env.api::<ConfigMap>(&victim)
            .get_opt("planted")
            .await
            .unwrap()
            .is_none()
    );

    // The agent's own account may hold a Sync (finalizer) but not rewrite it, nor a GitSource.
    let token = kubelet.token("sigil-agent").await;
    let agent_kubeconfig = env.dir.path().join("agent-sa.kubeconfig");
    std::fs::write(
        &agent_kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {}\n    certificate-authority-data: {}\nusers:\n- name: sa\n  user:\n    token: {token}\ncontexts:\n- name: c\n  context: {{cluster: c, user: sa}}\ncurrent-context: c\n",
            kubelet.server, kubelet.ca
        ),
    )
    .unwrap();
    let as_agent = client(&agent_kubeconfig).await;
    let agent_syncs: Api<Sync> = Api::namespaced(as_agent.clone(), "team-a");
    let denied = agent_syncs
        .patch(
            "app",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"path": "other"}})),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(
        denied.contains("sigil-agent-finalizers-only") || denied.contains("may change only"),
        "{denied}"
    );
    let relabel = agent_syncs
        .patch(
            "app",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"x": "y"}}})),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(relabel.contains("labels"), "{relabel}");
    let agent_sources: Api<GitSource> = Api::namespaced(as_agent, "team-a");
    let e = agent_sources
        .patch(
            "repo",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"interval": "1m"}})),
        )
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("forbidden"), "{e}");

    // Roll the template with one replica: the new Pod is ready while the old one leads, the old
    // one goes, the new one leads and carries on.
    let first = leader(&leases, &selector).await.unwrap();
    let roll = |n: &str| json!({"spec": {"template": {"metadata": {"annotations": {"sigil.dev/rolled": n}}}}});
    merge(&deploys, "sigil-agent", roll("1")).await;
    until(&env, &mut kubelet, "the one-replica rollout", || {
        rolled_out(&deploys, 1)
    })
    .await;
    until(&env, &mut kubelet, "a new leader", || async {
        leader(&leases, &selector).await.is_some_and(|l| l != first)
    })
    .await;
    write(
        &repo,
        "app/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: two\ndata:\n  k: v\n",
    );
    let c2 = commit(&repo, "two");
    crate::support::annotate(&env.api::<GitSource>("team-a"), "repo", "2").await;
    until(&env, &mut kubelet, "the new leader applying c2", applied("app", c2)).await;

    // Two replicas: both ready, one leads; roll again.
    merge(&deploys, "sigil-agent", json!({"spec": {"replicas": 2}})).await;
    until(&env, &mut kubelet, "two replicas available", || rolled_out(&deploys, 2)).await;
    let second = leader(&leases, &selector).await.unwrap();
    merge(&deploys, "sigil-agent", roll("2")).await;
    until(&env, &mut kubelet, "the two-replica rollout", || {
        rolled_out(&deploys, 2)
    })
    .await;
    until(&env, &mut kubelet, "a leader among the new Pods", || async {
        let pods: Api<Pod> = Api::namespaced(env.client.clone(), NS);
        let names: Vec<String> = pods
            .list(&ListParams::default())
            .await
            .map(|l| l.items.iter().map(|p| p.name_any()).collect())
            .unwrap_or_default();
        leader(&leases, &selector)
            .await
            .is_some_and(|l| l != second && names.contains(&l))
    })
    .await;
    write(
        &repo,
        "app/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: three\ndata:\n  k: v\n",
    );
    let c3 = commit(&repo, "three");
    crate::support::annotate(&env.api::<GitSource>("team-a"), "repo", "3").await;
    until(
        &env,
        &mut kubelet,
        "c3 applied after the second rollout",
        applied("app", c3),
    )
    .await;

    // deploy/: the same agent with cluster-admin (a Sync without serviceAccountName applies as
    // the agent), upgraded in place (back to the manifest's one replica).
    kubectl(&env.kubeconfig, &["apply", "-k", root.join("deploy").to_str().unwrap()]);
    until(&env, &mut kubelet, "deploy/ rolled out", || rolled_out(&deploys, 1)).await;
    let args = deploys
        .get("sigil-agent")
        .await
        .unwrap()
        .spec
        .template
        .spec
        .unwrap()
        .containers[0]
        .args
        .clone()
        .unwrap();
    assert!(
        !args.iter().any(|a| a.starts_with("--default-service-account")),
        "{args:?}"
    );
    crate::support::annotate(&syncs, "other", "admin").await;
    until(
        &env,
        &mut kubelet,
        "another namespace written with cluster-admin",
        || async {
            env.api::<ConfigMap>(&victim)
                .get_opt("planted")
                .await
                .ok()
                .flatten()
                .is_some()
        },
    )
    .await;
    let logs = env.logs();
    assert!(!logs.contains(&token), "a ServiceAccount token in a log");
    // Clean up while the agent still runs (it releases the finalizers).
    for name in ["app", "other"] {
        let _ = syncs.delete(name, &Default::default()).await;
    }
    until(&env, &mut kubelet, "the Syncs finalized", || async {
        syncs
            .list(&ListParams::default())
            .await
            .map(|l| l.items.is_empty())
            .unwrap_or(false)
    })
    .await;
    drop(server);
}
