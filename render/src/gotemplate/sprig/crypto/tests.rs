//! The cryptographic functions against what Helm v4 gave for the same calls.

use super::passwords::bcrypt_with_salt;
use crate::gotemplate::value::Value;
use base64::Engine as _;

use crate::gotemplate::sprig::call;

fn s(x: &str) -> Value {
    Value::str(x)
}

/// Re-hashes `password` with the salt and cost of the Go-made `hash`.
fn rehash(password: &str, hash: &str) -> String {
    let salt64 = hash.get(7..29).unwrap_or_default();
    let bcrypt_b64 =
        base64::engine::GeneralPurpose::new(&base64::alphabet::BCRYPT, base64::engine::general_purpose::NO_PAD);
    let salt = bcrypt_b64.decode(salt64).unwrap_or_default();
    let mut arr = [0u8; 16];
    arr.copy_from_slice(salt.get(..16).unwrap_or(&[0; 16]));
    bcrypt_with_salt(password.as_bytes(), &arr, 10)
}

#[test]
fn bcrypt_matches_go() {
    // Hashes Helm made: the same password and salt give the same hash here.
    for (pw, go) in [
        ("pw", "$2a$10$tDXpN13CuppFBKe0NPMlG.8ZbN/hJ/DyWXrWJTWAoLxphA3PgJUZi"),
        ("pw", "$2a$10$rgjl35AMkcmGs7zprdeDOev8eUZ40GNSKQWL0ITH4iylBGuHov3Eq"),
    ] {
        assert_eq!(rehash(pw, go), go);
    }
    let Ok(fresh) = call("bcrypt", &[s("pw")]) else {
        panic!("bcrypt failed")
    };
    assert!(fresh.starts_with("$2a$10$") && fresh.len() == 60, "{fresh}");
    assert_eq!(rehash("pw", &fresh), fresh);
    let Ok(line) = call("htpasswd", &[s("user"), s("pw")]) else {
        panic!("htpasswd failed")
    };
    assert!(line.starts_with("user:$2a$10$"), "{line}");
    assert_eq!(
        call("htpasswd", &[s("a:b"), s("pw")]),
        Ok("invalid username: a:b".into())
    );
}

#[test]
fn derive_password_matches_helm() {
    let d = |n: i64, kind: &str, pw: &str, user: &str, site: &str| {
        call("derivePassword", &[Value::Int(n), s(kind), s(pw), s(user), s(site)]).unwrap_or_else(|e| e)
    };
    assert_eq!(d(1, "long", "password", "user", "example.com"), "ZedaFaxcZaso9*");
    assert_eq!(d(2, "maximum", "pässword", "üser", "site"), "d4$1TlP5d4g2&bWxWLPy");
    assert_eq!(d(1, "nope", "p", "u", "s"), "cannot find password template nope");
    assert_eq!(d(4_294_967_295, "short", "p", "u", "s"), "Tev7");
    assert_eq!(d(-1, "pin", "p", "u", "s"), "expected unsigned integer; found -1");
}

#[test]
fn aes_round_trips_with_helm() {
    let dec = |k: &str, c: &str| call("decryptAES", &[s(k), s(c)]).unwrap_or_else(|e| e);
    // Ciphertexts Helm's encryptAES made.
    assert_eq!(
        dec("secretkey", "8a40ah0FxWteXvgFSXhjErGQo3sGbpM/nSq2MVjfhrY="),
        "plaintext"
    );
    assert_eq!(
        dec(
            "0123456789abcdef0123456789abcdef-too-long",
            "rlQOUjuMCNT1kvyEluehz/HbWw66XDgnThH4CGDX7j9F8i897m1mdbhlYf5aplK5"
        ),
        "exactly sixteen!"
    );
    let Ok(c) = call("encryptAES", &[s("k"), s("round trip")]) else {
        panic!("encryptAES failed")
    };
    assert_eq!(dec("k", &c), "round trip");
    assert_eq!(call("encryptAES", &[s("k"), s("")]), Ok(String::new()));
    assert_eq!(dec("k", ""), "");
    assert_eq!(dec("k", "!!"), "illegal base64 data at input byte 0");
    assert_eq!(
        dec("k", "AAAA"),
        "runtime error: slice bounds out of range [:16] with capacity 3"
    );
    assert_eq!(
        dec("k", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="),
        "crypto/cipher: input not full blocks"
    );
    assert_eq!(
        dec("k", "AAAAAAAAAAAAAAAAAAAAAA=="),
        "runtime error: index out of range [-1]"
    );
}
