//! `sealer`'s sealed secrets against independent implementations: kubesealpy and a
//! hybrid implementation on Python `cryptography` (`ss_hybrid`), plus the shared vectors
//! made by kubesealpy and npm `@linode/kubeseal-encrypt`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use sigil_tests::{ok, python, run_python, shared_vectors};

const PASSWORD: &str = "Sealed-Canary-Password-7";

fn sealer(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sealer"));
    c.current_dir(dir);
    c
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A key pair made by `sealer keygen` (2048 bits to keep the test quick).
fn keygen(dir: &Path, name: &str) -> PathBuf {
    let out = dir.join(name);
    ok(
        &sealer(dir)
            .args(["keygen", "--bits", "2048", "--out-dir"])
            .arg(&out)
            .output()
            .unwrap(),
        "keygen",
    );
    for f in ["tls.key", "tls.crt", "sealing-key.yaml"] {
        assert!(out.join(f).is_file(), "{f}");
    }
    out
}

const SECRET: &str = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db-creds\n  namespace: apps\n  labels:\n    app: db\n  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: '{}'\n    keep: me\n  ownerReferences:\n  - apiVersion: v1\n    kind: ConfigMap\n    name: owner\n    uid: x\n  uid: 1234\n  resourceVersion: \"9\"\ntype: Opaque\ndata:\n  username: YWRtaW4=\nstringData:\n  password: Sealed-Canary-Password-7\n";

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Opens every encryptedData value of a SealedSecret with kubesealpy; prints key=base64 lines.
const KUBESEALPY_OPEN: &str = r#"
import sys, base64, yaml
from kubesealpy.crypto import decrypt
from kubesealpy.certificate import load_private_key_from_file
from kubesealpy.scopes import SealingScope, build_label
key = load_private_key_from_file(sys.argv[1])
doc = yaml.safe_load(open(sys.argv[2]))
scope = SealingScope(sys.argv[3])
ns, name = sys.argv[4], sys.argv[5]
label = build_label(scope, ns if scope != SealingScope.CLUSTER_WIDE else None, name if scope == SealingScope.STRICT else None)
for k, v in sorted(doc["spec"]["encryptedData"].items()):
    print(k + "=" + base64.b64encode(decrypt(base64.b64decode(v), key, label)).decode())
"#;

#[test]
fn shared_vectors_unseal() {
    let Some(v) = shared_vectors() else { return };
    let dir = tempfile::tempdir().unwrap();
    let v = v.join("sealed");
    let expected: serde_json::Value = serde_json::from_slice(&std::fs::read(v.join("expected.json")).unwrap()).unwrap();
    let mut count = 0;
    for entry in std::fs::read_dir(&v).unwrap() {
        let p = entry.unwrap().path();
        let n = p.file_name().unwrap().to_string_lossy().to_string();
        if !(n.starts_with("sealed.") && n.ends_with(".yaml")) {
            continue;
        }
        count += 1;
        // Both key forms: the PEM key and the Bitnami key Secret manifest.
        for key in ["tls.key", "sealed-secrets-key.secret.yaml"] {
            let out = sealer(dir.path())
                .args(["unseal", "-o", "json", "--recovery-private-key"])
                .arg(v.join(key))
                .arg(&p)
                .output()
                .unwrap();
            let secret: serde_json::Value = serde_json::from_slice(&ok(&out, &n)).unwrap();
            assert_eq!(secret["data"], expected["data_b64"], "{n} with {key}");
            assert_eq!(secret["metadata"]["namespace"], "apps");
            assert_eq!(secret["metadata"]["name"], "db-creds");
        }
    }
    assert_eq!(count, 6, "three scopes by two implementations");
    // The npm implementation's raw value (namespace-wide, namespace apps).
    let raw = std::fs::read_to_string(v.join("raw.namespace-wide.apps.linode-npm.b64")).unwrap();
    let plain = std::fs::read(v.join("raw.namespace-wide.apps.linode-npm.plain")).unwrap();
    let ss = format!(
        "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: anything\n  namespace: apps\n  annotations:\n    sealedsecrets.bitnami.com/namespace-wide: \"true\"\nspec:\n  encryptedData:\n    v: {}\n",
        raw.trim()
    );
    let f = write(dir.path(), "raw.yaml", &ss);
    let out = sealer(dir.path())
        .args(["unseal", "-o", "json", "--recovery-private-key"])
        .arg(v.join("tls.key"))
        .arg(&f)
        .output()
        .unwrap();
    let secret: serde_json::Value = serde_json::from_slice(&ok(&out, "raw")).unwrap();
    assert_eq!(B64.decode(secret["data"]["v"].as_str().unwrap()).unwrap(), plain);
}

#[test]
fn sealer_seals_kubesealpy_opens_all_scopes() {
    let Some(py) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let keys = keygen(dir.path(), "k");
    let input = write(dir.path(), "secret.yaml", SECRET);
    for scope in ["strict", "namespace-wide", "cluster-wide"] {
        let out = sealer(dir.path())
            .args(["seal", "--scope", scope, "--cert"])
            .arg(keys.join("tls.crt"))
            .arg(&input)
            .output()
            .unwrap();
        let text = String::from_utf8(ok(&out, "seal")).unwrap();
        assert!(
            text.starts_with("---\napiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\n"),
            "{text}"
        );
        assert!(
            !text.contains(PASSWORD)
                && !text.contains("last-applied")
                && !text.contains("ownerReferences")
                // `uid:` as a key: a bare "uid" turns up in base64 ciphertext now and then.
                && !text.contains("uid:")
        );
        assert!(text.contains("keep: me"));
        let sealed = write(dir.path(), &format!("sealed.{scope}.yaml"), &text);
        let k = keys.join("tls.key");
        let opened = run_python(
            &py,
            KUBESEALPY_OPEN,
            &[k.to_str().unwrap(), sealed.to_str().unwrap(), scope, "apps", "db-creds"],
        );
        let opened = String::from_utf8(ok(&opened, "kubesealpy decrypt")).unwrap();
        assert_eq!(
            opened,
            format!("password={}\nusername=YWRtaW4=\n", B64.encode(PASSWORD)),
            "{scope}"
        );
        // A wrong label is refused by the independent implementation too.
        if scope != "cluster-wide" {
            let wrong = run_python(
                &py,
                KUBESEALPY_OPEN,
                &[k.to_str().unwrap(), sealed.to_str().unwrap(), scope, "prod", "db-creds"],
            );
            assert!(!wrong.status.success(), "{scope}: kubesealpy accepted a wrong label");
        }
        // And sealer unseals its own output.
        let out = sealer(dir.path())
            .args(["unseal", "--recovery-private-key"])
            .arg(&k)
            .arg(&sealed)
            .output()
            .unwrap();
        assert!(
            String::from_utf8(ok(&out, "unseal"))
                .unwrap()
                .contains(&B64.encode(PASSWORD))
        );
    }
}

#[test]
fn kubesealpy_seals_sealer_opens_and_scope_is_enforced() {
    let Some(py) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let keys = keygen(dir.path(), "k");
    let code = r#"
import sys
from kubesealpy.sealer import Sealer
from kubesealpy.scopes import SealingScope
s = Sealer.from_certificate_file(sys.argv[1])
ss = s.seal(name="db-creds", namespace="apps", data={"password": b"Sealed-Canary-Password-7"}, scope=SealingScope(sys.argv[2]))
print(ss.to_yaml())
"#;
    for scope in ["strict", "namespace-wide", "cluster-wide"] {
        let out = run_python(&py, code, &[keys.join("tls.crt").to_str().unwrap(), scope]);
        let text = String::from_utf8(ok(&out, "kubesealpy seal")).unwrap();
        let f = write(dir.path(), &format!("kp.{scope}.yaml"), &text);
        let out = sealer(dir.path())
            .args(["unseal", "-o", "json", "--recovery-private-key"])
            .arg(keys.join("tls.key"))
            .arg(&f)
            .output()
            .unwrap();
        let secret: serde_json::Value = serde_json::from_slice(&ok(&out, scope)).unwrap();
        assert_eq!(secret["data"]["password"], B64.encode(PASSWORD));
        // Moved to another namespace: strict and namespace-wide values no longer open.
        let moved = write(
            dir.path(),
            &format!("moved.{scope}.yaml"),
            &text.replacen("namespace: apps", "namespace: prod", 1),
        );
        let out = sealer(dir.path())
            .args(["unseal", "--recovery-private-key"])
            .arg(keys.join("tls.key"))
            .arg(&moved)
            .output()
            .unwrap();
        if scope == "cluster-wide" {
            ok(&out, "cluster-wide moves freely");
        } else {
            let err = stderr(&out);
            assert!(!out.status.success());
            assert!(
                err.contains("scope mismatch") && err.contains("found at") && err.contains("prod"),
                "{err}"
            );
            assert!(!err.contains(PASSWORD));
        }
    }
}

#[test]
fn errors_are_clear() {
    let Some(py) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let keys = keygen(dir.path(), "k");
    let other = keygen(dir.path(), "other");
    let input = write(dir.path(), "secret.yaml", SECRET);
    let text = String::from_utf8(ok(
        &sealer(dir.path())
            .args(["seal", "--cert"])
            .arg(keys.join("tls.crt"))
            .arg(&input)
            .output()
            .unwrap(),
        "seal",
    ))
    .unwrap();
    let sealed = write(dir.path(), "s.yaml", &text);
    // Wrong key: names the value, the object and the fingerprint tried.
    let out = sealer(dir.path())
        .args(["unseal", "--recovery-private-key"])
        .arg(other.join("tls.key"))
        .arg(&sealed)
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(
        err.contains("no key could open value `password` of `apps/db-creds`: sealed with another key")
            && err.contains("(tried fingerprints SHA256:"),
        "{err}"
    );
    // Truncated and corrupt ciphertexts.
    let enc = text
        .lines()
        .find(|l| l.trim_start().starts_with("password: "))
        .unwrap()
        .split_once(": ")
        .unwrap()
        .1
        .to_string();
    let truncated = write(
        dir.path(),
        "t.yaml",
        &text.replace(&enc, &B64.encode(&B64.decode(&enc).unwrap()[..40])),
    );
    let err = stderr(
        &sealer(dir.path())
            .args(["unseal", "--recovery-private-key"])
            .arg(keys.join("tls.key"))
            .arg(&truncated)
            .output()
            .unwrap(),
    );
    assert!(err.contains("truncated ciphertext"), "{err}");
    let mut bytes = B64.decode(&enc).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    let corrupt = write(dir.path(), "c.yaml", &text.replace(&enc, &B64.encode(&bytes)));
    let err = stderr(
        &sealer(dir.path())
            .args(["unseal", "--recovery-private-key"])
            .arg(keys.join("tls.key"))
            .arg(&corrupt)
            .output()
            .unwrap(),
    );
    assert!(err.contains("corrupt ciphertext"), "{err}");
    // Expired and non-RSA certificates, made with Python cryptography.
    let code = r#"
import sys, datetime
from cryptography import x509
from cryptography.x509.oid import NameOID
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa, ec
kind, out = sys.argv[1], sys.argv[2]
key = rsa.generate_private_key(public_exponent=65537, key_size=2048) if kind == "expired" else ec.generate_private_key(ec.SECP256R1())
name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sealed-secret")])
now = datetime.datetime.now(datetime.timezone.utc)
nb, na = (now - datetime.timedelta(days=20), now - datetime.timedelta(days=10)) if kind == "expired" else (now, now + datetime.timedelta(days=10))
cert = x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key()).serial_number(7).not_valid_before(nb).not_valid_after(na).sign(key, hashes.SHA256())
open(out, "wb").write(cert.public_bytes(serialization.Encoding.PEM))
"#;
    for (kind, reason) in [("expired", "certificate expired"), ("ec", "certificate key is not RSA")] {
        let cert = dir.path().join(format!("{kind}.crt"));
        ok(&run_python(&py, code, &[kind, cert.to_str().unwrap()]), "make cert");
        let out = sealer(dir.path())
            .args(["seal", "--cert"])
            .arg(&cert)
            .arg(&input)
            .output()
            .unwrap();
        assert!(stderr(&out).contains(reason), "{kind}: {}", stderr(&out));
    }
}

