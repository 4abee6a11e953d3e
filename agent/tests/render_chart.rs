//! `sigil-agent render --chart` and kustomize's `helmCharts` on the bundled example chart
//! (`examples/app/charts/shop-cache`): a SOPS-encrypted values file (made by the real `sops`,
//! committed) decrypted in memory, `--set`, Secret values and SOPS-derived values redacted
//! unless `--show-secrets`, clear errors naming the file, and the chart's output going through
//! the production overlay (namespace, labels, the SealedSecret unsealed). The chart alone is
//! also compared, template by template, with the real Helm library (a peer).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine;

/// The password in `examples/app/overlays/production/cache-values.sops.yaml`.
const SOPS_PASSWORD: &str = "Shop-Cache-Prod-Password-4f9c2e";
/// The admin token sealed (namespace-wide, shop-production) in the production overlay.
const SEALED_TOKEN: &str = "Shop-Cache-Admin-Token-81d0a7";

const CHART: &str = "app/charts/shop-cache";
const SOPS_VALUES: &str = "app/overlays/production/cache-values.sops.yaml";

fn examples() -> PathBuf {
    sigil_tests::workspace_root().join("examples")
}

fn key(name: &str) -> String {
    examples().join("keys").join(name).to_string_lossy().into_owned()
}

fn agent(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sigil-agent"))
        .env("SIGIL_LOG", "trace")
        .env_remove("SOPS_AGE_KEY_FILE")
        .env_remove("SOPS_AGE_KEY")
        .env_remove("VAULT_ADDR")
        .args(args)
        .output()
        .unwrap()
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// Neither secret, plain or base64, anywhere in stdout or stderr.
fn no_leak(o: &Output) {
    for text in [String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)] {
        for secret in [SOPS_PASSWORD, SEALED_TOKEN] {
            assert!(
                !text.contains(secret) && !text.contains(&b64(secret)),
                "leak of a secret value:\n{text}"
            );
        }
    }
}

fn stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "render failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    assert!(
        !o.status.success(),
        "render succeeded: {}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(o.stdout.is_empty(), "a failed render printed something");
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The documents of `helm template`-style text, by their `# Source:` path.
fn by_source(text: &str) -> Vec<(String, String)> {
    let mut docs = Vec::new();
    for doc in text.split("---\n").filter(|d| !d.trim().is_empty()) {
        let (first, rest) = doc.split_once('\n').unwrap_or((doc, ""));
        let source = first
            .strip_prefix("# Source: ")
            .unwrap_or_else(|| panic!("no source line: {doc}"));
        docs.push((source.to_string(), rest.to_string()));
    }
    docs
}

fn chart_args<'a>(root: &'a str, age: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "render",
        root,
        "--chart",
        CHART,
        "--release-name",
        "cache",
        "--namespace",
        "shop-production",
        "-f",
        SOPS_VALUES,
        "--set",
        "replicaCount=3,config.maxmemory=128mb",
        "--age-key-file",
        age,
    ];
    args.extend_from_slice(extra);
    args
}

#[test]
fn a_chart_with_sops_values_and_set_renders_redacted() {
    let root = examples().to_string_lossy().into_owned();
    let age = key("age.agekey");
    let out = agent(&chart_args(&root, &age, &[]));
    no_leak(&out);
    let text = stdout(&out);
    let sources: Vec<String> = by_source(&text).into_iter().map(|(s, _)| s).collect();
    // Helm's install order: Secret, ConfigMap, Service, Deployment; no NOTES.txt, no partials;
    // the SealedSecret is not rendered without sealed values.
    assert_eq!(
        sources,
        [
            "shop-cache/templates/secret.yaml",
            "shop-cache/templates/configmap.yaml",
            "shop-cache/templates/service.yaml",
            "shop-cache/templates/deployment.yaml",
        ],
        "{text}"
    );
    assert!(text.contains("replicas: 3\n"), "{text}");
    assert!(text.contains("maxmemory 128mb\n"), "{text}");
    assert!(text.contains("name: cache-shop-cache-auth\n"), "{text}");
    assert!(text.contains("namespace: shop-production\n"), "{text}");
    assert!(text.contains("password: <redacted hmac:"), "{text}");

    let shown = agent(&chart_args(&root, &age, &["--show-secrets"]));
    let shown = stdout(&shown);
    assert!(
        shown.contains(&format!("password: \"{}\"", b64(SOPS_PASSWORD))),
        "{shown}"
    );
    // Everything but the Secret is as without --show-secrets.
    let redacted: Vec<_> = by_source(&text)
        .into_iter()
        .filter(|(s, _)| !s.ends_with("secret.yaml"))
        .collect();
    let plain: Vec<_> = by_source(&shown)
        .into_iter()
        .filter(|(s, _)| !s.ends_with("secret.yaml"))
        .collect();
    assert_eq!(redacted, plain);
}

