//! The core `v1 Secret`, with its values held in zeroizing buffers.

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::Zeroizing;

use crate::meta::{ObjectMeta, string_map};

/// Secret bytes: base64 on the wire, zeroized on drop, never shown by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretBytes(pub Zeroizing<Vec<u8>>);

impl SecretBytes {
    /// Wraps bytes.
    pub fn new(bytes: Vec<u8>) -> Self {
        SecretBytes(Zeroizing::new(bytes))
    }

    /// The bytes.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl Serialize for SecretBytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let text = Zeroizing::new(B64.encode(&*self.0));
        s.serialize_str(&text)
    }
}

impl<'de> Deserialize<'de> for SecretBytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = Zeroizing::new(String::deserialize(d)?);
        let clean: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let clean = Zeroizing::new(clean);
        B64.decode(clean.as_bytes())
            .map(SecretBytes::new)
            .map_err(|_| serde::de::Error::custom("a data value is not valid base64"))
    }
}

/// A `v1 Secret`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Secret {
    /// `v1`.
    #[serde(default = "v1")]
    pub api_version: String,
    /// `Secret`.
    #[serde(default = "kind")]
    pub kind: String,
    /// Metadata.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// Secret type (`Opaque`, `kubernetes.io/tls`, ...).
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_: Option<String>,
    /// Whether the Secret is immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub immutable: Option<bool>,
    /// Values (base64 on the wire).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub data: BTreeMap<String, SecretBytes>,
    /// Plain-text values (input only; merged into `data` by the API server).
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "string_map",
        serialize_with = "secret_strings"
    )]
    pub string_data: BTreeMap<String, String>,
}

fn secret_strings<S: Serializer>(m: &BTreeMap<String, String>, s: S) -> Result<S::Ok, S::Error> {
    s.collect_map(m.iter())
}

fn v1() -> String {
    "v1".into()
}

fn kind() -> String {
    "Secret".into()
}

impl Secret {
    /// Every value, `stringData` winning over `data` as the API server merges them.
    pub fn values(&self) -> BTreeMap<String, SecretBytes> {
        let mut out = self.data.clone();
        for (k, v) in &self.string_data {
            out.insert(k.clone(), SecretBytes::new(v.as_bytes().to_vec()));
        }
        out
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        for v in self.string_data.values_mut() {
            zeroize::Zeroize::zeroize(v);
        }
    }
}
