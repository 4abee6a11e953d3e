//! Sealing keys: which Secrets of the agent's namespace count as keys, which one seals (the
//! newest that is not marked `compromised`), and when a new one must be made (none yet, or the
//! newest older than the renewal period). The controller lists the Secrets of its own
//! namespace and creates the one planned here; this module does not talk to the cluster.
//!
//! Who can plant a key: only the agent (its keys carry Bitnami's label
//! `sealedsecrets.bitnami.com/sealed-secrets-key` as well as `sigil.dev/sealing-key`) and an
//! administrator importing a Bitnami-labelled key into the agent's namespace. A Secret with
//! only Sigil's label, or one a Sync applied (it carries `sigil.dev/sync-name`), is not a key;
//! Syncs may not apply key Secrets or anything into the agent's namespace in the first place.
//! A key Secret that cannot be read is reported and skipped.

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

/// A Secret that was not taken as a key, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// `Secret ns/name`.
    pub secret: String,
    /// Its name.
    pub name: String,
    /// Why (never key material).
    pub reason: String,
}

/// The keys in force, the key to create (if due and allowed), and what was skipped.
pub struct Plan {
    /// The keys.
    pub keys: KeySet,
    /// A key to create.
    pub new_key: Option<NewKey>,
    /// Secrets not taken as keys.
    pub skipped: Vec<Skipped>,
}

