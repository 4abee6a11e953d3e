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
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: kmock\n  cluster:\n    server: {}\ncontexts:\n- name: kmock\n  context:\n    cluster: kmock\n    user: anonymous\n    namespace: default\nusers:\n- name: anonymous\n  user: {{}}\ncurrent-context: kmock\n",
            api.url
        ),
    )
    .unwrap();
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
