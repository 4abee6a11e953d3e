//! `sealer` against the real `sops` 3.11 and `age`: both directions, every store, the
//! `.sops.yaml` flows, tampering, and what errors may (not) show.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sigil_tests::{AgeIdentity, Sops, age_keygen, ok, shared_vectors};

/// Values that must never appear in an error message.
const CANARIES: &[&str] = &[
    "S3cr3t-Leak-Canary-1",
    "Canary-JSON-pw",
    "Canary-Env-pw",
    "Canary-Ini-pw",
    "value-canary",
];

const YAML: &str = r#"# top comment
apiVersion: v1
kind: Secret
metadata:
  name: db-creds   # the name
  namespace: apps
type: Opaque
stringData:
  # the password
  password: "S3cr3t-Leak-Canary-1"
  port: "5432"
data:
  token: dG9rZW4tY2FuYXJ5
list:
  - one
  - 2
  - 3.5
  - -0.25
  - true
  - nested: value-canary
    other: x
multi: |
  line one canary
  line two
unicode: "héllo wörld ✓"
quoted: "yes"
empty: ""
nothing: null
single: 'it''s'
safe_unencrypted: visible
"#;

const JSON: &str = r#"{"name": "x", "db": {"user": "app", "password": "Canary-JSON-pw", "port": 5432, "ratio": 0.75, "big": 1e300, "ssl": true, "none": null}, "list": ["a", 1, 2.5, false, {"k": "v"}], "html": "<tag>&amp;", "safe_unencrypted": "visible"}"#;

const DOTENV: &str = "USER=app\nPASSWORD=Canary-Env-pw\n# a comment\nURL=https://x?a=b&c=d\nMULTI=one\\ntwo\nEMPTY=\n";

const INI: &str = "[db]\nuser = app\npassword = Canary-Ini-pw\n\n[other]\nkey = value\n";

fn binary() -> Vec<u8> {
    let mut b: Vec<u8> = (0..=255u8).collect();
    b.extend_from_slice(b"Canary-Bin\n");
    b
}

struct Env {
    dir: tempfile::TempDir,
    sops: Sops,
    a: AgeIdentity,
    b: AgeIdentity,
    c: AgeIdentity,
}

fn env() -> Option<Env> {
    let dir = tempfile::tempdir().expect("tempdir");
    let sops = Sops::find()?;
    let a = age_keygen(dir.path(), "a")?;
    let b = age_keygen(dir.path(), "b")?;
    let c = age_keygen(dir.path(), "c")?;
    Some(Env { dir, sops, a, b, c })
}

impl Env {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.path(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&p, bytes).unwrap();
        p
    }

    /// A key file holding several identities.
    fn keys(&self, ids: &[&AgeIdentity]) -> PathBuf {
        let mut text = String::new();
        for id in ids {
            text.push_str(&std::fs::read_to_string(&id.key_file).unwrap());
        }
        let name = format!(
            "k{}.txt",
            ids.iter().map(|i| i.recipient[4..10].to_string()).collect::<String>()
        );
        self.write(&name, text.as_bytes())
    }
}

fn sealer(dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sealer"));
    c.current_dir(dir)
        .env_remove("SOPS_AGE_KEY")
        .env_remove("SOPS_AGE_KEY_FILE")
        .env("HOME", dir.join("no-home"));
    c
}

