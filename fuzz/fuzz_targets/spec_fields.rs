#![no_main]
//! Fields a user writes into a Sync or GitSource (or edits in its status) that the agent
//! parses: Go durations (`interval`, `timeout`, `retryInterval`) and inventory ids. Only
//! "no panic" is asserted (`"99999999999999999999h"` once overflowed a `Duration`).

use libfuzzer_sys::fuzz_target;
use sigil_agent::apply::inventory::Entry;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = sigil_agent::duration::parse(&text);
    let e = Entry { id: text.to_string(), v: "v1".into() };
    let _ = e.parts();
    let _ = e.api_version();
    let _ = sigil_agent::apply::inventory::prune_order(&[e]);
});
