//! `sigil-agent`: the GitOps agent's command line. `render` builds a directory exactly as the
//! agent will (SOPS files decrypted and verified as they are read, SealedSecrets unsealed)
//! and prints the objects, Secret values redacted unless asked.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use sigil_agent::chart::{ChartRequest, ValuesSource};
use sigil_agent::digest::DigestKey;
use sigil_agent::load::{DirTree, FileTree, Loader};
use sigil_agent::secrets::external::ExternalSecrets;
use sigil_agent::secrets::{Policy, SealedSecrets, SecretResolver};
use sigil_agent::source::verify::AllowedSigners;
use sigil_agent::source::{self, CaBundle, CommitTree, Credentials, FetchOptions, GitRef};
use sigil_agent::vault::VaultKv;
use sigil_agent::{redact, render, secrets};
use sigil_crypto::keys::Keyring;
use sigil_crypto::keys::age::AgeKeys;
use sigil_crypto::keys::awskms::AwsKms;
use sigil_crypto::keys::vault::VaultTransit;
use sigil_crypto::sealed::keys::load_private_keys;
use sigil_render::helm::Release;

/// Sigil's GitOps agent: pulls Git, renders (SOPS and sealed secrets resolved in memory),
/// and applies with server-side apply.
#[derive(Parser)]
#[command(name = "sigil-agent", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Render a directory as the agent would and print the objects as YAML.
    Render(Box<RenderArgs>),
    /// Run the controllers (GitSource, Sync) against a cluster, in or out of it.
    Run(Box<RunArgs>),
    /// Print Sigil's CRDs (GitSource, Sync) as YAML, as deploy/ ships them.
    Crds,
    /// Print the version.
    Version,
}

#[derive(clap::Args)]
struct RunArgs {
    /// Kubeconfig file (default: KUBECONFIG, ~/.kube/config, or the in-cluster account).
    #[arg(long, env = "KUBECONFIG")]
    kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use.
    #[arg(long)]
    context: Option<String>,
    /// The agent's namespace: sealing keys and the leader Lease live there.
    #[arg(long, env = "POD_NAMESPACE", default_value = "sigil-system")]
    namespace: String,
    /// Address of the HTTP port (/v1/cert.pem, /metrics, /healthz, /readyz).
    #[arg(long, default_value = "0.0.0.0:8080")]
    http_addr: String,
    /// Log format.
    #[arg(long, value_parser = ["text", "json"], default_value = "text")]
    log_format: String,
    /// Make a new sealing key when the newest is older than this (Go duration).
    #[arg(long, default_value = "720h")]
    key_renew_period: String,
    /// Sealing-key size in bits.
    #[arg(long, default_value_t = 4096, hide = true)]
    key_bits: usize,
    /// Only reconcile GitSources and Syncs matching this label selector (sharding).
    #[arg(long)]
    watch_label_selector: Option<String>,
    /// Take a Lease before reconciling, so only one replica does.
    #[arg(long)]
    leader_elect: bool,
    /// How long a Lease nobody renews stays valid (Go duration).
    #[arg(long, default_value = "15s")]
    leader_election_lease_duration: String,
    /// How long the leader keeps trying to renew before giving up (shorter than the lease).
    #[arg(long, default_value = "10s")]
    leader_election_renew_deadline: String,
    /// How often candidates try to acquire and the leader renews.
    #[arg(long, default_value = "2s")]
    leader_election_retry_period: String,
    /// Syncs without spec.serviceAccountName apply as this ServiceAccount of their own
    /// namespace (multi-tenant lockdown; deploy/tenant sets it).
    #[arg(long)]
    default_service_account: Option<String>,
    /// Refuse a sourceRef or dependsOn in another namespace than the Sync's.
    #[arg(long)]
    no_cross_namespace_refs: bool,
    /// Allow file:// GitSource URLs (tests and local use; never in a shared cluster).
    #[arg(long)]
    allow_local_sources: bool,
    /// Randomize requeue intervals by ± this percentage (0 to 99).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u8).range(0..100))]
    interval_jitter_percentage: u8,
    /// How soon a Sync whose dependency is not Ready looks again (Go duration).
    #[arg(long, default_value = "30s")]
    requeue_dependency: String,
    /// Memory for cached renders, in MiB.
    #[arg(long, default_value_t = 16)]
    render_cache_mib: usize,
    /// Renders at once (CPU-bound work: decryption, unsealing, kustomize).
    #[arg(long, default_value_t = 2)]
    render_concurrency: usize,
    /// Where fetched repositories are cached (bare repositories: ciphertext only).
    #[arg(long, default_value_os_t = std::env::temp_dir().join("sigil-git"))]
    git_cache_dir: PathBuf,
    /// Reconciles at once, per controller.
    #[arg(long, default_value_t = 10)]
    concurrency: u16,
}

