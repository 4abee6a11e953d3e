//! The agent's HTTP port, on 127.0.0.1: the sealing certificate fetched over HTTP seals a
//! Secret that the agent's key unseals; health, readiness and metrics answer.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use sigil_agent::http::{State, serve};
use sigil_crds::secret::Secret;
use sigil_crypto::sealed::{PublicCert, Scope, SealingKey};

#[test]
fn cert_health_ready_and_metrics() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(State::default());
        let server = tokio::spawn(serve(listener, Arc::clone(&state)));
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::new();
        let get = |p: &str| http.get(format!("{base}{p}")).send();
        assert_eq!(get("/v1/cert.pem").await.unwrap().status(), 503, "no key yet");
        assert_eq!(get("/readyz").await.unwrap().status(), 503);
        assert_eq!(get("/healthz").await.unwrap().status(), 200);
        let key = SealingKey::generate(2048).unwrap();
        *state.cert.write().unwrap() = Some(key.self_signed_cert().unwrap());
        state.ready.store(true, Ordering::Relaxed);
        let pem = get("/v1/cert.pem").await.unwrap().text().await.unwrap();
        let cert = PublicCert::parse(&pem, "served cert").unwrap();
        assert_eq!(cert.fingerprint, key.fingerprint);
        let mut s = Secret::default();
        s.metadata.name = "db".into();
        s.metadata.namespace = "apps".into();
        s.string_data.insert("password".into(), "p".into());
        let sealed = sigil_crds::sealedsecret::seal(&s, &cert, Scope::Strict).unwrap();
        let (open, _) = sealed.unseal(&[key], None).unwrap();
        assert_eq!(&*open.data["password"].0, b"p");
        assert_eq!(get("/readyz").await.unwrap().status(), 200);
        state.metrics.reconciled("apps/web", true, 0.25);
        let m = get("/metrics").await.unwrap().text().await.unwrap();
        assert!(
            m.contains("sigil_reconcile_total{sync=\"apps/web\",result=\"success\"} 1"),
            "{m}"
        );
        assert_eq!(get("/nope").await.unwrap().status(), 404);
        server.abort();
    });
}