fn sealer_decrypt(dir: &Path, key: &Path, file: &Path, extra: &[&str]) -> Output {
    sealer(dir)
        .env("SOPS_AGE_KEY_FILE", key)
        .arg("decrypt")
        .args(extra)
        .arg(file)
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn assert_no_leak(text: &str) {
    for c in CANARIES {
        assert!(!text.contains(c), "output leaks {c:?}: {text}");
    }
}

/// (file name, contents, extra sops/sealer encrypt flags)
fn cases() -> Vec<(&'static str, Vec<u8>, Vec<&'static str>)> {
    vec![
        ("plain.yaml", YAML.as_bytes().to_vec(), vec![]),
        (
            "regex.yaml",
            YAML.as_bytes().to_vec(),
            vec!["--encrypted-regex", "^(data|stringData)$"],
        ),
        (
            "unregex.yaml",
            YAML.as_bytes().to_vec(),
            vec!["--unencrypted-regex", "^(kind|apiVersion|metadata)$"],
        ),
        (
            "suffix.yaml",
            YAML.as_bytes().to_vec(),
            vec!["--encrypted-suffix", "word"],
        ),
        (
            "comment.yaml",
            YAML.as_bytes().to_vec(),
            vec!["--encrypted-comment-regex", "password"],
        ),
        (
            "uncomment.yaml",
            YAML.as_bytes().to_vec(),
            vec!["--unencrypted-comment-regex", "the name"],
        ),
        (
            "maconly.yaml",
            YAML.as_bytes().to_vec(),
            vec!["--encrypted-regex", "^data$", "--mac-only-encrypted"],
        ),
        ("config.json", JSON.as_bytes().to_vec(), vec![]),
        ("app.env", DOTENV.as_bytes().to_vec(), vec![]),
        ("app.ini", INI.as_bytes().to_vec(), vec![]),
        ("blob.bin", binary(), vec![]),
        (
            "multi.yaml",
            b"a: 1\nsecret: Canary-doc-1\n---\nb: [x, y]\nc: {d: Canary-doc-2}\n".to_vec(),
            vec!["--encrypted-regex", "^(secret|c)$"],
        ),
    ]
}

#[test]
fn sops_made_files_decrypt_byte_identically() {
    let Some(e) = env() else { return };
    for (name, bytes, flags) in cases() {
        let plain = e.write(&format!("in/{name}"), &bytes);
        let mut args: Vec<&str> = vec!["--age", &e.a.recipient];
        args.extend(&flags);
        let plain_s = plain.to_str().unwrap();
        args.push(plain_s);
        let enc = ok(&e.sops.encrypt(e.dir.path(), &args), &format!("sops -e {name}"));
        let enc_path = e.write(&format!("sops/{name}"), &enc);
        let theirs = ok(&e.sops.decrypt(&e.a.key_file, &enc_path, &[]), "sops -d");
        let ours = ok(
            &sealer_decrypt(e.dir.path(), &e.a.key_file, &enc_path, &[]),
            &format!("sealer decrypt {name}"),
        );
        assert_eq!(
            String::from_utf8_lossy(&ours),
            String::from_utf8_lossy(&theirs),
            "{name}"
        );
        assert_eq!(ours, theirs, "{name}");
    }
}

#[test]
fn sealer_made_files_decrypt_with_sops() {
    let Some(e) = env() else { return };
    for (name, bytes, flags) in cases() {
        let plain = e.write(&format!("in/{name}"), &bytes);
        // What sops itself makes of the same plaintext is the reference.
        let mut args: Vec<&str> = vec!["--age", &e.a.recipient];
        args.extend(&flags);
        args.push(plain.to_str().unwrap());
        let reference = ok(&e.sops.encrypt(e.dir.path(), &args), "sops -e");
        let reference = e.write(&format!("ref/{name}"), &reference);
        let expected = ok(&e.sops.decrypt(&e.a.key_file, &reference, &[]), "sops -d reference");

        let out = sealer(e.dir.path()).arg("encrypt").args(&args).output().unwrap();
        let enc = ok(&out, &format!("sealer encrypt {name}"));
        let enc_path = e.write(&format!("ours/{name}"), &enc);
        let theirs = ok(
            &e.sops.decrypt(&e.a.key_file, &enc_path, &[]),
            &format!("sops -d of sealer's {name}"),
        );
        assert_eq!(
            String::from_utf8_lossy(&theirs),
            String::from_utf8_lossy(&expected),
            "{name}"
        );
        assert_eq!(theirs, expected, "{name}");
        if matches!(name, "app.env" | "blob.bin") {
            assert_eq!(theirs, bytes, "{name}: sops -d gives back the input byte for byte");
        }
    }
}

#[test]
fn shared_vectors_decrypt_like_sops() {
    let Some(v) = shared_vectors() else { return };
    let Some(e) = env() else { return };
    let key = v.join("age.key");
    for f in [
        "secret.enc.yaml",
        "secret.2recipients.enc.yaml",
        "secret.fullenc.enc.yaml",
        "secret.maconly.enc.yaml",
        "multidoc.enc.yaml",
        "config.enc.json",
        "app.enc.env",
        "app.enc.ini",
        "blob.enc.bin",
    ] {
        let file = v.join(f);
        let ours = ok(&sealer_decrypt(e.dir.path(), &key, &file, &[]), f);
        let theirs = ok(&e.sops.decrypt(&key, &file, &[]), f);
        assert_eq!(ours, theirs, "{f}");
    }
    let dec = std::fs::read(v.join("secret.dec.yaml")).unwrap();
    assert_eq!(
        ok(
            &sealer_decrypt(e.dir.path(), &key, &v.join("secret.enc.yaml"), &[]),
            "dec"
        ),
        dec
    );
    assert_eq!(
        ok(&sealer_decrypt(e.dir.path(), &key, &v.join("blob.enc.bin"), &[]), "bin"),
        std::fs::read(v.join("blob.plain.bin")).unwrap()
    );
    // The second recipient opens the two-recipient file on its own.
    let two = ok(
        &sealer_decrypt(
            e.dir.path(),
            &v.join("age2.key"),
            &v.join("secret.2recipients.enc.yaml"),
            &[],
        ),
        "age2",
    );
    assert_eq!(two, dec);
}

#[test]
fn shared_shamir_vector_needs_two_of_three() {
    let Some(v) = shared_vectors() else { return };
    let Some(e) = env() else { return };
    let file = v.join("secret.shamir.enc.yaml");
    let dec = std::fs::read(v.join("secret.dec.yaml")).unwrap();
    for pair in [
        ["age.key", "age2.key"],
        ["age.key", "age3.key"],
        ["age2.key", "age3.key"],
    ] {
        let mut text = String::new();
        for k in pair {
            text.push_str(&std::fs::read_to_string(v.join(k)).unwrap());
        }
        let keys = e.write("pair.txt", text.as_bytes());
        assert_eq!(
            ok(&sealer_decrypt(e.dir.path(), &keys, &file, &[]), "two keys"),
            dec,
            "{pair:?}"
        );
    }
    let one = sealer_decrypt(e.dir.path(), &v.join("age2.key"), &file, &[]);
    assert_eq!(one.status.code(), Some(128));
    let err = stderr(&one);
    assert!(err.contains("opened 1 of 3 key groups, 2 needed"), "{err}");
    assert!(err.contains("secret.shamir.enc.yaml"), "{err}");
}

#[test]
fn shared_tampered_vector_is_a_mac_mismatch() {
    let Some(v) = shared_vectors() else { return };
    let Some(e) = env() else { return };
    let out = sealer_decrypt(
        e.dir.path(),
        &v.join("age.key"),
        &v.join("secret.tampered-metadata.enc.yaml"),
        &[],
    );
    assert_eq!(out.status.code(), Some(51));
    let err = stderr(&out);
    assert!(
        err.contains("secret.tampered-metadata.enc.yaml") && err.contains("MAC mismatch"),
        "{err}"
    );
    assert!(
        out.stdout.is_empty(),
        "nothing is printed from a file that fails verification"
    );
}

/// Encrypts YAML with sealer (a, regex on data/stringData) and returns the file's text.
fn sealed_yaml(e: &Env, name: &str) -> (PathBuf, String) {
    let plain = e.write(&format!("t/{name}.plain.yaml"), YAML.as_bytes());
    let out = sealer(e.dir.path())
        .args([
            "encrypt",
            "--age",
            &e.a.recipient,
            "--encrypted-regex",
            "^(data|stringData|list)$",
        ])
        .arg(&plain)
        .output()
        .unwrap();
    let text = String::from_utf8(ok(&out, "encrypt")).unwrap();
    (e.write(&format!("t/{name}.enc.yaml"), text.as_bytes()), text)
}

fn enc_of(text: &str, key: &str) -> String {
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with(&format!("{key}: ENC[")))
        .expect(key);
    line.split_once(": ").unwrap().1.to_string()
}

