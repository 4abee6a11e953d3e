//! `sigil-agent render` on a directory with a SOPS-encrypted Secret (made by the real `sops`
//! and `age-keygen`), a SealedSecret, and plain manifests; every failure fails the whole
//! render, names the file or object, and shows no value (logs captured at trace level).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sigil_crds::manifest;
use sigil_crds::sealedsecret;
use sigil_crds::secret::Secret;
use sigil_crypto::sealed::{PublicCert, Scope, SealingKey};
use sigil_tests::{Sops, age_keygen, ok};

const SOPS_PASSWORD: &str = "Render-Sops-Canary-1";
const SEALED_PASSWORD: &str = "Render-Sealed-Canary-2";

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
    for text in [String::from_utf8_lossy(&o.stderr), String::from_utf8_lossy(&o.stdout)] {
        assert!(
            !text.contains(SOPS_PASSWORD) && !text.contains(SEALED_PASSWORD),
            "leak: {text}"
        );
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
        "apps/config.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n  namespace: apps\ndata:\n  mode: prod\n---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: apps\n",
    );
    let secret = write(
        &root,
        "apps/db.yaml",
        &format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: apps\nstringData:\n  password: {SOPS_PASSWORD}\n"
        ),
    );
    let enc = ok(
        &sops.encrypt(
            &root,
            &[
                "-i",
                "--age",
                &a.recipient,
                "--encrypted-regex",
                "^(data|stringData)$",
                secret.to_str().unwrap(),
            ],
        ),
        "sops -e",
    );
    assert!(enc.is_empty());
    // A SealedSecret for apps/api.
    let key = SealingKey::generate(2048).unwrap();
    let cert = PublicCert::parse(&key.self_signed_cert().unwrap(), "cert").unwrap();
    let mut s = Secret::default();
    s.metadata.name = "api".into();
    s.metadata.namespace = "apps".into();
    s.string_data.insert("password".into(), SEALED_PASSWORD.into());
    let ss = sealedsecret::seal(&s, &cert, Scope::Strict).unwrap();
    write(
        &root,
        "apps/api.sealed.yaml",
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
    fn digest_key(&self) -> sigil_agent::digest::DigestKey {
        let read = |p: &std::path::Path| zeroize::Zeroizing::new(std::fs::read(p).unwrap());
        sigil_agent::digest::DigestKey::derive("sigil-agent render", &[read(&self.age_key), read(&self.sealing_key)])
            .unwrap()
    }

    fn render(&self, extra: &[&str]) -> Output {
        let mut args = vec![
            "render",
            self.root.to_str().unwrap(),
            "--age-key-file",
            self.age_key.to_str().unwrap(),
            "--sealing-key",
            self.sealing_key.to_str().unwrap(),
        ];
        args.extend(extra);
        agent(&args)
    }
}

