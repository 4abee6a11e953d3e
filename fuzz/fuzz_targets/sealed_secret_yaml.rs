#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use sigil_crds::manifest;
use sigil_crds::sealedsecret::SealedSecret;
use sigil_crypto::sealed::{SealingKey, keys};

// The same fixed 2048-bit test key as `sealed_blob`.
static KEY: LazyLock<SealingKey> = LazyLock::new(|| {
    keys::load_private_keys(include_bytes!("../seeds/sealing-key.pem"), "fuzz key").expect("the committed key")[0]
        .clone()
});

// A manifest as the agent reads it from Git: every SealedSecret in it is unsealed where it
// says it lives. Work per object is bounded by `sealedsecret::MAX_VALUES`.
fuzz_target!(|data: &[u8]| {
    let Ok(docs) = manifest::load(data) else { return };
    for doc in docs {
        if let Ok(ss) = SealedSecret::from_value(doc) {
            let _ = ss.unseal(std::slice::from_ref(&*KEY), None);
        }
    }
});
