//! The AWS SDK client side of the KMS key source (feature `kms`).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use aws_config::BehaviorVersion;
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_sdk_kms::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_kms::primitives::Blob;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Mutex;
use zeroize::Zeroizing;

use super::region_of;
use crate::keys::{KeyError, KeySource, PlainKey};
use crate::sops::metadata::{KeyKind, MasterKey};
use crate::sops::tree::Value;

const PROVIDER: &str = "kms";
/// Default bound on one KMS call.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// Explicit credentials (the agent's `sops.aws-kms` Secret); never printed.
#[derive(Clone)]
pub struct StaticCredentials {
    /// `aws_access_key_id`.
    pub access_key_id: String,
    /// `aws_secret_access_key`.
    pub secret_access_key: SecretString,
    /// `aws_session_token`, if any.
    pub session_token: Option<SecretString>,
}

impl std::fmt::Debug for StaticCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StaticCredentials")
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// The AWS KMS key source.
pub struct AwsKms {
    credentials: Option<StaticCredentials>,
    endpoint: Option<String>,
    timeout: Duration,
    clients: Mutex<HashMap<(String, String, String), aws_sdk_kms::Client>>,
    calls: Arc<AtomicUsize>,
}

impl AwsKms {
    /// Uses the SDK's default credential chain (environment, profiles, web identity, ...).
    pub fn from_env() -> Self {
        AwsKms {
            credentials: None,
            endpoint: None,
            timeout: DEFAULT_TIMEOUT,
            clients: Mutex::default(),
            calls: Arc::default(),
        }
    }

    /// Uses only the given credentials.
    pub fn with_credentials(credentials: StaticCredentials) -> Self {
        AwsKms {
            credentials: Some(credentials),
            ..Self::from_env()
        }
    }

    /// Sends requests to this endpoint (otherwise `AWS_ENDPOINT_URL(_KMS)` or AWS's own).
    pub fn endpoint(mut self, url: &str) -> Self {
        self.endpoint = Some(url.to_string());
        self
    }

    /// Bounds each call (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How many KMS API calls this source has made (for benchmarks and cache tests).
    pub fn calls(&self) -> Arc<AtomicUsize> {
        self.calls.clone()
    }

    /// Runs one KMS call: counted, bounded by the timeout, errors named after `key`.
    async fn bounded<T, E: ProvideErrorMetadata, R>(
        &self,
        key: &MasterKey,
        call: impl std::future::Future<Output = Result<T, SdkError<E, R>>>,
    ) -> Result<T, KeyError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        tokio::time::timeout(self.timeout, call)
            .await
            .map_err(|_| KeyError::new(PROVIDER, key, "timed out"))?
            .map_err(|e| KeyError::new(PROVIDER, key, describe(&e)))
    }

    async fn client(&self, key: &MasterKey) -> Result<aws_sdk_kms::Client, KeyError> {
        let arn = key.get("arn");
        let region = region_of(arn).ok_or_else(|| KeyError::new(PROVIDER, key, "not a valid KMS key or alias ARN"))?;
        let role = key.get("role").to_string();
        let profile = key.get("aws_profile").to_string();
        let id = (region.to_string(), role.clone(), profile.clone());
        let mut clients = self.clients.lock().await;
        if let Some(c) = clients.get(&id) {
            return Ok(c.clone());
        }
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        let timeouts = aws_config::timeout::TimeoutConfig::builder()
            .operation_timeout(self.timeout)
            .connect_timeout(self.timeout.min(Duration::from_secs(10)))
            .build();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(http)
            .region(aws_config::Region::new(region.to_string()))
            .timeout_config(timeouts);
        if let Some(url) = &self.endpoint {
            loader = loader.endpoint_url(url);
        }
        if let Some(c) = &self.credentials {
            loader = loader.credentials_provider(Credentials::new(
                c.access_key_id.clone(),
                c.secret_access_key.expose_secret().to_string(),
                c.session_token.as_ref().map(|t| t.expose_secret().to_string()),
                None,
                "sigil",
            ));
        } else if !profile.is_empty() {
            loader = loader.profile_name(&profile);
        }
        let mut config = loader.load().await;
        if !role.is_empty() {
            let provider = aws_config::sts::AssumeRoleProvider::builder(&role)
                .session_name(session_name())
                .configure(&config)
                .build()
                .await;
            config = config
                .into_builder()
                .credentials_provider(SharedCredentialsProvider::new(provider))
                .build();
        }
        let client = aws_sdk_kms::Client::new(&config);
        clients.insert(id, client.clone());
        Ok(client)
    }
}

