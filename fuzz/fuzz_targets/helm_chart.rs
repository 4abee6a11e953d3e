#![no_main]
//! Whole charts from Git or a registry: loaded and rendered with their default values as
//! `helm template` does, then printed as `helm template` prints them. Only "no panic, no
//! runaway" is asserted.
//!
//! The input is either a packaged chart (gzip magic `1f 8b`: rendered as the subchart
//! `charts/sub.tgz` of a small parent chart, so the archive reader, the loader and the
//! engine all see it), or a chart directory in a text form mutations reach easily: sections
//! `--- PATH` on a line of their own, each followed by the file's content
//! (`--- Chart.yaml`, `--- values.yaml`, `--- templates/a.yaml`, `--- charts/x/Chart.yaml`).

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use sigil_render::helm::{Release, RenderOptions, render};

const PARENT: &str = "apiVersion: v2\nname: parent\nversion: 0.1.0\n";

/// `--- PATH` sections → files; text before the first section is ignored.
fn sections(text: &str) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut current: Option<(String, String)> = None;
    for line in text.split_inclusive('\n') {
        if let Some(path) = line.strip_prefix("--- ") {
            if let Some((p, body)) = current.take() {
                files.insert(p, body.into_bytes());
            }
            current = Some((path.trim().to_string(), String::new()));
        } else if let Some((_, body)) = current.as_mut() {
            body.push_str(line);
        }
    }
    if let Some((p, body)) = current {
        files.insert(p, body.into_bytes());
    }
    files
}

fuzz_target!(|data: &[u8]| {
    let files = if data.starts_with(&[0x1f, 0x8b]) {
        let mut files = BTreeMap::new();
        files.insert("Chart.yaml".to_string(), PARENT.as_bytes().to_vec());
        files.insert("charts/sub.tgz".to_string(), data.to_vec());
        files
    } else {
        sections(&String::from_utf8_lossy(data))
    };
    let opts = RenderOptions {
        release: Release::install("fuzz", "default"),
        capabilities: Default::default(),
    };
    if let Ok(rendered) = render(&files, "", &opts) {
        let _ = rendered.template_output(true);
    }
});
