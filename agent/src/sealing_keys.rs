//! Sealing keys: which of the key Secrets in the agent's namespace unseal (all of them — Sigil's
//! `sigil.dev/sealing-key` ones and Bitnami's `sealedsecrets.bitnami.com/sealed-secrets-key`
//! ones alike), which one seals (the newest that is not marked `compromised`), and when a new
//! one must be made (none yet, or the newest older than the renewal period). The controller
//! lists the Secrets and creates the one planned here; this module does not talk to the cluster.

use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use sigil_crypto::sealed::keys::{self as sk, KeyError, SealingKey};
use zeroize::Zeroizing;

use crate::object::Object;

/// Sigil's key label.
pub const SIGIL_LABEL: &str = "sigil.dev/sealing-key";
/// Bitnami's key label.
pub const BITNAMI_LABEL: &str = "sealedsecrets.bitnami.com/sealed-secrets-key";

/// The keys in force.
pub struct KeySet {
    /// Every key, newest first: all of them unseal.
    pub keys: Vec<SealingKey>,
    /// The certificate (PEM) of the key that seals, served at `/v1/cert.pem`.
    pub cert: Option<String>,
    /// Fingerprint of the key that seals.
    pub sealing: Option<String>,
}

/// A key to create.
pub struct NewKey {
    /// The key Secret manifest (YAML) to create in the agent's namespace.
    pub manifest: Zeroizing<String>,
    /// Its fingerprint.
    pub fingerprint: String,
}

fn label<'a>(o: &'a Object, k: &str) -> Option<&'a str> {
    o.0.get("metadata")?.get("labels")?.get(k)?.as_str()
}

/// Plans the key set from the Secrets found (only labelled `kubernetes.io/tls` key Secrets are
/// read), making a new key when there is none or the newest is older than `renew`.
pub fn plan(
    secrets: &[Object],
    now: jiff::Timestamp,
    renew: Duration,
    namespace: &str,
    bits: usize,
) -> Result<(KeySet, Option<NewKey>), KeyError> {
    let mut keys = Vec::new();
    let mut certs: Vec<(String, Option<String>, bool)> = Vec::new();
    for s in secrets {
        let (sigil, bitnami) = (label(s, SIGIL_LABEL), label(s, BITNAMI_LABEL));
        if sigil.is_none() && bitnami.is_none() || s.kind() != "Secret" {
            continue;
        }
        let compromised = sigil == Some("compromised") || bitnami == Some("compromised");
        let bytes = Zeroizing::new(serde_json::to_vec(&s.0).unwrap_or_default());
        let source = format!("Secret {}", s.id());
        let found = sk::load_private_keys(&bytes, &source)?;
        let cert =
            s.0.pointer("/data/tls.crt")
                .and_then(|c| c.as_str())
                .and_then(|c| B64.decode(c.trim()).ok())
                .and_then(|c| String::from_utf8(c).ok());
        for k in found {
            certs.push((k.fingerprint.clone(), cert.clone(), compromised));
            keys.push(k);
        }
    }
    sk::sort_newest_first(&mut keys);
    let newest_age = keys
        .first()
        .and_then(|k| k.created.as_deref())
        .and_then(|c| c.parse::<jiff::Timestamp>().ok())
        .map(|t| now.duration_since(t));
    let stale = match newest_age {
        None => true,
        Some(age) => age.as_secs_f64() > renew.as_secs_f64(),
    };
    let sealer = keys
        .iter()
        .find(|k| {
            certs
                .iter()
                .any(|(fp, c, bad)| *fp == k.fingerprint && c.is_some() && !bad)
        })
        .map(|k| k.fingerprint.clone());
    if !stale && sealer.is_some() {
        let cert = certs
            .iter()
            .find(|(fp, _, _)| Some(fp) == sealer.as_ref())
            .and_then(|(_, c, _)| c.clone());
        return Ok((
            KeySet {
                keys,
                cert,
                sealing: sealer,
            },
            None,
        ));
    }
    let key = SealingKey::generate(bits)?;
    let cert = key.self_signed_cert()?;
    let manifest = sk::key_secret_manifest(&key, &cert, namespace)?;
    let fingerprint = key.fingerprint.clone();
    keys.insert(0, key);
    Ok((
        KeySet {
            keys,
            cert: Some(cert),
            sealing: Some(fingerprint.clone()),
        },
        Some(NewKey { manifest, fingerprint }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret_of(new: &NewKey, created: &str, extra_label: Option<(&str, &str)>) -> Object {
        let mut v = sigil_crds::manifest::load(new.manifest.as_bytes()).unwrap().remove(0);
        v["metadata"]["creationTimestamp"] = created.into();
        if let Some((k, val)) = extra_label {
            v["metadata"]["labels"][k] = val.into();
        }
        Object(v)
    }

    #[test]
    fn first_key_then_reuse_then_renewal_and_compromised_keys() {
        let now: jiff::Timestamp = "2026-11-23T00:00:00Z".parse().unwrap();
        let day = Duration::from_secs(86_400);
        let (set, new) = plan(&[], now, 30 * day, "sigil-system", 1024).unwrap();
        let first = new.expect("no key yet: one is made");
        assert_eq!(set.sealing.as_deref(), Some(first.fingerprint.as_str()));
        assert!(first.manifest.contains("sigil.dev/sealing-key: active"));
        let s1 = secret_of(&first, "2026-11-20T00:00:00Z", None);
        let (set, new) = plan(std::slice::from_ref(&s1), now, 30 * day, "sigil-system", 1024).unwrap();
        assert!(new.is_none(), "a 3-day-old key is kept");
        assert_eq!(set.keys.len(), 1);
        assert!(set.cert.unwrap().starts_with("-----BEGIN CERTIFICATE-----"));
        // 40 days later: a new key seals, the old one still unseals.
        let later: jiff::Timestamp = "2026-12-30T00:00:00Z".parse().unwrap();
        let (set, new) = plan(std::slice::from_ref(&s1), later, 30 * day, "sigil-system", 1024).unwrap();
        let second = new.expect("renewed");
        assert_eq!(set.keys.len(), 2);
        assert_eq!(set.sealing.as_deref(), Some(second.fingerprint.as_str()));
        // A compromised newest key unseals but does not seal: the older one seals.
        let s2 = secret_of(&second, "2026-12-30T00:00:00Z", Some((BITNAMI_LABEL, "compromised")));
        let (set, new) = plan(&[s1.clone(), s2], later, 30 * day, "sigil-system", 1024).unwrap();
        assert!(new.is_none());
        assert_eq!(set.keys.len(), 2);
        assert_eq!(set.sealing.as_deref(), Some(first.fingerprint.as_str()));
        // Unlabelled Secrets are not keys.
        let mut other = s1.clone();
        other.0["metadata"]["labels"] = serde_json::json!({});
        let (_, new) = plan(&[other], now, 30 * day, "sigil-system", 1024).unwrap();
        assert!(new.is_some());
    }
}
