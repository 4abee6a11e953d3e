//! The SOPS subcommands: decrypt, encrypt, updatekeys, rotate.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use sigil_crypto::keys::age as agekeys;
use sigil_crypto::keys::{awskms, vault};
use sigil_crypto::sops::config::{self, Config, CreationRule};
use sigil_crypto::sops::metadata::{KeyKind, MasterKey};
use sigil_crypto::sops::rules::Rules;
use sigil_crypto::sops::tree::Value;
use sigil_crypto::sops::{self, EncryptOptions, ErrorKind, Format};
use zeroize::Zeroizing;

use crate::io::{read_input, write_in_place, write_stdout};
use crate::{extract, keys};

/// Exit code for an error, following sops where it has one.
pub fn exit_code(e: &anyhow::Error) -> u8 {
    match e.downcast_ref::<sops::Error>().map(|e| &e.kind) {
        Some(ErrorKind::MacMismatch(_)) => 51,
        Some(ErrorKind::NoKey { .. }) => 128,
        _ => 1,
    }
}

fn parse_format(s: &str) -> Result<Format, String> {
    s.parse()
}

fn input_format(file: &Path, flag: Option<Format>) -> Format {
    flag.unwrap_or_else(|| {
        if file == Path::new("-") {
            Format::Yaml
        } else {
            Format::from_path(file)
        }
    })
}

/// Arguments of `sealer decrypt`.
#[derive(Args)]
pub struct DecryptArgs {
    /// Format of the input (default: from the file extension; yaml for stdin).
    #[arg(long, value_parser = parse_format)]
    input_type: Option<Format>,
    /// Format of the output (default: the input format).
    #[arg(long, value_parser = parse_format)]
    output_type: Option<Format>,
    /// An age identity file (may be repeated); SOPS_AGE_KEY_FILE etc. are read too.
    #[arg(long)]
    age_key_file: Vec<PathBuf>,
    /// Print only the value at this path, e.g. '["data"]["password"]'.
    #[arg(long)]
    extract: Option<String>,
    /// Send Vault transit requests here instead of the address recorded in the file.
    #[arg(long, env = "SEALER_VAULT_ADDR")]
    vault_addr: Option<String>,
    /// The encrypted file, or - for stdin.
    file: PathBuf,
}

/// `sealer decrypt`: plaintext to stdout, never to a file.
pub async fn decrypt(a: DecryptArgs) -> Result<()> {
    let (bytes, name) = read_input(&a.file)?;
    let format = input_format(&a.file, a.input_type);
    let keyring = keys::keyring(&a.age_key_files(), a.vault_addr.clone())?;
    let plain = sops::decrypt(&name, &bytes, format, &keyring).await?;
    if let Some(path) = a.extract {
        let steps = extract::parse(&path)?;
        let doc = plain
            .docs
            .first()
            .ok_or_else(|| anyhow!("{name}: the file has no document"))?;
        let value = extract::follow(doc, &steps)
            .with_context(|| format!("{name}: --extract {path}"))?
            .clone();
        let out_format = a.output_type.unwrap_or(format);
        let text: Zeroizing<Vec<u8>> = match &value {
            Value::Str(s) => Zeroizing::new(s.as_bytes().to_vec()),
            Value::Bytes(b) => Zeroizing::new(b.to_vec()),
            Value::Map(b) => {
                let mut single = plain;
                single.docs = vec![b.clone()];
                single.emit(out_format)?
            }
            other => Zeroizing::new(match out_format {
                Format::Json => sops::format::json::emit_value(other).into_bytes(),
                _ => {
                    let mut b = sops::tree::Branch::new();
                    b.push("v", other.clone());
                    let y = sops::format::yaml::emit(&[b]);
                    y.strip_prefix("v:")
                        .unwrap_or(&y)
                        .trim_start_matches([' ', '\n'])
                        .to_string()
                        .into_bytes()
                }
            }),
        };
        return write_stdout(&text);
    }
    let out = plain.emit(a.output_type.unwrap_or(format))?;
    write_stdout(&out)
}

impl DecryptArgs {
    fn age_key_files(&self) -> Vec<PathBuf> {
        self.age_key_file.clone()
    }
}