#[test]
fn raw_merge_reencrypt_and_templates() {
    let Some(py) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let keys = keygen(dir.path(), "k");
    let cert = keys.join("tls.crt");
    let key = keys.join("tls.key");
    // --raw: one value, opened by the independent ss_hybrid implementation.
    let value = write(dir.path(), "value.txt", PASSWORD);
    let raw = String::from_utf8(ok(
        &sealer(dir.path())
            .args([
                "seal",
                "--raw",
                "--scope",
                "namespace-wide",
                "--namespace",
                "apps",
                "--from-file",
            ])
            .arg(&value)
            .arg("--cert")
            .arg(&cert)
            .output()
            .unwrap(),
        "raw",
    ))
    .unwrap();
    let open_raw = "import sys, base64, ss_hybrid\nk = ss_hybrid.load_priv(sys.argv[1])\nprint(ss_hybrid.unseal(k, base64.b64decode(sys.argv[2]), sys.argv[3].encode()).decode(), end='')";
    assert_eq!(
        String::from_utf8(ok(
            &run_python(&py, open_raw, &[key.to_str().unwrap(), &raw, "apps"]),
            "ss_hybrid"
        ))
        .unwrap(),
        PASSWORD
    );
    assert!(
        !run_python(&py, open_raw, &[key.to_str().unwrap(), &raw, "prod"])
            .status
            .success()
    );

    // --merge-into: only the given keys change.
    let input = write(dir.path(), "secret.yaml", SECRET);
    let text = String::from_utf8(ok(
        &sealer(dir.path())
            .args(["seal", "--cert"])
            .arg(&cert)
            .arg(&input)
            .output()
            .unwrap(),
        "seal",
    ))
    .unwrap();
    let sealed = write(dir.path(), "s.yaml", &text);
    let line = |t: &str, k: &str| {
        t.lines()
            .find(|l| l.trim_start().starts_with(&format!("{k}: ")))
            .unwrap()
            .to_string()
    };
    let update = write(
        dir.path(),
        "update.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db-creds\n  namespace: apps\nstringData:\n  password: new-pass\n  extra: added\n",
    );
    ok(
        &sealer(dir.path())
            .args(["seal", "--cert"])
            .arg(&cert)
            .arg("--merge-into")
            .arg(&sealed)
            .arg(&update)
            .output()
            .unwrap(),
        "merge",
    );
    let merged = std::fs::read_to_string(&sealed).unwrap();
    assert_eq!(line(&merged, "username"), line(&text, "username"));
    assert_ne!(line(&merged, "password"), line(&text, "password"));
    let out = sealer(dir.path())
        .args(["unseal", "-o", "json", "--recovery-private-key"])
        .arg(&key)
        .arg(&sealed)
        .output()
        .unwrap();
    let secret: serde_json::Value = serde_json::from_slice(&ok(&out, "unseal merged")).unwrap();
    assert_eq!(secret["data"]["password"], B64.encode("new-pass"));
    assert_eq!(secret["data"]["extra"], B64.encode("added"));
    assert_eq!(secret["data"]["username"], "YWRtaW4=");

    // Templates render with the decrypted values; unsupported constructs are named.
    let templated = merged.replace(
        "    type: Opaque",
        "    type: Opaque\n    data:\n      url: postgres://{{ index . \"username\" }}:{{ .password }}@db/app",
    );
    let tf = write(dir.path(), "tmpl.yaml", &templated);
    let out = sealer(dir.path())
        .args(["unseal", "-o", "json", "--recovery-private-key"])
        .arg(&key)
        .arg(&tf)
        .output()
        .unwrap();
    let secret: serde_json::Value = serde_json::from_slice(&ok(&out, "unseal templated")).unwrap();
    assert_eq!(secret["data"]["url"], B64.encode("postgres://admin:new-pass@db/app"));
    let bad = write(
        dir.path(),
        "bad.yaml",
        &templated.replace("{{ .password }}", "{{ nosuchfunc .password }}"),
    );
    let err = stderr(
        &sealer(dir.path())
            .args(["unseal", "--recovery-private-key"])
            .arg(&key)
            .arg(&bad)
            .output()
            .unwrap(),
    );
    assert!(
        err.contains("template.data.url") && err.contains("function \"nosuchfunc\" not defined"),
        "{err}"
    );
    assert!(!err.contains("new-pass"), "{err}");

    // re-encrypt to a new certificate: the new key opens it, the old one no longer does.
    let new = keygen(dir.path(), "new");
    let out = sealer(dir.path())
        .args(["re-encrypt", "--recovery-private-key"])
        .arg(&key)
        .arg("--cert")
        .arg(new.join("tls.crt"))
        .arg(&sealed)
        .output()
        .unwrap();
    let re = write(
        dir.path(),
        "re.yaml",
        &String::from_utf8(ok(&out, "re-encrypt")).unwrap(),
    );
    let out = sealer(dir.path())
        .args(["unseal", "-o", "json", "--recovery-private-key"])
        .arg(new.join("sealing-key.yaml"))
        .arg(&re)
        .output()
        .unwrap();
    let secret: serde_json::Value = serde_json::from_slice(&ok(&out, "unseal re-encrypted")).unwrap();
    assert_eq!(secret["data"]["password"], B64.encode("new-pass"));
    assert!(
        !sealer(dir.path())
            .args(["unseal", "--recovery-private-key"])
            .arg(&key)
            .arg(&re)
            .output()
            .unwrap()
            .status
            .success()
    );
    // Several keys: the old and the new one, either order.
    let both = format!("{},{}", key.display(), new.join("tls.key").display());
    ok(
        &sealer(dir.path())
            .args(["unseal", "--recovery-private-key", &both])
            .arg(&re)
            .output()
            .unwrap(),
        "two keys",
    );
}

