//! Sealing keys (RSA private keys) and certificates, as the Bitnami controller keeps them:
//! PKCS#1 PEM keys, self-signed X.509 certificates, and `kubernetes.io/tls` Secrets labelled
//! `sealedsecrets.bitnami.com/sealed-secrets-key`.

use std::str::FromStr;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD as B64, STANDARD_NO_PAD as B64_NO_PAD};
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey, LineEnding};
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePublicKey};
use rsa::traits::PublicKeyParts;
use rsa::{PrivateKey, PublicKey};
use sha2_11::{Digest, Sha256};
use x509_cert::Certificate;
use x509_cert::TbsCertificate;
use x509_cert::builder::profile::BuilderProfile;
use x509_cert::builder::{Builder, CertificateBuilder};
use x509_cert::der::{DecodePem, EncodePem};
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages};
use x509_cert::ext::{Extension, ToExtension};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::SubjectPublicKeyInfo;
use x509_cert::spki::SubjectPublicKeyInfoRef;
use x509_cert::time::Validity;
use zeroize::Zeroizing;

use crate::sops::format::yaml;
use crate::sops::tree::{Branch, Value};

/// The label Bitnami puts on its key Secrets.
pub const BITNAMI_KEY_LABEL: &str = "sealedsecrets.bitnami.com/sealed-secrets-key";
/// Bitnami's default key size.
pub const KEY_BITS: usize = 4096;
/// Bitnami's default certificate lifetime (10 years).
pub const CERT_VALIDITY: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// Why key material could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// Nothing usable was found.
    #[error("{0}: no RSA private key found (expected a PEM key, or a key Secret/List manifest)")]
    NoKey(String),
    /// A key does not parse.
    #[error("{0}: invalid private key: {1}")]
    BadKey(String, String),
    /// The certificate does not parse.
    #[error("{0}: invalid certificate: {1}")]
    BadCert(String, String),
    /// The certificate's key is not RSA.
    #[error("{0}: certificate key is not RSA")]
    NotRsa(String),
    /// The certificate has expired.
    #[error("{0}: certificate expired on {1}")]
    Expired(String, String),
    /// Key generation or certificate signing failed.
    #[error("key generation failed: {0}")]
    Generate(String),
}

/// The SSH-style SHA-256 fingerprint Bitnami uses for a public key (`SHA256:...`).
pub fn fingerprint(public: &PublicKey) -> String {
    fn put(buf: &mut Vec<u8>, bytes: &[u8]) {
        buf.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        buf.extend_from_slice(bytes);
    }
    fn mpint(bytes: &[u8]) -> Vec<u8> {
        let trimmed: &[u8] = {
            let start = bytes.iter().position(|b| *b != 0).unwrap_or(bytes.len());
            &bytes[start..]
        };
        let mut v = Vec::with_capacity(trimmed.len() + 1);
        if trimmed.first().is_some_and(|b| b & 0x80 != 0) {
            v.push(0);
        }
        v.extend_from_slice(trimmed);
        v
    }
    let mut wire = Vec::new();
    put(&mut wire, b"ssh-rsa");
    put(&mut wire, &mpint(&public.e_bytes()));
    put(&mut wire, &mpint(&public.n_bytes()));
    format!("SHA256:{}", B64_NO_PAD.encode(Sha256::digest(&wire)))
}

/// A private sealing key and where it came from.
#[derive(Clone)]
pub struct SealingKey {
    /// The RSA private key.
    pub private: PrivateKey,
    /// Its public key's fingerprint.
    pub fingerprint: String,
    /// When the key was made, when known (newest keys are tried first).
    pub created: Option<String>,
}

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealingKey")
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

impl SealingKey {
    /// Wraps a private key.
    pub fn new(private: PrivateKey, created: Option<String>) -> Self {
        let fingerprint = fingerprint(&private.to_public_key());
        SealingKey {
            private,
            fingerprint,
            created,
        }
    }

    /// A fresh RSA key of `bits` bits.
    pub fn generate(bits: usize) -> Result<Self, KeyError> {
        let private = PrivateKey::new(&mut getrandom::SysRng, bits).map_err(|e| KeyError::Generate(e.to_string()))?;
        Ok(Self::new(private, Some(jiff::Timestamp::now().to_string())))
    }

    /// The key as PKCS#1 PEM (`RSA PRIVATE KEY`), as Bitnami stores it.
    pub fn to_pem(&self) -> Result<Zeroizing<String>, KeyError> {
        self.private
            .to_pkcs1_pem(LineEnding::LF)
            .map(|p| Zeroizing::new(p.to_string()))
            .map_err(|e| KeyError::Generate(e.to_string()))
    }

