//! The sealed-secrets subcommands: seal, unseal, re-encrypt, keygen, cert.
//!
//! Output is kubeseal-compatible `bitnami.com/v1alpha1 SealedSecret`s.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use clap::{Args, ValueEnum};
use sigil_crds::manifest;
use sigil_crds::sealedsecret::{self, SealedSecret};
use sigil_crds::secret::Secret;
use sigil_crypto::sealed::keys::{self as sealkeys, SealingKey};
use sigil_crypto::sealed::{PublicCert, Scope};
use zeroize::Zeroizing;

use crate::io::{read_input, write_in_place, write_stdout};

/// Output formats of sealed objects.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum Output {
    /// YAML (kubectl style).
    Yaml,
    /// JSON.
    Json,
}

fn parse_scope(s: &str) -> Result<Scope, String> {
    s.parse()
}

async fn http_get(url: &str) -> Result<String> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .build()
        .context("building the HTTP client")?;
    let resp = client
        .get(url)
        .send()
        .await
        .with_context(|| format!("fetching {url}"))?;
    if !resp.status().is_success() {
        bail!("fetching {url}: HTTP {}", resp.status());
    }
    resp.text().await.with_context(|| format!("reading {url}"))
}

/// Loads a certificate from a file or an `http(s)://` URL.
async fn load_cert(cert: &str) -> Result<PublicCert> {
    let pem = if cert.starts_with("http://") || cert.starts_with("https://") {
        http_get(cert).await?
    } else {
        std::fs::read_to_string(cert).with_context(|| format!("{cert}: cannot read certificate"))?
    };
    Ok(PublicCert::parse(&pem, cert)?)
}

fn load_keys(paths: &[PathBuf]) -> Result<Vec<SealingKey>> {
    let mut keys = Vec::new();
    for p in paths {
        let bytes = Zeroizing::new(std::fs::read(p).with_context(|| format!("{}: cannot read", p.display()))?);
        keys.extend(sealkeys::load_private_keys(&bytes, &p.display().to_string())?);
    }
    sealkeys::sort_newest_first(&mut keys);
    if keys.is_empty() {
        bail!("no --recovery-private-key given");
    }
    Ok(keys)
}

fn render(objects: &[serde_json::Value], out: Output) -> String {
    match out {
        Output::Yaml => manifest::to_yaml(objects),
        Output::Json => objects.iter().map(manifest::to_json).collect(),
    }
}

/// Documents of a manifest file, with `List`s flattened.
fn objects(bytes: &[u8], name: &str) -> Result<Vec<serde_json::Value>> {
    let docs = manifest::load(bytes).map_err(|e| anyhow!("{name}: cannot parse: {e}"))?;
    let mut out = Vec::new();
    for d in docs {
        if d.get("kind")
            .and_then(|k| k.as_str())
            .is_some_and(|k| k.ends_with("List"))
        {
            out.extend(d.get("items").and_then(|i| i.as_array()).cloned().unwrap_or_default());
        } else {
            out.push(d);
        }
    }
    Ok(out)
}

/// Arguments of `sealer seal`.
#[derive(Args)]
pub struct SealArgs {
    /// The sealing certificate: a PEM file or an http(s) URL (e.g. the agent's /v1/cert.pem).
    #[arg(long)]
    cert: String,
    /// Scope: strict (name+namespace), namespace-wide or cluster-wide (default: from the
    /// Secret's annotations, else strict).
    #[arg(long, value_parser = parse_scope)]
    scope: Option<Scope>,
    /// Output format.
    #[arg(short = 'o', long = "format", value_enum, default_value = "yaml")]
    output: Output,
    /// Update this SealedSecret file in place with the Secret's keys (others are kept).
    #[arg(long)]
    merge_into: Option<PathBuf>,
    /// Seal one raw value (stdin or --from-file) and print its base64 ciphertext.
    #[arg(long)]
    raw: bool,
    /// With --raw: the Secret name the value is bound to (strict scope).
    #[arg(long)]
    name: Option<String>,
    /// With --raw: the namespace the value is bound to.
    #[arg(long)]
    namespace: Option<String>,
    /// With --raw: read the value from this file instead of stdin.
    #[arg(long)]
    from_file: Option<PathBuf>,
    /// The Secret (YAML or JSON), or - for stdin.
    #[arg(default_value = "-")]
    file: PathBuf,
}