/// `sops@<hostname>`, sanitised as sops does, for the STS session.
fn session_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
    let clean: String = host
        .trim()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "=,.@-_".contains(*c))
        .collect();
    let mut name = format!("sops@{clean}");
    name.truncate(64);
    name
}

fn context_of(key: &MasterKey) -> Option<HashMap<String, String>> {
    match key.fields.get("context") {
        Some(Value::Map(m)) if !m.is_empty() => Some(
            m.pairs()
                .map(|(k, v)| {
                    let v = match v {
                        Value::Str(s) => s.to_string(),
                        Value::Int(i) => i.to_string(),
                        Value::Bool(b) => b.to_string(),
                        _ => String::new(),
                    };
                    (k.to_string(), v)
                })
                .collect(),
        ),
        _ => None,
    }
}

fn describe<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> String {
    match e {
        SdkError::TimeoutError(_) => "timed out".into(),
        SdkError::DispatchFailure(d) if d.is_timeout() => "timed out".into(),
        SdkError::DispatchFailure(_) => "cannot reach the KMS endpoint".into(),
        SdkError::ServiceError(s) => {
            let err = s.err();
            let code = err.code().unwrap_or("error");
            let why = match code {
                "AccessDeniedException" => "access denied",
                "InvalidCiphertextException" => "wrong key or encryption context (InvalidCiphertextException)",
                "IncorrectKeyException" => "wrong key (IncorrectKeyException)",
                "NotFoundException" => "key not found",
                "DisabledException" => "key is disabled",
                _ => "",
            };
            if why.is_empty() {
                format!("{code}: {}", err.message().unwrap_or(""))
            } else {
                why.to_string()
            }
        }
        other => format!(
            "request failed: {}",
            ProvideErrorMetadata::message(other).unwrap_or("unknown error")
        ),
    }
}

#[async_trait]
impl KeySource for AwsKms {
    fn kind(&self) -> KeyKind {
        KeyKind::AwsKms
    }

    async fn unwrap(&self, key: &MasterKey) -> Result<Option<PlainKey>, KeyError> {
        let blob = B64
            .decode(key.enc().trim())
            .map_err(|_| KeyError::new(PROVIDER, key, "enc is not base64"))?;
        let client = self.client(key).await?;
        let call = client
            .decrypt()
            .key_id(key.get("arn"))
            .ciphertext_blob(Blob::new(blob))
            .set_encryption_context(context_of(key))
            .send();
        let out = self.bounded(key, call).await?;
        let plain = out
            .plaintext
            .ok_or_else(|| KeyError::new(PROVIDER, key, "KMS returned no plaintext"))?;
        Ok(Some(Zeroizing::new(plain.into_inner())))
    }

    async fn wrap(&self, key: &MasterKey, data_key: &[u8]) -> Result<String, KeyError> {
        let client = self.client(key).await?;
        let call = client
            .encrypt()
            .key_id(key.get("arn"))
            .plaintext(Blob::new(data_key.to_vec()))
            .set_encryption_context(context_of(key))
            .send();
        let out = self.bounded(key, call).await?;
        let blob = out
            .ciphertext_blob
            .ok_or_else(|| KeyError::new(PROVIDER, key, "KMS returned no ciphertext"))?;
        Ok(B64.encode(blob.into_inner()))
    }
}
