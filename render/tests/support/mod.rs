//! What the Helm parity tests share: skipping as the project skips (a failure under CI,
//! otherwise a message and a line in `SIGIL_SKIP_LOG`, as `sigil_tests::skip` — not a
//! dependency here: it brings the cloud key clients along), the corpus's files and release
//! settings, Helm's error key phrases, and the first line where two texts differ.

#![allow(dead_code)] // each test binary uses its part

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sigil_render::gotemplate::value::Value;
use sigil_render::helm::{Release, parse_values};

/// The workspace root (read at run time; see `sigil_tests::workspace_root`).
pub fn workspace_root() -> PathBuf {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest.parent().map(Path::to_path_buf).unwrap_or(manifest)
}

pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// Skips test `test` (`<binary> <name>`) because `reason`: a failure under CI.
pub fn skip(test: &str, reason: &str) {
    if in_ci() {
        panic!("under CI nothing is skipped, and this test would have been: {reason}");
    }
    eprintln!("SKIPPED: {reason}");
    if let Some(log) = std::env::var_os("SIGIL_SKIP_LOG") {
        let line = format!("{test}\t{}\n", reason.replace(['\n', '\t'], " "));
        use std::io::Write;
        if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(log) {
            let _ = f.write_all(line.as_bytes());
        }
    }
}

/// `../shared/helm-corpus`, or a skip of `test`.
pub fn corpus(test: &str) -> Option<PathBuf> {
    let dir = workspace_root().join("../shared/helm-corpus");
    if dir.join("cases").is_dir() {
        return Some(dir);
    }
    skip(test, "../shared/helm-corpus is absent");
    None
}

/// Every file under `root`, by `/`-separated relative path.
pub fn read_dir_files(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let (Ok(rel), Ok(data)) = (p.strip_prefix(root), std::fs::read(&p)) {
                out.insert(rel.to_string_lossy().replace('\\', "/"), data);
            }
        }
    }
    out
}

pub fn text(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

/// A corpus case's `release.yaml`.
pub fn release(case: &Path) -> Release {
    let m = parse_values(&text(&case.join("release.yaml"))).unwrap_or_default();
    let s = |k: &str| m.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
    let b = |k: &str| matches!(m.get(k), Some(Value::Bool(true)));
    let revision = match m.get("revision") {
        Some(Value::Float(f)) => *f as i64,
        Some(Value::Int(i)) => *i,
        _ => 1,
    };
    Release {
        name: s("name"),
        namespace: s("namespace"),
        revision,
        is_install: b("isInstall"),
        is_upgrade: b("isUpgrade"),
    }
}

/// Key phrases of Helm's error text: the message after the location, or each violation line.
pub fn key_phrases(expected: &str) -> Vec<String> {
    let expected = expected.trim();
    if let Some(rest) = expected.strip_prefix("execution error at (")
        && let Some((_, msg)) = rest.split_once("): ")
    {
        return vec![msg.trim().to_string()];
    }
    let lines: Vec<String> = expected
        .lines()
        .filter(|l| l.trim_start().starts_with("- "))
        .map(|l| l.trim().to_string())
        .collect();
    if lines.is_empty() {
        vec![expected.lines().next().unwrap_or_default().to_string()]
    } else {
        lines
    }
}

/// Where two texts first differ, for a failure message.
pub fn first_diff(want: &str, got: &str) -> String {
    for (n, (w, g)) in want.lines().zip(got.lines()).enumerate() {
        if w != g {
            return format!("line {}: want {w:?}, got {g:?}", n + 1);
        }
    }
    let (wl, gl) = (want.lines().count(), got.lines().count());
    if wl != gl {
        return format!("want {wl} lines, got {gl}");
    }
    "differs in trailing whitespace".into()
}