#[test]
fn tampering_is_refused_by_sealer_and_sops() {
    let Some(e) = env() else { return };
    let (_, text) = sealed_yaml(&e, "base");
    let password = enc_of(&text, "password");
    let port = enc_of(&text, "port");
    let mac_line = text
        .lines()
        .find(|l| l.trim_start().starts_with("mac: "))
        .unwrap()
        .to_string();
    let lm_line = text
        .lines()
        .find(|l| l.trim_start().starts_with("lastmodified: "))
        .unwrap()
        .to_string();
    let flip = |s: &str| {
        // Change one base64 character of the data field.
        let i = s.find("data:").unwrap() + 6;
        let mut b = s.as_bytes().to_vec();
        b[i] = if b[i] == b'A' { b'B' } else { b'A' };
        String::from_utf8(b).unwrap()
    };
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "edited ciphertext",
            text.replacen(&password, &flip(&password), 1),
            "authentication failed",
        ),
        (
            "swapped values",
            text.replacen(&password, "@@P@@", 1)
                .replacen(&port, &password, 1)
                .replacen("@@P@@", &port, 1),
            "authentication failed",
        ),
        (
            "edited lastmodified",
            text.replacen(&lm_line, "    lastmodified: \"2020-01-01T00:00:00Z\"", 1),
            "MAC mismatch",
        ),
        (
            "edited MAC",
            text.replacen(&mac_line, &flip(&mac_line), 1),
            "MAC mismatch",
        ),
        (
            "added key",
            text.replacen("kind: Secret\n", "kind: Secret\nextra: added\n", 1),
            "MAC mismatch",
        ),
        ("removed key", text.replacen("type: Opaque\n", "", 1), "MAC mismatch"),
        (
            "edited unencrypted value",
            text.replacen("namespace: apps", "namespace: prod", 1),
            "MAC mismatch",
        ),
        (
            "malformed ENC value",
            text.replacen(&password, "ENC[AES256_GCM,data:nope]", 1),
            "malformed ENC value at path stringData:password:",
        ),
    ];
    for (what, tampered, reason) in cases {
        assert_ne!(tampered, text, "{what}: the edit must change the file");
        let f = e.write(&format!("t/{}.enc.yaml", what.replace(' ', "-")), tampered.as_bytes());
        let ours = sealer_decrypt(e.dir.path(), &e.a.key_file, &f, &[]);
        let err = stderr(&ours);
        assert!(!ours.status.success(), "{what}: sealer accepted a tampered file");
        assert!(
            ours.stdout.is_empty(),
            "{what}: sealer printed plaintext of a tampered file"
        );
        assert!(
            err.contains(&f.display().to_string()),
            "{what}: error must name the file: {err}"
        );
        assert!(err.contains(reason), "{what}: expected {reason:?} in {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{what}: one-line error: {err}");
        assert_no_leak(&err);
        let theirs = e.sops.decrypt(&e.a.key_file, &f, &[]);
        assert!(
            !theirs.status.success(),
            "{what}: sops accepted it (the test edit is wrong)"
        );
    }
}