/// `sealer seal`.
pub async fn seal(a: SealArgs) -> Result<()> {
    let cert = load_cert(&a.cert).await?;
    if a.raw {
        let scope = a.scope.unwrap_or_default();
        let ns = a.namespace.clone().unwrap_or_default();
        let name = a.name.clone().unwrap_or_default();
        if scope != Scope::ClusterWide && ns.is_empty() {
            bail!("--raw with scope {scope} needs --namespace");
        }
        if scope == Scope::Strict && name.is_empty() {
            bail!("--raw with strict scope needs --name");
        }
        let (value, _) = read_input(a.from_file.as_deref().unwrap_or(Path::new("-")))?;
        let out = sealedsecret::seal_raw(&value, &cert, scope, &ns, &name)?;
        return write_stdout(out.as_bytes());
    }
    let (bytes, name) = read_input(&a.file)?;
    let objs = objects(&bytes, &name)?;
    let [obj] = objs.as_slice() else {
        bail!("{name}: expected exactly one Secret, found {} objects", objs.len())
    };
    if obj.get("kind").and_then(|k| k.as_str()) != Some("Secret") {
        bail!("{name}: expected a Secret");
    }
    let secret: Secret = serde_json::from_value(obj.clone()).map_err(|e| anyhow!("{name}: invalid Secret: {e}"))?;
    drop(objs);
    if let Some(target) = &a.merge_into {
        let (existing, tname) = read_input(target)?;
        let is_json = existing.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
        let mut docs = objects(&existing, &tname)?;
        let [doc] = docs.as_mut_slice() else {
            bail!("{tname}: expected exactly one SealedSecret")
        };
        let mut ss = SealedSecret::from_value(doc.clone()).map_err(|e| anyhow!("{tname}: {e}"))?;
        sealedsecret::merge(&mut ss, &secret, &cert)?;
        let v = serde_json::to_value(&ss)?;
        let text = render(&[v], if is_json { Output::Json } else { Output::Yaml });
        write_in_place(target, text.as_bytes())?;
        return Ok(());
    }
    let scope = a
        .scope
        .unwrap_or_else(|| Scope::from_annotations(|k| secret.metadata.annotations.get(k).map(String::as_str)));
    let ss = sealedsecret::seal(&secret, &cert, scope).map_err(|e| anyhow!("{name}: {e}"))?;
    write_stdout(render(&[serde_json::to_value(&ss)?], a.output).as_bytes())
}

/// Arguments of `sealer unseal`.
#[derive(Args)]
pub struct UnsealArgs {
    /// Private keys: PEM files or key Secret/List manifests (comma-separated or repeated).
    #[arg(long, value_delimiter = ',', required = true)]
    recovery_private_key: Vec<PathBuf>,
    /// Output format.
    #[arg(short = 'o', long = "format", value_enum, default_value = "yaml")]
    output: Output,
    /// SealedSecrets (YAML stream, List, or JSON), or - for stdin.
    #[arg(default_value = "-")]
    file: PathBuf,
}

/// `sealer unseal`: offline recovery, SealedSecrets in, Secrets out.
pub async fn unseal(a: UnsealArgs) -> Result<()> {
    let keys = load_keys(&a.recovery_private_key)?;
    let (bytes, name) = read_input(&a.file)?;
    let mut out = Vec::new();
    for obj in objects(&bytes, &name)? {
        let ss = SealedSecret::from_value(obj).map_err(|e| anyhow!("{name}: {e}"))?;
        let (secret, used) = ss.unseal(&keys, None).map_err(|e| anyhow!("{name}: {e}"))?;
        for (k, fp) in &used {
            tracing::info!(object = %secret.metadata.id(), key = %k, fingerprint = %fp, "unsealed");
        }
        out.push(serde_json::to_value(&secret)?);
    }
    let text = Zeroizing::new(render(&out, a.output));
    write_stdout(text.as_bytes())
}

