//! SOPS throughput on one YAML file with 10,000 leaves (the size the performance goal names):
//! decrypt = parse + recover the data key + decrypt + verify the MAC + emit; encrypt = load
//! plaintext + wrap a new data key + encrypt + emit. Compare with `sops` using
//! `benches/sops_vs_peer.sh`; no timing is asserted anywhere.

use std::fmt::Write;
use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sigil_crypto::keys::Keyring;
use sigil_crypto::keys::age::{self, AgeKeys};
use sigil_crypto::sops::{self, EncryptOptions, Format};

/// Maps × keys per map: every value is a leaf sops encrypts.
const MAPS: usize = 100;
const KEYS: usize = 100;

/// 100 maps of 100 leaves: mostly strings, every 10th an int, every 25th a bool (as
/// `benches/sops_vs_peer.sh` generates it).
fn plaintext_yaml() -> String {
    let mut y = String::with_capacity(MAPS * KEYS * 40);
    for m in 0..MAPS {
        writeln!(y, "group_{m:03}:").unwrap();
        for k in 0..KEYS {
            let v = if k % 25 == 0 {
                (if (m + k) % 2 == 0 { "true" } else { "false" }).to_string()
            } else if k % 10 == 0 {
                (m * 1000 + k).to_string()
            } else {
                format!("value-{m}-{k}-abcdefghijklmnop")
            };
            writeln!(y, "    key_{k:03}: {v}").unwrap();
        }
    }
    y
}

fn options(recipient: &str) -> EncryptOptions {
    EncryptOptions {
        key_groups: vec![vec![age::master_key(recipient).expect("generated recipient")]],
        ..EncryptOptions::default()
    }
}

fn bench_sops(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("tokio runtime");
    let (secret, recipient) = age::generate();
    let keyring = Keyring::new().with(AgeKeys::parse(&secret, "bench").expect("generated identity"));
    let plain = plaintext_yaml();
    let docs = Format::Yaml.load_plain(plain.as_bytes()).expect("plaintext parses");
    let encrypted = rt
        .block_on(sops::encrypt(
            "bench.yaml",
            docs,
            Format::Yaml,
            options(&recipient),
            &keyring,
        ))
        .expect("encrypts");

    let mut group = c.benchmark_group("sops_yaml_10k_leaves");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::Elements((MAPS * KEYS) as u64));
    group.bench_function("decrypt", |b| {
        b.iter(|| {
            let file = rt
                .block_on(sops::decrypt(
                    "bench.yaml",
                    black_box(&encrypted),
                    Format::Yaml,
                    &keyring,
                ))
                .expect("decrypts");
            file.emit(Format::Yaml).expect("emits")
        })
    });
    group.bench_function("encrypt", |b| {
        b.iter(|| {
            let docs = Format::Yaml
                .load_plain(black_box(plain.as_bytes()))
                .expect("plaintext parses");
            rt.block_on(sops::encrypt(
                "bench.yaml",
                docs,
                Format::Yaml,
                options(&recipient),
                &keyring,
            ))
            .expect("encrypts")
        })
    });
    group.finish();
}

criterion_group!(benches, bench_sops);
criterion_main!(benches);