#[test]
fn a_missing_chart_directory_is_named() {
    let root = examples().to_string_lossy().into_owned();
    let out = agent(&["render", &root, "--chart", "app/charts/no-such-chart"]);
    let err = stderr(&out);
    assert!(err.contains("app/charts/no-such-chart"), "{err}");
    assert!(err.contains("not a chart directory"), "{err}");
}

#[test]
fn a_required_value_missing_fails_with_helms_message() {
    let root = examples().to_string_lossy().into_owned();
    let out = agent(&["render", &root, "--chart", CHART, "--release-name", "cache"]);
    let err = stderr(&out);
    assert!(
        err.contains(
            "execution error at (shop-cache/templates/secret.yaml:11:15): auth.password is required when auth.enabled"
        ),
        "{err}"
    );
    assert!(err.contains(CHART), "{err}");
}

#[test]
fn a_schema_violation_fails_with_helms_message() {
    let root = examples().to_string_lossy().into_owned();
    let out = agent(&[
        "render",
        &root,
        "--chart",
        CHART,
        "--set",
        "replicaCount=0,auth.password=x",
    ]);
    let err = stderr(&out);
    assert!(err.contains("- at '/replicaCount': minimum: got 0, want 1"), "{err}");
}

/// A copy of the examples, to tamper with.
fn examples_copy() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dst = tmp.path().join("examples");
    let status = Command::new("cp").arg("-r").arg(examples()).arg(&dst).status().unwrap();
    assert!(status.success());
    (tmp, dst)
}

#[test]
fn a_tampered_sops_values_file_is_refused_by_name() {
    let (_tmp, root) = examples_copy();
    let file = root.join(SOPS_VALUES);
    let text = std::fs::read_to_string(&file).unwrap();
    // A value added in plaintext (the file's unencrypted suffix): the MAC no longer matches.
    let tampered = text.replacen("sops:\n", "replicaCount_unencrypted: 9\nsops:\n", 1);
    assert_ne!(tampered, text);
    std::fs::write(&file, tampered).unwrap();
    let root_s = root.to_string_lossy().into_owned();
    let age = key("age.agekey");
    for args in [
        chart_args(&root_s, &age, &[]),
        vec![
            "render",
            &root_s,
            "--path",
            "app/overlays/production",
            "--age-key-file",
            &age,
        ],
    ] {
        let out = agent(&args);
        no_leak(&out);
        let err = stderr(&out);
        assert!(err.contains("cache-values.sops.yaml"), "{err}");
        assert!(err.contains("MAC mismatch"), "{err}");
    }
}

#[test]
fn a_sops_values_file_without_its_key_is_refused_by_name() {
    let root = examples().to_string_lossy().into_owned();
    let out = agent(&["render", &root, "--chart", CHART, "-f", SOPS_VALUES]);
    no_leak(&out);
    let err = stderr(&out);
    assert!(err.contains("cache-values.sops.yaml"), "{err}");
}

#[test]
fn a_chart_repo_in_helm_charts_is_refused() {
    let (_tmp, root) = examples_copy();
    let k = root.join("app/overlays/production/kustomization.yaml");
    let text = std::fs::read_to_string(&k).unwrap();
    let with_repo = text.replacen(
        "  - name: shop-cache\n",
        "  - name: shop-cache\n    repo: https://charts.example.com\n    version: 0.3.0\n",
        1,
    );
    assert_ne!(with_repo, text);
    std::fs::write(&k, with_repo).unwrap();
    let out = agent(&[
        "render",
        &root.to_string_lossy(),
        "--path",
        "app/overlays/production",
        "--age-key-file",
        &key("age.agekey"),
        "--sealing-key",
        &key("sealing-key.pem"),
    ]);
    no_leak(&out);
    let err = stderr(&out);
    assert!(
        err.contains("helmCharts shop-cache: repo \"https://charts.example.com\" is not supported yet"),
        "{err}"
    );
}

fn production(show_secrets: bool) -> Output {
    let root = examples().to_string_lossy().into_owned();
    let (age, sealing) = (key("age.agekey"), key("sealing-key.pem"));
    let mut args = vec![
        "render",
        &root,
        "--path",
        "app/overlays/production",
        "--age-key-file",
        &age,
        "--sealing-key",
        &sealing,
    ];
    if show_secrets {
        args.push("--show-secrets");
    }
    agent(&args)
}

fn objects(text: &str) -> Vec<serde_json::Value> {
    sigil_crds::manifest::load(text.as_bytes()).expect("render output parses")
}

fn find<'a>(objs: &'a [serde_json::Value], kind: &str, name: &str) -> &'a serde_json::Value {
    objs.iter()
        .find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
}

