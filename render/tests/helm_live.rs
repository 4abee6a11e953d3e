//! Live Helm parity: charts rendered by sigil-render and by the real Helm v4 library (the
//! peers' Python, module `helm_python`) with values this test generates, compared byte for
//! byte.
//!
//! * every hand-written feature chart of ../shared/helm-corpus (`cases/feat-*`), and each
//!   chart under `examples/app/charts/` when present, with its defaults and with random values
//!   documents over the keys its `values.yaml` has (YAML scalars of every type, strings that
//!   need quoting, `null` deleting defaults, nested maps and lists);
//! * `--set` arguments (hand-written tricky ones and random ones) parsed by [`apply_set`] and
//!   by Helm's `strvals.Parse`, compared as JSON.
//!
//! All the Helm work runs in one Python process. The random seed is printed;
//! `SIGIL_LIVE_SEED=<n>` replays a run, `SIGIL_LIVE_N=<n>` sets the documents per chart.
//! Outcomes agree when both render the same text for every template, or both fail with
//! Helm's key phrase in our error. The pass rate and the first differences are printed; the
//! test asserts 100 %.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value as Json, json};
use sigil_render::gotemplate::value::{Map, Value};
use sigil_render::helm::{Release, RenderOptions, apply_set, parse_values, render};

mod support;
use support::{first_diff, key_phrases, read_dir_files, release, skip, text, workspace_root};

/// This test, as the skip log names it.
const SELF: &str = "helm_live helm_live_parity";

#[path = "helm_live/inputs.rs"]
mod inputs;
use inputs::{Rng, SETS, emit_map, random_doc, random_set};

/// Random values documents per chart (besides the chart's defaults).
const DEFAULT_DOCS: usize = 20;
/// Random `--set` arguments (besides the hand-written ones).
const RANDOM_SETS: usize = 200;

/// A chart to render, with the release it is rendered for.
struct Subject {
    label: String,
    dir: PathBuf,
    release: Release,
}

fn subjects(corpus: &Path, root: &Path) -> Vec<Subject> {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(corpus.join("cases"))
        .map(|rd| rd.flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect())
        .unwrap_or_default();
    cases.sort();
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for case in cases {
        let name = case.file_name().unwrap_or_default().to_string_lossy().to_string();
        if !name.starts_with("feat-") {
            continue;
        }
        let dir = if case.join("chart").is_dir() {
            case.join("chart")
        } else {
            case.join(text(&case.join("chart.txt")).trim())
        };
        let Ok(dir) = dir.canonicalize() else { continue };
        if seen.contains(&dir) {
            continue;
        }
        seen.push(dir.clone());
        out.push(Subject {
            label: name,
            release: release(&case),
            dir,
        });
    }
    let examples = root.join("examples/app/charts");
    if let Ok(rd) = std::fs::read_dir(&examples) {
        let mut dirs: Vec<PathBuf> = rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.join("Chart.yaml").is_file())
            .collect();
        dirs.sort();
        for dir in dirs {
            let label = format!("examples/{}", dir.file_name().unwrap_or_default().to_string_lossy());
            out.push(Subject {
                label,
                dir,
                release: Release::install("app", "default"),
            });
        }
    }
    out
}

const SCRIPT: &str = r#"
import json, sys
from helm_python import Chart, values_from_yaml, parse_set_string
jobs = json.load(open(sys.argv[1]))
out = {"renders": [], "sets": []}
charts = {}
for j in jobs["renders"]:
    try:
        c = charts.get(j["chart"])
        if c is None:
            c = Chart.load(j["chart"])
            charts[j["chart"]] = c
        r = c.render(values_from_yaml(j["values"]), name=j["name"], namespace=j["namespace"],
                     revision=j["revision"], is_install=j["is_install"], is_upgrade=j["is_upgrade"])
        out["renders"].append({"ok": r})
    except Exception as e:
        out["renders"].append({"error": str(e)})
for s in jobs["sets"]:
    try:
        out["sets"].append({"ok": parse_set_string(s)})
    except Exception as e:
        out["sets"].append({"error": str(e)})
with open(sys.argv[2], "w") as f:
    json.dump(out, f)
"#;

/// Whether our error, where it hides a value as `%!t(TYPE=…)` (Helm prints the value in
/// `type mismatch on NAME: VALUE`; we never print values), reads as Helm's text around it.
fn fits_redacted(ours: &str, helm: &str) -> bool {
    let (Some(start), Some(end)) = (ours.find("%!"), ours.rfind("…)")) else {
        return false;
    };
    let (head, tail) = (&ours[..start], &ours[end + "…)".len()..]);
    helm.len() >= head.len() + tail.len() && helm.starts_with(head) && helm.ends_with(tail)
}

