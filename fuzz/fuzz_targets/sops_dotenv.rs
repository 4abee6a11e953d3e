#![no_main]

use libfuzzer_sys::fuzz_target;
use sigil_crypto::sops::Format;

// Emitting may refuse what dotenv cannot hold (nested values), but must not panic.
fuzz_target!(|data: &[u8]| {
    if let Ok(docs) = Format::Dotenv.load(data) {
        let _ = Format::Dotenv.emit_plain(&docs);
    }
});
