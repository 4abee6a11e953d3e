//! The one reader every file goes through. A file that carries SOPS metadata is decrypted
//! and its MAC verified here, on the bytes as committed, before any transformation. Paths
//! may not leave the source root (also through symlinks), files are size-bounded, and YAML
//! alias expansion is bounded by the parser.

use std::path::{Component, Path, PathBuf};

use sigil_crypto::keys::Keyring;
use sigil_crypto::sops::format::json;
use sigil_crypto::sops::tree::{Branch, Value};
use sigil_crypto::sops::{self, Format};
use zeroize::Zeroizing;

use crate::object::Object;

/// Default largest file read (5 MiB).
pub const DEFAULT_MAX_FILE: u64 = 5 * 1024 * 1024;

/// Why a file could not be loaded. Always names the file; never shows content.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The path leaves the source root.
    #[error("{0}: path escapes the source root")]
    Escapes(String),
    /// A symlink points outside the source root.
    #[error("{0}: symlink points outside the source root")]
    SymlinkEscapes(String),
    /// The file is larger than allowed.
    #[error("{path}: file is larger than the {limit}-byte limit")]
    TooLarge {
        /// The file.
        path: String,
        /// The limit.
        limit: u64,
    },
    /// The file cannot be read.
    #[error("{path}: {reason}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The file does not parse.
    #[error("{path}: cannot parse: {reason}")]
    Parse {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// SOPS decryption or verification failed.
    #[error("{0}")]
    Decrypt(#[from] sops::Error),
}

impl LoadError {
    /// Whether this is a decryption/verification failure (for status reasons).
    pub fn is_decryption(&self) -> bool {
        matches!(self, LoadError::Decrypt(_))
    }
}

/// A read-only tree of files: a directory on disk, or a Git commit.
pub trait FileTree: Send + Sync {
    /// What to call the tree in messages.
    fn name(&self) -> &str;
    /// Whether `rel` exists (inside the root).
    fn exists(&self, rel: &Path) -> bool;
    /// Whether `rel` is a directory (inside the root).
    fn is_dir(&self, rel: &Path) -> bool;
    /// Reads a file (bounded in size).
    fn read(&self, rel: &Path) -> Result<Zeroizing<Vec<u8>>, LoadError>;
    /// Files under `rel`, recursively, relative to the root, sorted.
    fn files(&self, rel: &Path) -> Result<Vec<PathBuf>, LoadError>;
}

/// A directory tree on disk, read-only, with the source-root rules enforced.
pub struct DirTree {
    root: PathBuf,
    max_file: u64,
    label: String,
}

impl DirTree {
    /// The tree under `root`.
    pub fn new(root: &Path) -> Result<Self, LoadError> {
        let root = root.canonicalize().map_err(|e| LoadError::Io {
            path: root.display().to_string(),
            reason: e.to_string(),
        })?;
        let label = root.display().to_string();
        Ok(DirTree {
            root,
            max_file: DEFAULT_MAX_FILE,
            label,
        })
    }

    /// Sets the largest file read.
    pub fn max_file(mut self, bytes: u64) -> Self {
        self.max_file = bytes;
        self
    }

    /// Resolves `rel` inside the root, refusing `..` and symlinks that escape.
    pub fn resolve(&self, rel: &Path) -> Result<PathBuf, LoadError> {
        let shown = rel.display().to_string();
        let mut depth: i32 = 0;
        for c in rel.components() {
            match c {
                Component::ParentDir => depth -= 1,
                Component::Normal(_) => depth += 1,
                Component::CurDir => {}
                Component::RootDir | Component::Prefix(_) => return Err(LoadError::Escapes(shown)),
            }
            if depth < 0 {
                return Err(LoadError::Escapes(shown));
            }
        }
        let full = self.root.join(rel);
        match full.canonicalize() {
            Ok(real) if real.starts_with(&self.root) => Ok(real),
            Ok(_) => Err(LoadError::SymlinkEscapes(shown)),
            Err(e) => Err(LoadError::Io {
                path: shown,
                reason: e.to_string(),
            }),
        }
    }

    /// Reads a file (bounded).
    fn read_file(&self, rel: &Path) -> Result<Zeroizing<Vec<u8>>, LoadError> {
        let shown = rel.display().to_string();
        let path = self.resolve(rel)?;
        let meta = std::fs::metadata(&path).map_err(|e| LoadError::Io {
            path: shown.clone(),
            reason: e.to_string(),
        })?;
        if meta.len() > self.max_file {
            return Err(LoadError::TooLarge {
                path: shown,
                limit: self.max_file,
            });
        }
        std::fs::read(&path).map(Zeroizing::new).map_err(|e| LoadError::Io {
            path: shown,
            reason: e.to_string(),
        })
    }

    /// Files under `rel` (recursively), relative to the root, sorted.
    fn list(&self, rel: &Path) -> Result<Vec<PathBuf>, LoadError> {
        let dir = self.resolve(rel)?;
        let mut out = Vec::new();
        let mut stack = vec![dir];
        while let Some(d) = stack.pop() {
            let entries = std::fs::read_dir(&d).map_err(|e| LoadError::Io {
                path: d.display().to_string(),
                reason: e.to_string(),
            })?;
            for e in entries.flatten() {
                let p = e.path();
                let relp = p.strip_prefix(&self.root).unwrap_or(&p).to_path_buf();
                let real = self.resolve(&relp)?;
                if real.is_dir() {
                    if e.file_name() != ".git" {
                        stack.push(p);
                    }
                } else {
                    out.push(relp);
                }
            }
        }
        out.sort();
        Ok(out)
    }
}

impl FileTree for DirTree {
    fn name(&self) -> &str {
        &self.label
    }

    fn exists(&self, rel: &Path) -> bool {
        self.resolve(rel).is_ok()
    }

    fn is_dir(&self, rel: &Path) -> bool {
        self.resolve(rel).is_ok_and(|p| p.is_dir())
    }

    fn read(&self, rel: &Path) -> Result<Zeroizing<Vec<u8>>, LoadError> {
        self.read_file(rel)
    }

    fn files(&self, rel: &Path) -> Result<Vec<PathBuf>, LoadError> {
        self.list(rel)
    }
}

/// Reads files through the tree, decrypting SOPS files with the keyring.
pub struct Loader<'a> {
    /// The tree.
    pub tree: &'a dyn FileTree,
    /// Keys for SOPS files.
    pub keyring: &'a Keyring,
}

