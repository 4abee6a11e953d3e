//! `sigil-agent render` on a Kustomize repository whose secrets come three ways: a
//! SOPS-encrypted Secret resource, a SOPS-encrypted env file in a `secretGenerator`, and a
//! SealedSecret sealed for the place the overlay puts it. The expected Secrets come out;
//! every failure (wrong key, tampered file, wrong scope, plaintext denied) fails the whole
//! render naming the file or object; no value appears in output or logs (trace level).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine;
use sigil_crds::sealedsecret;
use sigil_crds::secret::Secret;
use sigil_crds::{manifest, sealedsecret::SealedSecret};
use sigil_crypto::sealed::{PublicCert, Scope, SealingKey};
use sigil_tests::{Sops, age_keygen, ok};

const RESOURCE_CANARY: &str = "Kust-Sops-Resource-Canary-1";
const ENV_CANARY: &str = "Kust-Sops-Env-Canary-2";
const SEALED_CANARY: &str = "Kust-Sealed-Canary-3";

fn write(dir: &Path, rel: &str, text: &str) -> PathBuf {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, text).unwrap();
    p
}

fn agent(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sigil-agent"))
        .env("SIGIL_LOG", "trace")
        .env_remove("VAULT_ADDR")
        .args(args)
        .output()
        .unwrap()
}

fn no_leak(o: &Output) {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    for text in [String::from_utf8_lossy(&o.stderr), String::from_utf8_lossy(&o.stdout)] {
        for c in [RESOURCE_CANARY, ENV_CANARY, SEALED_CANARY] {
            assert!(!text.contains(c) && !text.contains(&b64(c)), "leak of {c}: {text}");
        }
    }
}

struct Repo {
    _dir: tempfile::TempDir,
    root: PathBuf,
    age_key: PathBuf,
    other_age_key: PathBuf,
    sealing_key: PathBuf,
}

fn repo() -> Option<Repo> {
    let sops = Sops::find()?;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("repo");
    let a = age_keygen(dir.path(), "a")?;
    let b = age_keygen(dir.path(), "b")?;
    write(
        &root,
        "base/kustomization.yaml",
        "resources: [deploy.yaml, db.sops.yaml]\nsecretGenerator:\n- name: app-env\n  envs: [app.sops.env]\n",
    );
    write(
        &root,
        "base/deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app}\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        image: app:1\n        envFrom: [{secretRef: {name: app-env}}, {secretRef: {name: db}}, {secretRef: {name: api}}]\n",
    );
    write(
        &root,
        "base/db.sops.yaml",
        &format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: {RESOURCE_CANARY}\n"),
    );
    write(&root, "base/app.sops.env", &format!("TOKEN={ENV_CANARY}\nMODE=prod\n"));
    for f in ["db.sops.yaml", "app.sops.env"] {
        ok(
            &sops.encrypt(&root.join("base"), &["-i", "--age", &a.recipient, f]),
            "sops -e",
        );
    }
    write(
        &root,
        "prod/kustomization.yaml",
        "resources: [../base, api.sealed.yaml]\nnamespace: prod\nnamePrefix: prod-\n",
    );
    // Sealed for where the overlay puts it: prod/prod-api (strict scope).
    let key = SealingKey::generate(2048).unwrap();
    let cert = PublicCert::parse(&key.self_signed_cert().unwrap(), "cert").unwrap();
    let mut s = Secret::default();
    s.metadata.name = "prod-api".into();
    s.metadata.namespace = "prod".into();
    s.string_data.insert("password".into(), SEALED_CANARY.into());
    let mut ss: SealedSecret = sealedsecret::seal(&s, &cert, Scope::Strict).unwrap();
    // In Git it is written with its base name and no namespace; the overlay places it.
    ss.metadata.name = "api".into();
    ss.metadata.namespace = String::new();
    ss.spec.template.metadata.name = String::new();
    ss.spec.template.metadata.namespace = String::new();
    write(
        &root,
        "prod/api.sealed.yaml",
        &manifest::to_yaml(&[serde_json::to_value(&ss).unwrap()]),
    );
    let sealing_key = write(dir.path(), "sealing.pem", &key.to_pem().unwrap());
    Some(Repo {
        root,
        age_key: a.key_file,
        other_age_key: b.key_file,
        sealing_key,
        _dir: dir,
    })
}

impl Repo {
    fn render_with(&self, age: &Path, extra: &[&str]) -> Output {
        let mut args = vec![
            "render",
            self.root.to_str().unwrap(),
            "--path",
            "prod",
            "--age-key-file",
            age.to_str().unwrap(),
            "--sealing-key",
            self.sealing_key.to_str().unwrap(),
        ];
        args.extend(extra);
        agent(&args)
    }

    fn render(&self, extra: &[&str]) -> Output {
        self.render_with(&self.age_key, extra)
    }
}