#[test]
fn wrong_key_lists_the_recipients_tried() {
    let Some(e) = env() else { return };
    let (f, _) = sealed_yaml(&e, "wrongkey");
    let out = sealer_decrypt(e.dir.path(), &e.b.key_file, &f, &[]);
    assert_eq!(out.status.code(), Some(128));
    let err = stderr(&out);
    assert!(err.contains(&e.a.recipient), "{err}");
    assert!(err.contains("no matching private key"), "{err}");
    assert_no_leak(&err);
}

#[test]
fn unknown_format_and_unencrypted_file_are_clear_errors() {
    let Some(e) = env() else { return };
    let plain = e.write("x.yaml", YAML.as_bytes());
    let out = sealer_decrypt(e.dir.path(), &e.a.key_file, &plain, &[]);
    assert!(stderr(&out).contains("sops metadata not found"), "{}", stderr(&out));
    assert_no_leak(&stderr(&out));
    let out = sealer_decrypt(e.dir.path(), &e.a.key_file, &plain, &["--input-type", "xml"]);
    assert!(stderr(&out).contains("unknown format"), "{}", stderr(&out));
    let bad = e.write("bad.env", b"A=1\nS3cr3t-Leak-Canary-1\n");
    let out = sealer(e.dir.path())
        .args(["encrypt", "--age", &e.a.recipient])
        .arg(&bad)
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(err.contains("bad.env") && err.contains("line 2"), "{err}");
    assert_no_leak(&err);
}