    /// A self-signed certificate for this key (CN/O `sealed-secret`, 10 years), as PEM.
    pub fn self_signed_cert(&self) -> Result<String, KeyError> {
        let err = |e: &dyn std::fmt::Display| KeyError::Generate(e.to_string());
        let public = self.private.to_public_key();
        let spki_der = public.to_public_key_der().map_err(|e| err(&e))?;
        let spki = SubjectPublicKeyInfo::try_from(spki_der.as_bytes()).map_err(|e| err(&e))?;
        let subject = Name::from_str("CN=sealed-secret,O=sealed-secret").map_err(|e| err(&e))?;
        let profile = SelfSigned { subject };
        let mut serial = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut serial);
        serial[0] &= 0x7f;
        let serial = SerialNumber::new(&serial).map_err(|e| err(&e))?;
        let validity = Validity::from_now(CERT_VALIDITY).map_err(|e| err(&e))?;
        let builder = CertificateBuilder::new(profile, serial, validity, spki).map_err(|e| err(&e))?;
        let signer = SigningKey::<Sha256>::new(self.private.clone());
        let cert = builder.build(&signer).map_err(|e| err(&e))?;
        cert.to_pem(x509_cert::der::pem::LineEnding::LF).map_err(|e| err(&e))
    }
}

/// The certificate profile of Bitnami's sealing certificates: self-signed, a CA, and
/// restricted to key encipherment.
struct SelfSigned {
    subject: Name,
}

impl BuilderProfile for SelfSigned {
    fn get_issuer(&self, subject: &Name) -> Name {
        subject.clone()
    }

    fn get_subject(&self) -> Name {
        self.subject.clone()
    }

    fn build_extensions(
        &self,
        _spk: SubjectPublicKeyInfoRef<'_>,
        _issuer_spk: SubjectPublicKeyInfoRef<'_>,
        tbs: &TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        let bc = BasicConstraints {
            ca: true,
            path_len_constraint: None,
        };
        let ku = KeyUsage(KeyUsages::KeyEncipherment | KeyUsages::EncipherOnly | KeyUsages::KeyCertSign);
        Ok(vec![
            (&bc).to_extension(tbs.subject(), &[])?,
            (&ku).to_extension(tbs.subject(), &[])?,
        ])
    }
}

/// A sealing certificate's public key.
#[derive(Debug, Clone)]
pub struct PublicCert {
    /// The RSA public key.
    pub public: PublicKey,
    /// Its fingerprint.
    pub fingerprint: String,
    /// Expiry (RFC 3339).
    pub not_after: String,
}

impl PublicCert {
    /// Parses a PEM certificate (or a PEM public key) named `source` in errors, refusing an
    /// expired certificate or a non-RSA key.
    pub fn parse(pem: &str, source: &str) -> Result<Self, KeyError> {
        if pem.contains("BEGIN PUBLIC KEY") {
            let public = PublicKey::from_public_key_pem(pem).map_err(|_| KeyError::NotRsa(source.into()))?;
            return Ok(PublicCert {
                fingerprint: fingerprint(&public),
                public,
                not_after: String::new(),
            });
        }
        let cert = Certificate::from_pem(pem.trim()).map_err(|e| KeyError::BadCert(source.into(), e.to_string()))?;
        let tbs = cert.tbs_certificate();
        let spki = tbs.subject_public_key_info();
        let der = x509_cert::der::Encode::to_der(spki).map_err(|e| KeyError::BadCert(source.into(), e.to_string()))?;
        let public = PublicKey::from_public_key_der(&der).map_err(|_| KeyError::NotRsa(source.into()))?;
        let not_after = tbs.validity().not_after.to_unix_duration();
        let not_after = jiff::Timestamp::from_second(not_after.as_secs() as i64).unwrap_or(jiff::Timestamp::MAX);
        if not_after < jiff::Timestamp::now() {
            return Err(KeyError::Expired(source.into(), not_after.to_string()));
        }
        Ok(PublicCert {
            fingerprint: fingerprint(&public),
            public,
            not_after: not_after.to_string(),
        })
    }
}

fn parse_pem_keys(
    text: &str,
    source: &str,
    created: Option<String>,
    out: &mut Vec<SealingKey>,
) -> Result<(), KeyError> {
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let block = &rest[start..];
        let Some(end_marker) = block.find("-----END ") else {
            break;
        };
        let end = block[end_marker..]
            .find('\n')
            .map_or(block.len(), |i| end_marker + i + 1);
        let pem = &block[..end];
        if pem.starts_with("-----BEGIN RSA PRIVATE KEY-----") {
            let k = PrivateKey::from_pkcs1_pem(pem).map_err(|e| KeyError::BadKey(source.into(), e.to_string()))?;
            out.push(SealingKey::new(k, created.clone()));
        } else if pem.starts_with("-----BEGIN PRIVATE KEY-----") {
            let k = PrivateKey::from_pkcs8_pem(pem).map_err(|e| KeyError::BadKey(source.into(), e.to_string()))?;
            out.push(SealingKey::new(k, created.clone()));
        }
        rest = &block[end..];
    }
    Ok(())
}

