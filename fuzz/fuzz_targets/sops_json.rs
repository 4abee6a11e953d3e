#![no_main]

use libfuzzer_sys::fuzz_target;
use sigil_crypto::sops::Format;

// What we emit must be JSON we (and so sops) can read back.
fuzz_target!(|data: &[u8]| {
    if let Ok(docs) = Format::Json.load(data) {
        let out = Format::Json.emit_plain(&docs).expect("one loaded JSON document emits");
        assert!(Format::Json.load(&out).is_ok(), "re-emitted JSON does not load");
    }
});