/// Plans the key set from the Secrets found in the agent's `namespace` (see the module doc
/// for which count), making a new key — when `may_create` — if there is none or the newest is
/// older than `renew`. Key generation is slow (RSA): call this off the async workers.
pub fn plan(
    secrets: &[Object],
    now: jiff::Timestamp,
    renew: Duration,
    namespace: &str,
    bits: usize,
    may_create: bool,
) -> Result<Plan, KeyError> {
    let mut keys = Vec::new();
    let mut certs: Vec<(String, Option<String>, bool)> = Vec::new();
    let mut skipped = Vec::new();
    for s in secrets {
        let (sigil, bitnami) = (label(s, SIGIL_LABEL), label(s, BITNAMI_LABEL));
        if sigil.is_none() && bitnami.is_none() || s.kind() != "Secret" {
            continue;
        }
        let mut skip = |reason: &str| {
            skipped.push(Skipped {
                secret: format!("Secret {}", s.id()),
                name: s.name().to_string(),
                reason: reason.to_string(),
            })
        };
        if s.namespace() != namespace {
            skip("not in the agent's namespace");
            continue;
        }
        if bitnami.is_none() {
            skip(&format!(
                "labelled {SIGIL_LABEL} only: keys are made by the agent or imported with the label {BITNAMI_LABEL}"
            ));
            continue;
        }
        if label(s, "sigil.dev/sync-name").is_some() {
            skip("applied by a Sync: Syncs may not provide sealing keys");
            continue;
        }
        let compromised = sigil == Some("compromised") || bitnami == Some("compromised");
        let bytes = Zeroizing::new(serde_json::to_vec(&s.0).unwrap_or_default());
        let source = format!("Secret {}", s.id());
        let found = match sk::load_private_keys(&bytes, &source) {
            Ok(f) => f,
            Err(e) => {
                skip(&e.to_string());
                continue;
            }
        };
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
    if (!stale && sealer.is_some()) || !may_create {
        let cert = certs
            .iter()
            .find(|(fp, _, _)| Some(fp) == sealer.as_ref())
            .and_then(|(_, c, _)| c.clone());
        return Ok(Plan {
            keys: KeySet {
                keys,
                cert,
                sealing: sealer,
            },
            new_key: None,
            skipped,
        });
    }
    let key = SealingKey::generate(bits)?;
    let cert = key.self_signed_cert()?;
    let manifest = sk::key_secret_manifest(&key, &cert, namespace)?;
    let fingerprint = key.fingerprint.clone();
    keys.insert(0, key);
    Ok(Plan {
        keys: KeySet {
            keys,
            cert: Some(cert),
            sealing: Some(fingerprint.clone()),
        },
        new_key: Some(NewKey { manifest, fingerprint }),
        skipped,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret_of(new: &NewKey, created: &str, extra_label: Option<(&str, &str)>) -> Object {
        let mut v = sigil_crds::manifest::load(new.manifest.as_bytes()).unwrap().remove(0);
        v["metadata"]["namespace"] = "sigil-system".into();
        v["metadata"]["creationTimestamp"] = created.into();
        if let Some((k, val)) = extra_label {
            v["metadata"]["labels"][k] = val.into();
        }
        Object(v)
    }

    fn run(secrets: &[Object], now: jiff::Timestamp, may_create: bool) -> Plan {
        plan(
            secrets,
            now,
            Duration::from_secs(30 * 86_400),
            "sigil-system",
            1024,
            may_create,
        )
        .unwrap()
    }

    #[test]
    fn first_key_then_reuse_then_renewal_and_compromised_keys() {
        let now: jiff::Timestamp = "2026-11-23T00:00:00Z".parse().unwrap();
        let p = run(&[], now, true);
        let first = p.new_key.expect("no key yet: one is made");
        assert_eq!(p.keys.sealing.as_deref(), Some(first.fingerprint.as_str()));
        assert!(first.manifest.contains("sigil.dev/sealing-key: active"));
        assert!(run(&[], now, false).new_key.is_none(), "only the leader makes keys");
        let s1 = secret_of(&first, "2026-11-20T00:00:00Z", None);
        let p = run(std::slice::from_ref(&s1), now, true);
        assert!(p.new_key.is_none(), "a 3-day-old key is kept");
        assert_eq!(p.keys.keys.len(), 1);
        assert!(p.keys.cert.unwrap().starts_with("-----BEGIN CERTIFICATE-----"));
        // 40 days later: a new key seals, the old one still unseals.
        let later: jiff::Timestamp = "2026-12-30T00:00:00Z".parse().unwrap();
        let p = run(std::slice::from_ref(&s1), later, true);
        let second = p.new_key.expect("renewed");
        assert_eq!(p.keys.keys.len(), 2);
        assert_eq!(p.keys.sealing.as_deref(), Some(second.fingerprint.as_str()));
        // A compromised newest key unseals but does not seal: the older one seals.
        let s2 = secret_of(&second, "2026-12-30T00:00:00Z", Some((BITNAMI_LABEL, "compromised")));
        let p = run(&[s1.clone(), s2], later, true);
        assert!(p.new_key.is_none());
        assert_eq!(p.keys.keys.len(), 2);
        assert_eq!(p.keys.sealing.as_deref(), Some(first.fingerprint.as_str()));
        // Unlabelled Secrets are not keys.
        let mut other = s1.clone();
        other.0["metadata"]["labels"] = serde_json::json!({});
        assert!(run(&[other], now, true).new_key.is_some());
    }

    #[test]
    fn planted_and_malformed_keys_are_skipped_and_reported() {
        let now: jiff::Timestamp = "2026-11-23T00:00:00Z".parse().unwrap();
        let good = secret_of(&run(&[], now, true).new_key.unwrap(), "2026-11-20T00:00:00Z", None);
        // A newer key planted through a Sync, one with Sigil's label only, one elsewhere, and a
        // broken one: none of them seals, the agent's key does.
        let planted = run(&[], now, true).new_key.unwrap();
        let mut via_sync = secret_of(&planted, "2026-11-22T00:00:00Z", Some(("sigil.dev/sync-name", "evil")));
        via_sync.0["metadata"]["name"] = "via-sync".into();
        let mut sigil_only = secret_of(&planted, "2026-11-22T00:00:00Z", None);
        sigil_only.0["metadata"]["labels"]
            .as_object_mut()
            .unwrap()
            .remove(BITNAMI_LABEL);
        let mut elsewhere = secret_of(&planted, "2026-11-22T00:00:00Z", None);
        elsewhere.0["metadata"]["namespace"] = "tenant".into();
        let mut broken = good.clone();
        broken.0["metadata"]["name"] = "broken".into();
        broken.0["data"]["tls.key"] = "bm90IGEga2V5".into();
        let p = run(&[good.clone(), via_sync, sigil_only, elsewhere, broken], now, true);
        assert!(p.new_key.is_none());
        assert_eq!(p.keys.keys.len(), 1);
        assert_eq!(p.keys.sealing, run(std::slice::from_ref(&good), now, true).keys.sealing);
        let reasons: Vec<&str> = p.skipped.iter().map(|s| s.reason.as_str()).collect();
        assert_eq!(p.skipped.len(), 4, "{reasons:?}");
        assert!(reasons.iter().any(|r| r.contains("applied by a Sync")));
        assert!(reasons.iter().any(|r| r.contains("only")));
        assert!(reasons.iter().any(|r| r.contains("namespace")));
        assert!(p.skipped.iter().any(|s| s.name == "broken"));
        assert!(!format!("{:?}", p.skipped).contains("bm90IGEga2V5"));
    }
}
