//! The calls a Sync makes for rendered objects of any kind: discovery (cached), get,
//! server-side apply (real or dry run) and delete, optionally impersonating a ServiceAccount.
//! Bodies are read into zeroizing buffers and parsed into [`Object`]s (which wipe their
//! strings), and an API error about a Secret never repeats one of its values.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use http_body_util::BodyExt;
use kube::Client;
use kube::api::{
    ApiResource, DeleteParams, GetParams, GroupVersionKind, ListParams, Patch, PatchParams, PostParams,
    PropagationPolicy,
};
use kube::core::Request;
use kube::discovery::Scope;
use zeroize::Zeroizing;

use crate::http::Requests;
use crate::object::Object;

/// The field manager of every apply.
pub const FIELD_MANAGER: &str = "sigil";

/// A kind the API server serves.
#[derive(Debug, Clone)]
pub struct Kind {
    /// Its resource.
    pub resource: ApiResource,
    /// Whether its objects live in a namespace.
    pub namespaced: bool,
}

/// A failed call: what it was about and why (the API server's message, scrubbed).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// The API server does not serve this kind (yet).
    #[error("{what}: the cluster has no kind {api_version} {kind}")]
    UnknownKind {
        /// The object.
        what: String,
        /// Its apiVersion.
        api_version: String,
        /// Its kind.
        kind: String,
    },
    /// The API server refused the call.
    #[error("{what}: {message} ({code})")]
    Refused {
        /// The object.
        what: String,
        /// HTTP status.
        code: u16,
        /// The server's message (never a Secret value).
        message: String,
    },
    /// The call did not reach the server, or its answer was unreadable.
    #[error("{what}: {reason}")]
    Transport {
        /// The object.
        what: String,
        /// Why.
        reason: String,
    },
}

