//! The file MAC: SHA-512 over the plaintext leaves (see `walk`), stored encrypted with the
//! data key and `lastmodified` as additional data. It is always verified.

use super::cipher;
use super::metadata::Metadata;
use super::tree::Value;
use super::{DataKey, ErrorKind};

/// `lastmodified` as Go's `time.Format(time.RFC3339)` re-prints it after parsing: no
/// fractional seconds, and a zero offset written as `Z`. This is the MAC's additional data.
pub fn normalize_timestamp(s: &str) -> Option<String> {
    let b = s.as_bytes();
    if b.len() < 20 || b[10] != b'T' || !s.is_char_boundary(19) {
        return None;
    }
    let (date_time, mut rest) = s.split_at(19);
    if rest.starts_with('.') {
        let digits = rest[1..].bytes().take_while(u8::is_ascii_digit).count();
        rest = &rest[1 + digits..];
    }
    let zone = match rest {
        "Z" | "+00:00" | "-00:00" => "Z",
        z if z.len() == 6 && (z.starts_with('+') || z.starts_with('-')) && z.as_bytes()[3] == b':' => z,
        _ => return None,
    };
    Some(format!("{date_time}{zone}"))
}

/// Encrypts a freshly computed MAC for the metadata.
pub fn seal(computed: &str, last_modified: &str, key: &DataKey) -> Result<String, ErrorKind> {
    let aad = normalize_timestamp(last_modified).unwrap_or_else(|| last_modified.to_string());
    cipher::encrypt(&Value::str(computed), key, &aad, None)
        .map_err(|source| ErrorKind::Value {
            path: "sops:mac".into(),
            source,
        })
        .map(Option::unwrap_or_default)
}

/// Checks the computed MAC against the one stored in the metadata.
pub fn verify(computed: &str, metadata: &Metadata, key: &DataKey) -> Result<(), ErrorKind> {
    let aad = normalize_timestamp(&metadata.last_modified)
        .ok_or_else(|| ErrorKind::MacMismatch(" (lastmodified is not an RFC 3339 timestamp)".into()))?;
    let stored = match cipher::decrypt(&metadata.mac, key, &aad) {
        Ok((Value::Str(s), _)) => s,
        Ok(_) => {
            return Err(ErrorKind::MacMismatch(" (the stored MAC is not a string)".into()));
        }
        Err(e) => {
            return Err(ErrorKind::MacMismatch(format!(" (cannot decrypt the stored MAC: {e})")));
        }
    };
    if stored.len() == computed.len() && constant_eq(stored.as_bytes(), computed.as_bytes()) {
        Ok(())
    } else {
        Err(ErrorKind::MacMismatch(String::new()))
    }
}

fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_normalize_like_go() {
        assert_eq!(
            normalize_timestamp("2026-11-23T16:42:19Z").unwrap(),
            "2026-11-23T16:42:19Z"
        );
        assert_eq!(
            normalize_timestamp("2026-11-23T16:42:19.123456Z").unwrap(),
            "2026-11-23T16:42:19Z"
        );
        assert_eq!(
            normalize_timestamp("2026-11-23T16:42:19+00:00").unwrap(),
            "2026-11-23T16:42:19Z"
        );
        assert_eq!(
            normalize_timestamp("2026-11-23T16:42:19+02:00").unwrap(),
            "2026-11-23T16:42:19+02:00"
        );
        assert!(normalize_timestamp("yesterday").is_none());
        // Found by fuzzing: a multi-byte character where the seconds end must not panic.
        assert!(normalize_timestamp("2024-01-01T00:00:0éZ").is_none());
    }
}
