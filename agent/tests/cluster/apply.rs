//! What only a real API server can show about applying: server-side apply's field ownership
//! (a field removed from Git disappears, another manager's field stays, a conflicting field
//! is taken back as `sigil`), no writes and — with the watches — no requests at all when
//! nothing changed, a CRD and its custom resource in one commit, names with `_` and `:` in the
//! inventory, prune order with real namespace finalization, immutable fields (named without
//! force, recreated with it), and the per-object annotations.

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Service};
use k8s_openapi::api::rbac::v1::{ClusterRole, RoleBinding};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::ResourceExt;
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;
use sigil_crds::sigil::Sync;

use crate::support::{TestEnv, annotate, commit, merge, metric, new_repo, object_requests, write};

fn cm(name: &str, data: &str) -> String {
    format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n{data}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn field_ownership_conflicts_and_no_op_rounds() {
    let Some(env) = TestEnv::new("ssa").await else { return };
    let apps = env.namespace("apps").await;
    let repo = new_repo(env.dir.path());
    write(&repo, "app/cm.yaml", &cm("settings", "  a: \"1\"\n  b: \"2\"\n"));
    let c1 = commit(&repo, "one");
    let agent = env.agent("agent", &[]);
    env.git_source(&apps, "repo", &repo, "1h").await;
    env.sync(
        &apps,
        "app",
        json!({"sourceRef": {"name": "repo"}, "path": "app", "interval": "1h", "prune": true}),
    )
    .await;
    env.applied(&apps, "app", &c1).await;
    let cms = env.api::<ConfigMap>(&apps);
    let data = |c: &ConfigMap| c.data.clone().unwrap_or_default();

    // Another manager adds a field of its own, and takes one of ours by force.
    cms.patch(
        "settings",
        &PatchParams::apply("other-tool"),
        &Patch::Apply(
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"c": "3"}}),
        ),
    )
    .await
    .unwrap();
    cms.patch(
        "settings",
        &PatchParams::apply("other-tool").force(),
        &Patch::Apply(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}, "data": {"a": "changed", "c": "3"}})),
    )
    .await
    .unwrap();
    annotate(&env.api::<Sync>(&apps), "app", "take-back").await;
    env.wait("the conflicting field taken back", Duration::from_secs(60), || async {
        let c = cms.get("settings").await.ok()?;
        (data(&c).get("a").map(String::as_str) == Some("1")).then_some(())
    })
    .await;
    let c = cms.get("settings").await.unwrap();
    assert_eq!(
        data(&c).get("c").map(String::as_str),
        Some("3"),
        "another manager's field is kept"
    );
    let owners = |c: &ConfigMap, field: &str| -> Vec<String> {
        c.metadata
            .managed_fields
            .clone()
            .unwrap_or_default()
            .into_iter()
            .filter(|m| {
                m.fields_v1
                    .as_ref()
                    .is_some_and(|f| f.0.pointer(&format!("/f:data/f:{field}")).is_some())
            })
            .filter_map(|m| m.manager)
            .collect()
    };
    assert_eq!(owners(&c, "a"), ["sigil"]);
    assert_eq!(owners(&c, "c"), ["other-tool"]);

    // A field removed from Git disappears; the other manager's stays.
    write(&repo, "app/cm.yaml", &cm("settings", "  a: \"1\"\n"));
    let c2 = commit(&repo, "drop b");
    annotate(&env.api::<sigil_crds::sigil::GitSource>(&apps), "repo", "2").await;
    env.applied(&apps, "app", &c2).await;
    let c = cms.get("settings").await.unwrap();
    assert_eq!(data(&c).keys().map(String::as_str).collect::<Vec<_>>(), ["a", "c"]);

    // Unchanged: a steady Sync reconciling every 2 s makes no write, and no request at all.
    merge(&env.api::<Sync>(&apps), "app", json!({"spec": {"interval": "2s"}})).await;
    let rv = cms.get("settings").await.unwrap().resource_version();
    let series = format!("sigil_reconcile_total{{sync=\"{apps}/app\",result=\"success\"}}");
    let before = (metric(&agent, &series), object_requests(&agent));
    env.wait("four no-op rounds", Duration::from_secs(60), || async {
        (metric(&agent, &series) >= before.0 + 4.0).then_some(())
    })
    .await;
    assert_eq!(
        cms.get("settings").await.unwrap().resource_version(),
        rv,
        "a no-op round wrote"
    );
    assert_eq!(
        object_requests(&agent),
        before.1,
        "a no-op round asked the API server about objects"
    );
    // A hand edit shows in the watch: the next round (and only it) looks, and reverts it.
    merge(&cms, "settings", json!({"data": {"a": "edited"}})).await;
    env.wait("the hand edit reverted", Duration::from_secs(30), || async {
        let c = cms.get("settings").await.ok()?;
        (data(&c).get("a").map(String::as_str) == Some("1")).then_some(())
    })
    .await;
    assert!(object_requests(&agent) > before.1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crd_with_its_resources_rbac_names_and_prune_order() {
    let Some(env) = TestEnv::new("crd").await else { return };
    let apps = env.namespace("apps").await;
    let extra = format!("{}-extra", env.id);
    let group = format!("g{}.sigil-test.dev", std::process::id());
    let crd_name = format!("widgets.{group}");
    let role = format!("sigil-test:{}:reader", env.id);
    let repo = new_repo(env.dir.path());
    write(
        &repo,
        "app/crd.yaml",
        &format!(
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: {crd_name}\nspec:\n  group: {group}\n  scope: Namespaced\n  names: {{plural: widgets, singular: widget, kind: Widget, listKind: WidgetList}}\n  versions:\n  - name: v1\n    served: true\n    storage: true\n    schema:\n      openAPIV3Schema:\n        type: object\n        x-kubernetes-preserve-unknown-fields: true\n"
        ),
    );
    // The custom resource comes first in the file order: staging must still put the CRD first.
    write(
        &repo,
        "app/objects.yaml",
        &format!(
            "apiVersion: {group}/v1\nkind: Widget\nmetadata:\n  name: w1\n  namespace: {extra}\nspec:\n  size: 3\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: inside\n  namespace: {extra}\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: {extra}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: {role}\nrules: []\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: read_all\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: {role}}}\nsubjects: []\n"
        ),
    );
    let c1 = commit(&repo, "crd and friends");
    env.forget_later("namespace", &extra);
    env.forget_later("customresourcedefinition", &crd_name);
    env.forget_later("clusterrole", &role);
    let _agent = env.agent("agent", &[]);
    env.git_source(&apps, "repo", &repo, "1h").await;
    env.sync(
        &apps,
        "app",
        json!({"sourceRef": {"name": "repo"}, "path": "app", "interval": "1h", "prune": true}),
    )
    .await;
    let s = env.applied(&apps, "app", &c1).await;
    let ids: Vec<String> = s
        .status
        .unwrap()
        .inventory
        .unwrap()
        .entries
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(
        ids[0],
        format!("_{crd_name}_apiextensions.k8s.io_CustomResourceDefinition"),
        "{ids:?}"
    );
    assert_eq!(ids[1], format!("_{extra}__Namespace"));
    assert!(
        ids.contains(&format!("{apps}_read_all_rbac.authorization.k8s.io_RoleBinding")),
        "{ids:?}"
    );
    assert!(
        ids.contains(&format!(
            "_{}_rbac.authorization.k8s.io_ClusterRole",
            role.replace(':', "__")
        )),
        "{ids:?}"
    );
    let widgets: Api<kube::api::DynamicObject> = Api::namespaced_with(
        env.client.clone(),
        &extra,
        &kube::api::ApiResource::from_gvk_with_plural(
            &kube::api::GroupVersionKind::gvk(&group, "v1", "Widget"),
            "widgets",
        ),
    );
    assert_eq!(widgets.get("w1").await.unwrap().data["spec"]["size"], 3);

    // Everything leaves Git: custom resource and contents first, then the Namespace (which the
    // namespace controller finalizes), the CRD last.
    std::fs::remove_file(repo.join("app/crd.yaml")).unwrap();
    write(&repo, "app/objects.yaml", &cm("left", ""));
    let c2 = commit(&repo, "all gone");
    annotate(&env.api::<sigil_crds::sigil::GitSource>(&apps), "repo", "2").await;
    env.applied(&apps, "app", &c2).await;
    let namespaces: Api<Namespace> = Api::all(env.client.clone());
    let crds: Api<CustomResourceDefinition> = Api::all(env.client.clone());
    env.wait(
        "the namespace finalized and the CRD gone",
        Duration::from_secs(90),
        || async {
            let ns_gone = namespaces.get_opt(&extra).await.ok()?.is_none();
            let crd_gone = crds.get_opt(&crd_name).await.ok()?.is_none();
            (ns_gone && crd_gone).then_some(())
        },
    )
    .await;
    assert!(
        env.api::<RoleBinding>(&apps)
            .get_opt("read_all")
            .await
            .unwrap()
            .is_none(),
        "a name with _ was pruned"
    );
    let roles: Api<ClusterRole> = Api::all(env.client.clone());
    assert!(
        roles.get_opt(&role).await.unwrap().is_none(),
        "a name with : was pruned"
    );
    let (w, i, n, c) = (
        format!("Widget {extra}/w1 deleted"),
        format!("ConfigMap {extra}/inside deleted"),
        format!("Namespace {extra} deleted"),
        format!("CustomResourceDefinition {crd_name} deleted"),
    );
    let notes = env.events_with(&apps, "app", &[&w, &i, &n, &c]).await;
    let at = |what: &str| notes.find(what).unwrap();
    assert!(at(&w) < at(&n), "{notes}");
    assert!(at(&format!("ConfigMap {extra}/inside deleted")) < at(&format!("Namespace {extra} deleted")));
    assert!(at(&format!("Namespace {extra} deleted")) < at(&format!("CustomResourceDefinition {crd_name} deleted")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn immutable_fields_are_named_or_recreated_when_forced() {
    let Some(env) = TestEnv::new("immut").await else { return };
    let apps = env.namespace("apps").await;
    let repo = new_repo(env.dir.path());
    let job = |cmd: &str, force: bool| {
        let ann = if force {
            "  annotations:\n    sigil.dev/force: enabled\n"
        } else {
            ""
        };
        format!(
            "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\n{ann}spec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers:\n      - name: m\n        image: registry.k8s.io/pause:3.10\n        command: [\"{cmd}\"]\n"
        )
    };
    let octet = 10 + std::process::id() % 200;
    let svc = |ip: u32| {
        format!(
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: svc\nspec:\n  clusterIP: 10.96.{octet}.{ip}\n  ports:\n  - port: 80\n"
        )
    };
    write(&repo, "jobs/job.yaml", &job("one", false));
    write(&repo, "svc/svc.yaml", &svc(10));
    let c1 = commit(&repo, "one");
    let _agent = env.agent("agent", &[]);
    env.git_source(&apps, "repo", &repo, "1h").await;
    env.sync(
        &apps,
        "jobs",
        json!({"sourceRef": {"name": "repo"}, "path": "jobs", "interval": "1h", "retryInterval": "1s"}),
    )
    .await;
    env.sync(
        &apps,
        "svc",
        json!({"sourceRef": {"name": "repo"}, "path": "svc", "interval": "1h", "retryInterval": "1s"}),
    )
    .await;
    env.applied(&apps, "jobs", &c1).await;
    env.applied(&apps, "svc", &c1).await;
    let jobs = env.api::<Job>(&apps);
    let uid = jobs.get("migrate").await.unwrap().uid();

    // Without force: the Sync names the object and the field, and nothing changes.
    write(&repo, "jobs/job.yaml", &job("two", false));
    write(&repo, "svc/svc.yaml", &svc(11));
    commit(&repo, "two");
    annotate(&env.api::<sigil_crds::sigil::GitSource>(&apps), "repo", "2").await;
    let message = env.failed_with(&apps, "jobs", "ApplyFailed").await;
    assert!(
        message.contains(&format!("Job {apps}/migrate")) && message.contains("spec.template"),
        "{message}"
    );
    assert!(message.contains("sigil.dev/force"), "{message}");
    let message = env.failed_with(&apps, "svc", "ApplyFailed").await;
    assert!(
        message.contains(&format!("Service {apps}/svc")) && message.contains("clusterIP"),
        "{message}"
    );
    assert_eq!(jobs.get("migrate").await.unwrap().uid(), uid);

    // Forced by the object's annotation, and by the Sync's spec.force: recreated.
    write(&repo, "jobs/job.yaml", &job("two", true));
    let c3 = commit(&repo, "forced");
    annotate(&env.api::<sigil_crds::sigil::GitSource>(&apps), "repo", "3").await;
    merge(&env.api::<Sync>(&apps), "svc", json!({"spec": {"force": true}})).await;
    env.applied(&apps, "jobs", &c3).await;
    env.applied(&apps, "svc", &c3).await;
    let j = jobs.get("migrate").await.unwrap();
    assert_ne!(j.uid(), uid, "the Job was recreated");
    let cmd = j.spec.unwrap().template.spec.unwrap().containers[0]
        .command
        .clone()
        .unwrap();
    assert_eq!(cmd, ["two"]);
    let s = env.api::<Service>(&apps).get("svc").await.unwrap();
    assert_eq!(s.spec.unwrap().cluster_ip.unwrap(), format!("10.96.{octet}.11"));
    env.events_with(&apps, "jobs", &[&format!("Job {apps}/migrate recreated")])
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_object_annotations() {
    let Some(env) = TestEnv::new("annot").await else { return };
    let apps = env.namespace("apps").await;
    let repo = new_repo(env.dir.path());
    let with = |name: &str, ann: &str| {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n  annotations:\n    {ann}\ndata:\n  v: git\n"
        )
    };
    write(
        &repo,
        "app/disabled.yaml",
        &with("disabled", "sigil.dev/reconcile: disabled"),
    );
    write(&repo, "app/keep.yaml", &with("keep", "sigil.dev/prune: disabled"));
    write(&repo, "app/once.yaml", &with("once", "sigil.dev/ssa: IfNotPresent"));
    write(&repo, "app/live.yaml", &cm("live", "  v: git\n"));
    let c1 = commit(&repo, "one");
    let _agent = env.agent("agent", &[]);
    env.git_source(&apps, "repo", &repo, "1h").await;
    env.sync(
        &apps,
        "app",
        json!({"sourceRef": {"name": "repo"}, "path": "app", "interval": "1h", "prune": true}),
    )
    .await;
    let s = env.applied(&apps, "app", &c1).await;
    let cms = env.api::<ConfigMap>(&apps);
    assert!(
        cms.get_opt("disabled").await.unwrap().is_none(),
        "reconcile: disabled is not applied"
    );
    let ids: Vec<String> = s
        .status
        .unwrap()
        .inventory
        .unwrap()
        .entries
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert!(
        ids.contains(&format!("{apps}_disabled__ConfigMap")),
        "kept in the inventory, as Flux: {ids:?}"
    );
    for n in ["keep", "once", "live"] {
        assert!(cms.get_opt(n).await.unwrap().is_some(), "{n}");
    }
    // Edits: `once` is never overwritten; `live`, disabled on the live object, is left alone.
    merge(&cms, "once", json!({"data": {"v": "edited"}})).await;
    merge(
        &cms,
        "live",
        json!({"metadata": {"annotations": {"sigil.dev/reconcile": "disabled"}}, "data": {"v": "edited"}}),
    )
    .await;
    merge(&cms, "keep", json!({"data": {"v": "edited"}})).await;
    annotate(&env.api::<Sync>(&apps), "app", "again").await;
    env.wait("the edit of `keep` reverted", Duration::from_secs(60), || async {
        let c = cms.get("keep").await.ok()?;
        (c.data?.get("v")? == "git").then_some(())
    })
    .await;
    let v = |c: ConfigMap| c.data.unwrap()["v"].clone();
    assert_eq!(
        v(cms.get("once").await.unwrap()),
        "edited",
        "ssa: IfNotPresent never updates"
    );
    assert_eq!(
        v(cms.get("live").await.unwrap()),
        "edited",
        "reconcile: disabled on the live object"
    );

    // All leave Git: `keep` (prune: disabled) and `live` (reconcile: disabled) stay; `once` goes.
    for f in ["keep", "once", "live", "disabled"] {
        std::fs::remove_file(repo.join(format!("app/{f}.yaml"))).unwrap();
    }
    write(&repo, "app/other.yaml", &cm("other", "  v: x\n"));
    let c2 = commit(&repo, "gone");
    annotate(&env.api::<sigil_crds::sigil::GitSource>(&apps), "repo", "2").await;
    env.applied(&apps, "app", &c2).await;
    env.wait("`once` pruned", Duration::from_secs(30), || async {
        cms.get_opt("once").await.ok()?.is_none().then_some(())
    })
    .await;
    assert!(cms.get_opt("keep").await.unwrap().is_some(), "prune: disabled");
    assert!(cms.get_opt("live").await.unwrap().is_some(), "reconcile: disabled");

    // Inventory entries that cannot be resolved (edited into the status: an unreadable id, a
    // kind the cluster does not serve) are reported when they would be pruned.
    let syncs = env.api::<Sync>(&apps);
    let mut st = syncs.get_status("app").await.unwrap().status.unwrap();
    let inv = st.inventory.as_mut().unwrap();
    for id in ["not-an-id", &format!("{apps}_thing_example.invalid_Gizmo")] {
        inv.entries.push(sigil_crds::sigil::InventoryEntry {
            id: id.to_string(),
            v: "v1".into(),
        });
    }
    syncs
        .patch_status(
            "app",
            &PatchParams::default(),
            &Patch::Merge(json!({"status": {"inventory": inv}})),
        )
        .await
        .unwrap();
    write(&repo, "app/other.yaml", &cm("other", "  v: y\n"));
    let c3 = commit(&repo, "three");
    annotate(&env.api::<sigil_crds::sigil::GitSource>(&apps), "repo", "3").await;
    env.applied(&apps, "app", &c3).await;
    let notes = env
        .events_with(
            &apps,
            "app",
            &[
                "\"not-an-id\" is not <namespace>_<name>_<group>_<kind>",
                "example.invalid/v1 Gizmo",
            ],
        )
        .await;
    assert!(notes.contains("left in place"), "{notes}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn source_kinds() {
    let Some(env) = TestEnv::new("kind").await else { return };
    let apps = env.namespace("apps").await;
    let _agent = env.agent("agent", &[]);
    env.sync(
        &apps,
        "helm",
        json!({"sourceRef": {"kind": "HelmRepository", "name": "charts"}, "interval": "1h"}),
    )
    .await;
    let message = env.failed_with(&apps, "helm", "InvalidSpec").await;
    assert!(message.contains("HelmRepository"), "{message}");
    let s = env.api::<Sync>(&apps).get("helm").await.unwrap();
    assert!(
        s.status
            .unwrap()
            .conditions
            .iter()
            .any(|c| c.type_ == "Stalled" && c.status == "True")
    );
}

/// A controller writing an applied object's status (the resourceVersion moves, the generation
/// does not) costs no request; a hand edit of its spec (the generation moves) is reverted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_churn_costs_nothing_and_spec_edits_are_reverted() {
    let Some(env) = TestEnv::new("churn").await else { return };
    let apps = env.namespace("apps").await;
    let repo = new_repo(env.dir.path());
    write(
        &repo,
        "app/deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.27\n",
    );
    let c1 = commit(&repo, "one");
    let agent = env.agent("agent", &[]);
    env.git_source(&apps, "repo", &repo, "1h").await;
    env.sync(
        &apps,
        "app",
        json!({"sourceRef": {"name": "repo"}, "path": "app", "interval": "2s"}),
    )
    .await;
    env.applied(&apps, "app", &c1).await;
    let deployments = env.api::<Deployment>(&apps);
    let series = format!("sigil_reconcile_total{{sync=\"{apps}/app\",result=\"success\"}}");
    // Let the controller manager's first writes (revision annotation, status) settle.
    let settled = metric(&agent, &series);
    env.wait("two rounds after the first apply", Duration::from_secs(60), || async {
        (metric(&agent, &series) >= settled + 2.0).then_some(())
    })
    .await;
    let before = (metric(&agent, &series), object_requests(&agent));
    for i in 0..3 {
        let status = json!({"status": {"observedGeneration": 1, "replicas": 2, "updatedReplicas": 2,
            "readyReplicas": i % 2 + 1, "availableReplicas": i % 2 + 1}});
        deployments
            .patch_status("web", &PatchParams::default(), &Patch::Merge(&status))
            .await
            .unwrap();
        let round = metric(&agent, &series);
        env.wait("a round after a status write", Duration::from_secs(30), || async {
            (metric(&agent, &series) >= round + 1.0).then_some(())
        })
        .await;
    }
    assert!(metric(&agent, &series) >= before.0 + 3.0);
    assert_eq!(
        object_requests(&agent),
        before.1,
        "status written by a controller made the agent ask the API server about the object"
    );
    // A spec edit bumps the generation: the next round looks, and reverts it.
    merge(&deployments, "web", json!({"spec": {"replicas": 5}})).await;
    env.wait("the replicas edit reverted", Duration::from_secs(30), || async {
        let d = deployments.get("web").await.ok()?;
        (d.spec.replicas == Some(2)).then_some(())
    })
    .await;
    assert!(object_requests(&agent) > before.1);
}
