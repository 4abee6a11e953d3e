//! Rendering a path into objects: a native Kustomize build when the path holds a
//! kustomization; otherwise every `*.yaml`, `*.yml` and `*.json` under the path
//! (recursively, in path order) read through the loader.

use std::path::Path;

use crate::load::{LoadError, Loader};
use crate::object::Object;

use crate::kustomize::{KustomizeError, Kustomizer, Options};

/// Why a render failed. The whole render fails: nothing of it is applied.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    /// A file could not be loaded (decryption and MAC failures included).
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The Kustomize build failed.
    #[error("kustomize build of {path}: {source}")]
    Kustomize {
        /// The kustomization directory.
        path: String,
        /// Why.
        source: KustomizeError,
    },
}

/// Renders `path` (relative to the loader's root): each object, and whether it came from a
/// SOPS-encrypted file.
pub async fn render(loader: &Loader<'_>, path: &Path) -> Result<Vec<(Object, bool)>, RenderError> {
    let k = Kustomizer::new(loader, Options::default());
    if k.has_kustomization(path) {
        let objects = k.build(path).await.map_err(|source| match source {
            KustomizeError::Load(e) => RenderError::Load(e),
            source => RenderError::Kustomize {
                path: if path.as_os_str().is_empty() {
                    ".".into()
                } else {
                    path.display().to_string()
                },
                source,
            },
        })?;
        return Ok(objects);
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