/// The one known difference: Go strings are bytes, so a function that cuts a string inside
/// a UTF-8 sequence (`wrapWith`, `trunc`, `substr` on non-ASCII text) leaves invalid bytes
/// that `quote` prints as `\xc3`; our strings are UTF-8 and hold U+FFFD there instead.
fn invalid_utf8_only(helm: &str, ours: &str) -> bool {
    let Ok(escape) = regex::Regex::new(r"\\x[89a-fA-F][0-9a-fA-F]") else {
        return false;
    };
    escape.is_match(helm) && escape.replace_all(helm, "\u{FFFD}") == ours
}

/// Compares one render; `None` when both agree.
fn compare_render(subject: &Subject, values: &str, helm: &Json, known: &mut usize) -> Option<String> {
    let files = read_dir_files(&subject.dir);
    let opts = RenderOptions {
        release: subject.release.clone(),
        capabilities: Default::default(),
    };
    let ours = render(&files, values, &opts);
    match (ours, helm.get("ok"), helm.get("error").and_then(Json::as_str)) {
        (Ok(_), _, Some(e)) => Some(format!("rendered, but Helm fails with: {e}")),
        (Err(e), Some(_), _) => Some(format!("Helm renders, but we fail with: {e}")),
        (Err(e), None, Some(want)) => {
            let got = e.to_string();
            let missing: Vec<String> = key_phrases(want)
                .into_iter()
                .filter(|p| !got.contains(p.as_str()) && !fits_redacted(&got, want))
                .collect();
            (!missing.is_empty()).then(|| format!("both fail; ours lacks {missing:?}: ours {got:?}, Helm {want:?}"))
        }
        (Ok(r), Some(want), _) => {
            let want: BTreeMap<String, String> = serde_json::from_value(want.clone()).unwrap_or_default();
            let mut problems = Vec::new();
            for k in want.keys().filter(|k| !r.manifests.contains_key(*k)) {
                problems.push(format!("{k}: missing"));
            }
            for k in r.manifests.keys().filter(|k| !want.contains_key(*k)) {
                problems.push(format!("{k}: not rendered by Helm"));
            }
            for (k, w) in &want {
                if let Some(g) = r.manifests.get(k)
                    && w != g.as_str()
                {
                    if invalid_utf8_only(w, g) {
                        *known += 1;
                    } else {
                        problems.push(format!("{k}: {}", first_diff(w, g)));
                    }
                }
            }
            (!problems.is_empty()).then(|| problems.join("; "))
        }
        (_, None, None) => Some("no answer from Helm".into()),
    }
}

fn compare_set(arg: &str, helm: &Json) -> Option<String> {
    let mut m = Map::new();
    let ours = apply_set(&mut m, arg).and_then(|()| sigil_render::goyaml::to_json(&Value::map(m)));
    match (ours, helm.get("ok")) {
        (Ok(got), Some(want)) => {
            let got: Json = serde_json::from_str(&got).unwrap_or(Json::Null);
            (got != *want).then(|| format!("--set {arg:?}: Helm {want}, ours {got}"))
        }
        (Err(_), None) => None,
        (Ok(got), None) => Some(format!(
            "--set {arg:?}: ours {got}, Helm fails: {}",
            helm.get("error").and_then(Json::as_str).unwrap_or_default()
        )),
        (Err(e), Some(want)) => Some(format!("--set {arg:?}: Helm {want}, ours fails: {e}")),
    }
}

