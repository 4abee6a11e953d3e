//! `sealer lint PATH`: finds what must not be committed — plaintext `Secret`s, values that
//! `.sops.yaml` says must be encrypted, and private keys. Prints `file:line: reason`; never
//! a value.

use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::{Args, ValueEnum};
use serde::Serialize;
use sigil_crypto::sops::config::Config;
use sigil_crypto::sops::format::Format;
use sigil_crypto::sops::rules::CompiledRules;
use sigil_crypto::sops::tree::{Branch, Value};

/// Output format of findings.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum LintFormat {
    /// `file:line: [rule] message` lines.
    Text,
    /// A JSON array of findings.
    Json,
}

/// Arguments of `sealer lint`.
#[derive(Args)]
pub struct LintArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: LintFormat,
    /// Skip paths under this prefix (relative to PATH; may be repeated).
    #[arg(long)]
    exclude: Vec<PathBuf>,
    /// The directory (or file) to check.
    path: PathBuf,
}

/// One problem found.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Finding {
    /// The file.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// Which check (`plaintext-secret`, `unencrypted-value`, `private-key`).
    pub rule: &'static str,
    /// What is wrong (names keys, never values).
    pub message: String,
}

const SKIP_DIRS: &[&str] = &[".git", "target", "node_modules", ".peers"];
const MAX_FILE: u64 = 5 * 1024 * 1024;

fn walk(dir: &Path, root: &Path, exclude: &[PathBuf], out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let p = e.path();
        let rel = p.strip_prefix(root).unwrap_or(&p);
        if exclude.iter().any(|x| rel.starts_with(x)) {
            continue;
        }
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() {
            if !SKIP_DIRS.contains(&e.file_name().to_string_lossy().as_ref()) {
                walk(&p, root, exclude, out);
            }
        } else if ft.is_file() {
            out.push(p);
        }
    }
}

fn line_of(text: &str, needle: &str, from_line: usize) -> usize {
    text.lines()
        .enumerate()
        .skip(from_line.saturating_sub(1))
        .find(|(_, l)| l.contains(needle))
        .map_or(from_line.max(1), |(i, _)| i + 1)
}

const KEY_MARKERS: &[&str] = &[
    "-----BEGIN RSA PRIVATE KEY-----",
    "-----BEGIN PRIVATE KEY-----",
    "-----BEGIN EC PRIVATE KEY-----",
    "-----BEGIN OPENSSH PRIVATE KEY-----",
    "-----BEGIN DSA PRIVATE KEY-----",
    "-----BEGIN ENCRYPTED PRIVATE KEY-----",
    "-----BEGIN PGP PRIVATE KEY BLOCK-----",
    "AGE-SECRET-KEY-1",
];

fn private_keys(file: &str, text: &str, out: &mut Vec<Finding>) {
    for (i, line) in text.lines().enumerate() {
        if let Some(m) = KEY_MARKERS.iter().find(|m| line.contains(*m)) {
            let what = if m.starts_with("AGE") {
                "age identity"
            } else {
                "private key"
            };
            out.push(Finding {
                file: file.into(),
                line: i + 1,
                rule: "private-key",
                message: format!("{what} committed"),
            });
        }
    }
}

/// Start line (1-based) of each YAML document in `text`.
fn doc_starts(text: &str) -> Vec<usize> {
    let mut starts = vec![1];
    for (i, l) in text.lines().enumerate() {
        if l.starts_with("---") && i > 0 {
            starts.push(i + 2);
        }
    }
    starts
}

fn has_data(v: Option<&Value>) -> bool {
    matches!(v, Some(Value::Map(b)) if !b.is_empty())
}

fn plaintext_secrets(file: &str, text: &str, docs: &[Branch], out: &mut Vec<Finding>) {
    let starts = doc_starts(text);
    let non_empty: Vec<&Branch> = docs.iter().collect();
    for (i, doc) in non_empty.iter().enumerate() {
        let is_secret = matches!(doc.get("kind"), Some(Value::Str(k)) if k.as_str() == "Secret");
        if !is_secret || doc.get("sops").is_some() {
            continue;
        }
        if has_data(doc.get("data")) || has_data(doc.get("stringData")) {
            let start = starts.get(i).copied().unwrap_or(1);
            let name = match doc.get("metadata") {
                Some(Value::Map(m)) => match m.get("name") {
                    Some(Value::Str(n)) => n.to_string(),
                    _ => String::new(),
                },
                _ => String::new(),
            };
            out.push(Finding {
                file: file.into(),
                line: line_of(text, "kind: Secret", start),
                rule: "plaintext-secret",
                message: format!("plaintext Secret {name:?}: seal it (sealer seal) or encrypt it (sealer encrypt)"),
            });
        }
    }
}

