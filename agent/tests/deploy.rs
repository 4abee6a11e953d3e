//! `deploy/`: what `kubectl apply -k deploy/` (and `-k deploy/tenant`) installs, built by the
//! reference `kubectl kustomize` and by the agent's own renderer (they must agree), with the
//! security settings the design promises: non-root, read-only root filesystem, no privilege
//! escalation, no capabilities, and cluster-admin only in the non-tenant install.

use std::process::Command;

use serde_json::Value;
use sigil_crds::manifest;

fn kubectl_kustomize(dir: &str) -> Option<Vec<Value>> {
    let out = Command::new("kubectl")
        .arg("kustomize")
        .arg(sigil_tests::workspace_root().join(dir))
        .output()
        .ok()?;
    assert!(
        out.status.success(),
        "kubectl kustomize {dir}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(manifest::load(&out.stdout).unwrap())
}

/// `sigil-agent render deploy --path <path>` (the source root is `deploy/`, as for a Sync).
fn ours(path: &str) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_sigil-agent"))
        .arg("render")
        .arg(sigil_tests::workspace_root().join("deploy"))
        .args(["--path", path])
        .output()
        .unwrap();
    let dir = path;
    assert!(
        out.status.success(),
        "render {dir}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    manifest::load(&out.stdout).unwrap()
}

fn find<'a>(objs: &'a [Value], kind: &str, name: &str) -> Option<&'a Value> {
    objs.iter().find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
}

#[test]
fn install_manifests_are_locked_down_and_build_alike() {
    let Some(full) = kubectl_kustomize("deploy") else {
        sigil_tests::skip("kubectl is not installed");
        return;
    };
    // kubectl's bundled kustomize (v5.5) does not know ValidatingAdmissionPolicy(Binding) is
    // cluster-scoped and gives it the namespace; ours does not (the API server ignores it).
    let sort = |mut v: Vec<Value>| {
        for o in v.iter_mut() {
            if o["kind"]
                .as_str()
                .is_some_and(|k| k.starts_with("ValidatingAdmissionPolicy"))
            {
                o["metadata"].as_object_mut().unwrap().remove("namespace");
            }
        }
        v.sort_by_key(|o| format!("{}/{}", o["kind"], o["metadata"]["name"]));
        v
    };
    assert_eq!(
        sort(ours(".")),
        sort(full.clone()),
        "sigil-agent render and kubectl kustomize differ"
    );

    let d = find(&full, "Deployment", "sigil-agent").expect("the Deployment");
    assert_eq!(d["metadata"]["namespace"], "sigil-system");
    let pod = &d["spec"]["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(pod["serviceAccountName"], "sigil-agent");
    let c = &pod["containers"][0];
    assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(c["securityContext"]["allowPrivilegeEscalation"], false);
    assert_eq!(c["securityContext"]["capabilities"]["drop"][0], "ALL");
    assert!(c["resources"]["requests"]["memory"].is_string() && c["resources"]["limits"]["memory"].is_string());
    assert_eq!(c["args"][0], "run");
    assert!(c["args"].as_array().unwrap().iter().any(|a| a == "--leader-elect"));
    assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert!(find(&full, "Service", "sigil-agent").is_some());
    assert!(find(&full, "CustomResourceDefinition", "syncs.sigil.dev").is_some());
    assert!(find(&full, "CustomResourceDefinition", "gitsources.sigil.dev").is_some());
    let admin = find(&full, "ClusterRoleBinding", "sigil-agent-cluster-admin").expect("cluster-admin");
    assert_eq!(admin["subjects"][0]["namespace"], "sigil-system");

    // The agent's own rights: what its code calls, and no write beyond status, finalizers
    // (held to that by the admission policy), tokens, events and impersonation.
    let role = find(&full, "ClusterRole", "sigil-agent").unwrap();
    let grants = |group: &str, resource: &str, verb: &str| {
        role["rules"].as_array().unwrap().iter().any(|r| {
            let has = |k: &str, v: &str| r[k].as_array().unwrap().iter().any(|x| x == v || x == "*");
            has("apiGroups", group) && has("resources", resource) && has("verbs", verb)
        })
    };
    for (g, r, v) in [
        ("sigil.dev", "syncs", "watch"),
        ("sigil.dev", "syncs/status", "patch"),
        ("sigil.dev", "syncs", "patch"),
        ("sigil.dev", "gitsources/status", "patch"),
        ("", "secrets", "watch"),
        ("", "configmaps", "watch"),
        ("apps", "deployments", "watch"),
        ("", "serviceaccounts/token", "create"),
        ("", "serviceaccounts", "impersonate"),
        ("events.k8s.io", "events", "create"),
    ] {
        assert!(grants(g, r, v), "ClusterRole lacks {v} on {g}/{r}");
    }
    for (g, r, v) in [
        ("", "secrets", "create"),
        ("sigil.dev", "gitsources", "patch"),
        ("sigil.dev", "syncs", "delete"),
        ("apps", "deployments", "patch"),
        ("", "configmaps", "update"),
    ] {
        assert!(!grants(g, r, v), "ClusterRole grants {v} on {g}/{r}");
    }
    let policy = find(&full, "ValidatingAdmissionPolicy", "sigil-agent-finalizers-only").expect("the admission policy");
    assert!(
        policy["spec"]["validations"][0]["expression"]
            .as_str()
            .unwrap()
            .contains("object.spec == oldObject.spec")
    );
    assert!(find(&full, "ValidatingAdmissionPolicyBinding", "sigil-agent-finalizers-only").is_some());
    let local = find(&full, "Role", "sigil-agent").unwrap();
    assert_eq!(local["metadata"]["namespace"], "sigil-system");

    let tenant = kubectl_kustomize("deploy/tenant").unwrap();
    assert_eq!(
        sort(ours("tenant")),
        sort(tenant.clone()),
        "deploy/tenant: render and kubectl kustomize differ"
    );
    assert!(find(&tenant, "ClusterRoleBinding", "sigil-agent-cluster-admin").is_none());
    assert!(!serde_json::to_string(&tenant).unwrap().contains("cluster-admin"));
    assert_eq!(tenant.len() + 1, full.len());
    let args =
        &find(&tenant, "Deployment", "sigil-agent").unwrap()["spec"]["template"]["spec"]["containers"][0]["args"];
    let args: Vec<&str> = args.as_array().unwrap().iter().map(|a| a.as_str().unwrap()).collect();
    assert!(
        args.contains(&"--default-service-account=sigil-deployer") && args.contains(&"--no-cross-namespace-refs"),
        "{args:?}"
    );
}