#[derive(clap::Args)]
struct RenderArgs {
    /// The source root on disk (or use --git).
    #[arg(required_unless_present = "git", conflicts_with = "git")]
    dir: Option<PathBuf>,
    /// Read the source from this Git repository (path, file://, git://, http(s)://) instead.
    #[arg(long)]
    git: Option<String>,
    /// With --git: a branch, tag or commit (commit > tag > branch when ambiguous).
    #[arg(long = "ref", requires = "git")]
    git_ref: Option<String>,
    /// With --git: a semver range over tags (e.g. ">=1.0.0, <2.0.0").
    #[arg(long, requires = "git")]
    semver: Option<String>,
    /// With --git: where fetched repositories are cached (bare, ciphertext only).
    #[arg(long, requires = "git")]
    cache_dir: Option<PathBuf>,
    /// With --git: HTTPS user name.
    #[arg(long, requires = "git")]
    username: Option<String>,
    /// With --git: a file holding the HTTPS password or token.
    #[arg(long, requires = "git")]
    password_file: Option<PathBuf>,
    /// With --git: a file holding an HTTPS bearer token (sent as `Authorization: Bearer`).
    #[arg(long, requires = "git")]
    bearer_token_file: Option<PathBuf>,
    /// With --git: a PEM bundle of CA certificates trusted for HTTPS besides the system's.
    #[arg(long, requires = "git")]
    ca_file: Option<PathBuf>,
    /// With --ca-file: trust only those certificates, not the system's.
    #[arg(long, requires = "ca_file")]
    ca_only: bool,
    /// With --git: an (unencrypted) OpenSSH private key for ssh:// URLs.
    #[arg(long, requires = "git")]
    ssh_key_file: Option<PathBuf>,
    /// With --git: the known_hosts file the SSH server's key must be in (required for ssh://).
    #[arg(long, requires = "git")]
    known_hosts_file: Option<PathBuf>,
    /// With --git: refuse the commit unless it is signed by one of these SSH public keys
    /// (authorized_keys or allowed_signers lines).
    #[arg(long, requires = "git")]
    verify_ssh_keys: Option<PathBuf>,
    /// With --git: refuse the commit unless it is signed by a key of this armored OpenPGP keyring.
    #[arg(long, requires = "git")]
    verify_pgp_keyring: Option<PathBuf>,
    /// With --git: give up fetching after this many seconds.
    #[arg(long, requires = "git", default_value_t = 60)]
    timeout: u64,
    /// The path to render, relative to DIR.
    #[arg(long, default_value = ".")]
    path: PathBuf,
    /// Render the Helm chart in this directory (relative to DIR) as `helm template` does:
    /// hooks included, NOTES.txt not, `crds/` only with --include-crds.
    #[arg(long, conflicts_with = "path")]
    chart: Option<PathBuf>,
    /// With --chart: the release name.
    #[arg(long, requires = "chart", default_value = "release-name")]
    release_name: String,
    /// With --chart: the release namespace.
    #[arg(long, requires = "chart", default_value = "default")]
    namespace: String,
    /// With --chart: a values file relative to DIR (SOPS-encrypted ones are decrypted); may be
    /// repeated, later files win.
    #[arg(short = 'f', long = "values", requires = "chart")]
    values: Vec<PathBuf>,
    /// With --chart: set values (`a.b=c,list[0]=x`, Helm's syntax); may be repeated.
    #[arg(long = "set", requires = "chart")]
    set: Vec<String>,
    /// With --chart: `.Release.Revision`.
    #[arg(long, requires = "chart", default_value_t = 1)]
    revision: i64,
    /// With --chart: render as an upgrade (`.Release.IsUpgrade`), not an install.
    #[arg(long, requires = "chart")]
    is_upgrade: bool,
    /// With --chart: print the chart's `crds/` files first.
    #[arg(long, requires = "chart")]
    include_crds: bool,
    /// An age identity file for SOPS files (may be repeated).
    #[arg(long)]
    age_key_file: Vec<PathBuf>,
    /// A sealing private key: PEM, or a key Secret/List manifest (may be repeated).
    #[arg(long)]
    sealing_key: Vec<PathBuf>,
    /// Vault address for SOPS transit keys (default: the address recorded in each file).
    #[arg(long, env = "VAULT_ADDR")]
    vault_addr: Option<String>,
    /// A file holding the Vault token (default: VAULT_TOKEN).
    #[arg(long)]
    vault_token_file: Option<PathBuf>,
    /// Refuse plaintext Secret manifests found in the source.
    #[arg(long)]
    deny_plaintext_secrets: bool,
    /// Print Secret values instead of `<redacted hmac:...>` (an HMAC keyed by the decryption
    /// keys given: comparable between runs with the same keys).
    #[arg(long)]
    show_secrets: bool,
}

