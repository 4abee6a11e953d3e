//! sprig's password and symmetric functions: `bcrypt` and `htpasswd` (Go's
//! `golang.org/x/crypto/bcrypt`, `$2a$`, cost 10), `derivePassword` (the Master Password
//! algorithm: scrypt then HMAC-SHA256 over templates) and `encryptAES`/`decryptAES`
//! (AES-256-CBC, the password zero-padded or cut to 32 bytes, PKCS#7 padding, the IV first,
//! base64).

use super::super::random::fill;
use aes::cipher::{BlockDecrypt, BlockEncrypt, KeyInit, generic_array::GenericArray};
use base64::Engine as _;
use base64::engine::{GeneralPurpose, general_purpose};
use blowfish::Blowfish;
use hmac::Mac as _;
use zeroize::Zeroizing;

/// bcrypt's base64: its own alphabet, no padding.
const BCRYPT_B64: GeneralPurpose = GeneralPurpose::new(&base64::alphabet::BCRYPT, general_purpose::NO_PAD);

/// Go's `bcrypt.DefaultCost`.
const COST: u32 = 10;

/// `bcrypt.GenerateFromPassword(password, 10)`, or sprig's failure text.
pub fn bcrypt(password: &str) -> Result<String, String> {
    if password.len() > 72 {
        return Ok("failed to encrypt string with bcrypt: bcrypt: password length exceeds 72 bytes".into());
    }
    let mut salt = [0u8; 16];
    fill(&mut salt)?;
    Ok(bcrypt_with_salt(password.as_bytes(), &salt, COST))
}

/// bcrypt of `password` with a given salt and cost, in the `$2a$CC$SALT HASH` form.
pub fn bcrypt_with_salt(password: &[u8], salt: &[u8; 16], cost: u32) -> String {
    // The key is the password and a NUL, as Go's implementation (and OpenBSD's) uses it.
    let mut key = Zeroizing::new(Vec::with_capacity(password.len() + 1));
    key.extend_from_slice(password);
    key.push(0);
    let mut state = Blowfish::bc_init_state();
    state.salted_expand_key(salt, &key);
    for _ in 0..(1u64 << cost) {
        state.bc_expand_key(&key);
        state.bc_expand_key(salt);
    }
    let magic = b"OrpheanBeholderScryDoubt";
    let mut out = Vec::with_capacity(24);
    for block in magic.chunks_exact(8) {
        let word = |b: &[u8]| {
            let mut w = [0u8; 4];
            w.copy_from_slice(b.get(..4).unwrap_or(&[0; 4]));
            u32::from_be_bytes(w)
        };
        let mut lr = [
            word(block.get(..4).unwrap_or_default()),
            word(block.get(4..).unwrap_or_default()),
        ];
        for _ in 0..64 {
            lr = state.bc_encrypt(lr);
        }
        out.extend_from_slice(&lr[0].to_be_bytes());
        out.extend_from_slice(&lr[1].to_be_bytes());
    }
    out.truncate(23);
    format!("$2a${cost:02}${}{}", BCRYPT_B64.encode(salt), BCRYPT_B64.encode(&out))
}

/// sprig's `htpasswd`: `user:BCRYPT`, or its complaint about a `:` in the name.
pub fn htpasswd(user: &str, password: &str) -> Result<String, String> {
    if user.contains(':') {
        return Ok(format!("invalid username: {user}"));
    }
    Ok(format!("{user}:{}", bcrypt(password)?))
}

const SEED: &[u8] = b"com.lyndir.masterpassword";

fn templates(kind: &str) -> Option<&'static [&'static str]> {
    Some(match kind {
        "maximum" => &["anoxxxxxxxxxxxxxxxxx", "axxxxxxxxxxxxxxxxxno"],
        "long" => &[
            "CvcvnoCvcvCvcv",
            "CvcvCvcvnoCvcv",
            "CvcvCvcvCvcvno",
            "CvccnoCvcvCvcv",
            "CvccCvcvnoCvcv",
            "CvccCvcvCvcvno",
            "CvcvnoCvccCvcv",
            "CvcvCvccnoCvcv",
            "CvcvCvccCvcvno",
            "CvcvnoCvcvCvcc",
            "CvcvCvcvnoCvcc",
            "CvcvCvcvCvccno",
            "CvccnoCvccCvcv",
            "CvccCvccnoCvcv",
            "CvccCvccCvcvno",
            "CvcvnoCvccCvcc",
            "CvcvCvccnoCvcc",
            "CvcvCvccCvccno",
            "CvccnoCvcvCvcc",
            "CvccCvcvnoCvcc",
            "CvccCvcvCvccno",
        ],
        "medium" => &["CvcnoCvc", "CvcCvcno"],
        "short" => &["Cvcn"],
        "basic" => &["aaanaaan", "aannaaan", "aaannaaa"],
        "pin" => &["nnnn"],
        _ => return None,
    })
}

