//! Sealed-secret throughput on 1,000 values and one RSA-4096 key (Bitnami's default size):
//! unseal on one thread and on every core (the values split across scoped threads), and seal.
//! Every value costs one RSA-OAEP operation, which dominates. Compare with kubesealpy using
//! `benches/sealed_vs_peer.py`; no timing is asserted anywhere.

use std::hint::black_box;
use std::thread;
use std::time::Duration;

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use sigil_crypto::sealed::{self, SealingKey};

const VALUES: usize = 1_000;
const BITS: usize = 4096;
const LABEL: &[u8] = b"apps/db-creds";

fn plaintexts() -> Vec<Vec<u8>> {
    (0..VALUES)
        .map(|i| format!("value-{i:04}-abcdefghijklmnop").into_bytes())
        .collect()
}

fn unseal_all(key: &SealingKey, blobs: &[Vec<u8>]) -> usize {
    blobs
        .iter()
        .map(|b| sealed::open(&key.private, black_box(b), LABEL).expect("opens").len())
        .sum()
}

fn bench_sealed(c: &mut Criterion) {
    let key = SealingKey::generate(BITS).expect("RSA-4096 key");
    let public = key.private.to_public_key();
    let values = plaintexts();
    let blobs: Vec<Vec<u8>> = values
        .iter()
        .map(|v| sealed::seal(&public, v, LABEL).expect("seals"))
        .collect();
    let cores = thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = VALUES.div_ceil(cores);

    let mut group = c.benchmark_group(format!("sealed_rsa{BITS}_{VALUES}_values"));
    // One iteration takes seconds: few samples, each run once.
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Elements(VALUES as u64));
    group.bench_function("unseal_1_thread", |b| b.iter(|| unseal_all(&key, &blobs)));
    group.bench_function(format!("unseal_{cores}_threads"), |b| {
        let key = &key;
        b.iter(|| {
            thread::scope(|s| {
                let parts: Vec<_> = blobs
                    .chunks(chunk)
                    .map(|part| s.spawn(move || unseal_all(key, part)))
                    .collect();
                parts.into_iter().map(|h| h.join().expect("no panic")).sum::<usize>()
            })
        })
    });
    group.bench_function("seal_1_thread", |b| {
        b.iter(|| {
            values
                .iter()
                .map(|v| sealed::seal(&public, black_box(v), LABEL).expect("seals").len())
                .sum::<usize>()
        })
    });
    group.finish();
}

criterion_group!(benches, bench_sealed);
criterion_main!(benches);