async fn run_render(a: RenderArgs) -> Result<()> {
    // The key material in use also keys the redaction digests: comparable between runs for
    // whoever holds these keys, useless to anyone who does not.
    let mut material: Vec<zeroize::Zeroizing<Vec<u8>>> = Vec::new();
    let mut age = AgeKeys::new();
    for f in &a.age_key_file {
        age.add_file(f)?;
        material.push(zeroize::Zeroizing::new(
            std::fs::read(f).with_context(|| format!("{}: cannot read", f.display()))?,
        ));
    }
    let token = match &a.vault_token_file {
        Some(f) => {
            let text = zeroize::Zeroizing::new(
                std::fs::read_to_string(f).with_context(|| format!("{}: cannot read", f.display()))?,
            );
            material.push(zeroize::Zeroizing::new(text.trim().as_bytes().to_vec()));
            Some(secrecy::SecretString::from(text.trim().to_string()))
        }
        None => None,
    };
    let keyring = Keyring::new()
        .with(age)
        .with(AwsKms::from_env())
        .with(VaultTransit::new(token.clone()).address_override(a.vault_addr.clone()));
    let mut sealing = Vec::new();
    for f in &a.sealing_key {
        let bytes = zeroize::Zeroizing::new(std::fs::read(f).with_context(|| format!("{}: cannot read", f.display()))?);
        sealing.extend(load_private_keys(&bytes, &f.display().to_string())?);
        material.push(bytes);
    }
    let digest_key = DigestKey::derive("sigil-agent render", &material).unwrap_or_else(DigestKey::random);
    // ExternalSecrets: the CLI's token and address (or VAULT_TOKEN/VAULT_ADDR) override the
    // stores' auth and server when given.
    let es_token = match &token {
        Some(t) => Some(t.clone()),
        None => std::env::var("VAULT_TOKEN")
            .ok()
            .filter(|t| !t.trim().is_empty())
            .map(|t| secrecy::SecretString::from(t.trim().to_string())),
    };
    let es_addr = a
        .vault_addr
        .clone()
        .or_else(|| std::env::var("VAULT_ADDR").ok().filter(|v| !v.trim().is_empty()));
    let external = ExternalSecrets::new(std::sync::Arc::new(VaultKv::new()), es_token, es_addr);
    let resolvers: Vec<Box<dyn SecretResolver>> = vec![Box::new(SealedSecrets::new(sealing)), Box::new(external)];
    let tree: Box<dyn FileTree> = match (&a.dir, &a.git) {
        (Some(dir), _) => Box::new(DirTree::new(dir)?),
        (None, Some(url)) => Box::new(git_tree(&a, url).await?),
        (None, None) => anyhow::bail!("give a directory or --git URL"),
    };
    let loader = Loader {
        tree: tree.as_ref(),
        keyring: &keyring,
    };
    if let Some(chart) = &a.chart {
        let req = ChartRequest {
            chart: chart.clone(),
            values: a.values.iter().cloned().map(ValuesSource::File).collect(),
            sets: a.set.clone(),
            release: Release {
                name: a.release_name.clone(),
                namespace: a.namespace.clone(),
                revision: a.revision,
                is_install: !a.is_upgrade,
                is_upgrade: a.is_upgrade,
            },
            include_crds: a.include_crds,
        };
        let out = sigil_agent::chart::render(&loader, &req).await?;
        let text = out.template_text(if a.show_secrets { None } else { Some(&digest_key) });
        use std::io::Write;
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(text.as_bytes())?;
        stdout.flush()?;
        return Ok(());
    }
    let objects = render::render(&loader, &a.path).await?;
    let objects = secrets::resolve_all(
        objects,
        &resolvers,
        Policy {
            deny_plaintext_secrets: a.deny_plaintext_secrets,
        },
    )
    .await?;
    let shown: Vec<serde_json::Value> = objects
        .iter()
        .map(|o| {
            if a.show_secrets {
                o.0.clone()
            } else {
                redact::redacted(o, &digest_key).0.clone()
            }
        })
        .collect();
    let text = zeroize::Zeroizing::new(sigil_crds::manifest::to_yaml(&shown));
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// Fetches `url` and returns the tree of the requested revision.
async fn git_tree(a: &RenderArgs, url: &str) -> Result<CommitTree> {
    let cache = a.cache_dir.clone().unwrap_or_else(|| {
        std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir)
            .join("sigil-git")
    });
    let secret = |f: &Option<PathBuf>| -> Result<Option<secrecy::SecretString>> {
        let Some(f) = f else { return Ok(None) };
        let text = zeroize::Zeroizing::new(
            std::fs::read_to_string(f).with_context(|| format!("{}: cannot read", f.display()))?,
        );
        Ok(Some(secrecy::SecretString::from(text.trim().to_string())))
    };
    let public = |f: &PathBuf| std::fs::read(f).with_context(|| format!("{}: cannot read", f.display()));
    let credentials = Credentials {
        username: a.username.clone(),
        password: secret(&a.password_file)?,
        bearer_token: secret(&a.bearer_token_file)?,
        ssh_key: secret(&a.ssh_key_file)?,
        known_hosts: match &a.known_hosts_file {
            Some(f) => Some(String::from_utf8_lossy(&public(f)?).into_owned()),
            None => None,
        },
    };
    let ca = match &a.ca_file {
        Some(f) => {
            Some(CaBundle::from_pem(&public(f)?, a.ca_only).map_err(|e| anyhow::anyhow!("{}: {e}", f.display()))?)
        }
        None => None,
    };
    let opts = FetchOptions {
        credentials,
        ca,
        timeout: std::time::Duration::from_secs(a.timeout),
    };
    let mut signers = AllowedSigners::new();
    if let Some(f) = &a.verify_ssh_keys {
        signers.add_ssh_keys(&String::from_utf8_lossy(&public(f)?), &f.display().to_string())?;
    }
    if let Some(f) = &a.verify_pgp_keyring {
        signers.add_pgp_keyring(&public(f)?, &f.display().to_string())?;
    }
    let (url, git_ref, semver) = (url.to_string(), a.git_ref.clone(), a.semver.clone());
    let tree = tokio::task::spawn_blocking(move || -> Result<CommitTree> {
        let repo = source::fetch(&url, &cache, &opts)?;
        let mut r = GitRef {
            semver,
            ..Default::default()
        };
        if let Some(name) = git_ref {
            let looks_like_sha = name.len() >= 7 && name.len() <= 40 && name.chars().all(|c| c.is_ascii_hexdigit());
            if looks_like_sha {
                r.commit = Some(name);
            } else if repo.find_reference(format!("refs/tags/{name}").as_str()).is_ok() {
                r.tag = Some(name);
            } else {
                r.branch = Some(name);
            }
        } else if r.semver.is_none() {
            r.branch = Some(
                repo.head_name()
                    .ok()
                    .flatten()
                    .map(|n| n.shorten().to_string())
                    .unwrap_or_else(|| "main".into()),
            );
        }
        let rev = source::resolve(&repo, &url, &r)?;
        tracing::info!(revision = %rev.name, "resolved");
        if !signers.is_empty() {
            let signer = signers.verify_commit(&repo, rev.commit)?;
            tracing::info!(format = signer.format, key = %signer.fingerprint, "commit signature verified");
            eprintln!(
                "sigil-agent: {} signed by {} ({})",
                rev.name, signer.fingerprint, signer.format
            );
        }
        eprintln!("sigil-agent: rendering {url} at {}", rev.name);
        Ok(CommitTree::new(repo, rev.commit)?)
    })
    .await??;
    Ok(tree)
}

