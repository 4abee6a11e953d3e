//! sprig's random functions, from the operating system's generator: `randAlphaNum`,
//! `randAlpha`, `randNumeric`, `randAscii`, `randBytes`, `uuidv4`, `shuffle`.

use super::args::{self, check_size};
use super::f;
use crate::gotemplate::value::Value;
use crate::gotemplate::{FuncMap, Ty};
use base64::Engine as _;

/// Registers the random functions.
pub fn register(m: &mut FuncMap) {
    use Ty::{Int, String as S};
    m.insert(
        "randAlphaNum",
        f(&[Int], |a| {
            random_string(
                args::int(a, 0)?,
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
            )
        }),
    );
    m.insert(
        "randAlpha",
        f(&[Int], |a| {
            random_string(
                args::int(a, 0)?,
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
            )
        }),
    );
    m.insert(
        "randNumeric",
        f(&[Int], |a| random_string(args::int(a, 0)?, b"0123456789")),
    );
    m.insert(
        "randAscii",
        f(&[Int], |a| {
            let printable: Vec<u8> = (32u8..127).collect();
            random_string(args::int(a, 0)?, &printable)
        }),
    );
    m.insert(
        "randBytes",
        f(&[Int], |a| {
            let n = usize::try_from(args::int(a, 0)?)
                .map_err(|_| "runtime error: makeslice: len out of range".to_owned())?;
            check_size("randBytes", n)?;
            let mut buf = vec![0u8; n];
            fill(&mut buf)?;
            Ok(Value::str(base64::engine::general_purpose::STANDARD.encode(&buf)))
        }),
    );
    m.insert("uuidv4", f(&[], |_| Ok(Value::str(uuid_v4()?))));
    m.insert(
        "shuffle",
        f(&[S], |a| {
            let mut chars: Vec<char> = args::string(a, 0)?.chars().collect();
            for i in (1..chars.len()).rev() {
                let j = below(i as u64 + 1)? as usize;
                chars.swap(i, j);
            }
            Ok(Value::str(chars.into_iter().collect::<String>()))
        }),
    );
}

/// Fills `buf` from the operating system's generator.
pub fn fill(buf: &mut [u8]) -> Result<(), String> {
    getrandom::fill(buf).map_err(|e| format!("crypto/rand: {e}"))
}

/// A uniform random number in `0..n` (`n > 0`).
pub fn below(n: u64) -> Result<u64, String> {
    if n == 0 {
        return Err("invalid argument to Intn".to_owned());
    }
    let zone = u64::MAX - (u64::MAX % n);
    loop {
        let mut b = [0u8; 8];
        fill(&mut b)?;
        let x = u64::from_le_bytes(b);
        if x < zone {
            return Ok(x % n);
        }
    }
}

/// goutils' `CryptoRandom` over a fixed alphabet: `count` characters; an empty string for a
/// count of zero or less (sprig drops the error a negative count gives).
fn random_string(count: i64, alphabet: &[u8]) -> Result<Value, String> {
    let Ok(n) = usize::try_from(count) else {
        return Ok(Value::str(""));
    };
    check_size("random string", n)?;
    let mut out = String::with_capacity(n);
    for _ in 0..n {
        let i = below(alphabet.len() as u64)? as usize;
        out.push(char::from(alphabet.get(i).copied().unwrap_or(b'a')));
    }
    Ok(Value::str(out))
}

/// A random (version 4) UUID in its hyphenated form.
fn uuid_v4() -> Result<String, String> {
    let mut b = [0u8; 16];
    fill(&mut b)?;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    Ok(format!(
        "{}-{}-{}-{}-{}",
        h.get(0..8).unwrap_or_default(),
        h.get(8..12).unwrap_or_default(),
        h.get(12..16).unwrap_or_default(),
        h.get(16..20).unwrap_or_default(),
        h.get(20..32).unwrap_or_default()
    ))
}

#[cfg(test)]
mod tests {
    use crate::gotemplate::value::Value;

    use crate::gotemplate::sprig::call;

    #[test]
    fn random_strings_have_the_asked_shape() {
        let s = call("randAlphaNum", &[Value::Int(16)]).unwrap_or_default();
        assert_eq!(s.len(), 16);
        assert!(s.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert!(
            call("randNumeric", &[Value::Int(8)])
                .unwrap_or_default()
                .bytes()
                .all(|b| b.is_ascii_digit())
        );
        assert_eq!(call("randAlpha", &[Value::Int(-1)]).as_deref(), Ok(""));
        assert_eq!(call("randBytes", &[Value::Int(3)]).unwrap_or_default().len(), 4);
        let u = call("uuidv4", &[]).unwrap_or_default();
        assert_eq!(u.len(), 36);
        assert_eq!(u.as_bytes().get(14), Some(&b'4'));
        let mut sh: Vec<char> = call("shuffle", &[Value::str("abcdef")])
            .unwrap_or_default()
            .chars()
            .collect();
        sh.sort();
        assert_eq!(sh.into_iter().collect::<String>(), "abcdef");
        assert!(call("randAscii", &[Value::Int(1 << 40)]).is_err());
    }
}
