//! `wait: true` gates readiness on health: a Deployment whose Pods are not ready fails the Sync
//! with HealthCheckFailed after `timeout` (naming it); once its Pods are Ready (the test plays
//! the kubelet: there are no nodes), the Deployment controller reports it available and the
//! Sync becomes Ready and Healthy.

use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::api::{ListParams, Patch, PatchParams};
use serde_json::json;
use sigil_crds::sigil::Sync;

use crate::support::{TestEnv, commit, new_repo, write};

/// Marks every Pod in `namespace` matching `selector` Running and Ready, as a kubelet would.
pub async fn kubelet_ready(env: &TestEnv, namespace: &str, selector: &str) -> usize {
    let pods = env.api::<Pod>(namespace);
    let list = pods.list(&ListParams::default().labels(selector)).await.unwrap();
    let now = jiff::Timestamp::now().to_string();
    for p in &list.items {
        let name = p.metadata.name.clone().unwrap();
        let status = json!({"status": {"phase": "Running", "conditions": [
            {"type": "Ready", "status": "True", "lastTransitionTime": now},
            {"type": "ContainersReady", "status": "True", "lastTransitionTime": now},
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": now}]}});
        let _ = pods
            .patch_status(&name, &PatchParams::default(), &Patch::Merge(&status))
            .await;
    }
    list.items.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_checks_gate_readiness() {
    let Some(env) = TestEnv::new("health").await else {
        return;
    };
    let apps = env.namespace("apps").await;
    let repo = new_repo(env.dir.path());
    write(
        &repo,
        "app/deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - {name: web, image: registry.k8s.io/pause:3.10}\n",
    );
    commit(&repo, "deploy");
    let _agent = env.agent("agent", &[]);
    env.git_source(&apps, "repo", &repo, "10m").await;
    env.sync(
        &apps,
        "app",
        json!({"sourceRef": {"name": "repo"}, "path": "app", "interval": "10m", "retryInterval": "1s",
               "timeout": "3s", "wait": true}),
    )
    .await;
    let syncs = env.api::<Sync>(&apps);
    let limit = Duration::from_secs(60);
    let condition = |kind: &'static str, status: &'static str, reason: &'static str| {
        let syncs = syncs.clone();
        move || {
            let syncs = syncs.clone();
            async move {
                let s = syncs.get("app").await.ok()?;
                let c = s.status?.conditions.into_iter().find(|c| c.type_ == kind)?;
                (c.status == status && c.reason == reason).then_some(c)
            }
        }
    };
    let c = env
        .wait(
            "HealthCheckFailed",
            limit,
            condition("Ready", "False", "HealthCheckFailed"),
        )
        .await;
    assert!(c.message.contains(&format!("Deployment {apps}/web")), "{}", c.message);
    // The kubelet's part: the Pods run and are ready.
    env.wait("the Deployment's Pod", limit, || async {
        (kubelet_ready(&env, &apps, "app=web").await > 0).then_some(())
    })
    .await;
    env.wait(
        "Ready after the rollout",
        limit,
        condition("Ready", "True", "ReconciliationSucceeded"),
    )
    .await;
    env.wait("Healthy", limit, condition("Healthy", "True", "Succeeded"))
        .await;
}
