//! The agent's HTTP port: `GET /v1/cert.pem` (the sealing certificate, for `sealer cert
//! --url`), `/healthz`, `/readyz`, and `/metrics` in the Prometheus text format. Nothing
//! served here is secret: the certificate is public and metrics carry names, never values.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use tokio::net::TcpListener;

/// Kinds of request the agent makes to the API server, counted for `/metrics`.
pub const VERBS: [&str; 8] = ["get", "list", "create", "apply", "dry-run", "delete", "status", "other"];

/// Requests made to the API server, by verb (see [`VERBS`]).
#[derive(Default)]
pub struct Requests([std::sync::atomic::AtomicU64; 8]);

impl Requests {
    /// Counts one request of `verb`.
    pub fn count(&self, verb: &str) {
        let i = VERBS.iter().position(|v| *v == verb).unwrap_or(VERBS.len() - 1);
        self.0[i].fetch_add(1, Ordering::Relaxed);
    }

    /// The count for `verb`.
    pub fn get(&self, verb: &str) -> u64 {
        VERBS
            .iter()
            .position(|v| *v == verb)
            .map_or(0, |i| self.0[i].load(Ordering::Relaxed))
    }
}

/// Per-Sync figures for `/metrics`.
#[derive(Default)]
pub struct Metrics {
    inner: Mutex<BTreeMap<String, SyncFigures>>,
    /// Requests to the API server.
    pub requests: Arc<Requests>,
}

#[derive(Default, Clone)]
struct SyncFigures {
    success: u64,
    failure: u64,
    duration_sum: f64,
    duration_count: u64,
    applied: u64,
    pruned: u64,
    decrypt_failures: u64,
    last_applied: Option<f64>,
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

impl Metrics {
    /// Records one reconcile of `sync` (`namespace/name`).
    pub fn reconciled(&self, sync: &str, ok: bool, seconds: f64) {
        if let Ok(mut m) = self.inner.lock() {
            let f = m.entry(sync.to_string()).or_default();
            if ok {
                f.success += 1;
            } else {
                f.failure += 1;
            }
            f.duration_sum += seconds;
            f.duration_count += 1;
        }
    }

    /// Records objects applied and pruned.
    pub fn objects(&self, sync: &str, applied: u64, pruned: u64) {
        if let Ok(mut m) = self.inner.lock() {
            let f = m.entry(sync.to_string()).or_default();
            f.applied += applied;
            f.pruned += pruned;
        }
    }

    /// Records a decryption failure.
    pub fn decrypt_failed(&self, sync: &str) {
        if let Ok(mut m) = self.inner.lock() {
            m.entry(sync.to_string()).or_default().decrypt_failures += 1;
        }
    }

    /// Records when a revision was last applied (Unix seconds).
    pub fn applied_at(&self, sync: &str, unix_seconds: f64) {
        if let Ok(mut m) = self.inner.lock() {
            m.entry(sync.to_string()).or_default().last_applied = Some(unix_seconds);
        }
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let m = self.inner.lock().map(|m| m.clone()).unwrap_or_default();
        let mut out = String::new();
        let mut family = |name: &str, kind: &str, help: &str, rows: Vec<(String, String)>| {
            out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} {kind}\n"));
            for (labels, value) in rows {
                out.push_str(&format!("{name}{{{labels}}} {value}\n"));
            }
        };
        let l = |s: &str| format!("sync=\"{}\"", escape(s));
        family(
            "sigil_reconcile_total",
            "counter",
            "Sync reconciles by result.",
            m.iter()
                .flat_map(|(s, f)| {
                    [
                        (format!("{},result=\"success\"", l(s)), f.success.to_string()),
                        (format!("{},result=\"failure\"", l(s)), f.failure.to_string()),
                    ]
                })
                .collect(),
        );
        family(
            "sigil_reconcile_duration_seconds_sum",
            "counter",
            "Total time spent reconciling.",
            m.iter().map(|(s, f)| (l(s), f.duration_sum.to_string())).collect(),
        );
        family(
            "sigil_reconcile_duration_seconds_count",
            "counter",
            "Reconciles timed.",
            m.iter().map(|(s, f)| (l(s), f.duration_count.to_string())).collect(),
        );
        family(
            "sigil_applied_objects_total",
            "counter",
            "Objects applied (created or changed).",
            m.iter().map(|(s, f)| (l(s), f.applied.to_string())).collect(),
        );
        family(
            "sigil_pruned_objects_total",
            "counter",
            "Objects deleted because they left Git.",
            m.iter().map(|(s, f)| (l(s), f.pruned.to_string())).collect(),
        );
        family(
            "sigil_decrypt_failures_total",
            "counter",
            "Renders that failed to decrypt, unseal or fetch a secret.",
            m.iter().map(|(s, f)| (l(s), f.decrypt_failures.to_string())).collect(),
        );
        family(
            "sigil_api_requests_total",
            "counter",
            "Requests the agent made to the Kubernetes API server, by verb (watches excluded).",
            VERBS
                .iter()
                .map(|v| (format!("verb=\"{v}\""), self.requests.get(v).to_string()))
                .collect(),
        );
        family(
            "sigil_last_applied_timestamp_seconds",
            "gauge",
            "When the last revision was applied (age: time() minus this).",
            m.iter()
                .filter_map(|(s, f)| f.last_applied.map(|t| (l(s), t.to_string())))
                .collect(),
        );
        out
    }
}