#[test]
fn helm_live_parity() {
    let root = workspace_root();
    let python = root.join(".peers/venv/bin/python");
    if !python.is_file() {
        skip(
            SELF,
            &format!(
                "{} is absent (tools/peers/setup.sh installs the Helm library)",
                python.display()
            ),
        );
        return;
    }
    let corpus = root.join("../shared/helm-corpus");
    if !corpus.join("cases").is_dir() {
        skip(SELF, "../shared/helm-corpus is absent");
        return;
    }
    let seed = std::env::var("SIGIL_LIVE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        });
    let docs: usize = std::env::var("SIGIL_LIVE_N")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(DEFAULT_DOCS);
    eprintln!("helm live parity: seed {seed} (SIGIL_LIVE_SEED={seed} replays it), {docs} documents per chart");
    let mut rng = Rng(seed);

    let subjects = subjects(&corpus, &root);
    assert!(!subjects.is_empty(), "no feature charts in {}", corpus.display());
    let mut renders: Vec<(usize, String)> = Vec::new();
    for (i, s) in subjects.iter().enumerate() {
        renders.push((i, "{}\n".to_string()));
        let defaults = parse_values(&text(&s.dir.join("values.yaml"))).unwrap_or_default();
        for n in 0..docs {
            // Half the documents change a few keys (most of them render), half change most.
            let intensity = if n % 2 == 0 { 15 } else { 70 };
            let mut doc = String::new();
            emit_map(&mut doc, &random_doc(&mut rng, &defaults, 0, intensity), 0);
            if doc.is_empty() {
                doc.push_str("{}\n");
            }
            renders.push((i, doc));
        }
    }
    let mut sets: Vec<String> = SETS.iter().map(|s| s.to_string()).collect();
    sets.extend((0..RANDOM_SETS).map(|_| random_set(&mut rng)));

    let jobs = json!({
        "renders": renders.iter().map(|(i, values)| {
            let s = &subjects[*i];
            json!({
                "chart": s.dir.to_string_lossy(),
                "values": values,
                "name": s.release.name,
                "namespace": s.release.namespace,
                "revision": s.release.revision,
                "is_install": s.release.is_install,
                "is_upgrade": s.release.is_upgrade,
            })
        }).collect::<Vec<_>>(),
        "sets": sets,
    });
    let tmp = std::env::temp_dir().join(format!("sigil-helm-live-{}-{seed}", std::process::id()));
    std::fs::create_dir_all(&tmp).expect("temp dir");
    let (jobs_file, out_file, script) = (tmp.join("jobs.json"), tmp.join("out.json"), tmp.join("live.py"));
    std::fs::write(&jobs_file, jobs.to_string()).expect("write jobs");
    std::fs::write(&script, SCRIPT).expect("write script");
    // Helm logs its coalescing warnings on stderr: kept out of the test's output.
    let run = Command::new(&python)
        .arg(&script)
        .arg(&jobs_file)
        .arg(&out_file)
        .output()
        .expect("run the peers' Python");
    let stderr = String::from_utf8_lossy(&run.stderr);
    let tail: Vec<&str> = stderr.lines().rev().take(20).collect();
    assert!(
        run.status.success(),
        "the Helm script failed: {}\n{}",
        run.status,
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    );
    let answers: Json = serde_json::from_str(&text(&out_file)).expect("Helm's answers are JSON");
    let _ = std::fs::remove_dir_all(&tmp);

    let helm_renders = answers["renders"].as_array().cloned().unwrap_or_default();
    let helm_sets = answers["sets"].as_array().cloned().unwrap_or_default();
    assert_eq!(helm_renders.len(), renders.len(), "one Helm answer per render");
    assert_eq!(helm_sets.len(), sets.len(), "one Helm answer per --set");

    let mut failures = Vec::new();
    let mut per_chart: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    let mut helm_errors = 0usize;
    let mut known = 0usize;
    for ((i, values), helm) in renders.iter().zip(helm_renders.iter()) {
        let s = &subjects[*i];
        if helm.get("error").is_some() {
            helm_errors += 1;
        }
        let entry = per_chart.entry(s.label.as_str()).or_default();
        entry.1 += 1;
        match compare_render(s, values, helm, &mut known) {
            None => entry.0 += 1,
            Some(why) => failures.push(format!("{}: {why}\n--- values:\n{values}", s.label)),
        }
    }
    let mut set_pass = 0usize;
    for (arg, helm) in sets.iter().zip(helm_sets.iter()) {
        match compare_set(arg, helm) {
            None => set_pass += 1,
            Some(why) => failures.push(why),
        }
    }
    for f in failures.iter().take(15) {
        eprintln!("DIFF {f}");
    }
    if failures.len() > 15 {
        eprintln!("... and {} more differences", failures.len() - 15);
    }
    for (label, (pass, total)) in &per_chart {
        eprintln!("  {label}: {pass}/{total}");
    }
    let render_pass: usize = per_chart.values().map(|p| p.0).sum();
    eprintln!(
        "helm live parity (seed {seed}): renders {render_pass}/{} ({helm_errors} Helm errors among them), --set {set_pass}/{}",
        renders.len(),
        sets.len()
    );
    if known > 0 {
        eprintln!(
            "  of which {known} template(s) differ only where Go keeps invalid UTF-8 bytes (a known limitation: our strings are UTF-8)"
        );
    }
    assert!(
        failures.is_empty(),
        "{} differences from Helm (seed {seed}); the first: {}",
        failures.len(),
        failures.first().map(String::as_str).unwrap_or_default()
    );
}
