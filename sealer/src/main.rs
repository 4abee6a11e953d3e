//! `sealer`: Sigil's companion CLI — SOPS encrypt/decrypt/updatekeys/rotate, sealed secrets
//! (seal/unseal/re-encrypt/keygen/cert) and `lint`.
//!
//! Flag names follow `sops` so CI scripts switch by changing the binary name. Every failure
//! is one line on stderr naming the file and the reason; exit codes follow sops where it has
//! them (128: no key could decrypt, 51: MAC mismatch).

mod extract;
mod io;
mod keys;
mod lint;
mod sealed_cmd;
mod sops_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Sigil's secrets CLI: SOPS files and sealed secrets.
#[derive(Parser)]
#[command(name = "sealer", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Decrypt a SOPS file to stdout (the MAC is always verified).
    Decrypt(sops_cmd::DecryptArgs),
    /// Encrypt a file with SOPS (recipients from flags or .sops.yaml).
    Encrypt(sops_cmd::EncryptArgs),
    /// Re-wrap a file's data key for the recipients .sops.yaml now names.
    Updatekeys(sops_cmd::UpdateKeysArgs),
    /// Re-encrypt a file under a new data key.
    Rotate(sops_cmd::RotateArgs),
    /// Seal a Secret into a SealedSecret (kubeseal-compatible).
    Seal(sealed_cmd::SealArgs),
    /// Unseal SealedSecrets offline with recovery private keys.
    Unseal(sealed_cmd::UnsealArgs),
    /// Re-seal a SealedSecret to a new certificate, offline.
    #[command(name = "re-encrypt")]
    ReEncrypt(sealed_cmd::ReencryptArgs),
    /// Generate a sealing key pair and self-signed certificate.
    Keygen(sealed_cmd::KeygenArgs),
    /// Fetch the agent's sealing certificate.
    Cert(sealed_cmd::CertArgs),
    /// Find plaintext Secrets, values .sops.yaml wants encrypted, and committed private keys.
    Lint(lint::LintArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("SEALER_LOG").unwrap_or_else(|_| "warn".into()))
        .without_time()
        .init();
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("sealer: cannot start: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Decrypt(a) => sops_cmd::decrypt(a).await,
            Command::Encrypt(a) => sops_cmd::encrypt(a).await,
            Command::Updatekeys(a) => sops_cmd::updatekeys(a).await,
            Command::Rotate(a) => sops_cmd::rotate(a).await,
            Command::Seal(a) => sealed_cmd::seal(a).await,
            Command::Unseal(a) => sealed_cmd::unseal(a).await,
            Command::ReEncrypt(a) => sealed_cmd::reencrypt(a).await,
            Command::Keygen(a) => sealed_cmd::keygen(a).await,
            Command::Cert(a) => sealed_cmd::cert(a).await,
            Command::Lint(a) => lint::run(a),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sealer: {e:#}");
            ExitCode::from(sops_cmd::exit_code(&e))
        }
    }
}
