//! Test support for Sigil's integration tests: finding the real peers (`sops`, `age`), the
//! shared vectors, and making keys with the reference tools.
//!
//! A missing peer skips the test with a message locally, and fails it under CI (`CI=true`),
//! where `.ci/run` installs every peer.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub mod servers;

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ sits in the workspace")
        .to_path_buf()
}

/// Whether this runs in CI (missing peers then fail instead of skipping).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// Locates a peer program on PATH or in the project's `.peers/bin`.
pub fn peer(name: &str) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.push(workspace_root().join(".peers").join("bin"));
    let found = dirs.into_iter().map(|d| d.join(name)).find(|p| p.is_file());
    if found.is_none() {
        if in_ci() {
            panic!("peer `{name}` is not installed (tools/peers/setup.sh installs it)");
        }
        eprintln!("SKIPPED: peer `{name}` is not installed; run tools/peers/setup.sh");
    }
    found
}

/// `../shared/vectors`, when present (tests that read it skip, saying so, otherwise).
pub fn shared_vectors() -> Option<PathBuf> {
    let dir = workspace_root().join("..").join("shared").join("vectors");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("SKIPPED: ../shared/vectors is absent; vector tests need it");
        None
    }
}

/// The real `sops`, with its update check off and a clean key environment.
pub struct Sops {
    bin: PathBuf,
}

impl Sops {
    /// Finds `sops` (see [`peer`]).
    pub fn find() -> Option<Self> {
        peer("sops").map(|bin| Sops { bin })
    }

    /// A command running sops with `SOPS_AGE_KEY_FILE` set to `key_file`.
    pub fn cmd(&self, key_file: Option<&Path>) -> Command {
        let mut c = Command::new(&self.bin);
        c.arg("--disable-version-check");
        c.env_remove("SOPS_AGE_KEY")
            .env_remove("SOPS_AGE_KEY_FILE")
            .env("HOME", std::env::temp_dir().join("sigil-no-home"));
        if let Some(k) = key_file {
            c.env("SOPS_AGE_KEY_FILE", k);
        }
        c
    }

    /// `sops -d FILE` (extra args before the file), returning the raw output.
    pub fn decrypt(&self, key_file: &Path, file: &Path, extra: &[&str]) -> Output {
        self.cmd(Some(key_file))
            .arg("-d")
            .args(extra)
            .arg(file)
            .output()
            .expect("run sops")
    }

    /// `sops -e` with the given args, in `dir` (so `.sops.yaml` is found there).
    pub fn encrypt(&self, dir: &Path, args: &[&str]) -> Output {
        self.cmd(None)
            .current_dir(dir)
            .arg("-e")
            .args(args)
            .output()
            .expect("run sops")
    }
}

/// An age identity made by the reference `age-keygen`.
pub struct AgeIdentity {
    /// The key file.
    pub key_file: PathBuf,
    /// Its recipient (`age1...`).
    pub recipient: String,
}

/// Makes an age identity in `dir` with the real `age-keygen`.
pub fn age_keygen(dir: &Path, name: &str) -> Option<AgeIdentity> {
    let bin = peer("age-keygen")?;
    let key_file = dir.join(format!("{name}.agekey"));
    let out = Command::new(bin)
        .arg("-o")
        .arg(&key_file)
        .output()
        .expect("run age-keygen");
    assert!(
        out.status.success(),
        "age-keygen failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&key_file).expect("read key");
    let recipient = text
        .lines()
        .find_map(|l| l.strip_prefix("# public key: "))
        .expect("age-keygen writes the public key")
        .to_string();
    Some(AgeIdentity { key_file, recipient })
}

/// Asserts a command succeeded, showing its stderr otherwise.
pub fn ok(out: &Output, what: &str) -> Vec<u8> {
    assert!(
        out.status.success(),
        "{what} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout.clone()
}

/// The peers' Python (with `cryptography`, `kubesealpy` and `ss_hybrid` importable): the one
/// in `.peers/bin` (or `$PEERS_PREFIX/bin`), never an unrelated system Python.
pub fn python() -> Option<PathBuf> {
    let prefix = std::env::var_os("PEERS_PREFIX")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join(".peers"));
    let p = prefix.join("bin").join("python");
    if p.is_file() {
        return Some(p);
    }
    if in_ci() {
        panic!(
            "the peers' python is not installed at {} (tools/peers/setup.sh installs it)",
            p.display()
        );
    }
    eprintln!("SKIPPED: the peers' python is not installed; run tools/peers/setup.sh");
    None
}

/// Runs a Python snippet with the peers' Python; `args` become `sys.argv[1:]`.
pub fn run_python(py: &Path, code: &str, args: &[&str]) -> Output {
    Command::new(py)
        .arg("-c")
        .arg(code)
        .args(args)
        .output()
        .expect("run python")
}
