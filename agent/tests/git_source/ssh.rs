//! `ssh://` against a real OpenSSH `sshd` started here on a free 127.0.0.1 port, as the current
//! user, with its own host key and one authorized key; killed by PID when the test ends.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use sigil_tests::servers::free_port;

use super::{Kill, failure, make_repo, names};

const SSHD: &str = "/usr/sbin/sshd";

fn keygen(dir: &Path, name: &str) -> PathBuf {
    let key = dir.join(name);
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ssh-keygen: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    key
}

/// `known_hosts` naming 127.0.0.1:port with the public half of `host_key`.
fn known_hosts(dir: &Path, name: &str, port: u16, host_key: &Path) -> PathBuf {
    let public = std::fs::read_to_string(host_key.with_extension("pub")).unwrap();
    let mut fields = public.split_whitespace();
    let line = format!(
        "[127.0.0.1]:{port} {} {}\n",
        fields.next().unwrap(),
        fields.next().unwrap()
    );
    let path = dir.join(name);
    std::fs::write(&path, line).unwrap();
    path
}

#[test]
fn ssh_with_key_and_known_hosts() {
    if !Path::new(SSHD).is_file() || !super::have("ssh-keygen", &["-?"]) {
        sigil_tests::skip(&format!(
            "{SSHD} or ssh-keygen is missing (Debian: openssh-server, openssh-client)"
        ));
        return;
    }
    let user = String::from_utf8(Command::new("id").arg("-un").output().unwrap().stdout).unwrap();
    let user = user.trim();
    if user == "root" && !Path::new("/run/sshd").is_dir() && std::fs::create_dir_all("/run/sshd").is_err() {
        // sshd started by root insists on its privilege-separation directory.
        sigil_tests::skip("sshd needs /run/sshd, which cannot be created");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let repo = make_repo(dir.path());
    let host = keygen(dir.path(), "host_key");
    let other_host = keygen(dir.path(), "other_host_key");
    let client = keygen(dir.path(), "client_key");
    let stranger = keygen(dir.path(), "stranger_key");
    std::fs::copy(client.with_extension("pub"), dir.path().join("authorized_keys")).unwrap();
    let port = free_port();
    let d = dir.path().display();
    let config = dir.path().join("sshd_config");
    std::fs::write(
        &config,
        format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {d}/host_key\nAuthorizedKeysFile {d}/authorized_keys\n\
             PidFile {d}/sshd.pid\nStrictModes no\nUsePAM no\nPasswordAuthentication no\n\
             KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\nAcceptEnv GIT_PROTOCOL\n"
        ),
    )
    .unwrap();
    let log = std::fs::File::create(dir.path().join("sshd.log")).unwrap();
    let child = Command::new(SSHD)
        .args(["-D", "-e", "-f"])
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let _sshd = Kill(child);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        let log = std::fs::read_to_string(dir.path().join("sshd.log")).unwrap_or_default();
        assert!(std::time::Instant::now() < deadline, "sshd did not start: {log}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let hosts = known_hosts(dir.path(), "known_hosts", port, &host);
    let wrong_hosts = known_hosts(dir.path(), "wrong_known_hosts", port, &other_host);
    let url = format!("ssh://{user}@127.0.0.1:{port}{}", repo.display());
    // The key lives in a private temporary directory for the fetch only: point TMPDIR at an
    // empty directory and check it is empty again afterwards.
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let run = |cache: &str, key: &Path, hosts: Option<&Path>| {
        let mut args = vec![
            "--ref".to_string(),
            "main".into(),
            "--ssh-key-file".into(),
            key.display().to_string(),
        ];
        if let Some(h) = hosts {
            args.extend(["--known-hosts-file".to_string(), h.display().to_string()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = super::render_env(&url, &dir.path().join(cache), &args, &[("TMPDIR", tmp.as_os_str())]);
        assert_eq!(
            std::fs::read_dir(&tmp).unwrap().count(),
            0,
            "the key directory was left behind"
        );
        out
    };
    let sshd_log = || std::fs::read_to_string(dir.path().join("sshd.log")).unwrap_or_default();

    let out = run("ok", &client, Some(&hosts));
    assert!(
        out.status.success(),
        "{}\nsshd: {}",
        String::from_utf8_lossy(&out.stderr),
        sshd_log()
    );
    assert_eq!(names(&out), ["one", "two"]);
    // Incremental fetch over the same cache.
    assert_eq!(names(&run("ok", &client, Some(&hosts))), ["one", "two"]);

    // A key the server does not authorize.
    let err = failure(&run("stranger", &stranger, Some(&hosts)));
    assert!(
        err.contains(&format!("[127.0.0.1]:{port} refused the SSH key (Permission denied)")),
        "{err}"
    );
    // A server whose host key is not the one we were given.
    let err = failure(&run("mitm", &client, Some(&wrong_hosts)));
    assert!(
        err.contains(&format!(
            "the SSH host key of [127.0.0.1]:{port} is not in the given known_hosts"
        )),
        "{err}"
    );
    // No known_hosts at all: refused before connecting (never falls back to ~/.ssh).
    let err = failure(&run("nohosts", &client, None));
    assert!(err.contains("give known_hosts"), "{err}");
    // The private key never appears in an error.
    let key_text = std::fs::read_to_string(&client).unwrap();
    let body = key_text.lines().nth(1).unwrap();
    assert!(!err.contains(body));
}
