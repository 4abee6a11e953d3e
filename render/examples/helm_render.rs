//! Renders a chart directory N times in one process and prints the timings as JSON, for
//! `benches/helm_render.py` (which runs the real Helm library the same way beside it).
//!
//! Usage: helm_render CHART_DIR VALUES.yaml RUNS RELEASE NAMESPACE

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use sigil_render::helm::{Release, RenderOptions, render};

fn read_dir(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            read_dir(root, &path, out)?;
        } else if let Ok(rel) = path.strip_prefix(root) {
            out.insert(rel.to_string_lossy().replace('\\', "/"), std::fs::read(&path)?);
        }
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, chart_dir, values_file, runs, name, namespace] = args.as_slice() else {
        return Err("usage: helm_render CHART_DIR VALUES.yaml RUNS RELEASE NAMESPACE".into());
    };
    let runs: usize = runs.parse()?;
    let mut files = BTreeMap::new();
    read_dir(Path::new(chart_dir), Path::new(chart_dir), &mut files)?;
    let values = std::fs::read_to_string(values_file)?;
    let opts = RenderOptions {
        release: Release::install(name, namespace),
        capabilities: Default::default(),
    };
    let mut times = Vec::new();
    let mut bytes = 0;
    // One warm-up, then the timed runs; each run loads the chart afresh (as the Helm
    // library's side does: its render() changes a loaded chart) and renders it.
    for i in 0..=runs {
        let t = Instant::now();
        let out = render(&files, &values, &opts)?;
        let dt = t.elapsed().as_secs_f64();
        bytes = out.manifests.values().map(|s| s.len()).sum::<usize>();
        if i > 0 {
            times.push(dt);
        }
    }
    times.sort_by(|a, b| a.total_cmp(b));
    let median = times.get(times.len() / 2).copied().unwrap_or(0.0);
    // Peak resident set of this process (the whole of it: code, runtime and heap).
    let hwm_kib: u64 = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0);
    println!("{{\"median_s\": {median}, \"runs\": {runs}, \"output_bytes\": {bytes}, \"peak_rss_kib\": {hwm_kib}}}");
    Ok(())
}