#[test]
fn cert_from_url() {
    let Some(py) = python() else { return };
    let dir = tempfile::tempdir().unwrap();
    let keys = keygen(dir.path(), "k");
    // A loopback HTTP server on a free port, stopped when the test ends.
    let server = "import http.server, socketserver, os, sys\nos.chdir(sys.argv[1])\nh = http.server.SimpleHTTPRequestHandler\nh.log_message = lambda *a: None\nwith socketserver.TCPServer(('127.0.0.1', 0), h) as s:\n    print(s.server_address[1], flush=True)\n    s.serve_forever()\n";
    let mut child = Command::new(&py)
        .arg("-c")
        .arg(server)
        .arg(&keys)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.as_mut().unwrap()), &mut line).unwrap();
    let url = format!("http://127.0.0.1:{}/tls.crt", line.trim());
    let out = sealer(dir.path()).args(["cert", "--url", &url]).output();
    let input = write(dir.path(), "secret.yaml", SECRET);
    let sealed = sealer(dir.path()).args(["seal", "--cert", &url]).arg(&input).output();
    child.kill().unwrap();
    child.wait().unwrap();
    let pem = ok(&out.unwrap(), "cert --url");
    assert_eq!(pem, std::fs::read(keys.join("tls.crt")).unwrap());
    ok(&sealed.unwrap(), "seal --cert URL");
}