async fn client_for(a: &RunArgs) -> Result<kube::Client> {
    let options = kube::config::KubeConfigOptions {
        context: a.context.clone(),
        ..Default::default()
    };
    let config = match &a.kubeconfig {
        Some(path) => {
            let kc = kube::config::Kubeconfig::read_from(path)
                .with_context(|| format!("reading kubeconfig {}", path.display()))?;
            kube::Config::from_custom_kubeconfig(kc, &options).await?
        }
        None => kube::Config::infer().await?,
    };
    Ok(kube::Client::try_from(config)?)
}

fn duration_flag(name: &str, value: &str) -> Result<std::time::Duration> {
    sigil_agent::duration::parse(value)
        .filter(|d| !d.is_zero())
        .with_context(|| format!("invalid --{name} {value:?} (a Go duration such as 30s or 1h)"))
}

async fn run_agent(a: RunArgs) -> Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let key_renew = duration_flag("key-renew-period", &a.key_renew_period)?;
    let lease = sigil_agent::controller::lease::Timing {
        lease_duration: duration_flag("leader-election-lease-duration", &a.leader_election_lease_duration)?,
        renew_deadline: duration_flag("leader-election-renew-deadline", &a.leader_election_renew_deadline)?,
        retry_period: duration_flag("leader-election-retry-period", &a.leader_election_retry_period)?,
    };
    lease.validate().map_err(anyhow::Error::msg)?;
    let dependency_requeue = duration_flag("requeue-dependency", &a.requeue_dependency)?;
    let client = client_for(&a).await?;
    let http = std::sync::Arc::new(sigil_agent::http::State::default());
    let listener = tokio::net::TcpListener::bind(&a.http_addr)
        .await
        .with_context(|| format!("binding {}", a.http_addr))?;
    tracing::info!(addr = %listener.local_addr()?, "http port");
    tokio::spawn(sigil_agent::http::serve(listener, std::sync::Arc::clone(&http)));
    let identity = std::env::var("POD_NAME").unwrap_or_else(|_| {
        format!(
            "{}-{}",
            std::env::var("HOSTNAME").unwrap_or_else(|_| "sigil-agent".into()),
            std::process::id()
        )
    });
    let config = sigil_agent::controller::Config {
        namespace: a.namespace,
        git_cache: a.git_cache_dir,
        key_renew,
        key_bits: a.key_bits,
        label_selector: a.watch_label_selector,
        leader_elect: a.leader_elect,
        lease,
        identity,
        concurrency: a.concurrency.max(1),
        render_slots: a.render_concurrency.max(1),
        render_cache_bytes: a.render_cache_mib << 20,
        default_service_account: a.default_service_account,
        no_cross_namespace_refs: a.no_cross_namespace_refs,
        allow_local_sources: a.allow_local_sources,
        jitter_percent: a.interval_jitter_percentage,
        dependency_requeue,
    };
    // Kubernetes stops a pod with SIGTERM; a terminal with SIGINT.
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let shutdown = async move {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        tracing::info!("shutting down");
    };
    sigil_agent::controller::run(client, config, http, shutdown).await?;
    Ok(())
}

