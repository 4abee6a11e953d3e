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
