#![no_main]
//! Values files and `fromYaml`/`fromJson` input: read with Helm's YAML 1.1 and JSON
//! semantics, then written back with `toYaml`/`toJson`, which must read back. Only "no
//! panic" (and bounded alias expansion) is asserted.

use libfuzzer_sys::fuzz_target;
use sigil_render::goyaml;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(v) = goyaml::from_yaml(&text) {
        if let Ok(y) = goyaml::to_yaml(&v) {
            let _ = goyaml::from_yaml(&y);
        }
        let _ = goyaml::to_json(&v);
    }
    let _ = goyaml::from_yaml_map(&text);
    let _ = goyaml::from_yaml_array(&text);
    if let Ok(v) = goyaml::from_json(&text) {
        let _ = goyaml::to_yaml(&v);
    }
});