fn print_crds() -> Result<()> {
    let docs: Vec<serde_json::Value> = sigil_crds::sigil::crds()
        .iter()
        .map(serde_json::to_value)
        .collect::<Result<_, _>>()?;
    print!("{}", sigil_crds::manifest::to_yaml(&docs));
    Ok(())
}

#[cfg(feature = "heap-profile")]
#[global_allocator]
static ALLOC: dhat::Alloc = dhat::Alloc;

fn main() -> ExitCode {
    #[cfg(feature = "heap-profile")]
    let _profiler = dhat::Profiler::builder()
        .file_name(std::env::var_os("SIGIL_DHAT_FILE").unwrap_or_else(|| "dhat-heap.json".into()))
        .build();
    let cli = Cli::parse();
    let (json, default_level) = match &cli.command {
        Some(Command::Run(a)) => (a.log_format == "json", "info"),
        _ => (false, "warn"),
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("SIGIL_LOG").unwrap_or_else(|_| default_level.into());
    let logs = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(filter);
    if json {
        logs.json().init();
    } else {
        logs.init();
    }
    let result = match cli.command {
        Some(Command::Version) => {
            println!("sigil-agent {}", env!("CARGO_PKG_VERSION"));
            Ok(())
        }
        Some(Command::Crds) => print_crds(),
        Some(Command::Run(a)) => match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
            Ok(rt) => rt.block_on(run_agent(*a)),
            Err(e) => Err(e.into()),
        },
        Some(Command::Render(a)) => match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
            Ok(rt) => rt.block_on(run_render(*a)),
            Err(e) => Err(e.into()),
        },
        None => {
            use clap::CommandFactory;
            let _ = Cli::command().print_help();
            println!();
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sigil-agent: {e:#}");
            ExitCode::from(1)
        }
    }
}
