#![no_main]
//! Go templates from charts in Git: parse and execute in Helm mode with every function Helm
//! gives charts, on data shaped like `.Values`. Only "no panic, no runaway" is asserted: the
//! limits are small so a hostile template (self-include, huge `range`) ends quickly.

use libfuzzer_sys::fuzz_target;
use sigil_render::gotemplate::{Env, Limits, MissingKey, Templates, Value};
use sigil_render::helm::all_funcs;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let funcs = all_funcs();
    let mut set = Templates::helm();
    // A helper template, as charts have, so `include`/`template` have something to call.
    if set.parse("c/templates/_helpers.tpl", "{{ define \"h\" }}{{ .a | default \"x\" }}{{ end }}", &funcs).is_err() {
        return;
    }
    if set.parse("c/templates/t.yaml", &text, &funcs).is_err() {
        return;
    }
    let Ok(values) = sigil_render::goyaml::from_yaml("a: 1\nb: [x, 2.5, {c: true}]\ns: \"str\"\nm: {}\n") else {
        return;
    };
    let mut top = sigil_render::gotemplate::value::Map::new();
    top.insert("Values".into(), values);
    let limits = Limits {
        max_output_bytes: 1 << 20,
        max_depth: 20,
        max_iterations: 100_000,
        ..Limits::default()
    };
    let env = Env {
        funcs: &funcs,
        missing_key: MissingKey::Zero,
        helm: true,
        limits,
    };
    let _ = set.execute("c/templates/t.yaml", &Value::map(top), &env);
});
