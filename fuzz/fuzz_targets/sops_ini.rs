#![no_main]

use libfuzzer_sys::fuzz_target;
use sigil_crypto::sops::Format;

// Emitting may refuse what INI cannot hold (deep nesting), but must not panic.
fuzz_target!(|data: &[u8]| {
    if let Ok(docs) = Format::Ini.load(data) {
        let _ = Format::Ini.emit_plain(&docs);
    }
});
