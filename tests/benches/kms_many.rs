//! Many small KMS-encrypted SOPS files against moto (the fixed test key): 200 YAML files are
//! encrypted, then decrypted with `sops::decrypt_many` cold (empty data-key cache) at
//! concurrency 16 and 1, and warm, printing the KMS calls each made and its wall time. Then
//! `sops -d` on 20 of them, whole process, for a per-file peer figure (and `sealer decrypt`
//! the same way, when a release `sealer` sits beside this benchmark).
//!
//! Run with `cargo bench -p sigil-tests --bench kms_many`; it reports, it asserts no timing.
//! Without `--bench` (e.g. `cargo test --all-targets`) it does nothing.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use secrecy::SecretString;
use sigil_crypto::keys::Keyring;
use sigil_crypto::keys::awskms::{self, AwsKms, StaticCredentials};
use sigil_crypto::sops::{self, EncryptOptions, Format};
use sigil_tests::Sops;
use sigil_tests::servers::{self, FIXED_KMS_ARN};

const FILES: usize = 200;
const CONCURRENCY: usize = 16;
const PEER_FILES: usize = 20;

fn plaintext(i: usize) -> String {
    format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n    name: app-{i:03}\n    namespace: apps\n\
         stringData:\n    username: user-{i:03}\n    password: pw-{i:03}-9c1f4e2ab7d05863\n"
    )
}

/// One measured step: what it did, KMS calls made, wall time, files handled.
struct Row(String, Option<usize>, Duration, usize);

fn print(rows: &[Row]) {
    println!(
        "\n{:<44} {:>9} {:>9} {:>12}",
        "step", "KMS calls", "wall ms", "ms per file"
    );
    for Row(step, calls, wall, files) in rows {
        let calls = calls.map_or("-".to_string(), |c| c.to_string());
        let ms = wall.as_secs_f64() * 1000.0;
        println!("{step:<44} {calls:>9} {ms:>9.1} {:>12.2}", ms / *files as f64);
    }
}

/// Runs `cmd` once per file, checking each output names the file's password; the median
/// single-file time, as a `Row` for all of them.
fn per_file(step: &str, files: &[PathBuf], mut cmd: impl FnMut(&Path) -> Command) -> Row {
    let mut times = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let t0 = Instant::now();
        let out = cmd(f).output().expect("run the decryptor");
        times.push(t0.elapsed());
        assert!(
            out.status.success(),
            "{step} {}: {}",
            f.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains(&format!("pw-{i:03}-")));
    }
    times.sort();
    let median = times[times.len() / 2];
    Row(
        format!("{step} (median x{})", files.len()),
        Some(files.len()),
        median * files.len() as u32,
        files.len(),
    )
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        eprintln!("kms_many: a benchmark; run it with `cargo bench -p sigil-tests --bench kms_many`");
        return;
    }
    let Some(moto) = servers::moto() else { return };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let creds = StaticCredentials {
        access_key_id: "test".into(),
        secret_access_key: SecretString::from("test".to_string()),
        session_token: None,
    };
    let kms = AwsKms::with_credentials(creds).endpoint(&moto.url);
    let calls = kms.calls();
    let keyring = Keyring::new().with(kms);
    let key = awskms::master_key(FIXED_KMS_ARN, &Default::default(), "").expect("the fixed ARN");
    let made = |c: &AtomicUsize, before: usize| Some(c.load(Ordering::SeqCst) - before);
    let mut rows = Vec::new();

    let t0 = Instant::now();
    let files: Vec<(String, Vec<u8>, Format)> = rt.block_on(async {
        let mut files = Vec::new();
        for i in 0..FILES {
            let name = format!("secret-{i:03}.enc.yaml");
            let docs = Format::Yaml
                .load_plain(plaintext(i).as_bytes())
                .expect("plaintext parses");
            let opts = EncryptOptions {
                key_groups: vec![vec![key.clone()]],
                ..Default::default()
            };
            let bytes = sops::encrypt(&name, docs, Format::Yaml, opts, &keyring)
                .await
                .expect("encrypts");
            files.push((name, bytes, Format::Yaml));
        }
        files
    });
    rows.push(Row(
        "sops::encrypt, one at a time".into(),
        made(&calls, 0),
        t0.elapsed(),
        FILES,
    ));

    let mut decrypt = |step: String, concurrency: usize, cold: bool| {
        if cold {
            keyring.clear_cache();
        }
        let before = calls.load(Ordering::SeqCst);
        let t0 = Instant::now();
        let out = rt.block_on(sops::decrypt_many(files.clone(), &keyring, concurrency));
        let wall = t0.elapsed();
        for (i, r) in out.iter().enumerate() {
            let plain = r.as_ref().expect("decrypts").emit(Format::Yaml).expect("emits");
            assert!(String::from_utf8_lossy(&plain).contains(&format!("pw-{i:03}-")));
        }
        rows.push(Row(step, made(&calls, before), wall, FILES));
    };
    decrypt(
        format!("decrypt_many cold, concurrency {CONCURRENCY}"),
        CONCURRENCY,
        true,
    );
    decrypt(
        format!("decrypt_many warm, concurrency {CONCURRENCY}"),
        CONCURRENCY,
        false,
    );
    decrypt("decrypt_many cold, concurrency 1".into(), 1, true);

    // Whole processes, one file each, as a CI job or a `kustomize` plugin would run them.
    let dir = tempfile::tempdir().expect("temp dir");
    let paths: Vec<PathBuf> = files[..PEER_FILES]
        .iter()
        .map(|(name, bytes, _)| {
            let p = dir.path().join(name);
            std::fs::write(&p, bytes).expect("write");
            p
        })
        .collect();
    let aws_env = |c: &mut Command| {
        c.env("AWS_ENDPOINT_URL", &moto.url)
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SESSION_TOKEN");
    };
    if let Some(peer) = Sops::find() {
        rows.push(per_file("sops -d, whole process", &paths, |f| {
            let mut c = peer.cmd(None);
            aws_env(&mut c);
            c.arg("-d").arg(f);
            c
        }));
    }
    let sealer = std::env::current_exe()
        .ok()
        .and_then(|e| Some(e.parent()?.parent()?.join("sealer")))
        .filter(|p| p.is_file());
    match sealer {
        Some(bin) => rows.push(per_file("sealer decrypt, whole process", &paths, |f| {
            let mut c = Command::new(&bin);
            aws_env(&mut c);
            c.arg("decrypt").arg(f);
            c
        })),
        None => eprintln!("kms_many: no release `sealer` beside this benchmark; build it for that row"),
    }

    println!(
        "kms_many: {FILES} files, one KMS key entry each, moto at {}; {} CPUs",
        moto.url,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    print(&rows);
}