fn id(o: &serde_json::Value) -> String {
    format!(
        "{}/{}/{}",
        o["kind"].as_str().unwrap_or(""),
        o["metadata"]["namespace"].as_str().unwrap_or(""),
        o["metadata"]["name"].as_str().unwrap_or("")
    )
}

#[test]
fn secrets_from_sops_resources_sops_generator_inputs_and_sealed_secrets() {
    let Some(r) = repo() else { return };
    let out = r.render(&[]);
    let text = String::from_utf8(ok(&out, "render")).unwrap();
    no_leak(&out);
    let objects = manifest::load(text.as_bytes()).unwrap();
    let ids: Vec<String> = objects.iter().map(id).collect();
    let env_secret = ids
        .iter()
        .find(|i| i.starts_with("Secret/prod/prod-app-env-"))
        .expect("generated Secret with a hash suffix")
        .clone();
    assert_eq!(
        ids,
        [
            env_secret.clone(),
            "Secret/prod/prod-db".into(),
            "Deployment/prod/prod-app".into(),
            "Secret/prod/prod-api".into()
        ]
    );
    // References follow the renames (a SealedSecret is not a Secret to kustomize's name
    // references, as with kubectl kustomize: `api` stays as written).
    let deploy = &objects[2];
    let refs: Vec<&str> = deploy["spec"]["template"]["spec"]["containers"][0]["envFrom"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["secretRef"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(refs, [env_secret.rsplit('/').next().unwrap(), "prod-db", "api"]);
    let read = |p: &Path| zeroize::Zeroizing::new(std::fs::read(p).unwrap());
    let key = sigil_agent::digest::DigestKey::derive("sigil-agent render", &[read(&r.age_key), read(&r.sealing_key)])
        .unwrap();
    assert!(text.contains(&key.marker(ENV_CANARY.as_bytes())), "{text}");
    // With --show-secrets, the values are the plaintext.
    let shown = manifest::load(&ok(&r.render(&["--show-secrets"]), "show")).unwrap();
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    assert_eq!(shown[1]["stringData"]["password"], RESOURCE_CANARY);
    assert_eq!(shown[0]["data"]["TOKEN"], b64(ENV_CANARY).as_str());
    assert_eq!(shown[0]["data"]["MODE"], b64("prod").as_str());
    assert_eq!(shown[3]["data"]["password"], b64(SEALED_CANARY).as_str());
    // A Secret generated from SOPS inputs only is not "plaintext in Git".
    ok(
        &r.render(&["--deny-plaintext-secrets"]),
        "SOPS-only secrets pass the policy",
    );
}

#[test]
fn each_failure_fails_the_whole_kustomize_render_and_names_it() {
    let Some(r) = repo() else { return };
    // Wrong age key: the first SOPS file read is named.
    let out = r.render_with(&r.other_age_key, &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && out.stdout.is_empty());
    assert!(
        err.contains("base/db.sops.yaml") && err.contains("no key could decrypt"),
        "{err}"
    );
    no_leak(&out);
    // Tampered generator input (a value's ciphertext swapped with the other's).
    let env = r.root.join("base/app.sops.env");
    let good = std::fs::read_to_string(&env).unwrap();
    let lines: Vec<&str> = good.lines().collect();
    let (t, m) = (lines[0].split_once('=').unwrap(), lines[1].split_once('=').unwrap());
    let swapped =
        good.replacen(lines[0], &format!("{}={}", t.0, m.1), 1)
            .replacen(lines[1], &format!("{}={}", m.0, t.1), 1);
    std::fs::write(&env, swapped).unwrap();
    let out = r.render(&[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && out.stdout.is_empty());
    assert!(err.contains("base/app.sops.env"), "{err}");
    no_leak(&out);
    std::fs::write(&env, &good).unwrap();
    // Wrong scope: the overlay puts the SealedSecret elsewhere than it was sealed for (its
    // place in Git says nothing of where it was sealed for, so the message says both causes).
    let k = r.root.join("prod/kustomization.yaml");
    let kgood = std::fs::read_to_string(&k).unwrap();
    std::fs::write(&k, kgood.replace("namespace: prod", "namespace: staging")).unwrap();
    let out = r.render(&[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && out.stdout.is_empty());
    assert!(
        err.contains("SealedSecret staging/prod-api") && err.contains("for another name/namespace"),
        "{err}"
    );
    no_leak(&out);
    std::fs::write(&k, &kgood).unwrap();
    // A literal in a secretGenerator is plaintext in Git: denied by policy, allowed by default.
    std::fs::write(
        &k,
        format!("{kgood}secretGenerator:\n- name: extra\n  literals: [k=v]\n"),
    )
    .unwrap();
    let out = r.render(&["--deny-plaintext-secrets"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("plaintext Secret in Git is denied by policy") && err.contains("prod-extra-"),
        "{err}"
    );
    ok(&r.render(&[]), "allowed by default");
}
