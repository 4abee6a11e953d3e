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

/// `git http-backend` behind a tiny HTTP server (Python's `http.server`): `mode` is `open`,
/// `auth` (basic auth `user:s3cret`) or `bearer` (`Authorization: Bearer <extra[0]>`); with a
/// certificate and key (`extra[1]`, `extra[2]`) it speaks TLS. Repositories are served from
/// `root` (`<url>/<dir name>`); `url` is `http://127.0.0.1:<port>` (the scheme is what the
/// caller makes of it).
pub fn git_http(root: &std::path::Path, mode: &str, extra: &[&std::ffi::OsStr]) -> Option<Server> {
    let py = crate::python()?;
    let mut child = Command::new(py)
        .arg("-c")
        .arg(GIT_HTTP_SERVER)
        .arg(root)
        .arg(mode)
        .args(extra)
        .stdout(Stdio::piped())
        .spawn()
        .expect("start the git http server");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("the git http server's port");
    let port: u16 = line
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("the git http server did not start: {line:?}"));
    Some(Server {
        child,
        url: format!("http://127.0.0.1:{port}"),
    })
}

const GIT_HTTP_SERVER: &str = r#"
import base64, http.server, os, ssl, subprocess, sys
root, mode = sys.argv[1], sys.argv[2]
token = sys.argv[3] if len(sys.argv) > 3 else ""
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def handle_one(self, body):
        auth = self.headers.get("Authorization", "")
        want = {"auth": "Basic " + base64.b64encode(b"user:s3cret").decode(), "bearer": "Bearer " + token}.get(mode)
        if want is not None and auth != want:
            scheme = "Bearer" if mode == "bearer" else "Basic"
            self.send_response(401); self.send_header("WWW-Authenticate", scheme + ' realm="git"'); self.send_header("Content-Length", "0"); self.end_headers(); return
        path, _, query = self.path.partition("?")
        env = dict(os.environ, GIT_PROJECT_ROOT=root, GIT_HTTP_EXPORT_ALL="1", PATH_INFO=path, QUERY_STRING=query,
                   REQUEST_METHOD=self.command, CONTENT_TYPE=self.headers.get("Content-Type", ""), CONTENT_LENGTH=str(len(body)),
                   REMOTE_USER="user", GIT_PROTOCOL=self.headers.get("Git-Protocol", ""))
        out = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True).stdout
        head, _, payload = out.partition(b"\r\n\r\n")
        status = 200
        headers = []
        for line in head.decode().split("\r\n"):
            k, _, v = line.partition(": ")
            if k.lower() == "status": status = int(v.split()[0])
            elif k: headers.append((k, v))
        self.send_response(status)
        for k, v in headers: self.send_header(k, v)
        self.send_header("Content-Length", str(len(payload))); self.end_headers(); self.wfile.write(payload)
    def do_GET(self): self.handle_one(b"")
    def do_POST(self): self.handle_one(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
if len(sys.argv) > 5:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[4], sys.argv[5])
    s.socket = ctx.wrap_socket(s.socket, server_side=True)
print(s.server_address[1], flush=True)
s.serve_forever()
"#;
