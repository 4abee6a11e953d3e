//! Real servers for tests, on 127.0.0.1 and free ports, started by the test and stopped by
//! PID when the guard drops: moto (AWS KMS with the fixed test key) and the OpenBao dev
//! server (Vault API, transit enabled).

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::peer;

/// The fixed KMS key `moto-fixed-kms` serves (the shared vectors use it).
pub const FIXED_KMS_ARN: &str = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555";
/// The alias of that key.
pub const FIXED_KMS_ALIAS_ARN: &str = "arn:aws:kms:us-east-1:123456789012:alias/sops-test";
/// The dev server's root token.
pub const BAO_ROOT_TOKEN: &str = "sigil-test-root";

/// A free port on 127.0.0.1 (with `port + 1` free too, which bao's cluster listener takes).
pub fn free_port() -> u16 {
    loop {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let p = l.local_addr().unwrap().port();
        if p < u16::MAX && TcpListener::bind(("127.0.0.1", p + 1)).is_ok() {
            return p;
        }
    }
}

/// A running server process; killed (by PID) and reaped on drop.
pub struct Server {
    child: Child,
    /// Its base URL (`http://127.0.0.1:PORT`).
    pub url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

fn wait_http(url: &str, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    let addr = url.trim_start_matches("http://").to_string();
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(&addr).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// Starts moto with the fixed KMS key (and alias `alias/sops-test`).
pub fn moto() -> Option<Server> {
    let bin: PathBuf = peer("moto-fixed-kms")?;
    let port = free_port();
    let mut child = Command::new(bin)
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start moto");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .expect("moto announces itself");
    assert!(line.contains("\"arn\""), "moto did not start: {line}");
    Some(Server {
        child,
        url: format!("http://127.0.0.1:{port}"),
    })
}

/// Calls the Vault API of `server` as root (or `token`).
pub fn bao_api(server: &Server, method: &str, path: &str, body: &str, token: Option<&str>) -> (u16, String) {
    let out = Command::new("curl")
        .args(["-s", "-o", "-", "-w", "\n%{http_code}", "-X", method, "-H"])
        .arg(format!("X-Vault-Token: {}", token.unwrap_or(BAO_ROOT_TOKEN)))
        .args(["-d", body])
        .arg(format!("{}/v1/{}", server.url, path))
        .output()
        .expect("curl");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let (body, code) = text.rsplit_once('\n').unwrap_or((&text, "0"));
    (code.trim().parse().unwrap_or(0), body.to_string())
}

/// Starts an OpenBao dev server with transit enabled and a key `sops-key`.
pub fn bao() -> Option<Server> {
    let bin = peer("bao")?;
    let port = free_port();
    let child = Command::new(bin)
        .args(["server", "-dev", "-dev-no-store-token", "-log-level=error"])
        .arg(format!("-dev-root-token-id={BAO_ROOT_TOKEN}"))
        .arg(format!("-dev-listen-address=127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start bao");
    let server = Server {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    assert!(wait_http(&server.url, Duration::from_secs(30)), "bao did not start");
    let deadline = Instant::now() + Duration::from_secs(30);
    while bao_api(&server, "GET", "sys/health", "", None).0 != 200 {
        assert!(Instant::now() < deadline, "bao is not healthy");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        bao_api(&server, "POST", "sys/mounts/transit", r#"{"type":"transit"}"#, None).0,
        204
    );
    assert!(bao_api(&server, "POST", "transit/keys/sops-key", "{}", None).0 < 300);
    Some(server)
}
