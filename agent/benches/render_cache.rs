//! The build cache, measured: 500 SOPS-encrypted Secrets (age) and a SealedSecret per 50
//! Secrets, rendered (a) cold: fresh keyring and resolver, (b) again without the build cache
//! but with warm data-key and unsealed-value caches (a new commit whose files did not
//! change), (c) again for the same commit: a build-cache hit, then the per-Sync part
//! (SealedSecrets resolved from the warm unsealed-value cache). Prints medians and ratios.
//! Goal: (c) at least 100x faster than (a). Run: `cargo bench -p sigil-agent --bench render_cache`.

use std::path::Path;
use std::time::{Duration, Instant};

use sigil_agent::cache::{RenderCache, RenderKey};
use sigil_agent::load::{DirTree, Loader};
use sigil_agent::object::Object;
use sigil_agent::secrets::{Policy, SealedSecrets, SecretResolver};
use sigil_agent::{render, secrets};
use sigil_crypto::keys::Keyring;
use sigil_crypto::keys::age::AgeKeys;
use sigil_crypto::sops::metadata::{KeyKind, MasterKey};
use sigil_crypto::sops::{self, EncryptOptions, Format};

async fn build_once(root: &Path, keyring: &Keyring) -> Vec<(Object, bool)> {
    let tree = DirTree::new(root).unwrap();
    let loader = Loader { tree: &tree, keyring };
    render::render(&loader, Path::new(".")).await.unwrap()
}

async fn resolve(built: Vec<(Object, bool)>, resolvers: &[Box<dyn SecretResolver>]) -> Vec<Object> {
    secrets::resolve_all(built, resolvers, Policy::default()).await.unwrap()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (identity, recipient) = sigil_crypto::keys::age::generate();
    let mut age = AgeKeys::new();
    age.add_text(&identity, "bench").unwrap();
    let enc_ring = Keyring::new().with(age);
    let sealing = sigil_crypto::sealed::SealingKey::generate(2048).unwrap();
    let cert = sealing.self_signed_cert().unwrap();
    rt.block_on(async {
        for i in 0..500 {
            let doc = format!(
                "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s{i}\ntype: Opaque\nstringData:\n  user: user-{i}\n  password: pw-{i}-xxxxxxxxxxxxxxxxxxxx\n"
            );
            let docs = sops::format::yaml::load(doc.as_bytes()).unwrap();
            let opts = EncryptOptions {
                key_groups: vec![vec![MasterKey::new(KeyKind::Age, &[("recipient", recipient.as_str())])]],
                shamir_threshold: 0,
                rules: Default::default(),
                mac_only_encrypted: false,
            };
            let bytes = sops::encrypt("s.yaml", docs, Format::Yaml, opts, &enc_ring).await.unwrap();
            std::fs::write(dir.path().join(format!("s{i:03}.yaml")), bytes).unwrap();
        }
    });
    for i in 0..10 {
        let secret = format!(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: sealed{i}\n  namespace: default\nstringData:\n  a: one\n  b: two\n  c: three\n"
        );
        let value = sigil_crds::manifest::load(secret.as_bytes()).unwrap().remove(0);
        let secret: sigil_crds::secret::Secret = serde_json::from_value(value).unwrap();
        let pem = sigil_crypto::sealed::PublicCert::parse(&cert, "bench").unwrap();
        let sealed = sigil_crds::sealedsecret::seal(&secret, &pem, sigil_crypto::sealed::Scope::Strict).unwrap();
        let yaml = sigil_crds::manifest::to_yaml(&[serde_json::to_value(&sealed).unwrap()]);
        std::fs::write(dir.path().join(format!("sealed{i}.yaml")), yaml).unwrap();
    }
    let runs = 7;
    let (mut cold, mut warm, mut hit) = (Vec::new(), Vec::new(), Vec::new());
    let cache = RenderCache::new(64 << 20);
    let key = RenderKey {
        commit: "sha1:bench".into(),
        path: ".".into(),
        inputs: 1,
    };
    for _ in 0..runs {
        // (a) cold
        let mut age = AgeKeys::new();
        age.add_text(&identity, "bench").unwrap();
        let keyring = Keyring::new().with(age);
        let resolvers: Vec<Box<dyn SecretResolver>> = vec![Box::new(SealedSecrets::new(vec![sealing.clone()]))];
        let t = Instant::now();
        let built = rt.block_on(build_once(dir.path(), &keyring));
        let objects = rt.block_on(resolve(built.clone(), &resolvers));
        cold.push(t.elapsed());
        assert_eq!(objects.len(), 510);
        // (b) warm key caches, no build cache
        let t = Instant::now();
        let again = rt.block_on(resolve(rt.block_on(build_once(dir.path(), &keyring)), &resolvers));
        warm.push(t.elapsed());
        assert!(again == objects);
        // (c) same commit: build-cache hit, then the per-Sync resolution
        cache.insert(key.clone(), built);
        let t = Instant::now();
        let cached = cache.get(&key).unwrap();
        let resolved = rt.block_on(resolve(cached.to_vec(), &resolvers));
        hit.push(t.elapsed());
        assert_eq!(resolved.len(), 510);
    }
    let (c, w, h) = (median(cold), median(warm), median(hit));
    println!("render 500 SOPS Secrets + 10 SealedSecrets (30 values):");
    println!("  cold (fresh keys, no caches)            {:>10.2?}", c);
    println!(
        "  new commit, same files (key caches warm) {:>10.2?}  {:.1}x faster than cold",
        w,
        c.as_secs_f64() / w.as_secs_f64()
    );
    println!(
        "  same commit (build cache hit + resolve)  {:>10.2?}  {:.0}x faster than cold (goal 100x)",
        h,
        c.as_secs_f64() / h.as_secs_f64().max(1e-9)
    );
}
