//! The SOPS library (`sigil_crypto::sops`) across crates, against the real `sops`: IV reuse on
//! re-encryption.

use std::io::Write;

use sigil_crypto::keys::Keyring;
use sigil_crypto::keys::age::{self, AgeKeys};
use sigil_crypto::sops::tree::Value;
use sigil_crypto::sops::{self, EncryptOptions, Format};
use sigil_tests::{Sops, ok};

const SECRET: &str = "Library-Canary-Value-42";

fn keyring() -> (Keyring, String, tempfile::NamedTempFile) {
    let (secret, recipient) = age::generate();
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(secret.as_bytes()).unwrap();
    (
        Keyring::new().with(AgeKeys::parse(&secret, "test").unwrap()),
        recipient,
        f,
    )
}

fn doc() -> Vec<sigil_crypto::sops::tree::Branch> {
    Format::Yaml
        .load_plain(
            format!("kind: Secret\nstringData:\n  password: {SECRET}\n  user: admin\n  port: 5432\n").as_bytes(),
        )
        .unwrap()
}

#[tokio::test]
async fn reencryption_keeps_unchanged_ciphertext() {
    let (keys, recipient, key_file) = keyring();
    let opts = EncryptOptions {
        key_groups: vec![vec![age::master_key(&recipient).unwrap()]],
        ..Default::default()
    };
    let first = sops::encrypt("a.yaml", doc(), Format::Yaml, opts, &keys).await.unwrap();
    let mut plain = sops::decrypt("a.yaml", &first, Format::Yaml, &keys).await.unwrap();
    // Edit one value; the others must keep their exact ciphertext.
    let Some(Value::Map(sd)) = plain.docs[0].0.iter_mut().find_map(|i| match i {
        sigil_crypto::sops::tree::Item::Pair { key, value } if key.as_str() == "stringData" => Some(value),
        _ => None,
    }) else {
        panic!("stringData")
    };
    sd.remove("user");
    sd.push("user", Value::str("root"));
    let second = plain.reencrypt().unwrap();
    let line = |text: &[u8], key: &str| {
        String::from_utf8_lossy(text)
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{key}:")))
            .unwrap()
            .to_string()
    };
    assert_eq!(line(&first, "password"), line(&second, "password"));
    assert_eq!(line(&first, "port"), line(&second, "port"));
    assert_ne!(line(&first, "user"), line(&second, "user"));
    // The real sops reads the re-encrypted file and sees the edit.
    if let Some(sops) = Sops::find() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("b.yaml");
        std::fs::write(&f, &second).unwrap();
        let out = String::from_utf8(ok(&sops.decrypt(key_file.path(), &f, &[]), "sops -d")).unwrap();
        assert!(out.contains("user: root") && out.contains(SECRET), "{out}");
    }
}
