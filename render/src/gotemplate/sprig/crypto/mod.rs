//! sprig's cryptographic functions: passwords and symmetric encryption ([`passwords`]),
//! private keys ([`keys`]) and certificates ([`certs`]).

mod certs;
mod keys;
mod passwords;

use super::args;
use super::f;
use crate::gotemplate::value::Value;
use crate::gotemplate::{FuncMap, Ty};

/// Registers the cryptographic functions.
pub fn register(m: &mut FuncMap) {
    use Ty::{Any, Int, List as L, String as S};
    m.insert(
        "bcrypt",
        f(&[S], |a| Ok(Value::str(passwords::bcrypt(args::string(a, 0)?)?))),
    );
    m.insert(
        "htpasswd",
        f(&[S, S], |a| {
            Ok(Value::str(passwords::htpasswd(
                args::string(a, 0)?,
                args::string(a, 1)?,
            )?))
        }),
    );
    m.insert(
        "derivePassword",
        f(&[Int, S, S, S, S], |a| {
            let n = args::int(a, 0)?;
            // Go's parameter is a uint32; the executor has no such type, so the range is
            // checked here with the words Go's call uses.
            let counter = u32::try_from(n).map_err(|_| {
                if n < 0 {
                    format!("expected unsigned integer; found {n}")
                } else {
                    format!("{n} overflows uint32")
                }
            })?;
            Ok(Value::str(passwords::derive_password(
                counter,
                args::string(a, 1)?,
                args::string(a, 2)?,
                args::string(a, 3)?,
                args::string(a, 4)?,
            )?))
        }),
    );
    m.insert(
        "encryptAES",
        f(&[S, S], |a| {
            Ok(Value::str(passwords::encrypt_aes(
                args::string(a, 0)?,
                args::string(a, 1)?,
            )?))
        }),
    );
    m.insert(
        "decryptAES",
        f(&[S, S], |a| {
            Ok(Value::str(passwords::decrypt_aes(
                args::string(a, 0)?,
                args::string(a, 1)?,
            )?))
        }),
    );
    m.insert(
        "genPrivateKey",
        f(&[S], |a| {
            Ok(Value::str(keys::generate_private_key(args::string(a, 0)?)?))
        }),
    );
    m.insert(
        "buildCustomCert",
        f(&[S, S], |a| {
            certs::build_custom(args::string(a, 0)?, args::string(a, 1)?)
        }),
    );
    m.insert(
        "genCA",
        f(&[S, Int], |a| {
            certs::gen_ca(args::string(a, 0)?, args::int(a, 1)?, None)
        }),
    );
    m.insert(
        "genCAWithKey",
        f(&[S, Int, S], |a| {
            certs::gen_ca(args::string(a, 0)?, args::int(a, 1)?, Some(args::string(a, 2)?))
        }),
    );
    m.insert(
        "genSelfSignedCert",
        f(&[S, L, L, Int], |a| {
            certs::gen_self_signed(args::string(a, 0)?, &list(a, 1)?, &list(a, 2)?, args::int(a, 3)?, None)
        }),
    );
    m.insert(
        "genSelfSignedCertWithKey",
        f(&[S, L, L, Int, S], |a| {
            certs::gen_self_signed(
                args::string(a, 0)?,
                &list(a, 1)?,
                &list(a, 2)?,
                args::int(a, 3)?,
                Some(args::string(a, 4)?),
            )
        }),
    );
    m.insert(
        "genSignedCert",
        f(&[S, L, L, Int, Any], |a| {
            certs::gen_signed(
                args::string(a, 0)?,
                &list(a, 1)?,
                &list(a, 2)?,
                args::int(a, 3)?,
                args::any(a, 4),
                None,
            )
        }),
    );
    m.insert(
        "genSignedCertWithKey",
        f(&[S, L, L, Int, Any, S], |a| {
            certs::gen_signed(
                args::string(a, 0)?,
                &list(a, 1)?,
                &list(a, 2)?,
                args::int(a, 3)?,
                args::any(a, 4),
                Some(args::string(a, 5)?),
            )
        }),
    );
}

/// Argument `i` as a `[]interface{}` (`nil` is empty).
fn list(a: &[Value], i: usize) -> Result<Vec<Value>, String> {
    match a.get(i) {
        Some(Value::List(l)) => Ok(l.as_ref().clone()),
        Some(Value::Nil) => Ok(Vec::new()),
        _ => Err(format!("internal: argument {} is not a list", i + 1)),
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod cert_tests;
