#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use sigil_crypto::sealed::{self, SealingKey, hybrid, keys};

// A fixed 2048-bit test key (seeds/README.md), so seeds sealed to it reach AES-GCM.
static KEY: LazyLock<SealingKey> = LazyLock::new(|| {
    keys::load_private_keys(include_bytes!("../seeds/sealing-key.pem"), "fuzz key").expect("the committed key")[0]
        .clone()
});

// First byte: the label's length; then the label (scope), then the blob. `open` does at most
// one RSA decryption, of a ciphertext exactly the key's size, whatever the input.
fuzz_target!(|data: &[u8]| {
    let Some((&n, rest)) = data.split_first() else { return };
    let (label, blob) = rest.split_at(usize::from(n).min(rest.len()));
    let _ = hybrid::split(blob);
    let _ = sealed::open(&KEY.private, blob, label);
});
