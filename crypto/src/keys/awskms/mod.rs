//! AWS KMS key entries (`kms:` in SOPS metadata): `arn`, optional `role` (assumed through
//! STS), `context` (encryption context) and `aws_profile`, exactly as sops uses them.
//!
//! Credentials come from the SDK's default chain (CLI), or are handed in by the caller
//! (agent) — then the ambient environment is never consulted for credentials. The endpoint
//! follows `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_KMS`.

#[cfg(feature = "kms")]
mod client;

use std::collections::BTreeMap;

#[cfg(feature = "kms")]
pub use client::{AwsKms, DEFAULT_TIMEOUT, StaticCredentials};

use crate::sops::metadata::{KeyKind, MasterKey};
use crate::sops::tree::{Branch, Value};

/// The region of a KMS key or alias ARN (`arn:aws:kms:REGION:ACCOUNT:key/...`).
pub fn region_of(arn: &str) -> Option<&str> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "kms"
        && !parts[3].is_empty()
        && parts[4].chars().all(|c| c.is_ascii_digit())
        && (parts[5].starts_with("key/") || parts[5].starts_with("alias/"))
    {
        Some(parts[3])
    } else {
        None
    }
}

/// Parses `k:v,k2:v2` (sops' `--encryption-context`).
pub fn parse_context(s: &str) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for kv in s.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let (k, v) = kv
            .split_once(':')
            .ok_or_else(|| format!("invalid encryption context entry {kv:?} (expected key:value)"))?;
        out.insert(k.to_string(), v.to_string());
    }
    Ok(out)
}

/// A new `kms` entry for `arn` (`ARN+ROLE_ARN` names a role to assume, as in sops).
pub fn master_key(arn: &str, context: &BTreeMap<String, String>, profile: &str) -> Result<MasterKey, String> {
    let arn = arn.replace(' ', "");
    let (arn, role) = match arn.find("+arn:") {
        Some(i) if i > 0 => (arn[..i].to_string(), arn[i + 1..].to_string()),
        _ => (arn.clone(), String::new()),
    };
    if region_of(&arn).is_none() {
        return Err(format!(
            "invalid KMS ARN {arn:?} (expected arn:aws:kms:REGION:ACCOUNT:key/ID or alias/NAME)"
        ));
    }
    let mut fields = Branch::new();
    fields.push("arn", Value::str(arn));
    if !role.is_empty() {
        fields.push("role", Value::str(role));
    }
    if !context.is_empty() {
        let mut c = Branch::new();
        for (k, v) in context {
            c.push(k, Value::str(v.clone()));
        }
        fields.push("context", Value::Map(c));
    }
    fields.push(
        "created_at",
        Value::str(jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string()),
    );
    fields.push("enc", Value::str(""));
    fields.push("aws_profile", Value::str(profile));
    Ok(MasterKey {
        kind: KeyKind::AwsKms,
        fields,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_and_roles() {
        assert_eq!(
            region_of("arn:aws:kms:us-east-1:123456789012:key/abc"),
            Some("us-east-1")
        );
        assert_eq!(
            region_of("arn:aws:kms:eu-west-2:123456789012:alias/sops"),
            Some("eu-west-2")
        );
        assert_eq!(region_of("arn:aws:s3:::bucket"), None);
        let k = master_key(
            "arn:aws:kms:us-east-1:1:key/a+arn:aws:iam::1:role/r",
            &BTreeMap::new(),
            "",
        )
        .unwrap();
        assert_eq!(k.get("arn"), "arn:aws:kms:us-east-1:1:key/a");
        assert_eq!(k.get("role"), "arn:aws:iam::1:role/r");
        assert_eq!(parse_context("a:b, c:d").unwrap().len(), 2);
        assert!(parse_context("nocolon").is_err());
    }
}
