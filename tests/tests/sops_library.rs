//! The SOPS library (`sigil_crypto::sops`) across crates, against the real `sops`: IV reuse on
//! re-encryption, and no plaintext in logs (captured at TRACE), errors or `Debug`.

use std::io::Write;
use std::sync::{Arc, Mutex};

use sigil_crypto::keys::Keyring;
use sigil_crypto::keys::age::{self, AgeKeys};
use sigil_crypto::sops::tree::Value;
use sigil_crypto::sops::{self, EncryptOptions, Format};
use sigil_tests::{Sops, ok};

const SECRET: &str = "Library-Canary-Value-42";

fn keyring() -> (Keyring, String, tempfile::NamedTempFile) {
    let (secret, recipient) = age::generate();
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(secret.as_bytes()).unwrap();
    (
        Keyring::new().with(AgeKeys::parse(&secret, "test").unwrap()),
        recipient,
        f,
    )
}

fn doc() -> Vec<sigil_crypto::sops::tree::Branch> {
    Format::Yaml
        .load_plain(
            format!("kind: Secret\nstringData:\n  password: {SECRET}\n  user: admin\n  port: 5432\n").as_bytes(),
        )
        .unwrap()
}

#[tokio::test]
async fn reencryption_keeps_unchanged_ciphertext() {
    let (keys, recipient, key_file) = keyring();
    let opts = EncryptOptions {
        key_groups: vec![vec![age::master_key(&recipient).unwrap()]],
        ..Default::default()
    };
    let first = sops::encrypt("a.yaml", doc(), Format::Yaml, opts, &keys).await.unwrap();
    let mut plain = sops::decrypt("a.yaml", &first, Format::Yaml, &keys).await.unwrap();
    // Edit one value; the others must keep their exact ciphertext.
    let Some(Value::Map(sd)) = plain.docs[0].0.iter_mut().find_map(|i| match i {
        sigil_crypto::sops::tree::Item::Pair { key, value } if key.as_str() == "stringData" => Some(value),
        _ => None,
    }) else {
        panic!("stringData")
    };
    sd.remove("user");
    sd.push("user", Value::str("root"));
    let second = plain.reencrypt().unwrap();
    let line = |text: &[u8], key: &str| {
        String::from_utf8_lossy(text)
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{key}:")))
            .unwrap()
            .to_string()
    };
    assert_eq!(line(&first, "password"), line(&second, "password"));
    assert_eq!(line(&first, "port"), line(&second, "port"));
    assert_ne!(line(&first, "user"), line(&second, "user"));
    // The real sops reads the re-encrypted file and sees the edit.
    if let Some(sops) = Sops::find() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("b.yaml");
        std::fs::write(&f, &second).unwrap();
        let out = String::from_utf8(ok(&sops.decrypt(key_file.path(), &f, &[]), "sops -d")).unwrap();
        assert!(out.contains("user: root") && out.contains(SECRET), "{out}");
    }
}

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn no_plaintext_in_logs_errors_or_debug() {
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let mut seen = String::new();
    tracing::subscriber::with_default(subscriber, || {
        rt.block_on(async {
            let (keys, recipient, _f) = keyring();
            let opts = EncryptOptions {
                key_groups: vec![vec![age::master_key(&recipient).unwrap()]],
                ..Default::default()
            };
            let enc = sops::encrypt("leak.yaml", doc(), Format::Yaml, opts, &keys)
                .await
                .unwrap();
            let plain = sops::decrypt("leak.yaml", &enc, Format::Yaml, &keys).await.unwrap();
            seen.push_str(&format!("{plain:?} {:?}", plain.docs));
            let text = String::from_utf8(enc.clone()).unwrap();
            let line = text.lines().find(|l| l.contains("password:")).unwrap();
            // Failures: wrong key, tampering, malformed value, wrong format.
            let (other, _, _) = keyring();
            let failures = [
                sops::decrypt("leak.yaml", &enc, Format::Yaml, &other).await.err(),
                sops::decrypt(
                    "leak.yaml",
                    text.replace("port: ENC", "pert: ENC").as_bytes(),
                    Format::Yaml,
                    &keys,
                )
                .await
                .err(),
                sops::decrypt(
                    "leak.yaml",
                    text.replace(line, "    password: ENC[AES256_GCM,data:x]").as_bytes(),
                    Format::Yaml,
                    &keys,
                )
                .await
                .err(),
                sops::decrypt("leak.yaml", &enc, Format::Json, &keys).await.err(),
            ];
            for e in failures {
                let e = e.expect("each case fails");
                seen.push_str(&format!("{e} {e:?}\n"));
            }
        })
    });
    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("data key unwrapped"), "tracing was captured: {logs}");
    for text in [&logs, &seen] {
        assert!(!text.contains(SECRET), "plaintext leaked: {text}");
        assert!(!text.contains("admin"), "plaintext leaked: {text}");
    }
}
