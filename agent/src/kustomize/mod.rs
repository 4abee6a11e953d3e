//! A native, in-memory Kustomize build (kustomize v5 semantics): resources, bases and
//! components, generators with content hashes, the built-in transformers, patches, name
//! references, vars and replacements, and kustomize's output order. Every file goes through
//! the one loader, so SOPS-encrypted resources, patches and generator inputs are decrypted
//! and verified as they are read. Remote bases and Helm charts are refused.

mod fieldspec;
mod generate;
mod helm;
mod kustomization;
mod metadata;
mod patch;
mod replace;
mod resource;
mod transform;

use metadata::{Meta, relative, strip_build_annotations};

use std::future::Future;
use std::path::{Component, Path, PathBuf};
use std::pin::Pin;

use serde_json::Value;

use crate::load::{LoadError, Loader};
use crate::object::Object;
pub use fieldspec::Config;
use resource::{Behavior, Res, ResMap};

/// File names kustomize recognises as a kustomization.
pub const KUSTOMIZATION_FILES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Why a build failed. Messages name files and objects, never values.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KustomizeError {
    /// A file could not be loaded (decryption and MAC failures included).
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The build failed.
    #[error("{0}")]
    Build(String),
}

impl KustomizeError {
    pub(crate) fn msg(s: String) -> KustomizeError {
        KustomizeError::Build(s)
    }

    pub(crate) fn context(self, c: impl std::fmt::Display) -> KustomizeError {
        match self {
            KustomizeError::Build(s) => KustomizeError::Build(format!("{c}: {s}")),
            other => other,
        }
    }
}

/// Build options (as `kubectl kustomize` flags).
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// `--load-restrictor LoadRestrictionsNone`: files may come from outside a
    /// kustomization's directory (still never from outside the source root).
    pub load_restrictions_none: bool,
    /// `--enable-managedby-label`.
    pub managed_by_label: bool,
}

type BoxFut<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The accumulated state of a build.
#[derive(Clone, Default)]
struct Acc {
    res: ResMap,
    config: Option<Config>,
    vars: Vec<Value>,
}

impl Acc {
    fn new() -> Acc {
        Acc {
            res: ResMap::default(),
            config: Some(Config::defaults()),
            vars: Vec::new(),
        }
    }

    fn config(&mut self) -> &mut Config {
        self.config.get_or_insert_with(Config::defaults)
    }

    fn merge(&mut self, o: Acc) -> Result<(), KustomizeError> {
        self.res.append_all(o.res)?;
        if let Some(c) = o.config {
            self.config().merge(&c);
        }
        for v in o.vars {
            let name = v.get("name").and_then(|n| n.as_str()).unwrap_or("").to_string();
            if self
                .vars
                .iter()
                .any(|x| x.get("name").and_then(|n| n.as_str()) == Some(name.as_str()))
            {
                return Err(KustomizeError::msg(format!("var '{name}' already encountered")));
            }
            self.vars.push(v);
        }
        Ok(())
    }
}

/// Lexically normalises a relative path; `None` when it climbs above the root.
pub fn normalize(p: &Path) -> Option<PathBuf> {
    let mut out: Vec<String> = Vec::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop()?;
            }
            Component::Normal(s) => out.push(s.to_string_lossy().into_owned()),
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(out.iter().collect())
}

fn shown(p: &Path) -> String {
    if p.as_os_str().is_empty() {
        ".".into()
    } else {
        p.display().to_string()
    }
}

/// The kustomize builder over one loader.
pub struct Kustomizer<'a> {
    loader: &'a Loader<'a>,
    opts: Options,
    /// The custom OpenAPI schema in force (the first kustomization to name one wins).
    schema: std::sync::Mutex<Option<patch::Schema>>,
    /// Build metadata of the top kustomization.
    meta: std::sync::Mutex<Meta>,
    /// Kustomization directories being built, outermost first (cycles are refused).
    visiting: std::sync::Mutex<Vec<PathBuf>>,
}

/// Deepest nesting of kustomizations (bases of bases ...).
const MAX_NESTING: usize = 64;

fn is_remote(s: &str) -> bool {
    s.contains("://") || s.starts_with("git@") || s.starts_with("github.com/") || s.starts_with("gitlab.com/")
}

fn str_list(k: &Value, field: &str) -> Vec<String> {
    match k.get(field) {
        Some(Value::Array(a)) => a.iter().filter_map(|x| x.as_str().map(String::from)).collect(),
        _ => Vec::new(),
    }
}

