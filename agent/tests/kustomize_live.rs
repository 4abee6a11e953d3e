//! Our Kustomize build against the real `kubectl kustomize`, live: hand-written trees that
//! exercise most of the kustomization fields, and trees holding SOPS-encrypted resources,
//! patches and generator inputs — built encrypted by us, and in plaintext (decrypted by the
//! real `sops`) by kubectl. Both must give the same objects in the same order.

use std::path::{Path, PathBuf};
use std::process::Command;

use sigil_agent::kustomize::{Kustomizer, Options};
use sigil_agent::load::{DirTree, Loader};
use sigil_crypto::keys::Keyring;
use sigil_crypto::keys::age::AgeKeys;

fn kubectl_kustomize(dir: &Path) -> Option<Vec<serde_json::Value>> {
    let out = match Command::new("kubectl").arg("kustomize").arg(dir).output() {
        Ok(o) => o,
        Err(_) => {
            sigil_tests::skip("kubectl is not installed; live kustomize parity needs it");
            return None;
        }
    };
    assert!(
        out.status.success(),
        "kubectl kustomize {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    Some(sigil_crds::manifest::load(&out.stdout).expect("kubectl output parses"))
}

fn ours(root: &Path, path: &str, keyring: &Keyring) -> Vec<serde_json::Value> {
    let tree = DirTree::new(root).expect("tree");
    let loader = Loader { tree: &tree, keyring };
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let objects = rt
        .block_on(Kustomizer::new(&loader, Options::default()).build(Path::new(path)))
        .unwrap_or_else(|e| panic!("build {path}: {e}"));
    objects.into_iter().map(|(o, _)| o.0.clone()).collect()
}

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn same(root: &Path, path: &str, keyring: &Keyring, plain_root: &Path) {
    let Some(want) = kubectl_kustomize(&plain_root.join(path)) else {
        return;
    };
    let got = ours(root, path, keyring);
    assert_eq!(
        sigil_crds::manifest::to_yaml(&got),
        sigil_crds::manifest::to_yaml(&want),
        "build of {path} differs from kubectl kustomize"
    );
    assert_eq!(got, want);
}

const BASE: &[(&str, &str)] = &[
    (
        "base/kustomization.yaml",
        "resources: [deploy.yaml, svc.yaml, rbac.yaml, cron.yaml]
commonLabels: {app: web}
commonAnnotations: {team: blue}
configMapGenerator:
- name: cfg
  literals: [A=1, B=two]
  files: [conf/app.properties]
- name: env
  envs: [conf/vars.env]
secretGenerator:
- name: creds
  literals: [password=hunter2]
  type: Opaque
generatorOptions:
  labels: {generated: \"yes\"}
",
    ),
    ("base/conf/app.properties", "x=1\ny=2\n"),
    ("base/conf/vars.env", "# comment\nFOO=bar\nEMPTY=\nQUOTED=\"q\"\n"),
    (
        "base/deploy.yaml",
        "apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {tier: fe}}
  template:
    metadata: {labels: {tier: fe}}
    spec:
      serviceAccountName: runner
      initContainers:
      - {name: init, image: busybox:1.36}
      containers:
      - name: app
        image: nginx:1.25
        ports: [{containerPort: 80}, {containerPort: 443, name: tls}]
        env:
        - {name: A, value: a}
        - name: PW
          valueFrom: {secretKeyRef: {name: creds, key: password}}
        envFrom: [{configMapRef: {name: env}}]
        volumeMounts: [{name: cfg, mountPath: /etc/cfg}]
      - name: sidecar
        image: envoy:v1
      volumes:
      - name: cfg
        configMap: {name: cfg}
      - name: scratch
        emptyDir: {}
",
    ),
    (
        "base/svc.yaml",
        "apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {tier: fe}
  ports: [{port: 80, targetPort: 80, name: http}]
",
    ),
    (
        "base/rbac.yaml",
        "apiVersion: v1
kind: ServiceAccount
metadata: {name: runner}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reader}
rules: [{apiGroups: [\"\"], resources: [configmaps], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reader}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}
subjects: [{kind: ServiceAccount, name: runner}]
",
    ),
    (
        "base/cron.yaml",
        "apiVersion: batch/v1
kind: CronJob
metadata: {name: tick}
spec:
  schedule: \"*/5 * * * *\"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: tick, image: busybox:1.36, envFrom: [{configMapRef: {name: cfg}}]}]
",
    ),
    (
        "comp/kustomization.yaml",
        "apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
patches:
- target: {kind: Deployment}
  patch: |-
    - op: add
      path: /spec/template/spec/containers/0/args
      value: [--verbose]
",
    ),
    (
        "overlay/kustomization.yaml",
        "resources: [../base, pdb.yaml]
components: [../comp]
namespace: prod
namePrefix: p-
nameSuffix: -v2
labels:
- pairs: {env: prod}
  includeTemplates: true
images:
- {name: nginx, newName: registry.example/nginx, newTag: \"1.26\"}
- {name: busybox, digest: \"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"}
replicas: [{name: web, count: 4}]
configMapGenerator:
- name: cfg
  behavior: merge
  literals: [B=three, C=4]
secretGenerator:
- name: creds
  behavior: replace
  literals: [password=correct-horse]
patches:
- path: patch-deploy.yaml
- target: {kind: Service, labelSelector: app=web}
  patch: |-
    - op: replace
      path: /spec/ports/0/port
      value: 8080
- target: {kind: Deploy.*, name: \"w.b\"}
  patch: |-
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: ignored}
    spec:
      template:
        metadata: {annotations: {patched: \"true\"}}
patchesJson6902:
- target: {group: batch, version: v1, kind: CronJob, name: tick}
  path: cron-patch.yaml
",
    ),
    (
        "overlay/patch-deploy.yaml",
        "apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - name: app
        env:
        - {name: B, value: b}
        - {name: A, $patch: delete}
        ports: [{containerPort: 8443, name: alt}]
      - name: sidecar
        $patch: delete
      - name: extra
        image: busybox:1.36
      volumes:
      - name: scratch
        $patch: delete
",
    ),
    (
        "overlay/cron-patch.yaml",
        "- {op: replace, path: /spec/schedule, value: \"0 * * * *\"}\n",
    ),
    (
        "overlay/pdb.yaml",
        "apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web}
spec:
  minAvailable: 1
  selector: {matchLabels: {tier: fe}}
",
    ),
];

#[test]
fn handwritten_trees_match_kubectl() {
    let dir = tempfile::tempdir().unwrap();
    for (rel, text) in BASE {
        write(dir.path(), rel, text);
    }
    let keyring = Keyring::new();
    same(dir.path(), "base", &keyring, dir.path());
    same(dir.path(), "overlay", &keyring, dir.path());
}

fn sops_bin() -> Option<PathBuf> {
    sigil_tests::peer("sops")
}

/// A copy of `src` with every file sops can decrypt decrypted by the real sops.
fn decrypted_copy(src: &Path, dst: &Path, key: &Path) -> bool {
    let Some(sops) = sops_bin() else { return false };
    let status = Command::new("cp").arg("-r").arg(src).arg(dst).status().unwrap();
    assert!(status.success());
    for entry in walk(dst) {
        let name = entry.to_string_lossy();
        let file = entry.file_name().unwrap_or_default().to_string_lossy().to_string();
        if file.contains(".sops.") && file != ".sops.yaml" {
            let out = Command::new(&sops)
                .env("SOPS_AGE_KEY_FILE", key)
                .args(["--decrypt", "--in-place"])
                .arg(&entry)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "sops -d {name}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    true
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn the_example_overlays_match_kubectl_on_their_plaintext() {
    let root = sigil_tests::workspace_root().join("examples");
    let key = root.join("keys/age.agekey");
    let tmp = tempfile::tempdir().unwrap();
    let plain = tmp.path().join("examples");
    if !decrypted_copy(&root, &plain, &key) {
        return;
    }
    let mut age = AgeKeys::new();
    age.add_file(&key).unwrap();
    let keyring = Keyring::new().with(age);
    same(&root, "app/overlays/staging", &keyring, &plain);
    // The production overlay also inflates a Helm chart (`helmCharts`), which `kubectl
    // kustomize` cannot do without `--enable-helm` and a `helm` binary (not a peer here; the
    // chart itself is compared with the real Helm library in render_chart.rs). So kubectl builds
    // the overlay without its helmCharts/helmGlobals, and we build it whole and leave out the
    // chart's objects (those labelled managed-by Helm): the rest must be the same, in order.
    let production = "app/overlays/production";
    let k = plain.join(production).join("kustomization.yaml");
    let mut kustomization = sigil_crds::manifest::load(&std::fs::read(&k).unwrap()).unwrap();
    let fields = kustomization[0].as_object_mut().unwrap();
    assert!(fields.remove("helmCharts").is_some() && fields.remove("helmGlobals").is_some());
    std::fs::write(&k, sigil_crds::manifest::to_yaml(&kustomization)).unwrap();
    let Some(want) = kubectl_kustomize(&plain.join(production)) else {
        return;
    };
    let (chart, got): (Vec<_>, Vec<_>) = ours(&root, production, &keyring)
        .into_iter()
        .partition(|o| o["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "Helm");
    let names: Vec<String> = chart
        .iter()
        .map(|o| {
            format!(
                "{}/{}",
                o["kind"].as_str().unwrap_or("?"),
                o["metadata"]["name"].as_str().unwrap_or("?")
            )
        })
        .collect();
    assert_eq!(names.len(), 5, "the chart's objects: {names:?}");
    assert_eq!(
        sigil_crds::manifest::to_yaml(&got),
        sigil_crds::manifest::to_yaml(&want),
        "build of {production} (without its chart) differs from kubectl kustomize"
    );
}

#[test]
fn sops_encrypted_patches_and_generator_inputs_decrypt_before_the_build() {
    let Some(sops) = sops_bin() else { return };
    let key_dir = tempfile::tempdir().unwrap();
    let Some(id) = sigil_tests::age_keygen(key_dir.path(), "k") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let enc = tmp.path().join("enc");
    write(
        &enc,
        "kustomization.yaml",
        "resources: [secret.sops.yaml, deploy.yaml]
patches: [{path: patch.sops.yaml}]
secretGenerator:
- name: tls
  files: [tls.key=key.sops.json, extra.sops.ini]
- name: env
  envs: [app.sops.env]
",
    );
    write(
        &enc,
        "deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n      containers: [{name: c, image: i}]\n",
    );
    write(
        &enc,
        "secret.sops.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {password: p@ss, user: admin}\n",
    );
    write(
        &enc,
        "patch.sops.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    spec:\n      containers: [{name: c, env: [{name: TOKEN, value: t0k3n}]}]\n",
    );
    write(&enc, "key.sops.json", "{\"key\": \"-----BEGIN KEY-----\"}\n");
    write(&enc, "extra.sops.ini", "[db]\nhost = h\npass = secret\n");
    write(&enc, "app.sops.env", "API_KEY=abc123\nMODE=prod\n");
    for f in [
        "secret.sops.yaml",
        "patch.sops.yaml",
        "key.sops.json",
        "extra.sops.ini",
        "app.sops.env",
    ] {
        let out = Command::new(&sops)
            .current_dir(&enc)
            .args(["--encrypt", "--in-place", "--age", &id.recipient])
            .arg(f)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "sops -e {f}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(std::fs::read_to_string(enc.join(f)).unwrap().contains("ENC["));
    }
    let plain = tmp.path().join("plain");
    assert!(decrypted_copy(&enc, &plain, &id.key_file));
    let mut age = AgeKeys::new();
    age.add_file(&id.key_file).unwrap();
    let keyring = Keyring::new().with(age);
    same(&enc, ".", &keyring, &plain);
}