impl ApiError {
    /// The HTTP status of a refused call.
    pub fn code(&self) -> Option<u16> {
        match self {
            ApiError::Refused { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// Whether the API server refused a change of a field that cannot change once set (a
    /// Job's template, a Service's clusterIP, a Deployment's selector, a StatefulSet's
    /// volumeClaimTemplates): only deleting and recreating the object applies it.
    pub fn is_immutable(&self) -> bool {
        let ApiError::Refused { code: 422, message, .. } = self else {
            return false;
        };
        says_immutable(message)
    }
}

/// Whether an API server's message refuses a change of an immutable field.
fn says_immutable(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    [
        "is immutable",
        "immutable field",
        "may not change once set",
        "are forbidden",
        "cannot be changed",
        "can not be changed",
    ]
    .iter()
    .any(|p| m.contains(p))
}

/// Replaces any value of `secret` (as base64 or decoded, 4 bytes or longer) found in `message`.
pub fn scrub(message: &str, secret: Option<&Object>) -> String {
    let Some(s) = secret.filter(|s| s.kind() == "Secret") else {
        return message.to_string();
    };
    let mut out = message.to_string();
    for field in ["data", "stringData"] {
        let Some(map) = s.0.get(field).and_then(|d| d.as_object()) else {
            continue;
        };
        for v in map.values().filter_map(|v| v.as_str()) {
            let mut forms = vec![Zeroizing::new(v.to_string())];
            if field == "data"
                && let Some(text) = B64.decode(v).ok().and_then(|b| String::from_utf8(b).ok())
            {
                forms.push(Zeroizing::new(text));
            }
            for f in forms.iter().filter(|f| f.len() >= 4) {
                out = out.replace(f.as_str(), "<redacted>");
            }
        }
    }
    out
}

/// The agent's client for rendered objects.
pub struct KubeApi {
    client: Client,
    kinds: Mutex<HashMap<(String, String), Kind>>,
    requests: Arc<Requests>,
}

impl KubeApi {
    /// A client; kinds are discovered as they are met; requests are counted in `requests`.
    pub fn new(client: Client, requests: Arc<Requests>) -> Self {
        KubeApi {
            client,
            kinds: Mutex::default(),
            requests,
        }
    }

    /// Counts a request made through a typed client (status patches, finalizers).
    pub fn count(&self, verb: &str) {
        self.requests.count(verb);
    }

    /// The underlying client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// The resource of `api_version`/`kind` (discovered once, then cached; a kind not found
    /// is asked again next time, since a CRD may have just been applied).
    pub async fn kind(&self, what: &str, api_version: &str, kind: &str) -> Result<Kind, ApiError> {
        let key = (api_version.to_string(), kind.to_string());
        if let Some(k) = self.kinds.lock().ok().and_then(|m| m.get(&key).cloned()) {
            return Ok(k);
        }
        let (group, version) = match api_version.rsplit_once('/') {
            Some((g, v)) => (g, v),
            None => ("", api_version),
        };
        let gvk = GroupVersionKind::gvk(group, version, kind);
        self.requests.count("other");
        let unknown = || ApiError::UnknownKind {
            what: what.to_string(),
            api_version: api_version.to_string(),
            kind: kind.to_string(),
        };
        let (resource, caps) = match kube::discovery::pinned_kind(&self.client, &gvk).await {
            Ok(found) => found,
            Err(kube::Error::Api(e)) if e.code == 404 => return Err(unknown()),
            Err(kube::Error::Discovery(_)) => return Err(unknown()),
            Err(e) => {
                return Err(ApiError::Transport {
                    what: what.to_string(),
                    reason: e.to_string(),
                });
            }
        };
        let k = Kind {
            resource,
            namespaced: caps.scope == Scope::Namespaced,
        };
        if let Ok(mut m) = self.kinds.lock() {
            m.insert(key, k.clone());
        }
        Ok(k)
    }

    fn url(kind: &Kind, namespace: &str) -> String {
        let ns = if kind.namespaced && !namespace.is_empty() {
            Some(namespace)
        } else {
            None
        };
        <kube::api::DynamicObject as kube::Resource>::url_path(&kind.resource, ns)
    }

    async fn call(
        &self,
        verb: &str,
        req: http::Request<Vec<u8>>,
        what: &str,
        impersonate: Option<&str>,
        secret: Option<&Object>,
    ) -> Result<(u16, Option<Object>), ApiError> {
        let transport = |reason: String| ApiError::Transport {
            what: what.to_string(),
            reason,
        };
        self.requests.count(verb);
        let mut req = req.map(kube::client::Body::from);
        if let Some(user) = impersonate {
            let v = http::HeaderValue::from_str(user).map_err(|_| transport("invalid ServiceAccount name".into()))?;
            req.headers_mut().insert("Impersonate-User", v);
        }
        let res = self.client.send(req).await.map_err(|e| transport(e.to_string()))?;
        let code = res.status().as_u16();
        let body = res
            .into_body()
            .collect()
            .await
            .map_err(|e| transport(e.to_string()))?
            .to_bytes();
        let body = Zeroizing::new(body.to_vec());
        let parsed: Option<serde_json::Value> = serde_json::from_slice(&body).ok();
        if (200..300).contains(&code) {
            return Ok((code, parsed.map(Object)));
        }
        if code == 404 {
            return Ok((code, None));
        }
        let mut message = parsed
            .as_ref()
            .and_then(|v| v.get("message"))
            .and_then(|m| m.as_str())
            .unwrap_or("no message")
            .to_string();
        // Some refusals quote a whole object (an invalid pod template): keep the head, which
        // names the field, so a status condition stays readable.
        if message.len() > 600 {
            let immutable = says_immutable(&message);
            let mut cut = 600;
            while !message.is_char_boundary(cut) {
                cut -= 1;
            }
            message.truncate(cut);
            message.push_str(if immutable && !says_immutable(&message) {
                " … field is immutable"
            } else {
                " …"
            });
        }
        Err(ApiError::Refused {
            what: what.to_string(),
            code,
            message: scrub(&message, secret),
        })
    }

    /// The live object, if any.
    pub async fn get(
        &self,
        kind: &Kind,
        namespace: &str,
        name: &str,
        impersonate: Option<&str>,
    ) -> Result<Option<Object>, ApiError> {
        let what = format!("{} {namespace}/{name}", kind.resource.kind);
        let req = Request::new(Self::url(kind, namespace))
            .get(name, &GetParams::default())
            .map_err(|e| ApiError::Transport {
                what: what.clone(),
                reason: e.to_string(),
            })?;
        Ok(self.call("get", req, &what, impersonate, None).await?.1)
    }

    /// The objects of `kind` in `namespace` matching `selector` (a label selector).
    pub async fn list(&self, kind: &Kind, namespace: &str, selector: Option<&str>) -> Result<Vec<Object>, ApiError> {
        let what = format!("{} in {namespace}", kind.resource.plural);
        let mut lp = ListParams::default();
        if let Some(s) = selector {
            lp = lp.labels(s);
        }
        let req = Request::new(Self::url(kind, namespace))
            .list(&lp)
            .map_err(|e| ApiError::Transport {
                what: what.clone(),
                reason: e.to_string(),
            })?;
        let Some(mut list) = self.call("list", req, &what, None, None).await?.1 else {
            return Ok(Vec::new());
        };
        let items = match list.0.get_mut("items").map(serde_json::Value::take) {
            Some(serde_json::Value::Array(items)) => items,
            _ => Vec::new(),
        };
        Ok(items
            .into_iter()
            .map(|mut v| {
                // List items carry no apiVersion/kind.
                if let Some(m) = v.as_object_mut() {
                    m.insert("apiVersion".into(), kind.resource.api_version.clone().into());
                    m.insert("kind".into(), kind.resource.kind.clone().into());
                }
                Object(v)
            })
            .collect())
    }

    /// Server-side applies `obj` as field manager `sigil` (taking over conflicting fields);
    /// a dry run changes nothing and returns what the object would become.
    pub async fn apply(
        &self,
        kind: &Kind,
        obj: &Object,
        dry_run: bool,
        impersonate: Option<&str>,
    ) -> Result<Object, ApiError> {
        let what = obj.id();
        let mut pp = PatchParams::apply(FIELD_MANAGER).force();
        pp.dry_run = dry_run;
        let req = Request::new(Self::url(kind, obj.namespace()))
            .patch(obj.name(), &pp, &Patch::Apply(&obj.0))
            .map_err(|e| ApiError::Transport {
                what: what.clone(),
                reason: e.to_string(),
            })?;
        let verb = if dry_run { "dry-run" } else { "apply" };
        match self.call(verb, req, &what, impersonate, Some(obj)).await? {
            (_, Some(o)) => Ok(o),
            (code, None) => Err(ApiError::Refused {
                what,
                code,
                message: "no object in the answer".into(),
            }),
        }
    }

    /// A token for ServiceAccount `namespace/name` (the TokenRequest API), valid 10 minutes.
    pub async fn service_account_token(
        &self,
        namespace: &str,
        name: &str,
        audiences: &[String],
    ) -> Result<secrecy::SecretString, ApiError> {
        let what = format!("ServiceAccount {namespace}/{name} token");
        let kind = self.kind(&what, "v1", "ServiceAccount").await?;
        let body = serde_json::json!({
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {"audiences": audiences, "expirationSeconds": 600},
        });
        let req = Request::new(Self::url(&kind, namespace))
            .create_subresource("token", name, &PostParams::default(), body.to_string().into_bytes())
            .map_err(|e| ApiError::Transport {
                what: what.clone(),
                reason: e.to_string(),
            })?;
        let answer = self.call("create", req, &what, None, None).await?;
        let token = answer
            .1
            .as_ref()
            .and_then(|o| o.0.pointer("/status/token"))
            .and_then(|t| t.as_str())
            .filter(|t| !t.is_empty())
            .ok_or_else(|| ApiError::Refused {
                what: what.clone(),
                code: answer.0,
                message: "no token in the answer".into(),
            })?;
        Ok(secrecy::SecretString::from(token.to_string()))
    }

    /// Creates `obj` (a POST); `Ok(None)` when it already exists.
    pub async fn create(&self, kind: &Kind, obj: &Object) -> Result<Option<Object>, ApiError> {
        let what = obj.id();
        let body = Zeroizing::new(serde_json::to_vec(&obj.0).map_err(|e| ApiError::Transport {
            what: what.clone(),
            reason: e.to_string(),
        })?);
        let req = Request::new(Self::url(kind, obj.namespace()))
            .create(&PostParams::default(), body.to_vec())
            .map_err(|e| ApiError::Transport {
                what: what.clone(),
                reason: e.to_string(),
            })?;
        match self.call("create", req, &what, None, Some(obj)).await {
            Ok((_, o)) => Ok(o),
            Err(ApiError::Refused { code: 409, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Deletes an object (in the background); `false` when it was already gone.
    pub async fn delete(
        &self,
        kind: &Kind,
        namespace: &str,
        name: &str,
        impersonate: Option<&str>,
    ) -> Result<bool, ApiError> {
        let what = format!("{} {namespace}/{name}", kind.resource.kind);
        let dp = DeleteParams {
            propagation_policy: Some(PropagationPolicy::Background),
            ..DeleteParams::default()
        };
        let req = Request::new(Self::url(kind, namespace))
            .delete(name, &dp)
            .map_err(|e| ApiError::Transport {
                what: what.clone(),
                reason: e.to_string(),
            })?;
        Ok(self.call("delete", req, &what, impersonate, None).await?.0 != 404)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scrub_removes_secret_values_in_both_forms() {
        let s = Object(serde_json::json!({
            "apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
            "data": {"k": B64.encode("hunter2-pass")}, "stringData": {"t": "tok-123456"}
        }));
        let m = format!(
            "invalid value {:?} and hunter2-pass and tok-123456 in data.k",
            B64.encode("hunter2-pass")
        );
        let out = scrub(&m, Some(&s));
        assert!(!out.contains("hunter2") && !out.contains("tok-123456") && !out.contains(&B64.encode("hunter2-pass")));
        assert!(out.contains("data.k"), "{out}");
        let cm = Object(serde_json::json!({"kind": "ConfigMap", "data": {"k": "visible"}}));
        assert_eq!(scrub("visible", Some(&cm)), "visible");
    }
}