fn unencrypted_values(
    file: &str,
    text: &str,
    docs: &[Branch],
    rules: &CompiledRules,
    regex: &str,
    out: &mut Vec<Finding>,
) {
    fn visit(v: &Value, path: &mut Vec<String>, rules: &CompiledRules, found: &mut Vec<String>) {
        match v {
            Value::Map(b) => {
                for (k, v) in b.pairs() {
                    path.push(k.to_string());
                    visit(v, path, rules, found);
                    path.pop();
                }
            }
            Value::Seq(items) => items.iter().for_each(|i| visit(i, path, rules, found)),
            Value::Null | Value::Comment(_) => {}
            Value::Str(s) if s.is_empty() => {}
            _ => {
                let refs: Vec<&str> = path.iter().map(String::as_str).collect();
                if rules.should_encrypt(&refs, &[], false) {
                    found.push(path.join(":"));
                }
            }
        }
    }
    let mut found = Vec::new();
    for doc in docs {
        visit(&Value::Map(doc.clone()), &mut Vec::new(), rules, &mut found);
    }
    found.dedup();
    for path in found {
        let last = path.rsplit(':').next().unwrap_or(&path);
        out.push(Finding {
            file: file.into(),
            line: line_of(text, last, 1),
            rule: "unencrypted-value",
            message: format!("value {path}: must be encrypted (.sops.yaml rule path_regex {regex:?}) but is plaintext"),
        });
    }
}

/// Checks one tree; findings sorted by file and line.
pub fn lint(root: &Path, exclude: &[PathBuf]) -> Vec<Finding> {
    let mut files = Vec::new();
    if root.is_file() {
        files.push(root.to_path_buf());
    } else {
        walk(root, root, exclude, &mut files);
    }
    let mut out = Vec::new();
    for path in files {
        if std::fs::metadata(&path).map(|m| m.len() > MAX_FILE).unwrap_or(true) {
            continue;
        }
        let Ok(bytes) = std::fs::read(&path) else { continue };
        let Ok(text) = std::str::from_utf8(&bytes) else {
            continue;
        };
        let file = path.display().to_string();
        private_keys(&file, text, &mut out);
        let format = Format::from_path(&path);
        let structured = matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml" | "json" | "env" | "ini")
        );
        if !structured {
            continue;
        }
        let Ok(docs) = format.load(&bytes) else { continue };
        if format == Format::Yaml || format == Format::Json {
            plaintext_secrets(&file, text, &docs, &mut out);
        }
        if sigil_crypto::sops::carries_metadata(&docs, format) {
            continue;
        }
        let dir = path.parent().unwrap_or(Path::new("."));
        let Some(cfg_path) = sigil_crypto::sops::config::find(&std::path::absolute(dir).unwrap_or(dir.to_path_buf()))
        else {
            continue;
        };
        if path.file_name().is_some_and(|n| n == ".sops.yaml") {
            continue;
        }
        let Ok(cfg) = Config::load(&cfg_path) else { continue };
        let Ok((path_regex, rules)) = cfg.encryption_rules_for(&path) else {
            continue;
        };
        // Only rules that name files (path_regex) say those files must be encrypted.
        if path_regex.is_empty() {
            continue;
        }
        let Ok(rules) = rules.with_default().and_then(|r| r.compile()) else {
            continue;
        };
        let docs: Vec<Branch> = docs.into_iter().filter(|d| !d.is_empty()).collect();
        unencrypted_values(&file, text, &docs, &rules, &path_regex, &mut out);
    }
    out.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
    out
}

/// `sealer lint`: an error (exit 1) when anything is found.
pub fn run(a: LintArgs) -> Result<()> {
    let findings = lint(&a.path, &a.exclude);
    match a.format {
        LintFormat::Text => {
            for f in &findings {
                println!("{}:{}: [{}] {}", f.file, f.line, f.rule, f.message);
            }
        }
        LintFormat::Json => println!("{}", serde_json::to_string_pretty(&findings)?),
    }
    if findings.is_empty() {
        Ok(())
    } else {
        Err(anyhow::anyhow!("lint: {} problem(s) found", findings.len()))
    }
}