/// Arguments of `sealer encrypt`.
#[derive(Args)]
pub struct EncryptArgs {
    /// Format of the input (default: from the file extension; yaml for stdin).
    #[arg(long, value_parser = parse_format)]
    input_type: Option<Format>,
    /// Format of the output (default: the input format).
    #[arg(long, value_parser = parse_format)]
    output_type: Option<Format>,
    /// age recipients, comma-separated (overrides .sops.yaml).
    #[arg(long, value_delimiter = ',')]
    age: Vec<String>,
    /// AWS KMS key or alias ARNs, comma-separated (`ARN+ROLE_ARN` assumes a role).
    #[arg(long, value_delimiter = ',')]
    kms: Vec<String>,
    /// KMS encryption context, `key:value,key2:value2`.
    #[arg(long)]
    encryption_context: Option<String>,
    /// AWS profile for the KMS keys.
    #[arg(long)]
    aws_profile: Option<String>,
    /// Vault transit key URIs, comma-separated (https://vault:8200/v1/transit/keys/NAME).
    #[arg(long, value_delimiter = ',')]
    hc_vault_transit: Vec<String>,
    /// Encrypt only values whose key matches this regex.
    #[arg(long)]
    encrypted_regex: Option<String>,
    /// Leave values whose key matches this regex in plaintext.
    #[arg(long)]
    unencrypted_regex: Option<String>,
    /// Encrypt only values whose key ends with this suffix.
    #[arg(long)]
    encrypted_suffix: Option<String>,
    /// Leave values whose key ends with this suffix in plaintext (default _unencrypted).
    #[arg(long)]
    unencrypted_suffix: Option<String>,
    /// Encrypt only values after a comment matching this regex.
    #[arg(long)]
    encrypted_comment_regex: Option<String>,
    /// Leave values after a comment matching this regex in plaintext.
    #[arg(long)]
    unencrypted_comment_regex: Option<String>,
    /// Compute the MAC over encrypted values only.
    #[arg(long)]
    mac_only_encrypted: bool,
    /// Number of key groups needed to decrypt.
    #[arg(long)]
    shamir_secret_sharing_threshold: Option<usize>,
    /// Path of the .sops.yaml to use (default: searched from the current directory up).
    #[arg(long)]
    config: Option<PathBuf>,
    /// Replace the file with its encrypted form instead of printing it.
    #[arg(short = 'i', long)]
    in_place: bool,
    /// The plaintext file, or - for stdin.
    file: PathBuf,
}

fn load_config(flag: Option<&Path>) -> Result<Option<Config>> {
    let path = match flag {
        Some(p) => Some(p.to_path_buf()),
        None => config::find(&std::env::current_dir().context("current directory")?),
    };
    path.map(|p| Config::load(&p)).transpose().map_err(Into::into)
}

fn flag_rules(a: &EncryptArgs) -> Rules {
    let s = |o: &Option<String>| o.clone().unwrap_or_default();
    Rules {
        unencrypted_suffix: s(&a.unencrypted_suffix),
        encrypted_suffix: s(&a.encrypted_suffix),
        unencrypted_regex: s(&a.unencrypted_regex),
        encrypted_regex: s(&a.encrypted_regex),
        unencrypted_comment_regex: s(&a.unencrypted_comment_regex),
        encrypted_comment_regex: s(&a.encrypted_comment_regex),
    }
}

/// The one key group the recipient flags name (KMS, Vault, then age, as sops orders them).
fn flag_group(a: &EncryptArgs) -> Result<Vec<MasterKey>> {
    let context = match &a.encryption_context {
        Some(c) => awskms::parse_context(c).map_err(|e| anyhow!(e))?,
        None => Default::default(),
    };
    let profile = a.aws_profile.clone().unwrap_or_default();
    let mut group = Vec::new();
    for arn in &a.kms {
        group.push(awskms::master_key(arn, &context, &profile).map_err(|e| anyhow!(e))?);
    }
    for uri in &a.hc_vault_transit {
        group.push(vault::master_key(uri).map_err(|e| anyhow!(e))?);
    }
    group.extend(age_group(&a.age)?);
    Ok(group)
}

fn age_group(recipients: &[String]) -> Result<Vec<MasterKey>> {
    recipients
        .iter()
        .map(|r| agekeys::master_key(r).map_err(Into::into))
        .collect()
}

/// `sealer encrypt`.
pub async fn encrypt(a: EncryptArgs) -> Result<()> {
    let (bytes, name) = read_input(&a.file)?;
    let format = input_format(&a.file, a.input_type);
    let out_format = a.output_type.unwrap_or(format);
    let flag_rules = flag_rules(&a);
    let recipients_from_flags = !a.age.is_empty() || !a.kms.is_empty() || !a.hc_vault_transit.is_empty();
    let rule: Option<CreationRule> = if recipients_from_flags {
        None
    } else {
        match load_config(a.config.as_deref())? {
            Some(cfg) => Some(cfg.rule_for(&a.file)?),
            None => None,
        }
    };
    let opts = match rule {
        Some(rule) => EncryptOptions {
            key_groups: rule.key_groups,
            shamir_threshold: a.shamir_secret_sharing_threshold.unwrap_or(rule.shamir_threshold),
            // Rule flags on the command line win over the config, as in sops.
            rules: if flag_rules == Rules::default() {
                rule.rules
            } else {
                flag_rules
            },
            mac_only_encrypted: a.mac_only_encrypted || rule.mac_only_encrypted,
        },
        None => EncryptOptions {
            key_groups: if recipients_from_flags {
                vec![flag_group(&a)?]
            } else {
                Vec::new()
            },
            shamir_threshold: a.shamir_secret_sharing_threshold.unwrap_or(0),
            rules: flag_rules,
            mac_only_encrypted: a.mac_only_encrypted,
        },
    };
    let docs = format.load_plain(&bytes).map_err(|reason| sops::Error {
        file: name.clone(),
        kind: ErrorKind::Parse { format, reason },
    })?;
    let keyring = keys::keyring(&[], None)?;
    let out = sops::encrypt(&name, docs, out_format, opts, &keyring).await?;
    if a.in_place {
        if a.file == Path::new("-") {
            bail!("--in-place needs a file, not stdin");
        }
        write_in_place(&a.file, &out)
    } else {
        write_stdout(&out)
    }
}

