#![no_main]

use libfuzzer_sys::fuzz_target;
use sigil_crypto::sops::{DataKey, cipher};

// Any text in a value position reaches the `ENC[...]` parser and, if it parses, AES-GCM.
fuzz_target!(|data: &[u8]| {
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = cipher::parse(s);
        let _ = cipher::decrypt(s, &DataKey::from_bytes([7; 32]), "a:");
    }
});
