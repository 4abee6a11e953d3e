//! Key sources across crates: the data-key cache (no second KMS call for an unchanged file),
//! bounded concurrency over many files, the per-call timeout, and explicit credentials that
//! never fall back to the ambient environment.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use secrecy::SecretString;
use sigil_crypto::keys::Keyring;
use sigil_crypto::keys::awskms::{self, AwsKms, StaticCredentials};
use sigil_crypto::sops::{self, EncryptOptions, Format};
use sigil_tests::servers::{self, FIXED_KMS_ARN};

fn creds() -> StaticCredentials {
    StaticCredentials {
        access_key_id: "AKIDEXPLICIT".into(),
        secret_access_key: SecretString::from("explicit-secret".to_string()),
        session_token: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kms_cache_and_bounded_concurrency() {
    let Some(moto) = servers::moto() else { return };
    let kms = AwsKms::with_credentials(creds()).endpoint(&moto.url);
    let calls = kms.calls();
    let keyring = Keyring::new().with(kms);
    let key = awskms::master_key(FIXED_KMS_ARN, &Default::default(), "").unwrap();
    let mut files = Vec::new();
    for i in 0..20 {
        let docs = Format::Yaml
            .load_plain(format!("password: kms-cache-{i}\n").as_bytes())
            .unwrap();
        let opts = EncryptOptions {
            key_groups: vec![vec![key.clone()]],
            ..Default::default()
        };
        let bytes = sops::encrypt(&format!("f{i}.yaml"), docs, Format::Yaml, opts, &keyring)
            .await
            .unwrap();
        files.push((format!("f{i}.yaml"), bytes, Format::Yaml));
    }
    let encrypt_calls = calls.load(Ordering::SeqCst);
    assert_eq!(encrypt_calls, 20);
    keyring.clear_cache();
    let cold = sops::decrypt_many(files.clone(), &keyring, 8).await;
    assert!(cold.iter().all(Result::is_ok));
    assert_eq!(calls.load(Ordering::SeqCst) - encrypt_calls, 20, "one Decrypt per file");
    let warm = sops::decrypt_many(files, &keyring, 8).await;
    assert!(warm.iter().all(Result::is_ok));
    assert_eq!(
        calls.load(Ordering::SeqCst) - encrypt_calls,
        20,
        "a repeated decrypt makes no KMS call"
    );
    assert_eq!(keyring.cached(), 20);
}

/// A TCP server that records the first request and answers nothing (or a 400).
fn capture_server(answer: bool) -> (String, std::sync::mpsc::Receiver<String>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", l.local_addr().unwrap());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        if let Ok((mut s, _)) = l.accept() {
            let mut buf = [0u8; 8192];
            let n = s.read(&mut buf).unwrap_or(0);
            let _ = tx.send(String::from_utf8_lossy(&buf[..n]).to_string());
            if answer {
                let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-type: application/x-amz-json-1.1\r\ncontent-length: 2\r\n\r\n{}");
            } else {
                std::thread::sleep(Duration::from_secs(10));
            }
        }
    });
    (url, rx)
}

#[tokio::test]
async fn explicit_credentials_are_the_ones_sent() {
    let (url, rx) = capture_server(true);
    let kms = AwsKms::with_credentials(creds()).endpoint(&url);
    let mut key = awskms::master_key(FIXED_KMS_ARN, &Default::default(), "").unwrap();
    key.set("enc", "AAAA");
    let keyring = Keyring::new().with(kms);
    assert!(keyring.unwrap(&key).await.is_err());
    let request = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(request.contains("Credential=AKIDEXPLICIT/"), "{request}");
    assert!(!request.contains("explicit-secret"));
}

#[tokio::test]
async fn a_silent_endpoint_times_out() {
    let (url, _rx) = capture_server(false);
    let kms = AwsKms::with_credentials(creds())
        .endpoint(&url)
        .timeout(Duration::from_secs(1));
    let mut key = awskms::master_key(FIXED_KMS_ARN, &Default::default(), "").unwrap();
    key.set("enc", "AAAA");
    let t0 = Instant::now();
    let err = Keyring::new().with(kms).unwrap(&key).await.unwrap_err();
    assert!(t0.elapsed() < Duration::from_secs(8));
    assert_eq!(err.to_string(), format!("kms key {FIXED_KMS_ARN}: timed out"));
}