/// What the port serves.
#[derive(Default)]
pub struct State {
    /// The sealing certificate (PEM), once keys are loaded.
    pub cert: RwLock<Option<String>>,
    /// Whether the agent is ready (caches synced, keys loaded).
    pub ready: AtomicBool,
    /// Metrics.
    pub metrics: Metrics,
}

fn reply(status: StatusCode, content_type: &str, body: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    if let Ok(v) = hyper::header::HeaderValue::from_str(content_type) {
        r.headers_mut().insert(hyper::header::CONTENT_TYPE, v);
    }
    r
}

async fn route(state: Arc<State>, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    if req.method() != hyper::Method::GET {
        return Ok(reply(StatusCode::METHOD_NOT_ALLOWED, "text/plain", "GET only\n".into()));
    }
    Ok(match req.uri().path() {
        "/v1/cert.pem" => match state.cert.read().ok().and_then(|c| c.clone()) {
            Some(pem) => reply(StatusCode::OK, "application/x-pem-file", pem),
            None => reply(
                StatusCode::SERVICE_UNAVAILABLE,
                "text/plain",
                "no sealing key yet\n".into(),
            ),
        },
        "/healthz" => reply(StatusCode::OK, "text/plain", "ok\n".into()),
        "/readyz" if state.ready.load(Ordering::Relaxed) => reply(StatusCode::OK, "text/plain", "ok\n".into()),
        "/readyz" => reply(StatusCode::SERVICE_UNAVAILABLE, "text/plain", "not ready\n".into()),
        "/metrics" => reply(StatusCode::OK, "text/plain; version=0.0.4", state.metrics.render()),
        _ => reply(StatusCode::NOT_FOUND, "text/plain", "not found\n".into()),
    })
}

/// Serves `state` on `listener` until the task is dropped.
pub async fn serve(listener: TcpListener, state: Arc<State>) -> std::io::Result<()> {
    loop {
        let (stream, _) = listener.accept().await?;
        let state = Arc::clone(&state);
        tokio::spawn(async move {
            let io = hyper_util::rt::TokioIo::new(stream);
            let svc = hyper::service::service_fn(move |req| route(Arc::clone(&state), req));
            if let Err(e) = hyper::server::conn::http1::Builder::new()
                .serve_connection(io, svc)
                .await
            {
                tracing::debug!(error = %e, "http connection ended");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_text_format() {
        let m = Metrics::default();
        m.reconciled("apps/web", true, 0.5);
        m.reconciled("apps/web", false, 1.5);
        m.objects("apps/web", 3, 1);
        m.decrypt_failed("apps/web");
        m.applied_at("apps/web", 1_700_000_000.0);
        let t = m.render();
        assert!(t.contains("# TYPE sigil_reconcile_total counter\n"));
        assert!(t.contains("sigil_reconcile_total{sync=\"apps/web\",result=\"failure\"} 1\n"));
        assert!(t.contains("sigil_reconcile_duration_seconds_sum{sync=\"apps/web\"} 2\n"));
        assert!(t.contains("sigil_pruned_objects_total{sync=\"apps/web\"} 1\n"));
        assert!(t.contains("sigil_last_applied_timestamp_seconds{sync=\"apps/web\"} 1700000000\n"));
        m.requests.count("apply");
        m.requests.count("bogus");
        let t = m.render();
        assert!(t.contains("sigil_api_requests_total{verb=\"apply\"} 1\n"), "{t}");
        assert!(t.contains("sigil_api_requests_total{verb=\"other\"} 1\n"));
    }
}