#[test]
fn renders_with_secrets_resolved_and_redacted() {
    let Some(r) = repo() else { return };
    let out = r.render(&[]);
    let text = String::from_utf8(ok(&out, "render")).unwrap();
    no_leak(&out);
    let objects = manifest::load(text.as_bytes()).unwrap();
    let kinds: Vec<String> = objects
        .iter()
        .map(|o| {
            format!(
                "{}/{}",
                o["kind"].as_str().unwrap(),
                o["metadata"]["name"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(kinds, ["Secret/api", "ConfigMap/app", "Namespace/apps", "Secret/db"]);
    // Markers are HMACs keyed by the keys in use: whoever holds them can compare digests.
    let key = r.digest_key();
    assert!(text.contains(&key.marker(SEALED_PASSWORD.as_bytes())), "{text}");
    assert!(text.contains(&key.marker(SOPS_PASSWORD.as_bytes())), "{text}");
    let plain = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(SOPS_PASSWORD.as_bytes()));
    assert!(!text.contains(&plain[..12]), "a plain hash of a value is shown");
    assert!(!text.contains("SealedSecret"), "a SealedSecret is not emitted itself");
    // --show-secrets prints them.
    let shown = String::from_utf8(ok(&r.render(&["--show-secrets"]), "show")).unwrap();
    assert!(
        shown.contains(SOPS_PASSWORD),
        "SOPS stringData stays as written: {shown}"
    );
    use base64::Engine;
    assert!(shown.contains(&base64::engine::general_purpose::STANDARD.encode(SEALED_PASSWORD)));
}

#[test]
fn each_failure_fails_the_render_and_names_it() {
    let Some(r) = repo() else { return };
    // Wrong age key.
    let out = agent(&[
        "render",
        r.root.to_str().unwrap(),
        "--age-key-file",
        r.other_age_key.to_str().unwrap(),
        "--sealing-key",
        r.sealing_key.to_str().unwrap(),
    ]);
    assert!(!out.status.success() && out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("apps/db.yaml") && err.contains("no key could decrypt"),
        "{err}"
    );
    no_leak(&out);
    // Tampered SOPS file (an unencrypted value edited).
    let db = r.root.join("apps/db.yaml");
    let good = std::fs::read_to_string(&db).unwrap();
    std::fs::write(&db, good.replacen("name: db", "name: db2", 1)).unwrap();
    let out = r.render(&[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && out.stdout.is_empty());
    assert!(err.contains("apps/db.yaml") && err.contains("MAC mismatch"), "{err}");
    no_leak(&out);
    std::fs::write(&db, &good).unwrap();
    // Wrong scope: the SealedSecret moved to another namespace.
    let api = r.root.join("apps/api.sealed.yaml");
    let sealed = std::fs::read_to_string(&api).unwrap();
    std::fs::write(&api, sealed.replacen("namespace: apps", "namespace: prod", 1)).unwrap();
    let out = r.render(&[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && out.stdout.is_empty());
    assert!(
        err.contains("SealedSecret prod/api") && err.contains("scope mismatch"),
        "{err}"
    );
    no_leak(&out);
    std::fs::write(&api, &sealed).unwrap();
    // Plaintext Secret denied by policy.
    write(
        &r.root,
        "apps/plain.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: plain\n  namespace: apps\nstringData:\n  k: v\n",
    );
    let out = r.render(&["--deny-plaintext-secrets"]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Secret apps/plain: plaintext Secret in Git is denied by policy")
    );
    ok(&r.render(&[]), "allowed by default");
}

#[test]
fn the_source_root_is_enforced() {
    let Some(r) = repo() else { return };
    let outside = r.root.parent().unwrap().join("outside.yaml");
    std::fs::write(&outside, "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n").unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(&outside, r.root.join("apps/link.yaml")).unwrap();
    let out = r.render(&[]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("apps/link.yaml: symlink points outside the source root"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_file(r.root.join("apps/link.yaml")).unwrap();
    let out = r.render(&["--path", "../"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("path escapes the source root"));
    // Files over the limit and alias bombs are refused.
    let big = "a: ".to_string() + &"x".repeat(6 * 1024 * 1024) + "\n";
    write(&r.root, "apps/big.yaml", &big);
    let out = r.render(&[]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("apps/big.yaml: file is larger than the 5242880-byte limit"));
    std::fs::remove_file(r.root.join("apps/big.yaml")).unwrap();
    let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..9 {
        bomb.push_str(&format!(
            "a{i}: &a{i} [{}]\n",
            vec![format!("*a{}", i - 1); 10].join(", ")
        ));
    }
    write(&r.root, "apps/bomb.yaml", &bomb);
    let out = r.render(&[]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("apps/bomb.yaml: cannot parse: document too large"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Kustomizations obey the same root, and kustomize's own rule: files only from the
    // kustomization's directory and below.
    std::fs::remove_file(r.root.join("apps/bomb.yaml")).unwrap();
    write(&r.root, "kustomization.yaml", "resources: [../outside.yaml]\n");
    let out = r.render(&[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("../outside.yaml: path escapes the source root"), "{err}");
    write(
        &r.root,
        "apps/kustomization.yaml",
        "resources: [../kustomization.yaml]\n",
    );
    let out = r.render(&["--path", "apps"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("security; file 'kustomization.yaml' is not in or below 'apps'"),
        "{err}"
    );
}
