//! `wait: true` gates readiness on health: a Deployment whose Pods are not ready fails the Sync
//! with HealthCheckFailed after `timeout` (naming it); once its Pods are Ready (the test plays
//! the kubelet: there are no nodes), the Deployment controller reports it available and the
//! Sync becomes Ready and Healthy.

use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::api::{ListParams, Patch, PatchParams};
use serde_json::json;
use sigil_crds::sigil::Sync;

use crate::support::{TestEnv, annotate, commit, new_repo, write};

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
    // What was applied is in the inventory although the health check failed: nothing orphaned.
    let s = syncs.get("app").await.unwrap();
    let ids: Vec<String> = s
        .status
        .unwrap()
        .inventory
        .unwrap()
        .entries
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(ids, [format!("{apps}_web_apps_Deployment")]);
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

/// kstatus on real controllers: a StatefulSet rolling out with a `partition` is healthy once
/// the replicas at or above it run the new revision (the StatefulSet controller decides which
/// Pods to replace; the test marks Pods ready as a kubelet would), and a health check on
/// another Sync follows its `Ready` condition at its observed generation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statefulset_partitions_and_ready_conditions() {
    let Some(env) = TestEnv::new("sts").await else {
        return;
    };
    let apps = env.namespace("apps").await;
    let repo = new_repo(env.dir.path());
    let sts = |image: &str| {
        format!(
            "apiVersion: apps/v1\nkind: StatefulSet\nmetadata:\n  name: db\nspec:\n  replicas: 2\n  serviceName: db\n  updateStrategy:\n    type: RollingUpdate\n    rollingUpdate: {{partition: 1}}\n  selector:\n    matchLabels: {{app: db}}\n  template:\n    metadata:\n      labels: {{app: db}}\n    spec:\n      containers:\n      - {{name: db, image: \"{image}\"}}\n"
        )
    };
    write(&repo, "db/sts.yaml", &sts("registry.k8s.io/pause:3.9"));
    write(
        &repo,
        "app/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n",
    );
    let c1 = commit(&repo, "one");
    let _agent = env.agent("agent", &[]);
    env.git_source(&apps, "repo", &repo, "10m").await;
    env.sync(
        &apps,
        "db",
        json!({"sourceRef": {"name": "repo"}, "path": "db", "interval": "10m", "retryInterval": "1s", "timeout": "5s", "wait": true}),
    )
    .await;
    env.sync(
        &apps,
        "app",
        json!({"sourceRef": {"name": "repo"}, "path": "app", "interval": "10m", "retryInterval": "1s", "timeout": "5s",
               "healthChecks": [{"apiVersion": "sigil.dev/v1alpha1", "kind": "Sync", "name": "db"}]}),
    )
    .await;
    let limit = Duration::from_secs(90);
    // Both Pods ready: the StatefulSet, then the Sync checking on the other Sync, are healthy.
    env.wait("the StatefulSet healthy at the first revision", limit, || async {
        kubelet_ready(&env, &apps, "app=db").await;
        let s = env.api::<Sync>(&apps).get("db").await.ok()?;
        (s.status?.last_applied_revision? == c1).then_some(())
    })
    .await;
    env.applied(&apps, "app", &c1).await;
    // A new revision with partition 1: only db-1 is replaced; once it runs, it is healthy
    // although db-0 still runs the old revision.
    write(&repo, "db/sts.yaml", &sts("registry.k8s.io/pause:3.10"));
    let c2 = commit(&repo, "two");
    annotate(&env.api::<sigil_crds::sigil::GitSource>(&apps), "repo", "2").await;
    env.wait("the partitioned rollout healthy", limit, || async {
        kubelet_ready(&env, &apps, "app=db").await;
        let s = env.api::<Sync>(&apps).get("db").await.ok()?;
        (s.status?.last_applied_revision? == c2).then_some(())
    })
    .await;
    let sts: k8s_openapi::api::apps::v1::StatefulSet = env.api(&apps).get("db").await.unwrap();
    let st = sts.status.unwrap();
    assert_ne!(
        st.current_revision, st.update_revision,
        "db-0 still runs the old revision"
    );
    assert!(st.updated_replicas.unwrap_or(0) >= 1);
    // The Sync health check follows the other Sync.
    env.applied(&apps, "app", &c2).await;
}
