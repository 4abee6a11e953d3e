//! sprig's cryptographic functions: passwords and symmetric encryption
//! ([`passwords`]).

mod passwords;

use super::args;
use super::f;
use crate::gotemplate::value::Value;
use crate::gotemplate::{FuncMap, Ty};

/// Registers the cryptographic functions.
pub fn register(m: &mut FuncMap) {
    use Ty::{Int, String as S};
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
}

#[cfg(test)]
mod tests;