/// Arguments of `sealer re-encrypt`.
#[derive(Args)]
pub struct ReencryptArgs {
    /// The old private keys (PEM or key Secret/List manifests).
    #[arg(long, value_delimiter = ',', required = true)]
    recovery_private_key: Vec<PathBuf>,
    /// The new certificate (file or URL).
    #[arg(long)]
    cert: String,
    /// Replace the file instead of printing.
    #[arg(short = 'i', long)]
    in_place: bool,
    /// Output format (default: as the input).
    #[arg(short = 'o', long = "format", value_enum)]
    output: Option<Output>,
    /// The SealedSecret file.
    file: PathBuf,
}

/// `sealer re-encrypt`: re-seal every value to a new certificate, offline.
pub async fn reencrypt(a: ReencryptArgs) -> Result<()> {
    let keys = load_keys(&a.recovery_private_key)?;
    let cert = load_cert(&a.cert).await?;
    let (bytes, name) = read_input(&a.file)?;
    let is_json = bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
    let mut out = Vec::new();
    for obj in objects(&bytes, &name)? {
        let mut ss = SealedSecret::from_value(obj).map_err(|e| anyhow!("{name}: {e}"))?;
        let label_ns = ss.metadata.namespace.clone();
        let label_name = ss.metadata.name.clone();
        // Open each sealed value (templates stay templates) and seal it again.
        let mut values = Secret::default();
        let mut raw_only = ss.clone();
        raw_only.spec.template.data.clear();
        let (plain, _) = raw_only
            .unseal(&keys, Some((&label_ns, &label_name)))
            .map_err(|e| anyhow!("{name}: {e}"))?;
        values.data = plain.data.clone();
        ss.spec.encrypted_data.clear();
        ss.spec.data = None;
        sealedsecret::merge(&mut ss, &values, &cert)?;
        out.push(serde_json::to_value(&ss)?);
    }
    let format = a.output.unwrap_or(if is_json { Output::Json } else { Output::Yaml });
    let text = render(&out, format);
    if a.in_place {
        write_in_place(&a.file, text.as_bytes())
    } else {
        write_stdout(text.as_bytes())
    }
}

/// Arguments of `sealer keygen`.
#[derive(Args)]
pub struct KeygenArgs {
    /// Where to write tls.key, tls.crt and sealing-key.yaml.
    #[arg(long)]
    out_dir: PathBuf,
    /// RSA key size.
    #[arg(long, default_value_t = sealkeys::KEY_BITS)]
    bits: usize,
    /// Namespace of the key Secret manifest.
    #[arg(long, default_value = "sigil-system")]
    namespace: String,
}

/// `sealer keygen`: an RSA key pair and self-signed certificate, like the Bitnami controller's.
pub async fn keygen(a: KeygenArgs) -> Result<()> {
    if a.bits < 2048 {
        bail!("--bits must be at least 2048");
    }
    std::fs::create_dir_all(&a.out_dir).with_context(|| format!("{}: cannot create", a.out_dir.display()))?;
    let key = SealingKey::generate(a.bits)?;
    let cert = key.self_signed_cert()?;
    let manifest = sealkeys::key_secret_manifest(&key, &cert, &a.namespace)?;
    write_private(&a.out_dir.join("tls.key"), key.to_pem()?.as_bytes())?;
    write_private(&a.out_dir.join("sealing-key.yaml"), manifest.as_bytes())?;
    std::fs::write(a.out_dir.join("tls.crt"), &cert).context("writing tls.crt")?;
    eprintln!(
        "sealer: wrote {}/tls.key, tls.crt, sealing-key.yaml (fingerprint {})",
        a.out_dir.display(),
        key.fingerprint
    );
    Ok(())
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    opts.mode(0o600);
    let mut f = opts
        .open(path)
        .with_context(|| format!("{}: cannot write", path.display()))?;
    f.write_all(bytes)
        .with_context(|| format!("{}: cannot write", path.display()))
}

/// Arguments of `sealer cert`.
#[derive(Args)]
pub struct CertArgs {
    /// The agent's certificate URL, e.g. http://sigil-agent.sigil-system:8080/v1/cert.pem.
    #[arg(long)]
    url: String,
}

/// `sealer cert`: fetch and check the agent's certificate.
pub async fn cert(a: CertArgs) -> Result<()> {
    let pem = http_get(&a.url).await?;
    let cert = PublicCert::parse(&pem, &a.url)?;
    eprintln!("sealer: certificate {} (expires {})", cert.fingerprint, cert.not_after);
    write_stdout(pem.as_bytes())
}
