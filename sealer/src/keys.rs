//! The key sources the CLI offers, found as sops finds them: age identities, AWS KMS
//! through the SDK's default chain, and Vault transit with `VAULT_TOKEN` / `~/.vault-token`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use sigil_crypto::keys::Keyring;
use sigil_crypto::keys::age::AgeKeys;
use sigil_crypto::keys::awskms::AwsKms;
use sigil_crypto::keys::vault::VaultTransit;

/// Builds the keyring: `--age-key-file` files, then `SOPS_AGE_KEY(_FILE)` and the default
/// file; KMS from the environment; Vault transit at the file's address (or `vault_addr`).
pub fn keyring(age_key_files: &[PathBuf], vault_addr: Option<String>) -> Result<Keyring> {
    let mut age = AgeKeys::from_env().context("loading age identities")?;
    for f in age_key_files {
        age.add_file(f).context("loading --age-key-file")?;
    }
    Ok(Keyring::new()
        .with(age)
        .with(AwsKms::from_env())
        .with(VaultTransit::new(None).address_override(vault_addr)))
}
