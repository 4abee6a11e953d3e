//! Test support for Sigil's integration tests: finding the real peers (`sops`, `age`), the
//! shared vectors, and making keys with the reference tools.
//!
//! A missing peer skips the test with a message locally, and fails it under CI (`CI=true`),
//! where `.ci/run` installs every peer.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub mod servers;

/// The workspace root.
///
/// Read at run time from `CARGO_MANIFEST_DIR` (cargo sets it for the test being run; every
/// crate sits one level below the root), so a build shared between two clones through one
/// target directory never points into the other clone; the compile-time value is the fallback.
pub fn workspace_root() -> PathBuf {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .filter(|d| d.join("Cargo.toml").is_file())
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    manifest
        .parent()
        .expect("every crate sits in the workspace")
        .to_path_buf()
}

/// Whether this runs in CI (missing peers then fail instead of skipping).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// Skips the calling test because `reason` (a missing peer, server or shared directory): the
/// test must return right after. Under CI this panics instead — CI installs and starts every
/// peer, so a skip there would hide a test that never ran. Outside CI it says so on stderr and,
/// when `SIGIL_SKIP_LOG` names a file (as `tools/test.sh` sets it), appends a line
/// `<test binary> <test>` TAB `<reason>` there, so the totals count the test as skipped, not passed.
pub fn skip(reason: &str) {
    if in_ci() {
        panic!("under CI nothing is skipped, and this test would have been: {reason}");
    }
    eprintln!("SKIPPED: {reason}");
    let Some(log) = std::env::var_os("SIGIL_SKIP_LOG") else {
        return;
    };
    let binary = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .map(|s| s.rsplit_once('-').map_or(s.clone(), |(name, _hash)| name.to_string()))
        .unwrap_or_default();
    let thread = std::thread::current();
    let test = thread.name().unwrap_or("?");
    let line = format!("{binary} {test}\t{}\n", reason.replace(['\n', '\t'], " "));
    use std::io::Write;
    // One small O_APPEND write per skip: lines from parallel tests do not interleave.
    if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(log) {
        let _ = f.write_all(line.as_bytes());
    }
}

/// The kubeconfig of the real cluster the cluster tests run against (`SIGIL_TEST_KUBECONFIG`;
/// `tools/test.sh` starts `../shared/kube` and sets it when that directory is present), or a
/// skip (a failure under CI).
pub fn kubeconfig() -> Option<PathBuf> {
    match std::env::var_os("SIGIL_TEST_KUBECONFIG").filter(|v| !v.is_empty()) {
        Some(p) => Some(PathBuf::from(p)),
        None => {
            skip(
                "SIGIL_TEST_KUBECONFIG is not set: no Kubernetes API server to test against (tools/test.sh starts ../shared/kube when it is present)",
            );
            None
        }
    }
}

/// `../shared/<name>` (the team's shared material), when present; otherwise a skip (a failure
/// under CI).
pub fn shared_dir(name: &str) -> Option<PathBuf> {
    let dir = workspace_root().join("..").join("shared").join(name);
    if dir.is_dir() {
        Some(dir)
    } else {
        skip(&format!("../shared/{name} is absent"));
        None
    }
}

/// Whether the program `name` is on PATH; a skip (a failure under CI) when not. `hint` says
/// where it comes from.
pub fn have_program(name: &str, hint: &str) -> bool {
    let found = std::env::var_os("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(name).is_file()))
        || Path::new(name).is_absolute() && Path::new(name).is_file();
    if !found {
        skip(&format!("{name} is not installed ({hint})"));
    }
    found
}

/// Locates a peer program on PATH or in the project's `.peers/bin`.
pub fn peer(name: &str) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.push(workspace_root().join(".peers").join("bin"));
    let found = dirs.into_iter().map(|d| d.join(name)).find(|p| p.is_file());
    if found.is_none() {
        skip(&format!(
            "peer `{name}` is not installed (tools/peers/setup.sh installs it)"
        ));
    }
    found
}

/// `../shared/vectors`, when present (tests that read it skip, saying so, otherwise).
pub fn shared_vectors() -> Option<PathBuf> {
    shared_dir("vectors")
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
    skip(&format!(
        "the peers' python is not installed at {} (tools/peers/setup.sh installs it)",
        p.display()
    ));
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
