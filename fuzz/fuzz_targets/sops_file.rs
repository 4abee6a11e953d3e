#![no_main]

use libfuzzer_sys::fuzz_target;
use sigil_crypto::sops::{self, DataKey, Format};

// A whole encrypted file: store, metadata, every value, the MAC. A wrong key is an error.
fuzz_target!(|data: &[u8]| {
    for format in [Format::Yaml, Format::Json, Format::Dotenv, Format::Ini, Format::Binary] {
        if let Ok(file) = sops::parse("fuzz", data, format) {
            let _ = file.decrypt_with(DataKey::from_bytes([7; 32]));
        }
    }
});
