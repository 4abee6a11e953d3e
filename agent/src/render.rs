//! Rendering a path into objects. Without a kustomization, every `*.yaml`, `*.yml` and
//! `*.json` under the path (recursively, in path order) is read through the loader.

use std::path::Path;

use crate::load::{LoadError, Loader};
use crate::object::Object;

/// File names kustomize recognises as a kustomization.
pub const KUSTOMIZATION_FILES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

/// Why a render failed. The whole render fails: nothing of it is applied.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    /// A file could not be loaded (decryption and MAC failures included).
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The path holds a kustomization, which this build does not render yet.
    #[error("{0}: Kustomize builds are not supported by this version of sigil-agent yet (plain YAML directories are)")]
    KustomizeUnsupported(String),
}

/// Renders `path` (relative to the loader's root): each object, and whether it came from a
/// SOPS-encrypted file.
pub async fn render(loader: &Loader<'_>, path: &Path) -> Result<Vec<(Object, bool)>, RenderError> {
    for k in KUSTOMIZATION_FILES {
        if loader.tree.exists(&path.join(k)) {
            return Err(RenderError::KustomizeUnsupported(path.join(k).display().to_string()));
        }
    }
    let mut out = Vec::new();
    for file in loader.tree.files(path)? {
        let manifest = file
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"));
        if manifest && file.file_name().is_none_or(|n| n != ".sops.yaml") {
            let (objects, encrypted) = loader.objects(&file).await?;
            out.extend(objects.into_iter().map(|o| (o, encrypted)));
        }
    }
    Ok(out)
}
