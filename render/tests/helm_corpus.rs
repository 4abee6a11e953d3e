//! Helm parity: every case of ../shared/helm-corpus (real charts and hand-written feature
//! charts, rendered by the real Helm v4 library) is rendered natively and compared as the
//! corpus README says: hand-written `feat-*` cases byte for byte (each template and the
//! `helm template` text), real charts structurally (each template's YAML documents, and the
//! ordered `# Source:`/document list of the `helm template` text), error cases by the key
//! phrase of Helm's message. The pass rate and each failure (first differing line per
//! template) are printed. `SIGIL_CORPUS_FILTER=substring` runs a subset.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sigil_render::gotemplate::value::Value;
use sigil_render::helm::{RenderOptions, render};

mod support;
use support::{corpus, first_diff, key_phrases, read_dir_files, release, text};

/// Cases that pass today; the test fails if fewer do (raise it as parity grows).
const FLOOR: usize = 54;

/// YAML documents of a text (split at `---` lines), empty ones dropped.
fn documents(text: &str) -> Vec<Value> {
    let mut docs = Vec::new();
    let mut cur = String::new();
    let mut flush = |cur: &mut String| {
        let v = sigil_render::goyaml::from_yaml(cur).unwrap_or_else(|e| Value::str(format!("<unparsable: {e}>")));
        if !v.is_nil() {
            docs.push(v);
        }
        cur.clear();
    };
    for line in text.split_inclusive('\n') {
        if line.trim_end() == "---" || line.starts_with("--- ") {
            flush(&mut cur);
            continue;
        }
        cur.push_str(line);
    }
    flush(&mut cur);
    docs
}

fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Nil, Value::Nil) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Str(x), Value::Str(y)) => x == y,
        (Value::Int(x) | Value::Int64(x), Value::Int(y) | Value::Int64(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x == y || (x.is_nan() && y.is_nan()),
        (Value::Int(x) | Value::Int64(x), Value::Float(y)) | (Value::Float(y), Value::Int(x) | Value::Int64(x)) => {
            *x as f64 == *y
        }
        (Value::List(x), Value::List(y)) => x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| same(p, q)),
        (Value::Map(x), Value::Map(y)) => {
            let (x, y) = (x.borrow(), y.borrow());
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => false,
    }
}

fn run_case(case: &Path, feature: bool) -> Result<(), Vec<String>> {
    let chart_dir = if case.join("chart").is_dir() {
        case.join("chart")
    } else {
        case.join(text(&case.join("chart.txt")).trim())
    };
    let files = read_dir_files(&chart_dir);
    let values = text(&case.join("values.yaml"));
    let opts = RenderOptions {
        release: release(case),
        capabilities: Default::default(),
    };
    let result = render(&files, &values, &opts);
    let err_file = case.join("expected-error.txt");
    if err_file.exists() {
        return match result {
            Ok(_) => Err(vec![format!(
                "rendered, but Helm fails with: {}",
                text(&err_file).trim()
            )]),
            Err(e) => {
                let got = e.to_string();
                let missing: Vec<String> = key_phrases(&text(&err_file))
                    .into_iter()
                    .filter(|p| !got.contains(p.as_str()))
                    .map(|p| format!("error lacks {p:?}; got {got:?}"))
                    .collect();
                if missing.is_empty() { Ok(()) } else { Err(missing) }
            }
        };
    }
    let rendered = result.map_err(|e| vec![format!("error: {e}")])?;
    let want: BTreeMap<String, String> =
        serde_json::from_str(&text(&case.join("expected.json"))).map_err(|e| vec![format!("expected.json: {e}")])?;
    let mut problems = Vec::new();
    for k in want.keys() {
        if !rendered.manifests.contains_key(k) {
            problems.push(format!("{k}: missing"));
        }
    }
    for k in rendered.manifests.keys() {
        if !want.contains_key(k) {
            problems.push(format!("{k}: not rendered by Helm"));
        }
    }
    for (k, w) in &want {
        let Some(g) = rendered.manifests.get(k) else { continue };
        if feature {
            if w != g.as_str() {
                problems.push(format!("{k}: {}", first_diff(w, g)));
            }
        } else {
            let (wd, gd) = (documents(w), documents(g));
            if wd.len() != gd.len() || wd.iter().zip(gd.iter()).any(|(a, b)| !same(a, b)) {
                problems.push(format!("{k}: {}", first_diff(w, g)));
            }
        }
    }
    if problems.is_empty() {
        let want_yaml = text(&case.join("expected.yaml"));
        match rendered.template_output(false) {
            Err(e) => problems.push(format!("helm template text: {e}")),
            Ok(got) => {
                let ok = if feature {
                    want_yaml == got.as_str()
                } else {
                    let (w, g) = (sourced(&want_yaml), sourced(&got));
                    w.len() == g.len() && w.iter().zip(g.iter()).all(|(a, b)| a.0 == b.0 && same(&a.1, &b.1))
                };
                if !ok {
                    problems.push(format!("helm template text: {}", first_diff(&want_yaml, &got)));
                }
            }
        }
    }
    if problems.is_empty() { Ok(()) } else { Err(problems) }
}

/// The (`# Source:` path, document) sequence of `helm template` text.
fn sourced(text: &str) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for piece in text.split("---\n# Source: ").skip(1) {
        let (path, body) = piece.split_once('\n').unwrap_or((piece, ""));
        let v = sigil_render::goyaml::from_yaml(body).unwrap_or_default();
        out.push((path.to_string(), v));
    }
    out
}

#[test]
fn helm_corpus_parity() {
    let Some(dir) = corpus("helm_corpus helm_corpus_parity") else {
        return;
    };
    let filter = std::env::var("SIGIL_CORPUS_FILTER").ok();
    let index = text(&dir.join("index.tsv"));
    let feature_cases: Vec<&str> = index
        .lines()
        .filter(|l| l.split('\t').nth(2) == Some("feature"))
        .filter_map(|l| l.split('\t').next())
        .collect();
    let mut cases: Vec<PathBuf> = std::fs::read_dir(dir.join("cases"))
        .map(|rd| rd.flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect())
        .unwrap_or_default();
    cases.sort();
    let (mut pass, mut fail) = (0usize, Vec::new());
    for case in &cases {
        let name = case.file_name().unwrap_or_default().to_string_lossy().to_string();
        if filter.as_ref().is_some_and(|f| !name.contains(f.as_str())) {
            continue;
        }
        let feature = feature_cases.contains(&name.as_str()) || name.starts_with("feat-");
        let outcome =
            std::panic::catch_unwind(|| run_case(case, feature)).unwrap_or_else(|_| Err(vec!["panicked".to_string()]));
        match outcome {
            Ok(()) => pass += 1,
            Err(why) => fail.push((name, why)),
        }
    }
    let total = pass + fail.len();
    for (name, why) in &fail {
        eprintln!("FAIL {name}");
        let shown = if filter.is_some() { why.len() } else { 5 };
        for w in why.iter().take(shown) {
            eprintln!("    {w}");
        }
        if why.len() > shown {
            eprintln!("    ... and {} more", why.len() - shown);
        }
    }
    let rate = if total == 0 {
        0.0
    } else {
        100.0 * pass as f64 / total as f64
    };
    eprintln!("helm corpus parity: {pass}/{total} cases ({rate:.1}%)");
    if filter.is_none() {
        assert!(
            pass >= FLOOR,
            "helm parity fell to {pass} cases, below the floor of {FLOOR}"
        );
    }
}
