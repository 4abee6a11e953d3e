//! A Sync's life on a real API server: deleting it garbage-collects its objects when it
//! prunes (and leaves them when not), deleting its GitSource leaves everything in place,
//! `dependsOn` waits for the dependency at the source's current revision, `timeout` bounds a
//! stuck reconcile, and `postBuild` substitutes variables (values from Secrets kept secret).

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret};
use kube::api::{Api, DeleteParams};
use serde_json::json;
use sigil_crds::sigil::{GitSource, Sync};

use crate::health::kubelet_ready;
use crate::support::{TestEnv, annotate, apply, commit, event_notes, merge, new_repo, ready, write};

fn cm(name: &str, ns: Option<&str>) -> String {
    let ns = ns.map(|n| format!("\n  namespace: {n}")).unwrap_or_default();
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}{ns}\ndata:\n  k: v\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_syncs_and_sources() {
    let Some(env) = TestEnv::new("del").await else { return };
    let apps = env.namespace("apps").await;
    let owned = format!("{}-owned", env.id);
    env.forget_later("namespace", &owned);
    let repo = new_repo(env.dir.path());
    write(
        &repo,
        "pruning/all.yaml",
        &format!(
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {owned}\n---\n{}---\n{}",
            cm("in-owned", Some(&owned)),
            cm("p1", None)
        ),
    );
    write(&repo, "keeping/cm.yaml", &cm("k1", None));
    let c1 = commit(&repo, "one");
    let _agent = env.agent("agent", &[]);
    env.git_source(&apps, "repo", &repo, "1h").await;
    for (name, prune) in [("pruning", true), ("keeping", false)] {
        env.sync(&apps, name, json!({"sourceRef": {"name": "repo"}, "path": name, "interval": "1h", "retryInterval": "1s", "prune": prune}))
            .await;
    }
    env.applied(&apps, "pruning", &c1).await;
    env.applied(&apps, "keeping", &c1).await;
    let syncs = env.api::<Sync>(&apps);
    let s = syncs.get("pruning").await.unwrap();
    assert!(
        s.metadata
            .finalizers
            .unwrap_or_default()
            .contains(&"finalizers.sigil.dev".to_string())
    );

    // The GitSource goes: the Syncs say so and keep everything.
    let sources = env.api::<GitSource>(&apps);
    sources.delete("repo", &DeleteParams::default()).await.unwrap();
    for name in ["pruning", "keeping"] {
        let message = env.failed_with(&apps, name, "ArtifactFailed").await;
        assert!(message.contains("not found"), "{message}");
    }
    let cms = env.api::<ConfigMap>(&apps);
    for n in ["p1", "k1"] {
        assert!(
            cms.get_opt(n).await.unwrap().is_some(),
            "{n} kept while the source is gone"
        );
    }
    // It comes back: so do the Syncs.
    env.git_source(&apps, "repo", &repo, "1h").await;
    env.ready_is(&apps, "pruning", "True").await;
    env.ready_is(&apps, "keeping", "True").await;

    // Deleting a pruning Sync deletes what it applied (the Namespace, finalized, last).
    syncs.delete("pruning", &DeleteParams::default()).await.unwrap();
    let namespaces: Api<Namespace> = Api::all(env.client.clone());
    env.wait(
        "the pruning Sync and its objects gone",
        Duration::from_secs(90),
        || async {
            let sync_gone = syncs.get_opt("pruning").await.ok()?.is_none();
            let cm_gone = cms.get_opt("p1").await.ok()?.is_none();
            let ns_gone = namespaces.get_opt(&owned).await.ok()?.is_none();
            (sync_gone && cm_gone && ns_gone).then_some(())
        },
    )
    .await;
    let (inside, ns) = (
        format!("ConfigMap {owned}/in-owned deleted"),
        format!("Namespace {owned} deleted"),
    );
    let notes = env.events_with(&apps, "pruning", &[&inside, &ns]).await;
    assert!(notes.find(&inside) < notes.find(&ns), "{notes}");

    // Deleting a Sync that does not prune leaves its objects.
    syncs.delete("keeping", &DeleteParams::default()).await.unwrap();
    env.wait("the keeping Sync gone", Duration::from_secs(30), || async {
        syncs.get_opt("keeping").await.ok()?.is_none().then_some(())
    })
    .await;
    assert!(
        cms.get_opt("k1").await.unwrap().is_some(),
        "prune: false keeps the objects"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn depends_on_waits_for_the_current_revision() {
    let Some(env) = TestEnv::new("deps").await else { return };
    let apps = env.namespace("apps").await;
    let repo = new_repo(env.dir.path());
    let deploy = |replicas: u32| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: db\nspec:\n  replicas: {replicas}\n  selector:\n    matchLabels: {{app: db}}\n  template:\n    metadata:\n      labels: {{app: db}}\n    spec:\n      containers:\n      - {{name: db, image: registry.k8s.io/pause:3.10}}\n"
        )
    };
    write(&repo, "infra/db.yaml", &deploy(0));
    write(&repo, "app/cm.yaml", &cm("app", None));
    let c1 = commit(&repo, "one");
    let _agent = env.agent("agent", &["--requeue-dependency", "1s"]);
    env.git_source(&apps, "repo", &repo, "1h").await;
    env.sync(
        &apps,
        "infra",
        json!({"sourceRef": {"name": "repo"}, "path": "infra", "interval": "1h", "retryInterval": "1s",
        "timeout": "4s", "wait": true}),
    )
    .await;
    env.sync(
        &apps,
        "app",
        json!({"sourceRef": {"name": "repo"}, "path": "app", "interval": "1h", "retryInterval": "1s",
        "dependsOn": [{"name": "infra"}]}),
    )
    .await;
    env.applied(&apps, "infra", &c1).await;
    env.applied(&apps, "app", &c1).await;

    // A new commit that infra cannot get healthy with yet: app must wait for infra at it.
    write(&repo, "infra/db.yaml", &deploy(1));
    write(&repo, "app/cm.yaml", &cm("app2", None));
    let c2 = commit(&repo, "two");
    annotate(&env.api::<GitSource>(&apps), "repo", "2").await;
    let syncs = env.api::<Sync>(&apps);
    let s = env
        .wait(
            "app waiting for infra at the new revision",
            Duration::from_secs(60),
            || async {
                let s = syncs.get("app").await.ok()?;
                let (st, reason, _) = ready(&s)?;
                (st == "False" && reason == "DependencyNotReady").then_some(s)
            },
        )
        .await;
    let (_, _, message) = ready(&s).unwrap();
    assert!(message.contains(&format!("dependency '{apps}/infra'")), "{message}");
    assert_eq!(s.status.unwrap().last_applied_revision.as_deref(), Some(c1.as_str()));
    assert!(env.api::<ConfigMap>(&apps).get_opt("app2").await.unwrap().is_none());
    // The kubelet's part: infra becomes healthy at c2, and app follows.
    env.wait("the db Pod", Duration::from_secs(60), || async {
        (kubelet_ready(&env, &apps, "app=db").await > 0).then_some(())
    })
    .await;
    env.applied(&apps, "infra", &c2).await;
    env.applied(&apps, "app", &c2).await;
    assert!(env.api::<ConfigMap>(&apps).get_opt("app2").await.unwrap().is_some());
    assert!(env.api::<Deployment>(&apps).get("db").await.is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stuck_reconcile_is_reported() {
    let Some(env) = TestEnv::new("stuck").await else { return };
    let apps = env.namespace("apps").await;
    // A "Vault" that accepts connections and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = silent.local_addr().unwrap();
    let repo = new_repo(env.dir.path());
    write(
        &repo,
        "app/es.yaml",
        &format!(
            "apiVersion: external-secrets.io/v1\nkind: SecretStore\nmetadata:\n  name: vault\nspec:\n  provider:\n    vault:\n      server: http://{addr}\n      path: secret\n      version: v2\n      auth:\n        tokenSecretRef: {{name: vault-token, key: token}}\n---\napiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata:\n  name: db\nspec:\n  secretStoreRef: {{name: vault}}\n  target: {{name: db}}\n  data:\n  - secretKey: p\n    remoteRef: {{key: app, property: p}}\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: vault-token\nstringData:\n  token: not-a-real-token\n"
        ),
    );
    write(&repo, "ok/cm.yaml", &cm("fine", None));
    let c1 = commit(&repo, "one");
    let _agent = env.agent("agent", &[]);
    env.git_source(&apps, "repo", &repo, "1h").await;
    env.sync(
        &apps,
        "stuck",
        json!({"sourceRef": {"name": "repo"}, "path": "app", "interval": "1h", "timeout": "3s"}),
    )
    .await;
    let message = env.failed_with(&apps, "stuck", "ReconciliationTimedOut").await;
    assert!(message.contains("3s") && message.contains("rendering"), "{message}");
    // The agent goes on with other Syncs.
    env.sync(
        &apps,
        "ok",
        json!({"sourceRef": {"name": "repo"}, "path": "ok", "interval": "1h"}),
    )
    .await;
    env.applied(&apps, "ok", &c1).await;
    drop(silent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_build_substitution() {
    const SECRET_VALUE: &str = "Substituted-Secret-Canary-5";
    let Some(env) = TestEnv::new("subst").await else { return };
    let apps = env.namespace("apps").await;
    let repo = new_repo(env.dir.path());
    write(
        &repo,
        "app/all.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web-${env}\nspec:\n  replicas: ${replicas}\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web, region: \"${region:=eu-west-1}\"}\n    spec:\n      containers:\n      - name: web\n        image: registry.k8s.io/pause:3.10\n        env:\n        - {name: TOKEN, value: \"${token}\"}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: raw\n  annotations:\n    sigil.dev/substitute: disabled\ndata:\n  script: echo ${HOME}\n",
    );
    let c1 = commit(&repo, "one");
    apply(
        &env.api::<ConfigMap>(&apps),
        "vars",
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "vars"}, "data": {"env": "staging", "replicas": "2"}}),
    )
    .await;
    apply(
        &env.api::<Secret>(&apps),
        "secret-vars",
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "secret-vars"}, "stringData": {"token": SECRET_VALUE}}),
    )
    .await;
    let _agent = env.agent("agent", &[]);
    env.git_source(&apps, "repo", &repo, "1h").await;
    env.sync(&apps, "app", json!({"sourceRef": {"name": "repo"}, "path": "app", "interval": "1h", "retryInterval": "1s",
        "postBuild": {"substitute": {"env": "prod"},
                      "substituteFrom": [{"kind": "ConfigMap", "name": "vars"}, {"kind": "Secret", "name": "secret-vars"},
                                         {"kind": "ConfigMap", "name": "absent", "optional": true}]}})).await;
    env.applied(&apps, "app", &c1).await;
    let d = env
        .api::<Deployment>(&apps)
        .get("web-prod")
        .await
        .expect("inline substitute wins");
    let spec = d.spec;
    assert_eq!(spec.replicas, Some(2), "a number stays a number");
    let t = spec.template;
    assert_eq!(t.metadata.unwrap().labels.unwrap()["region"], "eu-west-1");
    assert_eq!(
        t.spec.unwrap().containers[0].env.as_ref().unwrap()[0].value.as_deref(),
        Some(SECRET_VALUE)
    );
    let raw = env.api::<ConfigMap>(&apps).get("raw").await.unwrap();
    assert_eq!(raw.data.unwrap()["script"], "echo ${HOME}", "opted out");

    // A variable that is not defined, and a non-optional source that is missing: named.
    merge(
        &env.api::<Sync>(&apps),
        "app",
        json!({"spec": {"postBuild": {"substituteFrom": [{"kind": "ConfigMap", "name": "vars"}]}}}),
    )
    .await;
    let message = env.failed_with(&apps, "app", "BuildFailed").await;
    assert!(
        message.contains("\"token\"") && message.contains("Deployment"),
        "{message}"
    );
    merge(
        &env.api::<Sync>(&apps),
        "app",
        json!({"spec": {"postBuild": {"substituteFrom": [{"kind": "ConfigMap", "name": "missing"}]}}}),
    )
    .await;
    env.wait("the missing ConfigMap named", Duration::from_secs(30), || async {
        let s = env.api::<Sync>(&apps).get("app").await.ok()?;
        ready(&s)
            .filter(|r| r.2.contains("ConfigMap") && r.2.contains("missing"))
            .map(|_| ())
    })
    .await;
    let all = format!("{}{}", env.logs(), event_notes(&env, &apps, "app").await.join("\n"));
    let statuses = serde_json::to_string(&env.api::<Sync>(&apps).get("app").await.unwrap().status).unwrap();
    assert!(
        !all.contains(SECRET_VALUE) && !statuses.contains(SECRET_VALUE),
        "a Secret-sourced value leaked"
    );
}