/// Arguments of `sealer updatekeys`.
#[derive(Args)]
pub struct UpdateKeysArgs {
    /// An age identity file (may be repeated).
    #[arg(long)]
    age_key_file: Vec<PathBuf>,
    /// Path of the .sops.yaml to use.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Accepted for sops compatibility; sealer never prompts.
    #[arg(short = 'y', long)]
    yes: bool,
    /// Format of the file (default: from the extension).
    #[arg(long, value_parser = parse_format)]
    input_type: Option<Format>,
    /// The encrypted file (updated in place).
    file: PathBuf,
}

fn describe(groups: &[Vec<MasterKey>]) -> Vec<String> {
    let mut v = config::ids(groups, KeyKind::Age);
    v.sort();
    v
}

/// `sealer updatekeys`.
pub async fn updatekeys(a: UpdateKeysArgs) -> Result<()> {
    let _ = a.yes;
    let (bytes, name) = read_input(&a.file)?;
    let format = input_format(&a.file, a.input_type);
    let cfg = load_config(a.config.as_deref())?.ok_or_else(|| anyhow!("{name}: no .sops.yaml found"))?;
    let rule = cfg.rule_for(&a.file)?;
    let keyring = keys::keyring(&a.age_key_file, None)?;
    let mut plain = sops::decrypt(&name, &bytes, format, &keyring).await?;
    let before = describe(&plain.metadata.key_groups);
    let after = describe(&rule.key_groups);
    if before == after
        && plain.metadata.key_groups.len() == rule.key_groups.len()
        && plain.metadata.shamir_threshold == rule.shamir_threshold
    {
        eprintln!("{name}: already up to date");
        return Ok(());
    }
    for r in after.iter().filter(|r| !before.contains(r)) {
        eprintln!("{name}: + age {r}");
    }
    for r in before.iter().filter(|r| !after.contains(r)) {
        eprintln!("{name}: - age {r}");
    }
    let out = plain
        .update_keys(rule.key_groups, rule.shamir_threshold, &keyring)
        .await?;
    write_in_place(&a.file, &out)
}

/// Arguments of `sealer rotate`.
#[derive(Args)]
pub struct RotateArgs {
    /// An age identity file (may be repeated).
    #[arg(long)]
    age_key_file: Vec<PathBuf>,
    /// Add these age recipients (comma-separated) to the first key group.
    #[arg(long, value_delimiter = ',')]
    add_age: Vec<String>,
    /// Remove these age recipients (comma-separated).
    #[arg(long, value_delimiter = ',')]
    rm_age: Vec<String>,
    /// Format of the file (default: from the extension).
    #[arg(long, value_parser = parse_format)]
    input_type: Option<Format>,
    /// Write the result back to the file instead of printing it.
    #[arg(short = 'i', long)]
    in_place: bool,
    /// The encrypted file.
    file: PathBuf,
}

/// `sealer rotate`: a new data key, every value re-encrypted.
pub async fn rotate(a: RotateArgs) -> Result<()> {
    let (bytes, name) = read_input(&a.file)?;
    let format = input_format(&a.file, a.input_type);
    let keyring = keys::keyring(&a.age_key_file, None)?;
    let mut plain = sops::decrypt(&name, &bytes, format, &keyring).await?;
    if !a.add_age.is_empty() || !a.rm_age.is_empty() {
        let mut groups = plain.metadata.key_groups.clone();
        for g in &mut groups {
            g.retain(|k| !(k.kind == KeyKind::Age && a.rm_age.iter().any(|r| r.trim() == k.get("recipient"))));
        }
        if let Some(first) = groups.first_mut() {
            first.extend(age_group(&a.add_age)?);
        }
        groups.retain(|g| !g.is_empty());
        plain.metadata.key_groups = groups;
    }
    let out = plain.rotate(&keyring).await?;
    if a.in_place {
        write_in_place(&a.file, &out)
    } else {
        write_stdout(&out)
    }
}
