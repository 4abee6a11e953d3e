//! The key sources the CLI offers: age identities found as sops finds them.

use std::path::PathBuf;

use anyhow::{Context, Result};
use sigil_crypto::keys::Keyring;
use sigil_crypto::keys::age::AgeKeys;

/// Builds the keyring: `--age-key-file` files, then `SOPS_AGE_KEY(_FILE)` and the default file.
pub fn keyring(age_key_files: &[PathBuf]) -> Result<Keyring> {
    let mut age = AgeKeys::from_env().context("loading age identities")?;
    for f in age_key_files {
        age.add_file(f).context("loading --age-key-file")?;
    }
    Ok(Keyring::new().with(age))
}
