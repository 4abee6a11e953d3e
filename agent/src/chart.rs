//! Helm charts in the source, rendered natively and in memory (`sigil_render::helm`): the
//! chart's files and the values files are read through the loader — SOPS-encrypted ones
//! decrypted and their MAC verified, like every other file — then rendered as `helm template`
//! renders them. Every string of a SOPS-encrypted values file is a secret: callers redact it
//! wherever it shows up in the output.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sigil_render::gotemplate::value::{Map, Value};
use sigil_render::helm::{self, ChartFiles, Release, RenderOptions};
use zeroize::Zeroizing;

use crate::digest::DigestKey;
use crate::load::{LoadError, Loader};
use crate::object::Object;
use crate::redact;
use zeroize::Zeroize;

/// What to render.
#[derive(Clone, Debug)]
pub struct ChartRequest {
    /// The chart directory, relative to the source root.
    pub chart: PathBuf,
    /// Values, in order (later ones win, maps merged key by key), like `-f`.
    pub values: Vec<ValuesSource>,
    /// `--set` arguments, applied last.
    pub sets: Vec<String>,
    /// The release.
    pub release: Release,
    /// Emit the chart's `crds/` files first (`--include-crds`).
    pub include_crds: bool,
}

/// Where values come from.
#[derive(Clone, Debug)]
pub enum ValuesSource {
    /// A values file relative to the source root (SOPS-encrypted ones decrypted).
    File(PathBuf),
    /// Values written inline (YAML), named for messages.
    Inline {
        /// What to call them (`helmCharts[web].valuesInline`).
        name: String,
        /// The YAML.
        yaml: Zeroizing<String>,
    },
}

/// One document of the output, as `helm template` prints it under `# Source: <source>`.
pub struct ChartDoc {
    /// The template (or CRD file) path.
    pub source: String,
    /// The document's text, as the chart wrote it.
    pub text: Zeroizing<String>,
    /// Whether it is a hook (printed after the manifests).
    pub hook: bool,
}

/// A chart's render.
pub struct ChartOutput {
    /// CRDs (when asked for), then manifests in Helm's install order, then hooks.
    pub docs: Vec<ChartDoc>,
    /// The strings that came from SOPS-encrypted values files (to redact wherever they show).
    pub secret_values: Vec<Zeroizing<String>>,
}

/// Why a chart could not be rendered. Names the chart or file; never shows a value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChartError {
    /// A file could not be read (decryption and MAC failures included).
    #[error(transparent)]
    Load(#[from] LoadError),
    /// A values file or `--set` argument is not valid.
    #[error("{source_name}: {message}")]
    Values {
        /// The file or argument.
        source_name: String,
        /// Why.
        message: String,
    },
    /// Helm refused the chart or its render failed.
    #[error("chart {chart}: {message}")]
    Helm {
        /// The chart directory.
        chart: String,
        /// Helm's message.
        message: String,
    },
}

/// The chart's files as read through the loader.
struct TreeFiles(BTreeMap<String, Zeroizing<Vec<u8>>>);

impl ChartFiles for TreeFiles {
    fn paths(&self) -> Result<Vec<String>, String> {
        Ok(self.0.keys().cloned().collect())
    }

    fn read(&self, path: &str, limit: u64) -> Result<Vec<u8>, String> {
        let data = self.0.get(path).ok_or_else(|| "no such file".to_string())?;
        if data.len() as u64 > limit {
            return Err(format!("larger than the maximum file size {limit}"));
        }
        Ok(data.to_vec())
    }
}

fn shown(p: &Path) -> String {
    if p.as_os_str().is_empty() {
        ".".into()
    } else {
        p.display().to_string()
    }
}

/// Renders the chart of `req` with the files of `loader`.
pub async fn render(loader: &Loader<'_>, req: &ChartRequest) -> Result<ChartOutput, ChartError> {
    let chart_name = shown(&req.chart);
    if !loader.tree.is_dir(&req.chart) || !loader.tree.exists(&req.chart.join("Chart.yaml")) {
        return Err(ChartError::Helm {
            chart: chart_name,
            message: "no Chart.yaml: not a chart directory".into(),
        });
    }
    let mut files = BTreeMap::new();
    for file in loader.tree.files(&req.chart)? {
        let Ok(rel) = file.strip_prefix(&req.chart) else {
            continue;
        };
        let rel = rel.to_string_lossy().replace('\\', "/");
        files.insert(rel, loader.read(&file).await?);
    }
    let mut texts = Vec::new();
    for v in &req.values {
        match v {
            ValuesSource::File(f) => {
                let (bytes, encrypted) = loader.read_tracked(f).await?;
                let text = Zeroizing::new(String::from_utf8(bytes.to_vec()).map_err(|_| ChartError::Values {
                    source_name: f.display().to_string(),
                    message: "not UTF-8 text".into(),
                })?);
                texts.push((f.display().to_string(), text, encrypted));
            }
            ValuesSource::Inline { name, yaml } => texts.push((name.clone(), yaml.clone(), false)),
        }
    }
    render_loaded(&chart_name, TreeFiles(files), &texts, req)
}

