//! The controllers against a real Kubernetes API server, when `SIGIL_TEST_KUBECONFIG` names a
//! kubeconfig (skipped, saying so, otherwise). The agent runs out of cluster with that
//! kubeconfig; it creates and deletes namespaces `sigil-e2e-<pid>-{system,apps}` and installs
//! Sigil's CRDs. Run: `SIGIL_TEST_KUBECONFIG=~/.kube/config cargo test -p sigil-agent --test cluster`.

#[path = "support/scenario.rs"]
mod scenario;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn controllers_against_a_real_cluster() {
    let Some(kubeconfig) = std::env::var_os("SIGIL_TEST_KUBECONFIG") else {
        eprintln!("SKIPPED: SIGIL_TEST_KUBECONFIG is not set (no Kubernetes cluster to test against)");
        return;
    };
    scenario::run(
        scenario::Target {
            kubeconfig: kubeconfig.into(),
            real: true,
        },
        &format!("sigil-e2e-{}", std::process::id()),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn external_secrets_with_kubernetes_auth_on_a_real_cluster() {
    let Some(kubeconfig) = std::env::var_os("SIGIL_TEST_KUBECONFIG") else {
        eprintln!("SKIPPED: SIGIL_TEST_KUBECONFIG is not set (no Kubernetes cluster for Vault's kubernetes auth)");
        return;
    };
    scenario::external_secrets(
        scenario::Target {
            kubeconfig: kubeconfig.into(),
            real: true,
        },
        &format!("sigil-ext-{}", std::process::id()),
    )
    .await;
}
