//! Stores: how each file format maps to documents and where it keeps the metadata.
//!
//! YAML, JSON and binary keep a nested `sops` entry in every document; dotenv keeps flattened
//! `sops_*` keys; INI keeps a `[sops]` section of flattened keys with newlines escaped.

pub mod dotenv;
pub mod ini;
pub mod json;
pub mod yaml;

use std::fmt;
use std::path::Path;

use super::metadata::{self, Metadata, MetadataError};
use super::tree::{Branch, Value};

/// A SOPS store format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// YAML (multi-document).
    Yaml,
    /// JSON (a top-level object).
    Json,
    /// dotenv (`KEY=value` lines).
    Dotenv,
    /// INI (sections of `key = value`).
    Ini,
    /// Any bytes, kept whole as one encrypted `data` value in a JSON envelope.
    Binary,
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Yaml => "yaml",
            Format::Json => "json",
            Format::Dotenv => "dotenv",
            Format::Ini => "ini",
            Format::Binary => "binary",
        })
    }
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "yaml" | "yml" => Format::Yaml,
            "json" => Format::Json,
            "dotenv" | "env" => Format::Dotenv,
            "ini" => Format::Ini,
            "binary" => Format::Binary,
            other => {
                return Err(format!(
                    "unknown format {other:?} (expected yaml, json, dotenv, ini or binary)"
                ));
            }
        })
    }
}

impl Format {
    /// The format sops picks from a file name (binary when the extension is unknown).
    pub fn from_path(path: &Path) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some("yaml" | "yml") => Format::Yaml,
            Some("json") => Format::Json,
            Some("env") => Format::Dotenv,
            Some("ini") => Format::Ini,
            _ => Format::Binary,
        }
    }

    /// Parses plaintext or encrypted bytes into documents (metadata still inside).
    pub fn load(self, bytes: &[u8]) -> Result<Vec<Branch>, String> {
        match self {
            Format::Yaml => yaml::load(bytes),
            Format::Json => json::load(bytes).map(|b| vec![b]),
            Format::Dotenv => dotenv::load(bytes).map(|b| vec![b]),
            Format::Ini => ini::load(bytes).map(|b| vec![b]),
            Format::Binary => Err("binary files are loaded with load_plain_binary or as JSON".into()),
        }
    }

    /// Parses a plaintext file for encryption.
    pub fn load_plain(self, bytes: &[u8]) -> Result<Vec<Branch>, String> {
        match self {
            Format::Binary => {
                let mut b = Branch::new();
                let v = match std::str::from_utf8(bytes) {
                    Ok(s) => Value::str(s),
                    Err(_) => Value::Bytes(zeroize::Zeroizing::new(bytes.to_vec())),
                };
                b.push("data", v);
                Ok(vec![b])
            }
            other => other.load(bytes),
        }
    }

    /// Parses an encrypted file (binary files are JSON envelopes).
    pub fn load_encrypted(self, bytes: &[u8]) -> Result<Vec<Branch>, String> {
        match self {
            Format::Binary => json::load(bytes).map(|b| vec![b]),
            other => other.load(bytes),
        }
    }

    /// Removes the metadata from the documents and returns it as a nested mapping.
    pub fn extract_metadata(self, docs: &mut [Branch]) -> Result<Branch, MetadataError> {
        match self {
            Format::Yaml | Format::Json | Format::Binary => metadata::extract(docs),
            Format::Dotenv => {
                let doc = docs.first_mut().ok_or(MetadataError::NotFound)?;
                let flat = metadata::extract_prefixed(doc, "sops_");
                if flat.is_empty() {
                    return Err(MetadataError::NotFound);
                }
                metadata::unflatten(&flat)
            }
            Format::Ini => {
                let doc = docs.first_mut().ok_or(MetadataError::NotFound)?;
                match doc.remove(metadata::METADATA_KEY) {
                    Some(Value::Map(flat)) => {
                        let mut unescaped = Branch::new();
                        for (k, v) in flat.pairs() {
                            let v = match v {
                                Value::Str(s) => Value::str(s.replace("\\n", "\n")),
                                other => other.clone(),
                            };
                            unescaped.push(k, v);
                        }
                        metadata::unflatten(&unescaped)
                    }
                    Some(_) => Err(MetadataError::Invalid("the sops section is not a mapping".into())),
                    None => Err(MetadataError::NotFound),
                }
            }
        }
    }

    /// Whether a plaintext document already carries flattened metadata (dotenv/INI).
    pub fn has_flat_metadata(self, docs: &[Branch]) -> bool {
        match self {
            Format::Dotenv => docs.iter().any(|d| d.pairs().any(|(k, _)| k.starts_with("sops_"))),
            _ => false,
        }
    }

    /// Writes documents (plaintext) in this format.
    pub fn emit_plain(self, docs: &[Branch]) -> Result<Vec<u8>, String> {
        match self {
            Format::Yaml => Ok(yaml::emit(docs).into_bytes()),
            Format::Json => match docs {
                [doc] => Ok(json::emit(doc).into_bytes()),
                _ => Err("JSON holds exactly one document".into()),
            },
            Format::Dotenv => match docs {
                [doc] => dotenv::emit(doc),
                _ => Err("dotenv holds exactly one document".into()),
            },
            Format::Ini => match docs {
                [doc] => ini::emit(doc),
                _ => Err("INI holds exactly one document".into()),
            },
            Format::Binary => match docs.first().and_then(|d| d.get("data")) {
                Some(Value::Str(s)) => Ok(s.as_bytes().to_vec()),
                Some(Value::Bytes(b)) => Ok(b.to_vec()),
                Some(_) => Err("the 'data' entry is not a string".into()),
                None => Err("no binary data found (no 'data' entry)".into()),
            },
        }
    }

    /// Writes encrypted documents with their metadata in this format.
    pub fn emit_encrypted(self, docs: &[Branch], md: &Metadata) -> Result<Vec<u8>, String> {
        let meta = md.to_branch();
        let reserved = |k: &str| match self {
            Format::Dotenv => k.starts_with("sops_"),
            _ => k == metadata::METADATA_KEY,
        };
        if let Some((k, _)) = docs.iter().flat_map(|d| d.pairs()).find(|(k, _)| reserved(k)) {
            return Err(format!("key {k:?} is reserved for sops metadata"));
        }
        let mut out: Vec<Branch> = docs.to_vec();
        match self {
            Format::Yaml | Format::Json | Format::Binary => {
                for d in &mut out {
                    d.push(metadata::METADATA_KEY, Value::Map(meta.clone()));
                }
            }
            Format::Dotenv => {
                let flat = metadata::flatten(&metadata::sorted(&meta), "sops_").map_err(|e| e.to_string())?;
                for d in &mut out {
                    d.0.extend(flat.0.iter().cloned());
                }
            }
            Format::Ini => {
                let flat = metadata::flatten(&metadata::sorted(&meta), "").map_err(|e| e.to_string())?;
                let mut section = Branch::new();
                for (k, v) in flat.pairs() {
                    let v = match v {
                        Value::Str(s) => Value::str(s.replace('\n', "\\n")),
                        other => other.clone(),
                    };
                    section.push(k, v);
                }
                for d in &mut out {
                    d.push(metadata::METADATA_KEY, Value::Map(section.clone()));
                }
            }
        }
        match self {
            Format::Binary => Format::Json.emit_plain(&out),
            other => other.emit_plain(&out),
        }
    }
}
