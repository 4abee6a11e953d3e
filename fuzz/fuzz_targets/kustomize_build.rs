#![no_main]
//! A whole Kustomize build over an in-memory tree made from the input: the first part is
//! `kustomization.yaml`, then each `\n--- FILE <path>\n` starts another file. Exercises the
//! kustomization parser, patches (strategic merge, JSON 6902), generators, name references,
//! vars and replacements. Only "no panic, no hang" is asserted.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use libfuzzer_sys::fuzz_target;
use sigil_agent::kustomize::{Kustomizer, Options};
use sigil_agent::load::{FileTree, LoadError, Loader};
use sigil_crypto::keys::Keyring;
use zeroize::Zeroizing;

struct MemTree(BTreeMap<PathBuf, Vec<u8>>);

impl FileTree for MemTree {
    fn name(&self) -> &str {
        "fuzz"
    }
    fn exists(&self, rel: &Path) -> bool {
        self.0.contains_key(rel) || self.is_dir(rel)
    }
    fn is_dir(&self, rel: &Path) -> bool {
        self.0.keys().any(|k| k.starts_with(rel) && k != rel)
    }
    fn read(&self, rel: &Path) -> Result<Zeroizing<Vec<u8>>, LoadError> {
        self.0.get(rel).cloned().map(Zeroizing::new).ok_or_else(|| LoadError::Io {
            path: rel.display().to_string(),
            reason: "not found".into(),
        })
    }
    fn files(&self, rel: &Path) -> Result<Vec<PathBuf>, LoadError> {
        Ok(self.0.keys().filter(|k| k.starts_with(rel)).cloned().collect())
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut files = BTreeMap::new();
    let mut parts = text.split("\n--- FILE ");
    files.insert(PathBuf::from("kustomization.yaml"), parts.next().unwrap_or("").as_bytes().to_vec());
    for p in parts {
        let (name, body) = p.split_once('\n').unwrap_or((p, ""));
        let name = name.trim().trim_start_matches('/');
        if !name.is_empty() && !name.contains("..") {
            files.insert(PathBuf::from(name), body.as_bytes().to_vec());
        }
    }
    let tree = MemTree(files);
    let keyring = Keyring::new();
    let loader = Loader { tree: &tree, keyring: &keyring };
    let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    let _ = rt.block_on(Kustomizer::new(&loader, Options::default()).build(Path::new("")));
});
