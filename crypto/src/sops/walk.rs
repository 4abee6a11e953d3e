//! The tree walk shared by encryption and decryption, in sops' exact order.
//!
//! Paths are map keys only (sequence items add nothing); a comment pushes its text onto the
//! current level of the comment stack, which is cleared after each non-comment entry.

use sha2::{Digest, Sha512};

use super::cipher;
use super::metadata::Metadata;
use super::rules::CompiledRules;
use super::scalar;
use super::tree::{Branch, Item, Value};
use super::{DataKey, ErrorKind, IvStash};

/// sops' `MACOnlyEncryptedInitialization` (SHA-256 of "sops"), fed first when only
/// encrypted values are MACed.
pub const MAC_ONLY_ENCRYPTED_INIT: [u8; 32] = [
    0x8a, 0x3f, 0xd2, 0xad, 0x54, 0xce, 0x66, 0x52, 0x7b, 0x10, 0x34, 0xf3, 0xd1, 0x47, 0xbe, 0x0b, 0x0b, 0x97, 0x5b,
    0x3b, 0xf4, 0x4f, 0x72, 0xc6, 0xfd, 0xad, 0xec, 0x81, 0x76, 0xf2, 0x7d, 0x69,
];

/// Called on every leaf: the value, its path, the comment stack, and whether it is a comment.
type Leaf<'a> = dyn FnMut(&mut Value, &[String], &[Vec<String>]) -> Result<(), ErrorKind> + 'a;

fn comment_text(v: &Value) -> Option<String> {
    match v {
        Value::Comment(c) => Some(c.text.to_string()),
        _ => None,
    }
}

fn walk_value(
    v: &mut Value,
    path: &mut Vec<String>,
    stack: &mut Vec<Vec<String>>,
    leaf: &mut Leaf,
) -> Result<(), ErrorKind> {
    match v {
        Value::Null => Ok(()),
        Value::Map(b) => walk_branch(b, path, stack, leaf),
        Value::Seq(items) => {
            stack.push(Vec::new());
            for item in items.iter_mut() {
                let is_comment = if let Some(text) = comment_text(item) {
                    stack.last_mut().expect("pushed above").push(text);
                    true
                } else {
                    false
                };
                walk_value(item, path, stack, leaf)?;
                if !is_comment {
                    stack.last_mut().expect("pushed above").clear();
                }
            }
            stack.pop();
            Ok(())
        }
        _ => leaf(v, path, stack),
    }
}

fn walk_branch(
    b: &mut Branch,
    path: &mut Vec<String>,
    stack: &mut Vec<Vec<String>>,
    leaf: &mut Leaf,
) -> Result<(), ErrorKind> {
    stack.push(Vec::new());
    for item in b.0.iter_mut() {
        match item {
            Item::Comment(c) => {
                stack.last_mut().expect("pushed above").push(c.text.to_string());
                let mut v = Value::Comment(c.clone());
                leaf(&mut v, path, stack)?;
                if let Value::Comment(new) = v {
                    *c = new;
                }
            }
            Item::Pair { key, value } => {
                path.push(key.to_string());
                let r = walk_value(value, path, stack, leaf);
                path.pop();
                r?;
                stack.last_mut().expect("pushed above").clear();
            }
        }
    }
    stack.pop();
    Ok(())
}

fn walk_docs(docs: &mut [Branch], leaf: &mut Leaf) -> Result<(), ErrorKind> {
    for doc in docs {
        walk_branch(doc, &mut Vec::new(), &mut Vec::new(), leaf)?;
    }
    Ok(())
}

fn aad(path: &[String]) -> String {
    let mut s = path.join(":");
    s.push(':');
    s
}

fn new_hasher(metadata: &Metadata) -> Sha512 {
    let mut h = Sha512::new();
    if metadata.mac_only_encrypted {
        h.update(MAC_ONLY_ENCRYPTED_INIT);
    }
    h
}

/// Decrypts all values in place; returns the MAC computed over the plaintext (uppercase hex).
pub fn decrypt_docs(
    docs: &mut [Branch],
    metadata: &Metadata,
    key: &DataKey,
    stash: &mut IvStash,
) -> Result<String, ErrorKind> {
    let rules: CompiledRules = metadata.rules.compile()?;
    let mut hasher = new_hasher(metadata);
    walk_docs(docs, &mut |v, path, stack| {
        let is_comment = matches!(v, Value::Comment(_));
        let encrypted = rules.should_encrypt(&path.iter().map(String::as_str).collect::<Vec<_>>(), stack, is_comment);
        if encrypted {
            let aad = aad(path);
            match v {
                Value::Comment(c) => {
                    // Comments sops could not decrypt (written by old versions) stay as they are.
                    if let Ok((Value::Comment(mut plain), iv)) = cipher::decrypt(&c.text, key, &aad) {
                        plain.inline = c.inline;
                        let plain = Value::Comment(plain);
                        stash.put(&aad, &plain, iv);
                        *v = plain;
                    }
                }
                Value::Str(s) => {
                    let (plain, iv) = cipher::decrypt(s, key, &aad).map_err(|source| ErrorKind::Value {
                        path: aad.clone(),
                        source,
                    })?;
                    if !iv.is_empty() {
                        stash.put(&aad, &plain, iv);
                    }
                    *v = plain;
                }
                _ => return Err(ErrorKind::NotAString(aad)),
            }
        }
        if (!metadata.mac_only_encrypted || encrypted)
            && let Some(bytes) = scalar::mac_bytes(v)
        {
            hasher.update(&bytes);
        }
        Ok(())
    })?;
    Ok(hex::encode_upper(hasher.finalize()))
}

/// Encrypts all values in place (reusing stashed IVs); returns the MAC of the plaintext.
pub fn encrypt_docs(
    docs: &mut [Branch],
    metadata: &Metadata,
    key: &DataKey,
    stash: &IvStash,
) -> Result<String, ErrorKind> {
    let rules: CompiledRules = metadata.rules.compile()?;
    let mut hasher = new_hasher(metadata);
    walk_docs(docs, &mut |v, path, stack| {
        let is_comment = matches!(v, Value::Comment(_));
        let encrypted = rules.should_encrypt(&path.iter().map(String::as_str).collect::<Vec<_>>(), stack, is_comment);
        if (!metadata.mac_only_encrypted || encrypted)
            && let Some(bytes) = scalar::mac_bytes(v)
        {
            hasher.update(&bytes);
        }
        if encrypted {
            let aad = aad(path);
            let enc = cipher::encrypt_value(v, key, &aad, stash.get(&aad, v)).map_err(|source| ErrorKind::Value {
                path: aad.clone(),
                source,
            })?;
            if let (Value::Comment(c), Some(re)) = (&enc, rules.unencrypted_comment_regex())
                && re.is_match(&c.text)
            {
                return Err(ErrorKind::Rules(super::rules::RulesError::BadRegex(
                    re.as_str().to_string(),
                    "unencrypted_comment_regex matches an encrypted comment".into(),
                )));
            }
            *v = enc;
        }
        Ok(())
    })?;
    Ok(hex::encode_upper(hasher.finalize()))
}