impl<'a> Kustomizer<'a> {
    /// A builder reading through `loader`.
    pub fn new(loader: &'a Loader<'a>, opts: Options) -> Kustomizer<'a> {
        Kustomizer {
            loader,
            opts,
            schema: std::sync::Mutex::new(None),
            meta: std::sync::Mutex::new(Meta::default()),
            visiting: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// Whether `dir` holds a kustomization.
    pub fn has_kustomization(&self, dir: &Path) -> bool {
        KUSTOMIZATION_FILES
            .iter()
            .any(|k| self.loader.tree.exists(&dir.join(k)) && !self.loader.tree.is_dir(&dir.join(k)))
    }

    /// Builds the kustomization in `dir`, as `kubectl kustomize dir` does.
    pub async fn build(&self, dir: &Path) -> Result<Vec<(Object, bool)>, KustomizeError> {
        let dir = normalize(dir).ok_or_else(|| LoadError::Escapes(shown(dir)))?;
        let k = self.load_kustomization(&dir).await?;
        let bm = str_list(&k, "buildMetadata");
        if let Ok(mut m) = self.meta.lock() {
            *m = Meta {
                origin: bm.iter().any(|b| b == "originAnnotations"),
                transformations: bm.iter().any(|b| b == "transformerAnnotations"),
                top: dir.clone(),
            };
        }
        let meta = self.meta();
        let mut acc = Acc::new();
        self.accumulate(dir.clone(), k.clone(), &mut acc).await?;
        // Hashes, then back references, then vars: after all transformations.
        resource::add_hash_suffixes(&mut acc.res);
        let config = acc.config.clone().unwrap_or_else(Config::defaults);
        transform::fix_name_references(&mut acc.res, &config)?;
        replace::resolve_vars(&mut acc.res, &acc.vars, &config)?;
        acc.res.list.retain(|r| {
            r.v()
                .pointer("/metadata/annotations/config.kubernetes.io~1local-config")
                .and_then(|v| v.as_str())
                != Some("true")
        });
        match k.get("sortOptions") {
            Some(so) => {
                let order = so.get("order").and_then(|v| v.as_str()).unwrap_or("");
                match order {
                    "fifo" => {
                        if so.get("legacySortOptions").is_some() {
                            return Err(KustomizeError::msg(
                                "the field 'sortOptions.legacySortOptions' is set but the selected sort order is 'fifo', not 'legacy'".into(),
                            ));
                        }
                    }
                    "legacy" => match so.get("legacySortOptions") {
                        Some(l) => resource::sort_with(
                            &mut acc.res.list,
                            &str_list(l, "orderFirst"),
                            &str_list(l, "orderLast"),
                        ),
                        None => resource::legacy_sort(&mut acc.res.list),
                    },
                    _ => {
                        return Err(KustomizeError::msg(
                            "the field 'sortOptions.order' must be one of [fifo, legacy]".into(),
                        ));
                    }
                }
            }
            None => resource::legacy_sort(&mut acc.res.list),
        }
        let mut out = Vec::with_capacity(acc.res.list.len());
        for mut r in std::mem::take(&mut acc.res.list) {
            if self.opts.managed_by_label || str_list(&k, "buildMetadata").iter().any(|b| b == "managedByLabel") {
                // The value kubectl's embedded kustomize writes.
                transform::set_map_entry(
                    r.v_mut(),
                    &["metadata", "labels"],
                    "app.kubernetes.io/managed-by",
                    "kustomize-(devel)",
                );
            }
            strip_build_annotations(r.v_mut());
            if meta.origin
                && let Some(o) = r.origin.clone()
            {
                transform::set_map_entry(
                    r.v_mut(),
                    &["metadata", "annotations"],
                    "config.kubernetes.io/origin",
                    &o,
                );
            }
            if meta.transformations && !r.transformations.is_empty() {
                let t = r.transformations.concat();
                transform::set_map_entry(
                    r.v_mut(),
                    &["metadata", "annotations"],
                    "alpha.config.kubernetes.io/transformations",
                    &t,
                );
            }
            out.push((Object(std::mem::take(r.v_mut())), r.encrypted));
        }
        Ok(out)
    }

    /// Resolves `rel` against `dir`; a file must stay inside `dir` unless restrictions are off.
    fn file_path(&self, dir: &Path, rel: &str) -> Result<PathBuf, KustomizeError> {
        let p = normalize(&dir.join(rel)).ok_or_else(|| LoadError::Escapes(rel.to_string()))?;
        if !self.opts.load_restrictions_none && !p.starts_with(dir) {
            return Err(KustomizeError::msg(format!(
                "security; file '{}' is not in or below '{}'",
                shown(&p),
                shown(dir)
            )));
        }
        Ok(p)
    }

    /// Reads a file (decrypted when SOPS-encrypted).
    async fn read(&self, dir: &Path, rel: &str) -> Result<zeroize::Zeroizing<Vec<u8>>, KustomizeError> {
        Ok(self.read_tracked(dir, rel).await?.0)
    }

    /// Reads a file, and says whether it was SOPS-encrypted.
    async fn read_tracked(&self, dir: &Path, rel: &str) -> Result<(zeroize::Zeroizing<Vec<u8>>, bool), KustomizeError> {
        let p = self.file_path(dir, rel)?;
        if !self.loader.tree.exists(&p) {
            return Err(KustomizeError::msg(format!("file '{}' not found", shown(&p))));
        }
        Ok(self.loader.read_tracked(&p).await?)
    }

    /// Parses YAML/JSON documents of a file or inline text into JSON values.
    fn parse_docs(&self, name: &str, bytes: &[u8]) -> Result<Vec<Value>, KustomizeError> {
        let docs = sigil_crypto::sops::format::yaml::load_any(bytes)
            .map_err(|e| KustomizeError::msg(format!("{name}: cannot parse: {e}")))?;
        Ok(docs
            .iter()
            .map(sigil_crypto::sops::format::json::to_json)
            .filter(|v| !v.is_null())
            .collect())
    }

    /// Resources from a file: documents, `List` items expanded.
    async fn resources_from_file(&self, dir: &Path, rel: &str) -> Result<Vec<Res>, KustomizeError> {
        let p = self.file_path(dir, rel)?;
        if !self.loader.tree.exists(&p) {
            return Err(KustomizeError::msg(format!("file '{}' not found", shown(&p))));
        }
        let (objects, encrypted) = self.loader.objects(&p).await?;
        let mut out = Vec::new();
        for o in objects {
            expand_list(o.0.clone(), &mut out, &shown(&p))?;
        }
        let origin = format!("path: {}\n", relative(&self.meta().top, &p));
        for r in &mut out {
            r.encrypted = encrypted;
            r.origin = Some(origin.clone());
        }
        Ok(out)
    }

    /// Enters `dir`: refuses a cycle (a kustomization reached again, or one whose directory
    /// contains one being built) and nesting beyond [`MAX_NESTING`].
    fn enter(&self, dir: &Path) -> Result<(), KustomizeError> {
        let mut v = self
            .visiting
            .lock()
            .map_err(|_| KustomizeError::msg("build state poisoned".into()))?;
        if let Some(seen) = v.iter().find(|seen| seen.starts_with(dir)) {
            return Err(KustomizeError::msg(format!(
                "cycle detected: candidate root '{}' contains visited root '{}'",
                shown(dir),
                shown(seen)
            )));
        }
        if v.len() >= MAX_NESTING {
            return Err(KustomizeError::msg(format!(
                "{}: kustomizations nested more than {MAX_NESTING} deep",
                shown(dir)
            )));
        }
        v.push(dir.to_path_buf());
        Ok(())
    }

    fn leave(&self) {
        if let Ok(mut v) = self.visiting.lock() {
            v.pop();
        }
    }

    fn accumulate<'s>(&'s self, dir: PathBuf, k: Value, acc: &'s mut Acc) -> BoxFut<'s, Result<(), KustomizeError>> {
        Box::pin(async move {
            self.enter(&dir)?;
            let r = self.accumulate_inner(&dir, &k, acc).await;
            self.leave();
            r
        })
    }

    fn accumulate_inner<'s>(
        &'s self,
        dir: &'s Path,
        k: &'s Value,
        acc: &'s mut Acc,
    ) -> BoxFut<'s, Result<(), KustomizeError>> {
        let dir = dir.to_path_buf();
        let k = k.clone();
        Box::pin(async move {
            let mut resources = str_list(&k, "resources");
            resources.extend(str_list(&k, "bases"));
            for r in resources {
                self.accumulate_resource(&dir, &r, acc)
                    .await
                    .map_err(|e| e.context(format!("accumulating resources from '{r}'")))?;
            }
            // configurations and crds
            for c in str_list(&k, "configurations") {
                let bytes = self.read(&dir, &c).await?;
                for doc in self.parse_docs(&c, &bytes)? {
                    acc.config().merge_json(&doc)?;
                }
            }
            for c in str_list(&k, "crds") {
                let bytes = self.read(&dir, &c).await?;
                for doc in self.parse_docs(&c, &bytes)? {
                    transform::config_from_crd(acc.config(), &doc)?;
                }
            }
            // generators
            let global = generate::Options::from_json(k.get("generatorOptions"));
            for (field, kind) in [("configMapGenerator", "ConfigMap"), ("secretGenerator", "Secret")] {
                if let Some(Value::Array(gens)) = k.get(field) {
                    for g in gens {
                        let r = self.generate(&dir, &k, kind, g, &global).await?;
                        acc.res
                            .absorb(r)
                            .map_err(|e| e.context(format!("merging from generator {field}")))?;
                    }
                }
            }
            self.helm_charts(&dir, &k, acc).await?;
            for g in str_list(&k, "generators") {
                self.run_plugin(&dir, &g, acc, true).await?;
            }
            // components
            for c in str_list(&k, "components") {
                let cdir = normalize(&dir.join(&c)).ok_or_else(|| LoadError::Escapes(c.clone()))?;
                if !self.loader.tree.is_dir(&cdir) {
                    return Err(KustomizeError::msg(format!(
                        "accumulating components: '{c}' is not a directory"
                    )));
                }
                let ck = self.load_kustomization(&cdir).await?;
                if ck.get("kind").and_then(|v| v.as_str()) != Some("Component") {
                    return Err(KustomizeError::msg(format!(
                        "expected kind 'Component' for path '{}' but got '{}'",
                        shown(&cdir),
                        ck.get("kind").and_then(|v| v.as_str()).unwrap_or("Kustomization")
                    )));
                }
                self.accumulate(cdir.clone(), ck, acc).await.map_err(|e| {
                    e.context(format!(
                        "accumulating components: recursed accumulation of path '{}'",
                        shown(&cdir)
                    ))
                })?;
            }
            // transformers
            transform::run_builtin(self, &dir, &k, acc).await?;
            for t in str_list(&k, "transformers") {
                self.run_plugin(&dir, &t, acc, false).await?;
            }
            if let Some(Value::Array(vars)) = k.get("vars") {
                for v in vars {
                    replace::mark_var(&mut acc.res, v)?;
                }
                acc.merge(Acc {
                    res: ResMap::default(),
                    config: None,
                    vars: vars.clone(),
                })?;
            }
            Ok(())
        })
    }

    async fn accumulate_resource(&self, dir: &Path, r: &str, acc: &mut Acc) -> Result<(), KustomizeError> {
        if is_remote(r) {
            return Err(KustomizeError::msg(format!(
                "remote resource '{r}' is not supported by sigil-agent: vendor it into the repository"
            )));
        }
        let p = normalize(&dir.join(r)).ok_or_else(|| LoadError::Escapes(r.to_string()))?;
        if self.loader.tree.is_dir(&p) {
            let sub_k = self.load_kustomization(&p).await?;
            if sub_k.get("kind").and_then(|v| v.as_str()) == Some("Component") {
                return Err(KustomizeError::msg(format!(
                    "expected kind != 'Component' for path '{}'",
                    shown(&p)
                )));
            }
            let mut sub = Acc::new();
            self.accumulate(p.clone(), sub_k, &mut sub)
                .await
                .map_err(|e| e.context(format!("recursed accumulation of path '{}'", shown(&p))))?;
            return acc.merge(sub);
        }
        if !self.loader.tree.exists(&p) {
            return Err(KustomizeError::msg(format!(
                "'{}' doesn't exist (neither a file nor a kustomization directory)",
                shown(&p)
            )));
        }
        let list = self.resources_from_file(dir, r).await?;
        acc.res.append_all(ResMap { list })?;
        Ok(())
    }

    /// A `configMapGenerator` / `secretGenerator` entry.
    async fn generate(
        &self,
        dir: &Path,
        k: &Value,
        kind: &str,
        g: &Value,
        global: &generate::Options,
    ) -> Result<Res, KustomizeError> {
        let s = |f: &str| g.get(f).and_then(|v| v.as_str()).unwrap_or("").to_string();
        let name = s("name");
        let mut pairs = Vec::new();
        // A generated object counts as encrypted when all its inputs came from SOPS files.
        let mut all_encrypted = true;
        let mut envs = str_list(g, "envs");
        if let Some(e) = g.get("env").and_then(|v| v.as_str()) {
            envs.push(e.to_string());
        }
        for e in envs {
            let (bytes, enc) = self.read_tracked(dir, &e).await?;
            all_encrypted &= enc;
            pairs.extend(generate::parse_env(&e, &bytes)?);
        }
        for l in str_list(g, "literals") {
            all_encrypted = false;
            let (key, v) = generate::parse_literal(&l)?;
            pairs.push(generate::Pair {
                key,
                value: zeroize::Zeroizing::new(v.into_bytes()),
            });
        }
        for f in str_list(g, "files") {
            let (key, path) = match f.split_once('=') {
                Some((k, p)) => {
                    if k.is_empty() {
                        return Err(KustomizeError::msg(format!("key name for file path {p} missing")));
                    }
                    (k.to_string(), p.to_string())
                }
                None => (
                    Path::new(&f)
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                    f.clone(),
                ),
            };
            let (bytes, enc) = self.read_tracked(dir, &path).await?;
            all_encrypted &= enc;
            pairs.push(generate::Pair { key, value: bytes });
        }
        let behavior = match s("behavior").as_str() {
            "" | "create" => Behavior::Create,
            "merge" => Behavior::Merge,
            "replace" => Behavior::Replace,
            other => return Err(KustomizeError::msg(format!("unknown generator behavior '{other}'"))),
        };
        let opts = global.merged(&generate::Options::from_json(g.get("options")));
        let ns = g.get("namespace").and_then(|v| v.as_str());
        let _ = k;
        let typ = s("type");
        let any_input = !pairs.is_empty();
        let mut r = generate::make(kind, &name, ns, Some(&typ), pairs, &opts, behavior)
            .map_err(|e| e.context(format!("{kind} generator '{name}'")))?;
        r.encrypted = all_encrypted && any_input;
        let gen_kind = format!("{kind}Generator");
        r.origin = Some(self.configured(dir, None, &gen_kind, None, ""));
        Ok(r)
    }

    /// A `transformers:`/`generators:` entry: a file of built-in plugin configurations,
    /// inline configuration, or a kustomization directory of them.
    async fn run_plugin(&self, dir: &Path, entry: &str, acc: &mut Acc, generator: bool) -> Result<(), KustomizeError> {
        let inline = entry.contains('\n') || entry.trim_start().starts_with("apiVersion");
        let configs: Vec<Value> = if inline {
            self.parse_docs("inline plugin configuration", entry.as_bytes())?
        } else {
            let p = normalize(&dir.join(entry)).ok_or_else(|| LoadError::Escapes(entry.to_string()))?;
            if self.loader.tree.is_dir(&p) {
                let sub_k = self.load_kustomization(&p).await?;
                let mut sub = Acc::new();
                self.accumulate(p.clone(), sub_k, &mut sub).await?;
                sub.res.list.into_iter().map(|r| r.obj.0.clone()).collect()
            } else {
                let bytes = self.read(dir, entry).await?;
                self.parse_docs(entry, &bytes)?
            }
        };
        for c in configs {
            let file = (!inline).then_some(entry);
            transform::run_plugin_config(self, dir, &c, acc, generator, file).await?;
        }
        Ok(())
    }
}

/// Expands `kind: List` (and `*List` with items) into its items.
fn expand_list(v: Value, out: &mut Vec<Res>, file: &str) -> Result<(), KustomizeError> {
    let kind = v.get("kind").and_then(|k| k.as_str()).unwrap_or("").to_string();
    if kind.is_empty() {
        return Err(KustomizeError::msg(format!(
            "{file}: missing Resource metadata: kind is required"
        )));
    }
    if kind.ends_with("List") && v.get("items").is_some() {
        if let Some(Value::Array(items)) = v.get("items") {
            for i in items {
                expand_list(i.clone(), out, file)?;
            }
        }
        return Ok(());
    }
    if v.pointer("/metadata/name")
        .and_then(|n| n.as_str())
        .is_none_or(str::is_empty)
    {
        return Err(KustomizeError::msg(format!(
            "{file}: missing metadata.name in object of kind {kind}"
        )));
    }
    out.push(Res::new(v));
    Ok(())
}

/// Whether kustomize's built-in schema knows `apiVersion`/`kind` to be cluster-scoped.
pub fn is_cluster_scoped(api_version: &str, kind: &str) -> bool {
    resource::Gvk::new(api_version, kind).is_cluster_scoped()
}

#[cfg(test)]
mod tests;
