#![no_main]
//! Post-build substitution on text from Git: the `${...}` language alone, and through an
//! object's YAML and back. Only "no panic" (and no runaway recursion) is asserted.

use libfuzzer_sys::fuzz_target;
use sigil_agent::object::Object;
use sigil_agent::substitute::{self, Vars};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let vars = [("name", "web"), ("empty", ""), ("path", "a/b/c.txt"), ("n", "3")];
    let lookup = |k: &str| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| *v);
    let _ = substitute::expand::expand(&text, &lookup);
    let mut v = Vars::new();
    for (k, val) in vars {
        v.set(k, val);
    }
    let o = Object(serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "c"}, "data": {"k": text.as_ref()}}));
    let _ = substitute::substitute(vec![o], &v);
});
