//! No plaintext in logs (captured at TRACE), errors or `Debug` of the SOPS library.
//!
//! Its own test binary: tracing caches per-callsite interest process-wide, so a test running
//! in parallel without a subscriber could hide events from the scoped one used here.

use std::io::Write;
use std::sync::{Arc, Mutex};

use sigil_crypto::keys::Keyring;
use sigil_crypto::keys::age::{self, AgeKeys};
use sigil_crypto::sops::{self, EncryptOptions, Format};

const SECRET: &str = "Library-Canary-Value-42";

fn keyring() -> (Keyring, String) {
    let (secret, recipient) = age::generate();
    (Keyring::new().with(AgeKeys::parse(&secret, "test").unwrap()), recipient)
}

fn doc() -> Vec<sigil_crypto::sops::tree::Branch> {
    Format::Yaml
        .load_plain(
            format!("kind: Secret\nstringData:\n  password: {SECRET}\n  user: admin\n  port: 5432\n").as_bytes(),
        )
        .unwrap()
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
            let (keys, recipient) = keyring();
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
            let (other, _) = keyring();
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
