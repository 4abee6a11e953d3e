//! Smart HTTP(S) settings gix's reqwest transport cannot take from Git configuration: extra
//! trusted CA certificates held in memory (no file), a bearer token sent as a sensitive
//! `Authorization` header, and a per-operation time limit.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use gix::protocol::transport::client::blocking_io::http::{Options as HttpOptions, reqwest::Options as ReqwestOptions};
use reqwest::header::{AUTHORIZATION, HeaderValue};
use secrecy::{ExposeSecret, SecretString};

/// A PEM bundle of CA certificates to trust for HTTPS.
#[derive(Clone)]
pub struct CaBundle {
    certs: Vec<reqwest::Certificate>,
    only: bool,
}

impl CaBundle {
    /// Parses `pem` (one or more `CERTIFICATE` blocks). With `only`, these are the only roots
    /// trusted; otherwise they are trusted besides the system's.
    pub fn from_pem(pem: &[u8], only: bool) -> Result<Self, String> {
        let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| format!("invalid PEM CA bundle: {e}"))?;
        if certs.is_empty() {
            return Err("the CA bundle holds no certificate".into());
        }
        Ok(CaBundle { certs, only })
    }
}

impl std::fmt::Debug for CaBundle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaBundle")
            .field("certificates", &self.certs.len())
            .field("only", &self.only)
            .finish()
    }
}

/// The bearer header, built once; reqwest keeps it marked sensitive (hidden from its `Debug`).
pub(crate) fn bearer_header(token: &SecretString) -> Result<HeaderValue, String> {
    let value = zeroize::Zeroizing::new(format!("Bearer {}", token.expose_secret().trim()));
    let mut header = HeaderValue::from_str(&value)
        .map_err(|_| "the bearer token holds characters not allowed in an HTTP header".to_string())?;
    header.set_sensitive(true);
    Ok(header)
}

/// Adds our TLS roots, bearer header and time limit to the transport options gix derived
/// from the repository configuration.
pub(crate) fn configure(
    mut opts: HttpOptions,
    ca: Option<&CaBundle>,
    bearer: Option<HeaderValue>,
    timeout: Duration,
) -> HttpOptions {
    let ca = ca.cloned();
    let backend = ReqwestOptions {
        configure_client: Some(Box::new(move |builder| {
            // Bounds connecting and each read/write; the fetch as a whole has its own deadline.
            let builder = builder.timeout(timeout).connect_timeout(timeout);
            Ok(match &ca {
                Some(CaBundle { certs, only: true }) => builder.tls_certs_only(certs.clone()),
                Some(CaBundle { certs, only: false }) => builder.tls_certs_merge(certs.clone()),
                None => builder,
            })
        })),
        // A request with configured headers refuses redirects, so the token never leaves the host.
        configure_request: bearer.map(|header| {
            Box::new(move |req: &mut reqwest::blocking::Request| {
                req.headers_mut().insert(AUTHORIZATION, header.clone());
                Ok(())
            }) as Box<gix::protocol::transport::client::blocking_io::http::reqwest::ConfigureRequestFn>
        }),
    };
    opts.connect_timeout = Some(timeout);
    opts.backend = Some(Arc::new(Mutex::new(backend)));
    opts
}