fn branch_to_object(b: &Branch) -> Option<Object> {
    match json::to_json(&Value::Map(b.clone())) {
        serde_json::Value::Object(m) if !m.is_empty() => Some(Object(serde_json::Value::Object(m))),
        _ => None,
    }
}

impl Loader<'_> {
    /// The plaintext of a file (any format): decrypted and verified when SOPS-encrypted.
    pub async fn read(&self, rel: &Path) -> Result<Zeroizing<Vec<u8>>, LoadError> {
        Ok(self.read_tracked(rel).await?.0)
    }

    /// The plaintext of a file, and whether it was SOPS-encrypted.
    pub async fn read_tracked(&self, rel: &Path) -> Result<(Zeroizing<Vec<u8>>, bool), LoadError> {
        let bytes = self.tree.read(rel)?;
        let format = Format::from_path(rel);
        // Anything that does not parse as an encrypted file is read as it is.
        match sops::parse_or_plain(&rel.display().to_string(), &bytes, format) {
            Ok(sops::Parsed::Encrypted(file)) => Ok((file.decrypt(self.keyring).await?.emit(format)?, true)),
            _ => Ok((bytes, false)),
        }
    }

    /// The Kubernetes objects in a YAML or JSON file, and whether the file was SOPS-encrypted.
    /// Each file is parsed once; SOPS metadata decides whether it is decrypted first.
    pub async fn objects(&self, rel: &Path) -> Result<(Vec<Object>, bool), LoadError> {
        let name = rel.display().to_string();
        let bytes = self.tree.read(rel)?;
        let format = if rel.extension().is_some_and(|e| e == "json") {
            Format::Json
        } else {
            Format::Yaml
        };
        let (docs, encrypted) = match sops::parse_or_plain(&name, &bytes, format) {
            Ok(sops::Parsed::Encrypted(file)) => (file.decrypt(self.keyring).await?.docs.clone(), true),
            Ok(sops::Parsed::Plain(docs)) => (docs, false),
            Err(sops::Error {
                kind: sops::ErrorKind::Parse { reason, .. },
                ..
            }) => {
                return Err(LoadError::Parse { path: name, reason });
            }
            Err(e) => return Err(e.into()),
        };
        Ok((docs.iter().filter_map(branch_to_object).collect(), encrypted))
    }
}
