#![no_main]
//! The agent's one file reader on arbitrary bytes: manifests as YAML and JSON (SOPS files
//! among them fail on the missing key, which is fine), and the any-shape YAML loader that
//! kustomize files go through. Only "no panic" is asserted.

use std::path::{Path, PathBuf};

use libfuzzer_sys::fuzz_target;
use sigil_agent::load::{FileTree, LoadError, Loader};
use sigil_crypto::keys::Keyring;
use zeroize::Zeroizing;

struct One(Vec<u8>);

impl FileTree for One {
    fn name(&self) -> &str {
        "fuzz"
    }
    fn exists(&self, _: &Path) -> bool {
        true
    }
    fn is_dir(&self, _: &Path) -> bool {
        false
    }
    fn read(&self, _: &Path) -> Result<Zeroizing<Vec<u8>>, LoadError> {
        Ok(Zeroizing::new(self.0.clone()))
    }
    fn files(&self, _: &Path) -> Result<Vec<PathBuf>, LoadError> {
        Ok(Vec::new())
    }
}

fuzz_target!(|data: &[u8]| {
    let _ = sigil_crypto::sops::format::yaml::load_any(data);
    let tree = One(data.to_vec());
    let keyring = Keyring::new();
    let loader = Loader { tree: &tree, keyring: &keyring };
    let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    for name in ["m.yaml", "m.json", "m.env"] {
        let _ = rt.block_on(loader.objects(Path::new(name)));
        let _ = rt.block_on(loader.read(Path::new(name)));
    }
});