fn str_at<'a>(b: &'a Branch, path: &[&str]) -> Option<&'a str> {
    let (last, init) = path.split_last()?;
    let mut cur = b;
    for p in init {
        match cur.get(p) {
            Some(Value::Map(m)) => cur = m,
            _ => return None,
        }
    }
    match cur.get(last) {
        Some(Value::Str(s)) | Some(Value::Time(s)) => Some(s.as_str()),
        _ => None,
    }
}

fn keys_from_manifest(doc: &Branch, source: &str, out: &mut Vec<SealingKey>) -> Result<(), KeyError> {
    match str_at(doc, &["kind"]) {
        Some("List") | Some("SecretList") => {
            if let Some(Value::Seq(items)) = doc.get("items") {
                for item in items {
                    if let Value::Map(m) = item {
                        keys_from_manifest(m, source, out)?;
                    }
                }
            }
        }
        Some("Secret") => {
            if let Some(b64) = str_at(doc, &["data", "tls.key"]) {
                let pem = Zeroizing::new(
                    B64.decode(b64.trim())
                        .map_err(|_| KeyError::BadKey(source.into(), "tls.key is not base64".into()))?,
                );
                let text = std::str::from_utf8(&pem)
                    .map_err(|_| KeyError::BadKey(source.into(), "tls.key is not PEM".into()))?;
                let created = str_at(doc, &["metadata", "creationTimestamp"]).map(String::from);
                parse_pem_keys(text, source, created, out)?;
            } else if let Some(pem) = str_at(doc, &["stringData", "tls.key"]) {
                parse_pem_keys(pem, source, None, out)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// Loads private keys from PEM text or from key `Secret`/`List` manifests (YAML or JSON),
/// newest first when creation times are known.
pub fn load_private_keys(bytes: &[u8], source: &str) -> Result<Vec<SealingKey>, KeyError> {
    let text = std::str::from_utf8(bytes).map_err(|_| KeyError::NoKey(source.into()))?;
    let mut out = Vec::new();
    if text.trim_start().starts_with("-----BEGIN") {
        parse_pem_keys(text, source, None, &mut out)?;
    } else {
        let docs = yaml::load(bytes).map_err(|e| KeyError::BadKey(source.into(), e))?;
        for doc in &docs {
            keys_from_manifest(doc, source, &mut out)?;
        }
    }
    if out.is_empty() {
        return Err(KeyError::NoKey(source.into()));
    }
    sort_newest_first(&mut out);
    Ok(out)
}

/// Orders keys newest first (keys of unknown age last, in their given order).
pub fn sort_newest_first(keys: &mut [SealingKey]) {
    keys.sort_by(|a, b| match (&a.created, &b.created) {
        (Some(x), Some(y)) => y.cmp(x),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
}

/// A Bitnami-style key `Secret` manifest (YAML) holding `key` and its certificate.
pub fn key_secret_manifest(key: &SealingKey, cert_pem: &str, namespace: &str) -> Result<Zeroizing<String>, KeyError> {
    let pem = key.to_pem()?;
    let name = format!(
        "sealed-secrets-key{}",
        &key.fingerprint.replace(['/', '+', ':'], "").to_lowercase()[6..11]
    );
    Ok(Zeroizing::new(format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n  namespace: {namespace}\n  labels:\n    {BITNAMI_KEY_LABEL}: active\n    sigil.dev/sealing-key: active\ntype: kubernetes.io/tls\ndata:\n  tls.crt: {}\n  tls.key: {}\n",
        B64.encode(cert_pem.as_bytes()),
        B64.encode(pem.as_bytes()),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cert_round_trip_and_manifest() {
        let key = SealingKey::generate(2048).unwrap();
        let cert = key.self_signed_cert().unwrap();
        let public = PublicCert::parse(&cert, "cert.pem").unwrap();
        assert_eq!(public.fingerprint, key.fingerprint);
        assert!(key.fingerprint.starts_with("SHA256:"));
        let manifest = key_secret_manifest(&key, &cert, "kube-system").unwrap();
        let loaded = load_private_keys(manifest.as_bytes(), "key.yaml").unwrap();
        assert_eq!(loaded[0].fingerprint, key.fingerprint);
        let pem = key.to_pem().unwrap();
        assert_eq!(
            load_private_keys(pem.as_bytes(), "key.pem").unwrap()[0].fingerprint,
            key.fingerprint
        );
    }

    #[test]
    fn garbage_is_a_clear_error() {
        assert!(matches!(
            load_private_keys(b"kind: ConfigMap\n", "x.yaml"),
            Err(KeyError::NoKey(_))
        ));
        assert!(matches!(PublicCert::parse("nope", "c.pem"), Err(KeyError::BadCert(..))));
    }
}