#[test]
fn lint_finds_each_planted_problem() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("repo");
    std::fs::create_dir_all(root.join("apps/prod")).unwrap();
    std::fs::create_dir_all(root.join("keys")).unwrap();
    std::fs::create_dir_all(root.join("clean")).unwrap();
    write(
        &root,
        ".sops.yaml",
        "creation_rules:\n  - path_regex: apps/prod/.*\\.yaml$\n    encrypted_regex: ^(data|stringData)$\n    age: age1qqqq\n",
    );
    write(
        &root,
        "apps/secret.yaml",
        &format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n---\n{SECRET}"),
    );
    write(
        &root,
        "apps/prod/db.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\ndata:\n  password: Lint-Canary-1\n",
    );
    write(
        &root,
        "keys/sealing.pem",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n",
    );
    write(
        &root,
        "keys/me.agekey",
        "# created\nAGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ\n",
    );
    write(
        &root,
        "clean/deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\n",
    );
    let out = sealer(dir.path())
        .args(["lint", "--format", "json"])
        .arg(&root)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let findings: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let list: Vec<(String, u64, String)> = findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let file = f["file"].as_str().unwrap();
            let rel = file
                .strip_prefix(root.to_str().unwrap())
                .unwrap()
                .trim_start_matches('/')
                .to_string();
            (
                rel,
                f["line"].as_u64().unwrap(),
                f["rule"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        list,
        vec![
            ("apps/prod/db.yaml".into(), 6, "unencrypted-value".into()),
            ("apps/secret.yaml".into(), 7, "plaintext-secret".into()),
            ("keys/me.agekey".into(), 2, "private-key".into()),
            ("keys/sealing.pem".into(), 1, "private-key".into()),
        ]
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("Lint-Canary-1") && !text.contains(PASSWORD));
    // Text format: file:line: [rule] message.
    let out = sealer(dir.path()).arg("lint").arg(&root).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("apps/secret.yaml:7: [plaintext-secret]"));
    // A clean tree passes; so does a SOPS-encrypted Secret.
    ok(
        &sealer(dir.path()).arg("lint").arg(root.join("clean")).output().unwrap(),
        "clean",
    );
    let exclude = sealer(dir.path())
        .arg("lint")
        .arg("--exclude")
        .arg("keys")
        .arg("--exclude")
        .arg("apps")
        .arg(&root)
        .output()
        .unwrap();
    ok(&exclude, "everything excluded");
}
