//! `sigil-agent render --git`: real repositories made with the `git` CLI, served from the
//! file system, by `git daemon`, by `git http-backend` behind a loopback HTTP(S) server with
//! basic or bearer auth, and by a real `sshd`; commits signed by `ssh-keygen` and `gpg`.
//! Servers bind 127.0.0.1 on free ports and are killed by PID at the end.

mod https;
mod signatures;
mod ssh;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use sigil_tests::{ok, servers::free_port};

struct Kill(Child);

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "user.email=t@example.invalid",
            "-c",
            "user.name=test",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn commit_file(repo: &Path, rel: &str, name: &str, msg: &str) {
    let p = repo.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(
        &p,
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n"),
    )
    .unwrap();
    git(repo, &["add", "."]);
    git(repo, &["commit", "-qm", msg]);
}

/// A repository with two commits on main (tags v1.0.0, v1.1.0) and a branch `next`.
fn make_repo(root: &Path) -> PathBuf {
    let repo = root.join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q"]);
    commit_file(&repo, "apps/one.yaml", "one", "one");
    git(&repo, &["tag", "v1.0.0"]);
    commit_file(&repo, "apps/two.yaml", "two", "two");
    git(&repo, &["tag", "-a", "v1.1.0", "-m", "annotated"]);
    git(&repo, &["checkout", "-q", "-b", "next"]);
    commit_file(&repo, "apps/three.yaml", "three", "three");
    git(&repo, &["checkout", "-q", "main"]);
    repo
}

fn render(url: &str, cache: &Path, extra: &[&str]) -> Output {
    render_env(url, cache, extra, &[])
}

fn render_env(url: &str, cache: &Path, extra: &[&str], env: &[(&str, &std::ffi::OsStr)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sigil-agent"))
        .args(["render", "--git", url, "--cache-dir"])
        .arg(cache)
        .args(["--path", "apps"])
        .args(extra)
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

fn names(out: &Output) -> Vec<String> {
    let text = String::from_utf8(ok(out, "render")).unwrap();
    sigil_crds::manifest::load(text.as_bytes())
        .unwrap()
        .iter()
        .map(|o| o["metadata"]["name"].as_str().unwrap().to_string())
        .collect()
}

fn rev(repo: &Path, r: &str) -> String {
    let out = Command::new("git")
        .current_dir(repo)
        .args(["rev-parse", r])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn local_and_file_urls_resolve_refs_like_flux() {
    let dir = tempfile::tempdir().unwrap();
    let repo = make_repo(dir.path());
    let cache = dir.path().join("cache");
    for url in [repo.display().to_string(), format!("file://{}", repo.display())] {
        assert_eq!(names(&render(&url, &cache, &["--ref", "main"])), ["one", "two"]);
        assert_eq!(
            names(&render(&url, &cache, &["--ref", "next"])),
            ["one", "three", "two"]
        );
        assert_eq!(names(&render(&url, &cache, &["--ref", "v1.0.0"])), ["one"]);
        assert_eq!(names(&render(&url, &cache, &["--semver", ">=1.0.0, <1.1.0"])), ["one"]);
        assert_eq!(names(&render(&url, &cache, &["--semver", "^1"])), ["one", "two"]);
        let first = rev(&repo, "v1.0.0^{commit}");
        let out = render(&url, &cache, &["--ref", &first[..10]]);
        assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("sha1:{first}")));
        assert_eq!(names(&out), ["one"]);
    }
    // A new commit arrives through an incremental fetch into the same cache.
    commit_file(&repo, "apps/four.yaml", "four", "four");
    let out = render(&repo.display().to_string(), &cache, &["--ref", "main"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("main@sha1:{}", rev(&repo, "main"))));
    assert_eq!(names(&out), ["four", "one", "two"]);
    // Unknown refs and ranges are clear errors.
    let out = render(&repo.display().to_string(), &cache, &["--semver", ">=9"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("no tag matches semver range"));
    let out = render(&repo.display().to_string(), &cache, &["--ref", "nope"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("refs/heads/nope not found"));
    // No work tree is written: the cache holds a bare repository only.
    for e in std::fs::read_dir(&cache).unwrap() {
        let d = e.unwrap().path();
        assert!(d.join("HEAD").is_file() && !d.join("apps").exists());
    }
}

#[test]
fn git_daemon() {
    let dir = tempfile::tempdir().unwrap();
    make_repo(dir.path());
    let port = free_port();
    // Run git-daemon itself (not the `git daemon` wrapper, whose child would outlive a kill).
    let exec_path = Command::new("git").arg("--exec-path").output().unwrap();
    let daemon = PathBuf::from(String::from_utf8(exec_path.stdout).unwrap().trim()).join("git-daemon");
    let child = Command::new(daemon)
        .args(["--reuseaddr", "--export-all", "--listen=127.0.0.1"])
        .arg(format!("--port={port}"))
        .arg(format!("--base-path={}", dir.path().display()))
        .arg(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let Ok(child) = child else {
        sigil_tests::skip("git daemon is not available");
        return;
    };
    let _daemon = Kill(child);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(std::time::Instant::now() < deadline, "git daemon did not start");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let url = format!("git://127.0.0.1:{port}/repo");
    assert_eq!(
        names(&render(&url, &dir.path().join("cache"), &["--ref", "v1.1.0"])),
        ["one", "two"]
    );
}

fn http_server(root: &Path, mode: &str) -> Option<(sigil_tests::servers::Server, String)> {
    let server = sigil_tests::servers::git_http(root, mode, &[])?;
    let url = format!("{}/repo", server.url);
    Some((server, url))
}

/// Starts the server with `extra` arguments (token, certificate, key); returns its port.
fn start_http_server(
    root: &Path,
    mode: &str,
    extra: &[&std::ffi::OsStr],
) -> Option<(sigil_tests::servers::Server, u16)> {
    let server = sigil_tests::servers::git_http(root, mode, extra)?;
    let port = server
        .url
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("a port");
    Some((server, port))
}

/// The stderr of a failed run (panics if it succeeded).
fn failure(out: &Output) -> String {
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!out.status.success(), "expected a failure; stderr: {err}");
    err
}

/// True when `program` runs (`program args` exits at all).
fn have(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

#[test]
fn smart_http_and_its_auth_rules() {
    let dir = tempfile::tempdir().unwrap();
    make_repo(dir.path());
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "s3cret-Canary-pw\n").unwrap();
    // Anonymous smart HTTP.
    let Some((_open, url)) = http_server(dir.path(), "open") else {
        return;
    };
    assert_eq!(
        names(&render(&url, &dir.path().join("c1"), &["--ref", "main"])),
        ["one", "two"]
    );
    // A server that wants credentials: none given is a clear error; given over plain http,
    // they are refused rather than sent in clear text (HTTPS carries them).
    let Some((_auth, url)) = http_server(dir.path(), "auth") else {
        return;
    };
    let out = render(&url, &dir.path().join("c2"), &["--ref", "main"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains(&format!("fetching {url}")) && err.contains("credentials"),
        "{err}"
    );
    let out = render(
        &url,
        &dir.path().join("c3"),
        &[
            "--ref",
            "main",
            "--username",
            "user",
            "--password-file",
            pw.to_str().unwrap(),
        ],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("clear text"), "{err}");
    assert!(!err.contains("s3cret-Canary-pw"), "{err}");
}
