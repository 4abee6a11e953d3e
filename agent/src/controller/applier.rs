//! Applying a render to the cluster: server-side apply in two stages (CRDs and Namespaces, then
//! the rest), only what drifted (a dry run compared with the live object), pruning what left
//! Git, and waiting for health. The pure decisions live in `apply::*` and `health`.

use std::time::{Duration, Instant};

use crate::apply::drift::{self, KeyChange};
use crate::apply::inventory::{self, Entry};
use crate::apply::stage;
use crate::controller::kubeapi::{ApiError, KubeApi};
use crate::health::{self, Health};
use crate::object::Object;

/// Label naming the Sync that applied an object.
pub const SYNC_NAME_LABEL: &str = "sigil.dev/sync-name";
/// Label naming the Sync's namespace.
pub const SYNC_NAMESPACE_LABEL: &str = "sigil.dev/sync-namespace";

/// What happened to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It did not exist.
    Created,
    /// It drifted from Git and was re-applied.
    Configured,
    /// Live state already matched.
    Unchanged,
}

/// The result of applying a render.
#[derive(Debug, Default)]
pub struct Report {
    /// Objects and what happened to them, in apply order.
    pub objects: Vec<(String, Outcome)>,
    /// Secrets that changed: which keys, with SHA-256 prefixes of the old and new values.
    pub secret_changes: Vec<(String, Vec<(String, KeyChange)>)>,
    /// The inventory of what was applied.
    pub inventory: Vec<Entry>,
}

impl Report {
    /// Objects created or configured.
    pub fn changed(&self) -> usize {
        self.objects.iter().filter(|(_, o)| *o != Outcome::Unchanged).count()
    }

    /// One line per change, for events and logs (Secret values never appear).
    pub fn summary(&self) -> String {
        let mut lines: Vec<String> = self
            .objects
            .iter()
            .filter(|(_, o)| *o != Outcome::Unchanged)
            .map(|(id, o)| {
                format!(
                    "{id} {}",
                    if *o == Outcome::Created {
                        "created"
                    } else {
                        "configured"
                    }
                )
            })
            .collect();
        for (id, changes) in &self.secret_changes {
            let keys: Vec<String> = changes
                .iter()
                .map(|(k, c)| match c {
                    KeyChange::Added(n) => format!("+{k} (sha256:{n})"),
                    KeyChange::Removed => format!("-{k}"),
                    KeyChange::Changed(o, n) => format!("~{k} (sha256:{o} -> sha256:{n})"),
                })
                .collect();
            lines.push(format!("{id} keys: {}", keys.join(", ")));
        }
        lines.join("\n")
    }
}

/// Who applies: the Sync (for labels) and, when set, the ServiceAccount impersonated.
pub struct Applier<'a> {
    /// The client.
    pub api: &'a KubeApi,
    /// The Sync's name.
    pub sync_name: &'a str,
    /// The Sync's namespace.
    pub sync_namespace: &'a str,
    /// `system:serviceaccount:<ns>:<name>` when the Sync names a ServiceAccount.
    pub impersonate: Option<String>,
}

fn labelled(o: &Object, name: &str, namespace: &str) -> Object {
    let mut o = o.clone();
    if let Some(meta) = o.0.get_mut("metadata").and_then(|m| m.as_object_mut()) {
        let labels = meta
            .entry("labels")
            .or_insert_with(|| serde_json::Value::Object(Default::default()));
        if let Some(l) = labels.as_object_mut() {
            l.insert(SYNC_NAME_LABEL.into(), name.into());
            l.insert(SYNC_NAMESPACE_LABEL.into(), namespace.into());
        }
    }
    o
}

fn base64_data_digests(o: &Object) -> Object {
    // secret_changes compares `data` values; decode them so digests match `sigil-agent render`.
    use base64::Engine;
    let mut out = Object(serde_json::json!({ "data": {} }));
    if let Some(map) = o.0.get("data").and_then(|d| d.as_object()) {
        for (k, v) in map {
            let decoded = zeroize::Zeroizing::new(
                v.as_str()
                    .and_then(|s| base64::engine::general_purpose::STANDARD.decode(s).ok())
                    .unwrap_or_default(),
            );
            out.0["data"][k] = serde_json::Value::String(String::from_utf8_lossy(&decoded).into_owned());
        }
    }
    out
}