fn template_chars(c: u8) -> &'static [u8] {
    match c {
        b'V' => b"AEIOU",
        b'C' => b"BCDFGHJKLMNPQRSTVWXYZ",
        b'v' => b"aeiou",
        b'c' => b"bcdfghjklmnpqrstvwxyz",
        b'A' => b"AEIOUBCDFGHJKLMNPQRSTVWXYZ",
        b'a' => b"AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz",
        b'n' => b"0123456789",
        b'o' => b"@&%?,=[]_:-+*$#!'^~;()/.",
        _ => b"AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz0123456789!@#$%^&*()",
    }
}

/// sprig's `derivePassword(counter, type, password, user, site)`.
pub fn derive_password(counter: u32, kind: &str, password: &str, user: &str, site: &str) -> Result<String, String> {
    let Some(templates) = templates(kind) else {
        return Ok(format!("cannot find password template {kind}"));
    };
    let len32 = |s: &str| u32::try_from(s.len()).unwrap_or(u32::MAX).to_be_bytes();
    let mut salt = SEED.to_vec();
    salt.extend_from_slice(&len32(user));
    salt.extend_from_slice(user.as_bytes());
    let params = scrypt::Params::new(15, 8, 2, 64).map_err(|e| format!("failed to derive password: {e}"))?;
    let mut key = Zeroizing::new([0u8; 64]);
    scrypt::scrypt(password.as_bytes(), &salt, &params, key.as_mut())
        .map_err(|e| format!("failed to derive password: {e}"))?;
    let mut mac = <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(key.as_ref())
        .map_err(|e| format!("failed to derive password: {e}"))?;
    mac.update(SEED);
    mac.update(&len32(site));
    mac.update(site.as_bytes());
    mac.update(&counter.to_be_bytes());
    let seed = mac.finalize().into_bytes();
    let byte = |i: usize| usize::from(seed.get(i).copied().unwrap_or(0));
    let template = templates.get(byte(0) % templates.len()).copied().unwrap_or_default();
    let mut out = String::with_capacity(template.len());
    for (i, c) in template.bytes().enumerate() {
        let chars = template_chars(c);
        let pick = chars.get(byte(i + 1) % chars.len()).copied().unwrap_or(b'x');
        out.push(char::from(pick));
    }
    Ok(out)
}

/// sprig's key: the password's bytes, zero-padded or cut to 32 (AES-256).
fn aes_key(password: &str) -> Zeroizing<[u8; 32]> {
    let mut key = Zeroizing::new([0u8; 32]);
    for (k, p) in key.iter_mut().zip(password.bytes()) {
        *k = p;
    }
    key
}

/// sprig's `encryptAES`: base64 of a random IV and the AES-256-CBC ciphertext.
pub fn encrypt_aes(password: &str, plaintext: &str) -> Result<String, String> {
    if plaintext.is_empty() {
        return Ok(String::new());
    }
    let cipher = aes::Aes256::new(GenericArray::from_slice(aes_key(password).as_ref()));
    let pad = 16 - plaintext.len() % 16;
    let mut data = Zeroizing::new(Vec::with_capacity(16 + plaintext.len() + pad));
    let mut iv = [0u8; 16];
    fill(&mut iv)?;
    data.extend_from_slice(&iv);
    data.extend_from_slice(plaintext.as_bytes());
    data.extend(std::iter::repeat_n(pad as u8, pad));
    let mut prev = iv;
    for block in data.get_mut(16..).unwrap_or_default().chunks_exact_mut(16) {
        for (b, p) in block.iter_mut().zip(prev) {
            *b ^= p;
        }
        cipher.encrypt_block(GenericArray::from_mut_slice(block));
        prev.copy_from_slice(block);
    }
    Ok(general_purpose::STANDARD.encode(data.as_slice()))
}

/// sprig's `decryptAES`, with the errors (and panics) Go gives for short or ragged input.
pub fn decrypt_aes(password: &str, crypt64: &str) -> Result<String, String> {
    if crypt64.is_empty() {
        return Ok(String::new());
    }
    let data = super::super::encoding::go_b64_decode(crypt64)?;
    if data.len() < 16 {
        return Err(format!(
            "runtime error: slice bounds out of range [:16] with capacity {}",
            data.len()
        ));
    }
    let (iv, body) = data.split_at(16);
    if body.len() % 16 != 0 {
        return Err("crypto/cipher: input not full blocks".into());
    }
    let cipher = aes::Aes256::new(GenericArray::from_slice(aes_key(password).as_ref()));
    let mut out = Zeroizing::new(body.to_vec());
    let mut prev: Vec<u8> = iv.to_vec();
    for block in out.chunks_exact_mut(16) {
        let this = block.to_vec();
        cipher.decrypt_block(GenericArray::from_mut_slice(block));
        for (b, p) in block.iter_mut().zip(&prev) {
            *b ^= p;
        }
        prev = this;
    }
    let Some(&last) = out.last() else {
        return Err("runtime error: index out of range [-1]".into());
    };
    let keep = out.len() as i64 - i64::from(last);
    let Ok(keep) = usize::try_from(keep) else {
        return Err(format!("runtime error: slice bounds out of range [:{keep}]"));
    };
    Ok(String::from_utf8_lossy(out.get(..keep).unwrap_or_default()).into_owned())
}