/// The synchronous part: values merged as Helm merges `-f` files and `--set` (on Helm's
/// render thread, where values live), then the render.
fn render_loaded(
    chart_name: &str,
    files: TreeFiles,
    texts: &[(String, Zeroizing<String>, bool)],
    req: &ChartRequest,
) -> Result<ChartOutput, ChartError> {
    let mut secret_values = Vec::new();
    for (name, text, _) in texts.iter().filter(|t| t.2) {
        let v = helm::parse_values(text).map_err(|message| ChartError::Values {
            source_name: name.clone(),
            message,
        })?;
        collect_strings(&Value::map(v), &mut secret_values, 0);
    }
    let values = || -> Result<Map, String> {
        let mut values = Map::new();
        for (name, text, _) in texts {
            let v = helm::parse_values(text).map_err(|m| format!("{name}: {m}"))?;
            merge_into(&mut values, &v, 0);
        }
        for s in &req.sets {
            helm::apply_set(&mut values, s).map_err(|m| format!("--set: {m}"))?;
        }
        Ok(values)
    };
    let helm_err = |message: String| ChartError::Helm {
        chart: chart_name.to_string(),
        message,
    };
    let opts = RenderOptions {
        release: req.release.clone(),
        capabilities: Default::default(),
    };
    let rendered = helm::render_with(&files, values, &opts).map_err(|e| helm_err(e.to_string()))?;
    let (hooks, manifests) = helm::sort_manifests(&rendered.manifests).map_err(helm_err)?;
    let mut docs = Vec::new();
    if req.include_crds {
        for (source, text) in &rendered.crds {
            docs.push(ChartDoc {
                source: source.clone(),
                text: text.clone(),
                hook: false,
            });
        }
    }
    for d in manifests.into_iter().chain(hooks) {
        docs.push(ChartDoc {
            source: d.source,
            text: d.content,
            hook: d.hook,
        });
    }
    Ok(ChartOutput { docs, secret_values })
}

impl ChartOutput {
    /// The text `helm template` prints; with `redact`, every Secret's values and every
    /// document holding a value from a SOPS-encrypted values file are shown redacted
    /// (`<redacted hmac:…>`), re-emitted as YAML.
    pub fn template_text(&self, redact: Option<&DigestKey>) -> Zeroizing<String> {
        let mut manifests = Zeroizing::new(String::new());
        let mut hooks = Zeroizing::new(String::new());
        for d in &self.docs {
            let out = if d.hook { &mut hooks } else { &mut manifests };
            out.push_str("---\n# Source: ");
            out.push_str(&d.source);
            out.push('\n');
            match redact {
                Some(key) => out.push_str(&self.redacted(&d.text, key)),
                None => out.push_str(&d.text),
            }
            out.push('\n');
        }
        let mut text = Zeroizing::new(String::new());
        let trimmed = manifests.trim_matches(|c: char| matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0c'));
        if !trimmed.is_empty() {
            text.push_str(trimmed);
            text.push('\n');
        }
        text.push_str(&hooks);
        text
    }

    /// `text`, or its redacted form when it holds a Secret or a secret value.
    fn redacted(&self, text: &str, key: &DigestKey) -> Zeroizing<String> {
        let holds_secret = self.secret_values.iter().any(|s| text.contains(s.as_str()));
        let Ok(objects) = sigil_crds::manifest::load(text.as_bytes()) else {
            return Zeroizing::new(if holds_secret {
                "# (document not shown: it holds a secret value and is not valid YAML)".into()
            } else {
                text.to_string()
            });
        };
        let secret_with_values = |o: &serde_json::Value| {
            o.get("kind").and_then(|k| k.as_str()) == Some("Secret")
                && (o.get("data").is_some_and(|d| !d.is_null()) || o.get("stringData").is_some_and(|d| !d.is_null()))
        };
        if !holds_secret && !objects.iter().any(secret_with_values) {
            return Zeroizing::new(text.to_string());
        }
        let shown: Vec<serde_json::Value> = objects
            .into_iter()
            .map(|o| {
                let mut o = redact::redacted(&Object(o), key).0.clone();
                self.mask(&mut o, key, 0);
                o
            })
            .collect();
        let yaml = Zeroizing::new(sigil_crds::manifest::to_yaml(&shown));
        Zeroizing::new(yaml.strip_prefix("---\n").unwrap_or(&yaml).trim_end().to_string())
    }

    /// Replaces every string holding a secret value with its marker.
    fn mask(&self, v: &mut serde_json::Value, key: &DigestKey, depth: usize) {
        if depth > 200 {
            return;
        }
        match v {
            serde_json::Value::String(s) if self.secret_values.iter().any(|sv| s.contains(sv.as_str())) => {
                let m = key.marker(s.as_bytes());
                s.zeroize();
                *s = m;
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(|x| self.mask(x, key, depth + 1)),
            serde_json::Value::Object(m) => m.values_mut().for_each(|x| self.mask(x, key, depth + 1)),
            _ => {}
        }
    }
}

/// Helm's merge of values files: maps merge key by key, anything else is replaced.
fn merge_into(base: &mut Map, over: &Map, depth: usize) {
    for (k, v) in over {
        match (base.get(k), v) {
            (Some(Value::Map(b)), Value::Map(o)) if depth < 100 && !std::rc::Rc::ptr_eq(b, o) => {
                let mut merged = b.borrow().clone();
                merge_into(&mut merged, &o.borrow(), depth + 1);
                base.insert(k.clone(), Value::map(merged));
            }
            _ => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
}

fn collect_strings(v: &Value, out: &mut Vec<Zeroizing<String>>, depth: usize) {
    if depth > 100 {
        return;
    }
    match v {
        // Strings only: a number or boolean from the file would mask every string that
        // happens to contain its digits.
        Value::Str(s) if !s.is_empty() => out.push(Zeroizing::new(s.to_string())),
        Value::List(l) => l.iter().for_each(|x| collect_strings(x, out, depth + 1)),
        Value::Map(m) => m.borrow().values().for_each(|x| collect_strings(x, out, depth + 1)),
        _ => {}
    }
}
