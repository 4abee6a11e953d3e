//! Leader election through a `coordination.k8s.io/v1` Lease, so that of several replicas only
//! one reconciles. A takeover or renewal is a merge patch carrying the resourceVersion read, so
//! the API server refuses it (409) when another replica wrote the Lease in between.

use std::time::Duration;

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use kube::api::{Api, ObjectMeta, Patch, PatchParams, PostParams};

/// How long a Lease stays valid without renewal (renewed every third of it).
pub const LEASE_DURATION: Duration = Duration::from_secs(15);

/// One replica's side of the election.
pub struct Elector {
    api: Api<Lease>,
    name: String,
    identity: String,
    duration: Duration,
}

impl Elector {
    /// An elector for Lease `name` in `namespace`, as `identity` (the pod name).
    pub fn new(client: kube::Client, namespace: &str, name: &str, identity: &str) -> Self {
        Elector {
            api: Api::namespaced(client, namespace),
            name: name.to_string(),
            identity: identity.to_string(),
            duration: LEASE_DURATION,
        }
    }

    /// The lease duration written (renewals happen at a third of it).
    pub fn duration(mut self, d: Duration) -> Self {
        self.duration = d.max(Duration::from_secs(1));
        self
    }

    fn spec(&self, acquired: Option<MicroTime>, transitions: i32) -> LeaseSpec {
        let now = MicroTime(jiff::Timestamp::now());
        LeaseSpec {
            holder_identity: Some(self.identity.clone()),
            lease_duration_seconds: Some(self.duration.as_secs() as i32),
            acquire_time: Some(acquired.unwrap_or_else(|| now.clone())),
            renew_time: Some(now),
            lease_transitions: Some(transitions),
            ..LeaseSpec::default()
        }
    }

    /// Takes or renews the Lease; `false` when another replica holds a valid one.
    pub async fn try_acquire(&self) -> Result<bool, kube::Error> {
        let Some(lease) = self.api.get_opt(&self.name).await? else {
            let l = Lease {
                metadata: ObjectMeta {
                    name: Some(self.name.clone()),
                    ..ObjectMeta::default()
                },
                spec: Some(self.spec(None, 0)),
            };
            return match self.api.create(&PostParams::default(), &l).await {
                Ok(_) => Ok(true),
                Err(kube::Error::Api(e)) if e.code == 409 => Ok(false),
                Err(e) => Err(e),
            };
        };
        let spec = lease.spec.clone().unwrap_or_default();
        let holder = spec.holder_identity.clone().unwrap_or_default();
        let mine = holder == self.identity;
        let duration = Duration::from_secs(spec.lease_duration_seconds.unwrap_or(15).max(1) as u64);
        let expired = spec
            .renew_time
            .as_ref()
            .is_none_or(|t| jiff::Timestamp::now().duration_since(t.0).as_secs_f64() > duration.as_secs_f64());
        if !mine && !holder.is_empty() && !expired {
            return Ok(false);
        }
        let transitions = spec.lease_transitions.unwrap_or(0) + i32::from(!mine);
        let acquired = if mine { spec.acquire_time.clone() } else { None };
        let patch = serde_json::json!({
            "metadata": {"resourceVersion": lease.metadata.resource_version},
            "spec": self.spec(acquired, transitions),
        });
        match self
            .api
            .patch(&self.name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(e)) if e.code == 409 => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Gives the Lease up (on a clean shutdown), so another replica need not wait for expiry.
    pub async fn release(&self) {
        let Ok(Some(lease)) = self.api.get_opt(&self.name).await else {
            return;
        };
        let holder = lease.spec.as_ref().and_then(|s| s.holder_identity.as_deref());
        if holder != Some(self.identity.as_str()) {
            return;
        }
        let patch = serde_json::json!({
            "metadata": {"resourceVersion": lease.metadata.resource_version},
            "spec": {"holderIdentity": null, "renewTime": null},
        });
        if let Err(e) = self
            .api
            .patch(&self.name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
        {
            tracing::debug!(lease = %self.name, error = %e, "lease not released");
        }
    }

    /// Waits until this replica holds the Lease.
    pub async fn acquire(&self) {
        loop {
            match self.try_acquire().await {
                Ok(true) => {
                    tracing::info!(lease = %self.name, identity = %self.identity, "leader election won");
                    return;
                }
                Ok(false) => tracing::debug!(lease = %self.name, "another replica leads"),
                Err(e) => tracing::warn!(lease = %self.name, error = %e, "leader election"),
            }
            tokio::time::sleep(self.duration / 6).await;
        }
    }

    /// Renews the Lease until it cannot be renewed for a whole lease duration; then returns
    /// (the caller stops reconciling: another replica may lead from now on).
    pub async fn hold(&self) {
        let mut last_ok = std::time::Instant::now();
        loop {
            tokio::time::sleep(self.duration / 3).await;
            match self.try_acquire().await {
                Ok(true) => last_ok = std::time::Instant::now(),
                Ok(false) => {
                    tracing::error!(lease = %self.name, "leadership lost to another replica");
                    return;
                }
                Err(e) => tracing::warn!(lease = %self.name, error = %e, "lease renewal failed"),
            }
            if last_ok.elapsed() >= self.duration {
                tracing::error!(lease = %self.name, "lease not renewed in time: leadership lost");
                return;
            }
        }
    }
}
