//! The controllers' flow against the kmock Kubernetes API emulator (tools/peers): GitSource
//! fetch, Sync render/apply/prune/drift, failures that apply nothing, dependsOn, suspend, and no
//! plaintext in logs, events or statuses. kmock is not an API server (no field ownership,
//! conflicts or RBAC): the same scenario runs against a real cluster in `cluster.rs`.

#[path = "support/scenario.rs"]
mod scenario;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn controllers_against_the_emulator() {
    let Some(api) = sigil_tests::servers::kmock() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = scenario::kubeconfig_for(&api.url, dir.path());
    scenario::run(
        scenario::Target {
            kubeconfig,
            real: false,
        },
        "kmock",
    )
    .await;
    drop(api);
}

fn client_for(url: &str) -> kube::Client {
    let config = kube::Config::new(url.parse().unwrap());
    kube::Client::try_from(config).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_leader_at_a_time() {
    use sigil_agent::controller::lease::Elector;
    use std::time::Duration;
    let Some(api) = sigil_tests::servers::kmock() else {
        return;
    };
    let d = Duration::from_secs(2);
    let a = Elector::new(client_for(&api.url), "sigil-system", "leader", "a").duration(d);
    let b = Elector::new(client_for(&api.url), "sigil-system", "leader", "b").duration(d);
    assert!(a.try_acquire().await.unwrap(), "the first replica takes the free Lease");
    assert!(!b.try_acquire().await.unwrap(), "the second waits while it is held");
    assert!(a.try_acquire().await.unwrap(), "the holder renews");
    assert!(!b.try_acquire().await.unwrap());
    // The holder stops renewing: after the lease duration the other replica takes over.
    tokio::time::sleep(d + Duration::from_millis(600)).await;
    assert!(b.try_acquire().await.unwrap(), "an expired Lease is taken over");
    assert!(!a.try_acquire().await.unwrap(), "the old holder does not take it back");
    let leases: kube::Api<k8s_openapi::api::coordination::v1::Lease> =
        kube::Api::namespaced(client_for(&api.url), "sigil-system");
    let spec = leases.get("leader").await.unwrap().spec.unwrap();
    assert_eq!(spec.holder_identity.as_deref(), Some("b"));
    assert_eq!(spec.lease_transitions, Some(1));
    // A clean shutdown gives the Lease up at once.
    b.release().await;
    assert!(a.try_acquire().await.unwrap(), "a released Lease is free");
}

/// ExternalSecrets through a Sync, with a store logging in to OpenBao as a ServiceAccount
/// (OpenBao checks the token with TokenReview against the emulator); see `support/scenario.rs`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn external_secrets_refresh_with_service_account_login() {
    let Some(api) = sigil_tests::servers::kmock() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = scenario::kubeconfig_for(&api.url, dir.path());
    scenario::external_secrets(
        scenario::Target {
            kubeconfig,
            real: false,
        },
        "ext",
    )
    .await;
    drop(api);
}

/// `wait: true` gates readiness on health: a Deployment whose rollout is not observed fails the
/// Sync with HealthCheckFailed after `timeout` (naming it); once its status says rolled out (the
/// test plays the Deployment controller), the Sync becomes Ready and Healthy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_checks_gate_readiness() {
    use k8s_openapi::api::apps::v1::Deployment;
    use kube::api::{Api, Patch, PatchParams};
    use serde_json::json;
    use std::time::Duration;
    let Some(api) = sigil_tests::servers::kmock() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let repo = scenario::new_repo(dir.path());
    scenario::write(
        &repo,
        "app/deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - {name: web, image: registry.k8s.io/pause:3.10}\n",
    );
    scenario::commit(&repo, "deploy");
    let kubeconfig = scenario::kubeconfig_for(&api.url, dir.path());
    let client = scenario::client(&kubeconfig).await;
    let _agent = scenario::start_agent(&kubeconfig, "health-system", dir.path());
    let sources: Api<sigil_crds::sigil::GitSource> = Api::namespaced(client.clone(), "health");
    let syncs: Api<sigil_crds::sigil::Sync> = Api::namespaced(client.clone(), "health");
    scenario::git_source(&sources, &repo, "10m").await;
    scenario::apply(
        &syncs,
        "app",
        json!({"apiVersion": "sigil.dev/v1alpha1", "kind": "Sync", "metadata": {"name": "app"},
               "spec": {"sourceRef": {"name": "repo"}, "path": "app", "interval": "10m", "retryInterval": "1s",
                        "timeout": "2s", "wait": true}}),
    )
    .await;
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
    let c = scenario::wait_for(
        "HealthCheckFailed",
        limit,
        condition("Ready", "False", "HealthCheckFailed"),
    )
    .await;
    assert!(c.message.contains("Deployment health/web"), "{}", c.message);
    let deploys: Api<Deployment> = Api::namespaced(client.clone(), "health");
    let generation = deploys.get("web").await.unwrap().metadata.generation.unwrap();
    let rolled_out = json!({"status": {"observedGeneration": generation, "replicas": 1, "updatedReplicas": 1,
                                       "readyReplicas": 1, "availableReplicas": 1}});
    deploys
        .patch_status("web", &PatchParams::default(), &Patch::Merge(&rolled_out))
        .await
        .unwrap();
    let ready = condition("Ready", "True", "ReconciliationSucceeded");
    scenario::wait_for("Ready after the rollout", limit, ready).await;
    scenario::wait_for("Healthy", limit, condition("Healthy", "True", "Succeeded")).await;
}