#[test]
fn the_production_overlay_renders_the_chart_through_kustomize() {
    let out = production(false);
    no_leak(&out);
    let objs = objects(&stdout(&out));
    for (kind, name) in [
        ("ConfigMap", "cache-shop-cache"),
        ("Service", "cache-shop-cache"),
        ("Deployment", "cache-shop-cache"),
        ("Secret", "cache-shop-cache-auth"),
        // The SealedSecret became its Secret.
        ("Secret", "cache-shop-cache-admin"),
        // The overlay's own objects are still there.
        ("Deployment", "shop"),
        ("Secret", "api-token"),
    ] {
        let o = find(&objs, kind, name);
        // The overlay's namespace and labels applied to the chart's output too (an unsealed
        // Secret has its SealedSecret's template metadata, as the controller makes it).
        assert_eq!(o["metadata"]["namespace"], "shop-production", "{kind} {name}");
        if !matches!(name, "cache-shop-cache-admin" | "api-token") {
            assert_eq!(o["metadata"]["labels"]["environment"], "production", "{kind} {name}");
        }
    }
    assert!(!objs.iter().any(|o| o["kind"] == "SealedSecret"));
    let deploy = find(&objs, "Deployment", "cache-shop-cache");
    assert_eq!(deploy["spec"]["replicas"], 2);
    let cm = find(&objs, "ConfigMap", "cache-shop-cache");
    assert!(cm["data"]["redis.conf"].as_str().unwrap().contains("maxmemory 256mb\n"));
    for (name, key) in [
        ("cache-shop-cache-auth", "password"),
        ("cache-shop-cache-admin", "token"),
        ("cache-shop-cache-admin", "admin-url"),
    ] {
        let v = find(&objs, "Secret", name)["data"][key]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(v.starts_with("<redacted hmac:"), "{name}/{key}: {v}");
    }

    let shown = production(true);
    let objs = objects(&stdout(&shown));
    let data = |name: &str, key: &str| {
        let v = find(&objs, "Secret", name)["data"][key].as_str().unwrap().to_string();
        String::from_utf8(base64::engine::general_purpose::STANDARD.decode(v).unwrap()).unwrap()
    };
    assert_eq!(data("cache-shop-cache-auth", "password"), SOPS_PASSWORD);
    assert_eq!(data("cache-shop-cache-admin", "token"), SEALED_TOKEN);
    assert_eq!(
        data("cache-shop-cache-admin", "admin-url"),
        format!("redis://admin:{SEALED_TOKEN}@cache-shop-cache:6379/0")
    );
}

/// The documents the real Helm library renders for `values`, by template path (empty ones
/// and NOTES.txt left out, as `helm template` leaves them out).
fn helm_oracle(values: &Path, name: &str, namespace: &str) -> Option<Vec<(String, String)>> {
    let python = sigil_tests::python()?;
    let probe = Command::new(&python)
        .args(["-c", "import helm_python"])
        .output()
        .unwrap();
    if !probe.status.success() {
        sigil_tests::skip("the Helm library (helm_python) is not installed in the peers' Python");
        return None;
    }
    let root = sigil_tests::workspace_root();
    let out = Command::new(&python)
        .arg(root.join("tools/helm-oracle.py"))
        .arg(examples().join(CHART))
        .arg(values)
        .args(["--name", name, "--namespace", namespace])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(!json.contains_key("error"), "Helm refused: {:?}", json.get("error"));
    Some(
        json.into_iter()
            .filter(|(k, _)| !k.ends_with("NOTES.txt"))
            .map(|(k, v)| (k, v.as_str().unwrap().to_string()))
            .filter(|(_, v)| !v.trim().is_empty())
            .collect(),
    )
}

#[test]
fn the_chart_alone_renders_as_the_real_helm_renders_it() {
    let tmp = tempfile::tempdir().unwrap();
    let values = tmp.path().join("values.yaml");
    std::fs::write(
        &values,
        "replicaCount: 2\nauth:\n  password: Plain-Oracle-Password-1\nsealed:\n  encryptedData:\n    token: AgBplain==\npodAnnotations:\n  team: shop\nconfig:\n  appendonly: true\n",
    )
    .unwrap();
    let Some(mut want) = helm_oracle(&values, "cache", "shop-production") else {
        return;
    };
    let status = Command::new("cp")
        .arg("-r")
        .arg(examples().join(CHART))
        .arg(tmp.path().join("shop-cache"))
        .status()
        .unwrap();
    assert!(status.success());
    let out = agent(&[
        "render",
        &tmp.path().to_string_lossy(),
        "--chart",
        "shop-cache",
        "--release-name",
        "cache",
        "--namespace",
        "shop-production",
        "-f",
        "values.yaml",
        "--show-secrets",
    ]);
    let mut got = by_source(&stdout(&out));
    assert_eq!(want.len(), 5, "Helm renders five documents");
    got.sort();
    want.sort();
    assert_eq!(
        got.iter().map(|(s, _)| s.as_str()).collect::<Vec<_>>(),
        want.iter().map(|(s, _)| s.as_str()).collect::<Vec<_>>()
    );
    for ((source, ours), (_, helm)) in got.iter().zip(&want) {
        // `helm template` prints each document as Helm rendered it, trimmed of the blank
        // lines a `{{- if }}` leaves at its start.
        assert_eq!(ours.trim(), helm.trim(), "{source} differs from Helm's render");
    }
}