#[test]
fn extract_matches_sops() {
    let Some(e) = env() else { return };
    let (f, _) = sealed_yaml(&e, "extract");
    for path in [
        r#"["stringData"]["password"]"#,
        r#"["list"][1]"#,
        r#"["metadata"]"#,
        r#"["list"][4]"#,
    ] {
        let ours = ok(
            &sealer_decrypt(e.dir.path(), &e.a.key_file, &f, &["--extract", path]),
            path,
        );
        let theirs = ok(&e.sops.decrypt(&e.a.key_file, &f, &["--extract", path]), path);
        assert_eq!(
            String::from_utf8_lossy(&ours),
            String::from_utf8_lossy(&theirs),
            "{path}"
        );
    }
}

#[test]
fn creation_rules_and_shamir_from_sops_yaml() {
    let Some(e) = env() else { return };
    let cfg = format!(
        "creation_rules:\n  - path_regex: shamir/.*\\.yaml$\n    shamir_threshold: 2\n    encrypted_regex: ^(data|stringData)$\n    key_groups:\n      - age: [{a}]\n      - age: [{b}]\n      - age: [{c}]\n  - path_regex: prod/.*\n    encrypted_regex: ^(data|stringData)$\n    age: {a},{b}\n  - age: {c}\n",
        a = e.a.recipient,
        b = e.b.recipient,
        c = e.c.recipient
    );
    e.write(".sops.yaml", cfg.as_bytes());
    let encrypt = |rel: &str| {
        let p = e.write(rel, YAML.as_bytes());
        let out = sealer(e.dir.path()).arg("encrypt").arg(&p).output().unwrap();
        let enc = ok(&out, rel);
        e.write(&format!("{rel}.enc.yaml"), &enc)
    };
    // prod: two recipients, regex applied.
    let prod = encrypt("prod/db.yaml");
    let text = std::fs::read_to_string(&prod).unwrap();
    assert!(text.contains("encrypted_regex: ^(data|stringData)$") && text.contains("namespace: apps"));
    for id in [&e.a, &e.b] {
        ok(&e.sops.decrypt(&id.key_file, &prod, &[]), "sops -d prod");
    }
    assert!(!e.sops.decrypt(&e.c.key_file, &prod, &[]).status.success());
    // fallback rule: c only, everything encrypted.
    let other = encrypt("dev/db.yaml");
    ok(&e.sops.decrypt(&e.c.key_file, &other, &[]), "sops -d dev");
    // shamir: any two of three groups.
    let sh = encrypt("shamir/db.yaml");
    assert!(std::fs::read_to_string(&sh).unwrap().contains("shamir_threshold: 2"));
    for pair in [[&e.a, &e.b], [&e.a, &e.c], [&e.b, &e.c]] {
        let keys = e.keys(&pair);
        ok(&e.sops.decrypt(&keys, &sh, &[]), "sops -d shamir pair");
        ok(
            &sealer_decrypt(e.dir.path(), &keys, &sh, &[]),
            "sealer decrypt shamir pair",
        );
    }
    assert!(!e.sops.decrypt(&e.a.key_file, &sh, &[]).status.success());
    assert_eq!(
        sealer_decrypt(e.dir.path(), &e.a.key_file, &sh, &[]).status.code(),
        Some(128)
    );
    // A path no rule matches (no catch-all in this config) is a clear error.
    e.write(
        ".sops.yaml",
        b"creation_rules:\n  - path_regex: only/.*\n    age: age1qqqq\n",
    );
    let p = e.write("else/x.yaml", b"a: 1\n");
    let out = sealer(e.dir.path()).arg("encrypt").arg(&p).output().unwrap();
    assert!(stderr(&out).contains("no matching creation rules"), "{}", stderr(&out));
}

