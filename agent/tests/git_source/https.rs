//! Smart HTTPS: a loopback TLS server (Python `ssl` around `git http-backend`) with a
//! certificate from a CA made by `openssl` here; bearer-token auth; a time limit.

use std::path::Path;
use std::process::Command;

use super::{failure, have, make_repo, names, render, start_http_server};

const TOKEN: &str = "tok-Canary-5f1e2d";

/// A CA and a server certificate for 127.0.0.1 signed by it; returns (ca.pem, cert, key).
fn make_ca(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let run = |args: &[&str]| {
        let out = Command::new("openssl").current_dir(dir).args(args).output().unwrap();
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    run(&[
        &["req", "-x509"][..],
        &ec,
        &[
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=sigil test CA",
        ],
    ]
    .concat());
    run(&[
        &["req"][..],
        &ec,
        &["-keyout", "srv.key", "-out", "srv.csr", "-subj", "/CN=127.0.0.1"],
    ]
    .concat());
    std::fs::write(
        dir.join("ext"),
        "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "srv.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "srv.pem",
        "-days",
        "2",
        "-extfile",
        "ext",
    ]);
    (dir.join("ca.pem"), dir.join("srv.pem"), dir.join("srv.key"))
}

#[test]
fn https_with_custom_ca_and_bearer_token() {
    if !have("openssl", &["version"]) {
        sigil_tests::skip("openssl is not installed (Debian: openssl)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    make_repo(dir.path());
    let (ca, cert, key) = make_ca(dir.path());
    let Some((_server, port)) = start_http_server(
        dir.path(),
        "bearer",
        &[TOKEN.as_ref(), cert.as_os_str(), key.as_os_str()],
    ) else {
        return;
    };
    let url = format!("https://127.0.0.1:{port}/repo");
    let token = dir.path().join("token");
    std::fs::write(&token, format!("{TOKEN}\n")).unwrap();
    let wrong = dir.path().join("wrong");
    std::fs::write(&wrong, "tok-Canary-wrong").unwrap();
    let (ca, token, wrong) = (ca.to_str().unwrap(), token.to_str().unwrap(), wrong.to_str().unwrap());
    let c = |n: &str| dir.path().join(format!("cache-{n}"));
    let no_secret = |err: &str| assert!(!err.contains("Canary"), "a token leaked into: {err}");

    // The custom CA is trusted besides the system roots, and instead of them.
    for extra in [&[][..], &["--ca-only"][..]] {
        let out = render(
            &url,
            &c(&format!("ok{}", extra.len())),
            &[
                &["--ref", "main", "--ca-file", ca, "--bearer-token-file", token][..],
                extra,
            ]
            .concat(),
        );
        assert_eq!(names(&out), ["one", "two"]);
        no_secret(&String::from_utf8_lossy(&out.stderr));
    }
    // Without it, the server's certificate is refused.
    let err = failure(&render(
        &url,
        &c("noca"),
        &["--ref", "main", "--bearer-token-file", token],
    ));
    assert!(err.contains("invalid peer certificate: UnknownIssuer"), "{err}");
    no_secret(&err);
    // The server demands the token: none, or a wrong one, is refused and never echoed.
    let err = failure(&render(&url, &c("notoken"), &["--ref", "main", "--ca-file", ca]));
    assert!(
        err.contains(&format!(
            "fetching {url}: the server requires credentials (HTTP 401) and none were given"
        )),
        "{err}"
    );
    let err = failure(&render(
        &url,
        &c("wrong"),
        &["--ref", "main", "--ca-file", ca, "--bearer-token-file", wrong],
    ));
    assert!(
        err.contains(&format!(
            "fetching {url}: the server refused the credentials given (HTTP 401)"
        )),
        "{err}"
    );
    no_secret(&err);
    // A CA file that holds no certificate is a clear error.
    let err = failure(&render(&url, &c("badca"), &["--ref", "main", "--ca-file", token]));
    assert!(err.contains("CA bundle"), "{err}");
    no_secret(&err);
    // Over plain http the token is not sent at all.
    let plain = format!("http://127.0.0.1:{port}/repo");
    let err = failure(&render(
        &plain,
        &c("plain"),
        &["--ref", "main", "--bearer-token-file", token],
    ));
    assert!(err.contains("clear text"), "{err}");
    no_secret(&err);
}

#[test]
fn a_silent_server_times_out() {
    // Accepts connections (the kernel completes them) but never answers.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let out = render(
        &format!("http://127.0.0.1:{port}/repo"),
        &dir.path().join("c"),
        &["--ref", "main", "--timeout", "2"],
    );
    let err = failure(&out);
    assert!(err.contains("timed out"), "{err}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "took {:?}",
        started.elapsed()
    );
    drop(listener);
}
