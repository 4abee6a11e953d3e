//! Kubernetes events (`events.k8s.io/v1`) about GitSources, Syncs and key Secrets. Each
//! distinct note is its own event — "these objects changed" must not be folded into the
//! previous change's event, as a recorder keyed by reason alone would. The same note again is
//! folded into its event's series, and sent at most once a minute (a Sync failing every
//! second writes one event, not one a second). Notes never hold values (they come from
//! reports and errors that hold none).

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::ObjectReference;
use k8s_openapi::api::events::v1::{Event, EventSeries};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::api::{Api, Patch, PatchParams, PostParams};

/// How often a repeated event is written again.
const RESEND: Duration = Duration::from_secs(60);
/// How long a repeated event stays one series.
const FORGET: Duration = Duration::from_secs(600);

struct Sent {
    name: String,
    namespace: String,
    count: i32,
    written: Instant,
    seen: Instant,
}

/// Writes events for one agent replica.
pub struct Events {
    client: kube::Client,
    controller: String,
    instance: String,
    sent: tokio::sync::Mutex<HashMap<u64, Sent>>,
}

fn key(r: &ObjectReference, warning: bool, reason: &str, note: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (&r.uid, &r.kind, &r.namespace, &r.name, warning, reason, note).hash(&mut h);
    h.finish()
}

impl Events {
    /// Events reported as `controller` (`instance`: this replica).
    pub fn new(client: kube::Client, controller: &str, instance: &str) -> Self {
        Events {
            client,
            controller: controller.to_string(),
            instance: instance.to_string(),
            sent: tokio::sync::Mutex::default(),
        }
    }

    /// Publishes an event about `regarding` (errors are returned for logging, not fatal).
    pub async fn publish(
        &self,
        regarding: &ObjectReference,
        warning: bool,
        reason: &str,
        action: &str,
        note: &str,
    ) -> Result<(), kube::Error> {
        let namespace = regarding.namespace.clone().unwrap_or_else(|| "default".into());
        let api: Api<Event> = Api::namespaced(self.client.clone(), &namespace);
        let k = key(regarding, warning, reason, note);
        let now = Instant::now();
        let mut sent = self.sent.lock().await;
        sent.retain(|_, s| now.duration_since(s.seen) < FORGET);
        if let Some(s) = sent.get_mut(&k) {
            s.count += 1;
            s.seen = now;
            if now.duration_since(s.written) < RESEND {
                return Ok(());
            }
            s.written = now;
            let series = serde_json::json!({"series": EventSeries {
                count: s.count,
                last_observed_time: MicroTime(jiff::Timestamp::now()),
            }});
            let (name, ns) = (s.name.clone(), s.namespace.clone());
            drop(sent);
            let api: Api<Event> = Api::namespaced(self.client.clone(), &ns);
            return api
                .patch(&name, &PatchParams::default(), &Patch::Merge(&series))
                .await
                .map(|_| ());
        }
        let name = format!(
            "{}.{:016x}",
            regarding.name.as_deref().unwrap_or("object"),
            rand::random::<u64>()
        );
        let ev = Event {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                namespace: Some(namespace.clone()),
                ..ObjectMeta::default()
            },
            action: Some(action.to_string()),
            reason: Some(reason.to_string()),
            note: Some(note.to_string()),
            type_: Some(if warning { "Warning" } else { "Normal" }.to_string()),
            regarding: Some(regarding.clone()),
            event_time: Some(MicroTime(jiff::Timestamp::now())),
            reporting_controller: Some(self.controller.clone()),
            reporting_instance: Some(self.instance.clone()),
            ..Event::default()
        };
        sent.insert(
            k,
            Sent {
                name,
                namespace,
                count: 1,
                written: now,
                seen: now,
            },
        );
        drop(sent);
        api.create(&PostParams::default(), &ev).await.map(|_| ())
    }
}
