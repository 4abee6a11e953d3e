//! Many tenants on one agent, on a real API server with RBAC: Syncs apply as their namespace's
//! ServiceAccount (`--default-service-account`), may not refer to other namespaces
//! (`--no-cross-namespace-refs`), GitSources are limited to network schemes, tenants cannot
//! plant or select a sealing key (and a malformed key Secret does not stop the agent), and
//! Secret changes are reported with digests keyed by the agent's own key.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use k8s_openapi::api::core::v1::{ConfigMap, Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::RoleBinding;
use serde_json::json;
use sigil_crds::sigil::{GitSource, Sync};

use crate::support::{TestEnv, annotate, apply, commit, new_repo, write};

fn cm(name: &str, ns: Option<&str>) -> String {
    let ns = ns.map(|n| format!("\n  namespace: {n}")).unwrap_or_default();
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}{ns}\ndata:\n  k: v\n")
}

/// A ServiceAccount `deployer` allowed to edit its own namespace only.
async fn deployer(env: &TestEnv, ns: &str) {
    apply(
        &env.api::<ServiceAccount>(ns),
        "deployer",
        json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "deployer"}}),
    )
    .await;
    apply(
        &env.api::<RoleBinding>(ns),
        "deployer-edit",
        json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": {"name": "deployer-edit"},
               "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "edit"},
               "subjects": [{"kind": "ServiceAccount", "name": "deployer", "namespace": ns}]}),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_apply_as_their_service_account_and_stay_in_their_namespace() {
    let Some(env) = TestEnv::new("tenant").await else {
        return;
    };
    let (a, b) = (env.namespace("team-a").await, env.namespace("team-b").await);
    deployer(&env, &a).await;
    deployer(&env, &b).await;
    let repo = new_repo(env.dir.path());
    write(&repo, "own/cm.yaml", &cm("mine", None));
    write(&repo, "theirs/cm.yaml", &cm("planted", Some(&b)));
    let c1 = commit(&repo, "one");
    let _agent = env.agent(
        "agent",
        &["--default-service-account", "deployer", "--no-cross-namespace-refs"],
    );
    env.git_source(&a, "repo", &repo, "1h").await;
    env.git_source(&b, "repo", &repo, "1h").await;
    let sync =
        |path: &str| json!({"sourceRef": {"name": "repo"}, "path": path, "interval": "1h", "retryInterval": "2s"});
    // In its own namespace, as team-a's deployer: fine.
    env.sync(&a, "own", sync("own")).await;
    env.applied(&a, "own", &c1).await;
    assert!(env.api::<ConfigMap>(&a).get_opt("mine").await.unwrap().is_some());
    // Into team-b's namespace: team-a's deployer may not.
    env.sync(&a, "theirs", sync("theirs")).await;
    let message = env.failed_with(&a, "theirs", "ApplyFailed").await;
    assert!(
        message.contains("forbidden") && message.contains(&format!("system:serviceaccount:{a}:deployer")),
        "{message}"
    );
    assert!(env.api::<ConfigMap>(&b).get_opt("planted").await.unwrap().is_none());
    // A source or dependency in another namespace: refused before anything runs.
    let mut cross = sync("own");
    cross["sourceRef"]["namespace"] = b.clone().into();
    env.sync(&a, "cross-source", cross).await;
    let message = env.failed_with(&a, "cross-source", "AccessDenied").await;
    assert!(message.contains("cross-namespace"), "{message}");
    let mut dep = sync("own");
    dep["dependsOn"] = json!([{"name": "own", "namespace": b}]);
    env.sync(&a, "cross-dep", dep).await;
    env.failed_with(&a, "cross-dep", "AccessDenied").await;
    // Only network schemes for GitSources (file:// is allowed in this test agent only).
    env.git_source_spec(&a, "daemon", json!({"url": "git://127.0.0.1/repo", "interval": "1h"}))
        .await;
    let gs = env
        .wait("the git:// source refused", Duration::from_secs(30), || async {
            let g = env.api::<GitSource>(&a).get("daemon").await.ok()?;
            let c = g.status?.conditions.into_iter().find(|c| c.type_ == "Ready")?;
            (c.status == "False").then_some(c)
        })
        .await;
    assert!(gs.message.contains("scheme git is not supported"), "{}", gs.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sealing_keys_cannot_be_planted_and_bad_keys_do_not_stop_the_agent() {
    let Some(env) = TestEnv::new("keys").await else { return };
    let apps = env.namespace("apps").await;
    // A malformed key Secret in the agent's namespace before it starts.
    apply(
        &env.api::<Secret>(&env.system),
        "broken-key",
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "broken-key",
               "labels": {"sealedsecrets.bitnami.com/sealed-secrets-key": "active"}},
               "type": "kubernetes.io/tls", "data": {"tls.crt": B64.encode("no"), "tls.key": B64.encode("no")}}),
    )
    .await;
    let agent = env.agent("agent", &[]);
    let cert = env
        .wait("the agent's own key", Duration::from_secs(60), || async {
            let r = agent.get("/v1/cert.pem");
            r.contains("BEGIN CERTIFICATE")
                .then(|| r.split("\r\n\r\n").nth(1).unwrap_or("").to_string())
        })
        .await;
    env.events_with(&env.system, "broken-key", &["not used as a sealing key"])
        .await;
    // A key applied through a Sync, and any object into the agent's namespace: refused.
    let key = sigil_crypto::sealed::SealingKey::generate(2048).unwrap();
    let pem = key.self_signed_cert().unwrap();
    let planted = sigil_crypto::sealed::keys::key_secret_manifest(&key, &pem, &apps).unwrap();
    let repo = new_repo(env.dir.path());
    write(&repo, "key/key.yaml", &planted);
    write(&repo, "into/cm.yaml", &cm("into-agent-ns", Some(&env.system)));
    commit(&repo, "one");
    env.git_source(&apps, "repo", &repo, "1h").await;
    env.sync(
        &apps,
        "key",
        json!({"sourceRef": {"name": "repo"}, "path": "key", "interval": "1h"}),
    )
    .await;
    env.sync(
        &apps,
        "into",
        json!({"sourceRef": {"name": "repo"}, "path": "into", "interval": "1h"}),
    )
    .await;
    let message = env.failed_with(&apps, "key", "AccessDenied").await;
    assert!(message.contains("sealing key"), "{message}");
    let message = env.failed_with(&apps, "into", "AccessDenied").await;
    assert!(message.contains(&env.system), "{message}");
    // A Secret with Sigil's label only, even in the agent's namespace, does not count.
    let mut sigil_only = sigil_crds::manifest::load(planted.as_bytes()).unwrap().remove(0);
    sigil_only["metadata"]["namespace"] = env.system.clone().into();
    sigil_only["metadata"]["name"] = "sigil-only".into();
    sigil_only["metadata"]["labels"] = json!({"sigil.dev/sealing-key": "active"});
    sigil_only["metadata"]["creationTimestamp"] = serde_json::Value::Null;
    apply(&env.api::<Secret>(&env.system), "sigil-only", sigil_only).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let still = agent.get("/v1/cert.pem");
    assert!(still.contains(cert.trim()), "the served certificate changed");
    assert!(!still.contains(pem.trim()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secret_changes_carry_keyed_digests() {
    let Some(env) = TestEnv::new("digest").await else {
        return;
    };
    let apps = env.namespace("apps").await;
    let repo = new_repo(env.dir.path());
    let secret =
        |v: &str| format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: {v}\n");
    write(&repo, "app/s.yaml", &secret("pw-one"));
    let c1 = commit(&repo, "one");
    let _agent = env.agent("agent", &[]);
    env.git_source(&apps, "repo", &repo, "1h").await;
    env.sync(
        &apps,
        "app",
        json!({"sourceRef": {"name": "repo"}, "path": "app", "interval": "1h"}),
    )
    .await;
    env.applied(&apps, "app", &c1).await;
    write(&repo, "app/s.yaml", &secret("pw-two"));
    let c2 = commit(&repo, "two");
    annotate(&env.api::<GitSource>(&apps), "repo", "2").await;
    env.applied(&apps, "app", &c2).await;
    let stored = env.api::<Secret>(&env.system).get("sigil-digest-key").await.unwrap();
    let key = sigil_agent::digest::DigestKey::from_bytes(&stored.data.unwrap()["key"].0);
    let want = format!(
        "~password (hmac:{} -> hmac:{})",
        key.short(b"pw-one"),
        key.short(b"pw-two")
    );
    let notes = env.events_with(&apps, "app", &[&want]).await;
    let plain = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(b"pw-two"));
    assert!(!notes.contains(&plain[..12]), "a plain hash of a value is shown");
    assert!(!notes.contains("pw-two") && !env.logs().contains("pw-two"));
    let s = env.api::<Sync>(&apps).get("app").await.unwrap();
    assert!(!serde_json::to_string(&s).unwrap().contains("pw-two"));
}
