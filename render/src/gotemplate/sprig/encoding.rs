//! sprig's encodings and digests: `b64enc`/`b64dec`, `b32enc`/`b32dec` (a decoding error
//! comes back as the result text, as sprig returns it), `sha1sum`, `sha256sum`, `sha512sum`,
//! `adler32sum`.

use super::args;
use super::f;
use crate::gotemplate::value::Value;
use crate::gotemplate::{FuncMap, Ty};
use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use sha1::Digest as _;

/// Go's `base64.StdEncoding`: padding required, stray trailing bits accepted.
const GO_STD: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
);

const B32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Registers the encoding and digest functions.
pub fn register(m: &mut FuncMap) {
    use Ty::String as S;
    m.insert(
        "b64enc",
        f(&[S], |a| Ok(Value::str(GO_STD.encode(args::string(a, 0)?)))),
    );
    m.insert("b64dec", f(&[S], |a| Ok(Value::str(b64dec(args::string(a, 0)?)))));
    m.insert(
        "b32enc",
        f(&[S], |a| Ok(Value::str(b32enc(args::string(a, 0)?.as_bytes())))),
    );
    m.insert("b32dec", f(&[S], |a| Ok(Value::str(b32dec(args::string(a, 0)?)))));
    m.insert(
        "sha1sum",
        f(&[S], |a| {
            Ok(Value::str(hex::encode(sha1::Sha1::digest(args::string(a, 0)?))))
        }),
    );
    m.insert(
        "sha256sum",
        f(&[S], |a| {
            Ok(Value::str(hex::encode(sha2::Sha256::digest(args::string(a, 0)?))))
        }),
    );
    m.insert(
        "sha512sum",
        f(&[S], |a| {
            Ok(Value::str(hex::encode(sha2::Sha512::digest(args::string(a, 0)?))))
        }),
    );
    m.insert(
        "adler32sum",
        f(&[S], |a| {
            Ok(Value::str(adler32(args::string(a, 0)?.as_bytes()).to_string()))
        }),
    );
}

/// Go's `base64.StdEncoding.DecodeString` as sprig uses it: the text, or the error's text.
fn b64dec(s: &str) -> String {
    match go_b64_decode(s) {
        Ok(b) => String::from_utf8_lossy(&b).into_owned(),
        Err(e) => e,
    }
}

/// Go's `base64.StdEncoding.DecodeString`: the bytes, or Go's error text.
pub fn go_b64_decode(s: &str) -> Result<Vec<u8>, String> {
    // Go's decoder skips line breaks.
    let clean: String = s.chars().filter(|c| *c != '\n' && *c != '\r').collect();
    match GO_STD.decode(&clean) {
        Ok(b) => Ok(b),
        Err(base64::DecodeError::InvalidByte(at, _)) => Err(format!("illegal base64 data at input byte {at}")),
        Err(_) => Err(format!("illegal base64 data at input byte {}", clean.len() / 4 * 4)),
    }
}

fn b32enc(b: &[u8]) -> String {
    let mut out = String::with_capacity(b.len().div_ceil(5) * 8);
    for chunk in b.chunks(5) {
        let mut buf = [0u8; 5];
        for (d, s) in buf.iter_mut().zip(chunk) {
            *d = *s;
        }
        let n = buf.iter().fold(0u64, |acc, x| (acc << 8) | u64::from(*x));
        let chars = match chunk.len() {
            1 => 2,
            2 => 4,
            3 => 5,
            4 => 7,
            _ => 8,
        };
        for i in 0..8 {
            if i < chars {
                let idx = ((n >> (35 - 5 * i)) & 31) as usize;
                out.push(char::from(B32.get(idx).copied().unwrap_or(b'A')));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Go's `base32.StdEncoding.DecodeString` (padding required), text or error text.
fn b32dec(s: &str) -> String {
    let clean: Vec<u8> = s.bytes().filter(|c| *c != b'\n' && *c != b'\r').collect();
    let err = |at: usize| format!("illegal base32 data at input byte {at}");
    if !clean.len().is_multiple_of(8) {
        return err(clean.len() / 8 * 8);
    }
    let mut out = Vec::with_capacity(clean.len() / 8 * 5);
    for (q, chunk) in clean.chunks(8).enumerate() {
        let data = chunk.iter().take_while(|c| **c != b'=').count();
        let last = q + 1 == clean.len() / 8;
        if data < 8 && (!last || chunk.iter().skip(data).any(|c| *c != b'=') || !matches!(data, 2 | 4 | 5 | 7)) {
            return err(q * 8 + data);
        }
        let mut n = 0u64;
        for (i, c) in chunk.iter().take(data).enumerate() {
            let Some(v) = B32.iter().position(|x| x == c) else {
                return err(q * 8 + i);
            };
            n |= (v as u64) << (35 - 5 * i);
        }
        let bytes = match data {
            2 => 1,
            4 => 2,
            5 => 3,
            7 => 4,
            _ => 5,
        };
        out.extend(n.to_be_bytes().iter().skip(3).take(bytes));
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Adler-32 (`hash/adler32`).
fn adler32(b: &[u8]) -> u32 {
    let (mut a, mut s) = (1u32, 0u32);
    for chunk in b.chunks(5552) {
        for x in chunk {
            a += u32::from(*x);
            s += a;
        }
        a %= 65521;
        s %= 65521;
    }
    (s << 16) | a
}

#[cfg(test)]
mod tests {
    use super::super::funcs;
    use crate::gotemplate::value::Value;

    fn call(name: &str, arg: &str) -> String {
        let m = funcs();
        m.get(name)
            .map(|f| (f.call)(&[Value::str(arg)]))
            .and_then(Result::ok)
            .map(|v| v.format_v())
            .unwrap_or_default()
    }

    #[test]
    fn encodings_match_the_oracle() {
        for (name, arg, want) in [
            ("b64enc", "hello", "aGVsbG8="),
            ("b64dec", "aGVsbG8=", "hello"),
            ("b64dec", "aGVsbG8", "illegal base64 data at input byte 4"),
            ("b64dec", "a!", "illegal base64 data at input byte 1"),
            ("b64dec", "aGVs\nbG8=", "hello"),
            ("b64dec", "aGVsbG9=", "hello"),
            ("b32enc", "hello", "NBSWY3DP"),
            ("b32enc", "hi", "NBUQ===="),
            ("b32dec", "NBSWY3DP", "hello"),
            ("b32dec", "NBUQ====", "hi"),
            ("b32dec", "NBSWY3D", "illegal base32 data at input byte 0"),
            ("sha1sum", "a", "86f7e437faa5a7fce15d1ddcb9eaeaea377667b8"),
            (
                "sha256sum",
                "a",
                "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb",
            ),
            ("adler32sum", "hello", "103547413"),
        ] {
            assert_eq!(call(name, arg), want, "{name} {arg}");
        }
        assert!(call("sha512sum", "").starts_with("cf83e1357eefb8bd"));
    }
}