#[test]
fn updatekeys_and_rotate_output_decrypts_with_sops() {
    let Some(e) = env() else { return };
    e.write(
        ".sops.yaml",
        format!(
            "creation_rules:\n  - encrypted_regex: ^(data|stringData)$\n    age: {}\n",
            e.a.recipient
        )
        .as_bytes(),
    );
    let p = e.write("app/secret.yaml", YAML.as_bytes());
    let enc = ok(
        &sealer(e.dir.path()).args(["encrypt", "-i"]).arg(&p).output().unwrap(),
        "encrypt -i",
    );
    assert!(enc.is_empty(), "--in-place prints nothing");
    let before = std::fs::read_to_string(&p).unwrap();
    assert!(!before.contains("S3cr3t-Leak-Canary-1"));
    let expected = ok(&e.sops.decrypt(&e.a.key_file, &p, &[]), "sops -d before");

    // updatekeys: b is added; the data key and every value stay as they were.
    e.write(
        ".sops.yaml",
        format!(
            "creation_rules:\n  - encrypted_regex: ^(data|stringData)$\n    age: {},{}\n",
            e.a.recipient, e.b.recipient
        )
        .as_bytes(),
    );
    let out = sealer(e.dir.path())
        .env("SOPS_AGE_KEY_FILE", &e.a.key_file)
        .args(["updatekeys", "-y"])
        .arg(&p)
        .output()
        .unwrap();
    ok(&out, "updatekeys");
    assert!(stderr(&out).contains(&format!("+ age {}", e.b.recipient)));
    let after = std::fs::read_to_string(&p).unwrap();
    assert_eq!(
        enc_of(&after, "password"),
        enc_of(&before, "password"),
        "values are not re-encrypted by updatekeys"
    );
    assert_eq!(
        ok(&e.sops.decrypt(&e.b.key_file, &p, &[]), "sops -d with the new key"),
        expected
    );
    // Running it again changes nothing.
    let again = sealer(e.dir.path())
        .env("SOPS_AGE_KEY_FILE", &e.a.key_file)
        .args(["updatekeys", "-y"])
        .arg(&p)
        .output()
        .unwrap();
    assert!(stderr(&again).contains("already up to date"));

    // rotate: a new data key, every value re-encrypted, c added and a removed.
    let out = sealer(e.dir.path())
        .env("SOPS_AGE_KEY_FILE", &e.b.key_file)
        .args(["rotate", "-i", "--add-age", &e.c.recipient, "--rm-age", &e.a.recipient])
        .arg(&p)
        .output()
        .unwrap();
    ok(&out, "rotate");
    let rotated = std::fs::read_to_string(&p).unwrap();
    assert_ne!(enc_of(&rotated, "password"), enc_of(&after, "password"));
    assert_eq!(
        ok(&e.sops.decrypt(&e.c.key_file, &p, &[]), "sops -d rotated (c)"),
        expected
    );
    assert_eq!(
        ok(&e.sops.decrypt(&e.b.key_file, &p, &[]), "sops -d rotated (b)"),
        expected
    );
    assert!(
        !e.sops.decrypt(&e.a.key_file, &p, &[]).status.success(),
        "the removed recipient can no longer decrypt"
    );

    // sops' own updatekeys/rotate output still decrypts with sealer.
    ok(
        &e.sops
            .cmd(Some(&e.b.key_file))
            .current_dir(e.dir.path())
            .args(["-r", "-i"])
            .arg(&p)
            .output()
            .unwrap(),
        "sops rotate",
    );
    assert_eq!(
        ok(
            &sealer_decrypt(e.dir.path(), &e.c.key_file, &p, &[]),
            "sealer after sops rotate"
        ),
        expected
    );
}

#[test]
fn stdin_and_output_type() {
    let Some(e) = env() else { return };
    let (f, _) = sealed_yaml(&e, "stdin");
    let input = std::fs::read(&f).unwrap();
    let mut child = sealer(e.dir.path())
        .env("SOPS_AGE_KEY_FILE", &e.a.key_file)
        .args(["decrypt", "--output-type", "json", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let out = child.wait_with_output().unwrap();
    let ours = ok(&out, "decrypt stdin");
    let theirs = ok(
        &e.sops.decrypt(&e.a.key_file, &f, &["--output-type", "json"]),
        "sops json",
    );
    assert_eq!(String::from_utf8_lossy(&ours), String::from_utf8_lossy(&theirs));
}
