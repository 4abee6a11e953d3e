//! ExternalSecrets through a Sync: a store that logs in to OpenBao with Kubernetes auth as a
//! ServiceAccount (token from the TokenRequest API; OpenBao checks it with TokenReview against
//! the API server), the Sync's `spec.vault` as the default store, and `refreshInterval` bringing
//! a changed Vault value to the cluster without a new commit.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::ClusterRoleBinding;
use kube::Api;
use serde_json::json;
use sigil_tests::servers::bao_api;

use crate::support::{TestEnv, apply, commit, new_repo, write};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn external_secrets_with_kubernetes_auth() {
    const V1: &str = "Refresh-Canary-One-3";
    const V2: &str = "Refresh-Canary-Two-4";
    let Some(env) = TestEnv::new("ext").await else { return };
    let Some(bao) = sigil_tests::servers::bao() else { return };
    let apps = env.namespace("apps").await;
    let kc = kube::config::Kubeconfig::read_from(&env.kubeconfig).unwrap();
    let cluster = kc.clusters[0].cluster.clone().unwrap();
    let ca = String::from_utf8(B64.decode(cluster.certificate_authority_data.unwrap()).unwrap()).unwrap();
    let auth_config = json!({"kubernetes_host": cluster.server.clone().unwrap(), "disable_local_ca_jwt": true,
                             "kubernetes_ca_cert": ca});
    // The ServiceAccount, allowed to have tokens reviewed (Vault reviews with the login token).
    apply(
        &env.api::<ServiceAccount>(&apps),
        "vault-reader",
        json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "vault-reader"}}),
    )
    .await;
    let crbs: Api<ClusterRoleBinding> = Api::all(env.client.clone());
    let crb = format!("{}-vault-reader-auth-delegator", env.id);
    apply(
        &crbs,
        &crb,
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": crb},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "system:auth-delegator"},
        "subjects": [{"kind": "ServiceAccount", "name": "vault-reader", "namespace": apps}]}),
    )
    .await;
    env.forget_later("clusterrolebinding", &crb);
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

    let repo = new_repo(env.dir.path());
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
    let _agent = env.agent("agent", &[]);
    env.git_source(&apps, "repo", &repo, "10m").await;
    env.sync(
        &apps,
        "ext",
        json!({"sourceRef": {"name": "repo"}, "path": "app", "interval": "10m", "vault": {"storeName": "vault"}}),
    )
    .await;
    let secrets = env.api::<Secret>(&apps);
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
    env.wait("the ExternalSecret's value applied", limit, password(V1))
        .await;
    env.applied(&apps, "ext", &c1).await;
    // Vault changes, Git does not: the refresh brings the new value.
    call("POST", "secret/data/app", json!({"data": {"password": V2}}));
    env.wait("the refreshed value applied", limit, password(V2)).await;
    let logs = env.logs();
    for v in [V1, V2] {
        assert!(!logs.contains(v), "the agent's log shows a Vault value");
    }
    assert!(!logs.contains("eyJ"), "the agent's log shows a token");
}
