//! The whole loop on a real API server: a GitSource on a local repository, a Sync with a SOPS
//! Secret (real `sops` + `age-keygen`) and a SealedSecret, a second Sync depending on it; then
//! field ownership, a no-op reconcile, impersonation refused by RBAC, prune after a commit, a
//! hand edit reverted, a tampered SOPS file that applies nothing, suspend — and no plaintext
//! in what the agent emitted (logs at debug, events, statuses).

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Secret, ServiceAccount};
use kube::ResourceExt;
use kube::api::{DeleteParams, ListParams};
use serde_json::json;
use sigil_crds::sigil::{GitSource, Sync};
use sigil_crypto::sealed::{PublicCert, Scope, SealingKey};
use sigil_tests::{Sops, age_keygen, ok};

use crate::support::{TestEnv, annotate, apply, commit, merge, new_repo, ready, write};

const SOPS_CANARY: &str = "Cluster-Sops-Canary-7";
const SEALED_CANARY: &str = "Cluster-Sealed-Canary-8";

fn value(s: &Secret, k: &str) -> String {
    String::from_utf8(s.data.as_ref().unwrap()[k].0.clone()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_loop() {
    let Some(env) = TestEnv::new("flow").await else { return };
    let Some(sops) = Sops::find() else { return };
    let Some(age) = age_keygen(env.dir.path(), "sync") else {
        return;
    };
    let apps = env.namespace("apps").await;

    // The repository.
    let repo = new_repo(env.dir.path());
    write(
        &repo,
        "app/kustomization.yaml",
        "resources: [config.yaml, db.yaml, api.sealed.yaml, deploy.yaml]\n",
    );
    write(
        &repo,
        "app/config.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: one\n",
    );
    let db = write(
        &repo,
        "app/db.yaml",
        &format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: {SOPS_CANARY}\n"),
    );
    ok(
        &sops.encrypt(
            &repo,
            &[
                "-i",
                "--age",
                &age.recipient,
                "--encrypted-regex",
                "^(data|stringData)$",
                db.to_str().unwrap(),
            ],
        ),
        "sops -e",
    );
    write(
        &repo,
        "app/deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels: {app: web}\nspec:\n  replicas: 0\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: web\n        image: registry.k8s.io/pause:3.10\n",
    );
    let key = SealingKey::generate(2048).unwrap();
    let cert_pem = key.self_signed_cert().unwrap();
    let cert = PublicCert::parse(&cert_pem, "cert").unwrap();
    let mut s = sigil_crds::secret::Secret::default();
    s.metadata.name = "api".into();
    s.metadata.namespace = apps.clone();
    s.string_data.insert("token".into(), SEALED_CANARY.into());
    let ss = sigil_crds::sealedsecret::seal(&s, &cert, Scope::Strict).unwrap();
    write(
        &repo,
        "app/api.sealed.yaml",
        &sigil_crds::manifest::to_yaml(&[serde_json::to_value(&ss).unwrap()]),
    );
    write(
        &repo,
        "extra/cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: after-app\ndata:\n  ok: \"yes\"\n",
    );
    let c1 = commit(&repo, "first");

    // The sealing key (imported as Bitnami backs keys up) and the decryption Secret.
    let key_secret = sigil_crypto::sealed::keys::key_secret_manifest(&key, &cert_pem, &env.system).unwrap();
    let key_secret = sigil_crds::manifest::load(key_secret.as_bytes()).unwrap().remove(0);
    apply(
        &env.api::<Secret>(&env.system),
        key_secret["metadata"]["name"].as_str().unwrap(),
        key_secret.clone(),
    )
    .await;
    let secrets = env.api::<Secret>(&apps);
    let age_text = std::fs::read_to_string(&age.key_file).unwrap();
    apply(
        &secrets,
        "sops-age",
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "sops-age"},
               "stringData": {"age.agekey": age_text}}),
    )
    .await;

    let agent = env.agent("agent", &["--leader-elect"]);
    let sources = env.api::<GitSource>(&apps);
    let syncs = env.api::<Sync>(&apps);
    env.git_source(&apps, "repo", &repo, "1m").await;
    env.sync(
        &apps,
        "after",
        json!({"sourceRef": {"name": "repo"}, "path": "./extra", "interval": "10m", "dependsOn": [{"name": "app"}]}),
    )
    .await;
    env.sync(
        &apps,
        "app",
        json!({"sourceRef": {"kind": "GitSource", "name": "repo"}, "path": "./app", "interval": "10m",
               "retryInterval": "2s", "prune": true, "decryption": {"secretRef": {"name": "sops-age"}},
               "secretsPolicy": {"denyPlaintextSecrets": true}}),
    )
    .await;

    let s = env.applied(&apps, "app", &c1).await;
    assert_eq!(ready(&s).unwrap().0, "True", "{:?}", ready(&s));
    let inventory = &s.status.as_ref().unwrap().inventory.as_ref().unwrap().entries;
    assert!(
        inventory
            .iter()
            .any(|e| e.id == format!("{apps}_web_apps_Deployment") && e.v == "v1"),
        "{inventory:?}"
    );

    let cms = env.api::<ConfigMap>(&apps);
    let cm = cms.get("settings").await.unwrap();
    assert_eq!(cm.labels().get("sigil.dev/sync-name").map(String::as_str), Some("app"));
    assert_eq!(cm.labels().get("sigil.dev/sync-namespace"), Some(&apps));
    assert_eq!(value(&secrets.get("db").await.unwrap(), "password"), SOPS_CANARY);
    assert_eq!(value(&secrets.get("api").await.unwrap(), "token"), SEALED_CANARY);
    let deploys = env.api::<Deployment>(&apps);
    assert!(deploys.get("web").await.is_ok());

    // The dependant is woken when its dependency becomes Ready.
    env.ready_is(&apps, "after", "True").await;
    assert!(cms.get("after-app").await.is_ok());

    // The HTTP port.
    let cert_reply = agent.get("/v1/cert.pem");
    assert!(cert_reply.contains(cert_pem.trim()), "{cert_reply}");
    let metrics = agent.get("/metrics");
    assert!(
        metrics.contains(&format!(
            "sigil_reconcile_total{{sync=\"{apps}/app\",result=\"success\"}}"
        )),
        "{metrics}"
    );

    // Field ownership: the agent's apply is server-side, as manager "sigil".
    let d = deploys.get("web").await.unwrap();
    let managers: Vec<String> = d
        .metadata
        .managed_fields
        .unwrap_or_default()
        .iter()
        .filter(|m| m.operation.as_deref() == Some("Apply"))
        .filter_map(|m| m.manager.clone())
        .collect();
    assert!(managers.contains(&"sigil".to_string()), "{managers:?}");

    // A no-op reconcile patches nothing.
    let rv = cms.get("settings").await.unwrap().resource_version();
    annotate(&syncs, "app", "noop").await;
    env.wait("the no-op reconcile", Duration::from_secs(60), || async {
        let s = syncs.get("app").await.ok()?;
        (s.status?.last_handled_reconcile_at.as_deref() == Some("noop")).then_some(())
    })
    .await;
    assert_eq!(
        cms.get("settings").await.unwrap().resource_version(),
        rv,
        "no-op reconcile patched"
    );

    // Impersonation: a Sync applying as a ServiceAccount without rights is refused by the
    // API server, and says so.
    apply(
        &env.api::<ServiceAccount>(&apps),
        "nobody",
        json!({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "nobody"}}),
    )
    .await;
    env.sync(
        &apps,
        "as-nobody",
        json!({"sourceRef": {"name": "repo"}, "path": "./extra", "interval": "10m", "serviceAccountName": "nobody"}),
    )
    .await;
    let (_, reason, message) = env.ready_is(&apps, "as-nobody", "False").await;
    assert_eq!(reason, "ApplyFailed", "{message}");
    assert!(message.contains("forbidden"), "{message}");
    syncs.delete("as-nobody", &DeleteParams::default()).await.unwrap();

    // A commit that drops the ConfigMap: pruned.
    std::fs::remove_file(repo.join("app/config.yaml")).unwrap();
    write(
        &repo,
        "app/kustomization.yaml",
        "resources: [db.yaml, api.sealed.yaml, deploy.yaml]\n",
    );
    let c2 = commit(&repo, "drop settings");
    annotate(&sources, "repo", "2").await;
    env.applied(&apps, "app", &c2).await;
    env.wait("settings pruned", Duration::from_secs(60), || async {
        cms.get_opt("settings").await.ok()?.is_none().then_some(())
    })
    .await;

    // A hand edit is reverted at the next reconcile.
    merge(&deploys, "web", json!({"spec": {"replicas": 3}})).await;
    annotate(&syncs, "app", "drift").await;
    env.wait("the hand edit reverted", Duration::from_secs(60), || async {
        let d = deploys.get("web").await.ok()?;
        (d.spec.replicas == Some(0)).then_some(())
    })
    .await;

    // A tampered SOPS file: nothing applied, the reason and file named, objects intact.
    let good_db = std::fs::read_to_string(repo.join("app/db.yaml")).unwrap();
    let tampered = good_db.replacen("ENC[AES256_GCM,data:", "ENC[AES256_GCM,data:AA", 1);
    assert_ne!(tampered, good_db);
    write(&repo, "app/db.yaml", &tampered);
    write(
        &repo,
        "app/kustomization.yaml",
        "resources: [db.yaml, api.sealed.yaml, deploy.yaml, late.yaml]\n",
    );
    write(
        &repo,
        "app/late.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: late\ndata:\n  x: \"1\"\n",
    );
    let c3 = commit(&repo, "tampered");
    annotate(&sources, "repo", "3").await;
    let s = env
        .wait("the tampered revision refused", Duration::from_secs(60), || async {
            let s = syncs.get("app").await.ok()?;
            (s.status.as_ref()?.last_attempted_revision.as_deref() == Some(c3.as_str())).then_some(s)
        })
        .await;
    let (status, reason, message) = ready(&s).unwrap();
    assert_eq!(
        (status.as_str(), reason.as_str()),
        ("False", "DecryptionFailed"),
        "{message}"
    );
    assert!(message.contains("db.yaml"), "{message}");
    assert_eq!(
        s.status.as_ref().unwrap().last_applied_revision.as_deref(),
        Some(c2.as_str())
    );
    assert!(
        cms.get_opt("late").await.unwrap().is_none(),
        "a failed render applied something"
    );
    assert_eq!(value(&secrets.get("db").await.unwrap(), "password"), SOPS_CANARY);

    // Suspended: a good commit is not applied until resumed.
    merge(&syncs, "app", json!({"spec": {"suspend": true}})).await;
    write(&repo, "app/db.yaml", &good_db);
    let c4 = commit(&repo, "fixed");
    annotate(&sources, "repo", "4").await;
    env.wait(
        "the GitSource at the fourth revision",
        Duration::from_secs(60),
        || async {
            let g = sources.get("repo").await.ok()?;
            (g.status?.artifact?.revision == c4).then_some(())
        },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(cms.get_opt("late").await.unwrap().is_none(), "a suspended Sync applied");
    merge(&syncs, "app", json!({"spec": {"suspend": false}})).await;
    let s = env.applied(&apps, "app", &c4).await;
    assert_eq!(ready(&s).unwrap().0, "True");
    assert!(cms.get_opt("late").await.unwrap().is_some());

    // No plaintext anywhere: logs (debug), events, statuses.
    let logs = env.logs();
    let events: kube::Api<k8s_openapi::api::events::v1::Event> = env.api(&apps);
    let events = events.list(&ListParams::default()).await.unwrap();
    let notes: Vec<String> = events.items.iter().filter_map(|e| e.note.clone()).collect();
    assert!(
        notes.iter().any(|n| n.contains("Secret") && n.contains("keys:")),
        "{notes:?}"
    );
    let statuses = serde_json::to_string(&syncs.list(&ListParams::default()).await.unwrap().items).unwrap();
    for (what, text) in [("logs", &logs), ("events", &notes.join("\n")), ("statuses", &statuses)] {
        for canary in [SOPS_CANARY, SEALED_CANARY] {
            assert!(!text.contains(canary), "{what} leak a secret value");
            assert!(
                !text.contains(&B64.encode(canary)),
                "{what} leak a secret value (base64)"
            );
        }
    }
    drop(agent);
}