impl Applier<'_> {
    fn who(&self) -> Option<&str> {
        self.impersonate.as_deref()
    }

    /// Applies `objects` (already labelled or not: labels are added here), definitions first.
    pub async fn apply(&self, objects: &[Object], wait_established: Duration) -> Result<Report, ApiError> {
        let objects: Vec<Object> = objects
            .iter()
            .map(|o| labelled(o, self.sync_name, self.sync_namespace))
            .collect();
        let (first, rest) = stage::stages(objects);
        let mut report = Report::default();
        for o in &first {
            self.apply_one(o, &mut report).await?;
        }
        self.wait_established(&first, wait_established).await?;
        for o in &rest {
            self.apply_one(o, &mut report).await?;
        }
        report.inventory = inventory::of(&first).into_iter().chain(inventory::of(&rest)).collect();
        Ok(report)
    }

    async fn apply_one(&self, o: &Object, report: &mut Report) -> Result<(), ApiError> {
        let id = o.id();
        let kind = self.api.kind(&id, o.api_version(), o.kind()).await?;
        let live = self.api.get(&kind, o.namespace(), o.name(), self.who()).await?;
        let outcome = match &live {
            None => {
                self.api.apply(&kind, o, false, self.who()).await?;
                Outcome::Created
            }
            Some(l) => {
                let dry = self.api.apply(&kind, o, true, self.who()).await?;
                if drift::drifted(&dry, Some(l)) {
                    self.api.apply(&kind, o, false, self.who()).await?;
                    Outcome::Configured
                } else {
                    Outcome::Unchanged
                }
            }
        };
        if outcome != Outcome::Unchanged && o.kind() == "Secret" && o.api_version() == "v1" {
            let old = live.as_ref().map(base64_data_digests);
            let mut new = o.clone();
            if let Some(sd) = o.0.get("stringData").and_then(|d| d.as_object()) {
                // stringData wins over data on the server: fold it in for the comparison.
                use base64::Engine;
                for (k, v) in sd {
                    let enc = base64::engine::general_purpose::STANDARD.encode(v.as_str().unwrap_or("").as_bytes());
                    new.0["data"][k] = serde_json::Value::String(enc);
                }
            }
            let changes = drift::secret_changes(old.as_ref(), &base64_data_digests(&new));
            if !changes.is_empty() {
                report.secret_changes.push((id.clone(), changes));
            }
        }
        tracing::debug!(object = %id, ?outcome, "applied");
        report.objects.push((id, outcome));
        Ok(())
    }

    async fn wait_established(&self, definitions: &[Object], limit: Duration) -> Result<(), ApiError> {
        let deadline = Instant::now() + limit;
        for o in definitions.iter().filter(|o| o.kind() == "CustomResourceDefinition") {
            let kind = self.api.kind(&o.id(), o.api_version(), o.kind()).await?;
            loop {
                let live = self.api.get(&kind, "", o.name(), self.who()).await?;
                let established = live.as_ref().is_some_and(|l| {
                    l.0.pointer("/status/conditions")
                        .and_then(|c| c.as_array())
                        .is_some_and(|c| {
                            c.iter().any(|c| {
                                c.get("type").and_then(|t| t.as_str()) == Some("Established")
                                    && c.get("status").and_then(|s| s.as_str()) == Some("True")
                            })
                        })
                });
                if established {
                    break;
                }
                if Instant::now() >= deadline {
                    return Err(ApiError::Refused {
                        what: o.id(),
                        code: 504,
                        message: format!("not established after {}s", limit.as_secs()),
                    });
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
        Ok(())
    }

    /// Deletes the objects of `old` that are not in `new`, if they still carry this Sync's
    /// labels, in reverse apply order (Namespaces and CRDs last). Returns what was deleted.
    pub async fn prune(&self, old: &[Entry], new: &[Entry]) -> Result<Vec<String>, ApiError> {
        let mut deleted = Vec::new();
        for e in inventory::prune_order(&inventory::stale(old, new)) {
            let Some((ns, name, _, kind_name)) = e.parts() else {
                continue;
            };
            let what = format!("{kind_name} {ns}/{name}");
            let kind = match self.api.kind(&what, &e.api_version(), kind_name).await {
                Ok(k) => k,
                // The kind itself is gone (its CRD was pruned): nothing left to delete.
                Err(ApiError::UnknownKind { .. }) => continue,
                Err(err) => return Err(err),
            };
            let Some(live) = self.api.get(&kind, ns, name, self.who()).await? else {
                continue;
            };
            let label = |k: &str| {
                live.0
                    .pointer(&format!("/metadata/labels/{}", k.replace('/', "~1")))?
                    .as_str()
            };
            if label(SYNC_NAME_LABEL) != Some(self.sync_name)
                || label(SYNC_NAMESPACE_LABEL) != Some(self.sync_namespace)
            {
                tracing::info!(object = %what, "not pruned: no longer labelled as this Sync's");
                continue;
            }
            if self.api.delete(&kind, ns, name, self.who()).await? {
                deleted.push(what);
            }
        }
        Ok(deleted)
    }

    /// Waits until every object in `targets` is healthy, or `timeout` passes; on timeout the
    /// message names the objects that are not.
    pub async fn wait_healthy(
        &self,
        targets: &[(String, String, String, String)],
        timeout: Duration,
    ) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        let mut pause = Duration::from_millis(500);
        loop {
            let mut pending = Vec::new();
            for (api_version, kind_name, ns, name) in targets {
                let what = format!("{kind_name} {ns}/{name}");
                let state = match self.api.kind(&what, api_version, kind_name).await {
                    Err(e) => Health::InProgress(e.to_string()),
                    Ok(kind) => match self.api.get(&kind, ns, name, self.who()).await {
                        Ok(Some(live)) => health::health(&live),
                        Ok(None) => Health::InProgress("not found".into()),
                        Err(e) => Health::InProgress(e.to_string()),
                    },
                };
                match state {
                    Health::Current => {}
                    Health::Failed(why) => return Err(format!("{what}: {why}")),
                    Health::InProgress(why) => pending.push(format!("{what}: {why}")),
                }
            }
            if pending.is_empty() {
                return Ok(());
            }
            if Instant::now() + pause > deadline {
                return Err(format!(
                    "timed out after {}s waiting for: {}",
                    timeout.as_secs(),
                    pending.join("; ")
                ));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(5));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_added_and_summary_shows_no_values() {
        let o = Object(
            serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "n"}}),
        );
        let l = labelled(&o, "web", "apps");
        assert_eq!(l.0["metadata"]["labels"][SYNC_NAME_LABEL], "web");
        assert_eq!(l.0["metadata"]["labels"][SYNC_NAMESPACE_LABEL], "apps");
        let r = Report {
            objects: vec![
                ("ConfigMap n/a".into(), Outcome::Created),
                ("Secret n/s".into(), Outcome::Configured),
                ("ConfigMap n/b".into(), Outcome::Unchanged),
            ],
            secret_changes: vec![(
                "Secret n/s".into(),
                vec![(
                    "password".into(),
                    KeyChange::Changed("aaaaaaaaaaaa".into(), "bbbbbbbbbbbb".into()),
                )],
            )],
            inventory: vec![],
        };
        assert_eq!(r.changed(), 2);
        assert_eq!(
            r.summary(),
            "ConfigMap n/a created\nSecret n/s configured\nSecret n/s keys: ~password (sha256:aaaaaaaaaaaa -> sha256:bbbbbbbbbbbb)"
        );
    }

    #[test]
    fn secret_digests_are_of_decoded_values() {
        let s = Object(serde_json::json!({"data": {"k": "aHVudGVyMg=="}}));
        let d = base64_data_digests(&s);
        assert_eq!(d.0["data"]["k"], "hunter2");
        let c = drift::secret_changes(None, &d);
        let want = &crate::redact::marker(b"hunter2")["<redacted sha256:".len()..][..12];
        assert!(matches!(&c[0].1, KeyChange::Added(n) if n == want));
    }
}
