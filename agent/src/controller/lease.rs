//! Leader election through a `coordination.k8s.io/v1` Lease, by client-go's rules: a Lease
//! held by another replica is taken over only after it has not changed for a whole lease
//! duration *as observed on this replica's own monotonic clock* — the holder's `renewTime` is
//! written but never compared with local time, so clock skew between nodes cannot make two
//! leaders. The leader renews every retry period and gives up once it could not renew for the
//! renew deadline (shorter than the lease duration, so it stops before anyone may take over).
//! Every write carries the resourceVersion read: the API server refuses (409) a write that
//! raced another replica's.

use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use kube::api::{Api, ObjectMeta, PostParams};

/// client-go's jitter factor: retries wait `retry * (1 + rand * 0.2)`.
const JITTER: f64 = 1.2;

/// The three durations of an election.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// How long a Lease that nobody renews stays valid.
    pub lease_duration: Duration,
    /// How long the leader keeps trying to renew before it gives up leadership.
    pub renew_deadline: Duration,
    /// How often candidates try to acquire and the leader renews.
    pub retry_period: Duration,
}

impl Default for Timing {
    /// client-go's defaults: 15 s, 10 s, 2 s.
    fn default() -> Self {
        Timing {
            lease_duration: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            retry_period: Duration::from_secs(2),
        }
    }
}

impl Timing {
    /// Checks client-go's rules: lease duration > renew deadline > 1.2 × retry period > 0.
    pub fn validate(&self) -> Result<(), String> {
        if self.retry_period.is_zero() {
            return Err("the leader election retry period must be greater than zero".into());
        }
        if self.lease_duration <= self.renew_deadline {
            return Err("the leader election lease duration must be greater than the renew deadline".into());
        }
        if self.renew_deadline.as_secs_f64() <= JITTER * self.retry_period.as_secs_f64() {
            return Err("the leader election renew deadline must be greater than 1.2 × the retry period".into());
        }
        Ok(())
    }
}

/// The Lease name for a watch label selector: shards (agents with different selectors) elect
/// separately, as Flux's controllers do.
pub fn lease_name(base: &str, selector: Option<&str>) -> String {
    use sha2::Digest;
    match selector {
        None => base.to_string(),
        Some(s) => format!("{base}-{}", &hex::encode(sha2::Sha256::digest(s.as_bytes()))[..8]),
    }
}

/// What this replica last saw of the Lease, and when (by its own clock).
#[derive(Clone)]
struct Observed {
    resource_version: Option<String>,
    holder: String,
    lease_duration: Duration,
    at: Instant,
}

/// One replica's side of the election.
pub struct Elector {
    api: Api<Lease>,
    name: String,
    identity: String,
    timing: Timing,
    observed: tokio::sync::Mutex<Option<Observed>>,
}

fn jittered(d: Duration) -> Duration {
    d.mul_f64(1.0 + rand::random::<f64>() * (JITTER - 1.0))
}

impl Elector {
    /// An elector for Lease `name` in `namespace`, as `identity` (the pod name).
    pub fn new(client: kube::Client, namespace: &str, name: &str, identity: &str, timing: Timing) -> Self {
        Elector {
            api: Api::namespaced(client, namespace),
            name: name.to_string(),
            identity: identity.to_string(),
            timing,
            observed: tokio::sync::Mutex::new(None),
        }
    }

    fn spec(&self, acquired: Option<MicroTime>, transitions: i32) -> LeaseSpec {
        let now = MicroTime(jiff::Timestamp::now());
        LeaseSpec {
            holder_identity: Some(self.identity.clone()),
            lease_duration_seconds: Some(self.timing.lease_duration.as_secs().max(1) as i32),
            acquire_time: Some(acquired.unwrap_or_else(|| now.clone())),
            renew_time: Some(now),
            lease_transitions: Some(transitions),
            ..LeaseSpec::default()
        }
    }

    async fn observe(&self, lease: &Lease) -> Observed {
        let spec = lease.spec.clone().unwrap_or_default();
        let seen = Observed {
            resource_version: lease.metadata.resource_version.clone(),
            holder: spec.holder_identity.unwrap_or_default(),
            lease_duration: Duration::from_secs(spec.lease_duration_seconds.unwrap_or(0).max(0) as u64),
            at: Instant::now(),
        };
        let mut o = self.observed.lock().await;
        match &*o {
            // Unchanged since we last looked: its age counts from then.
            Some(prev) if prev.resource_version == seen.resource_version => prev.clone(),
            _ => {
                *o = Some(seen.clone());
                seen
            }
        }
    }

    /// Takes or renews the Lease; `false` when another replica holds a valid one (or won a
    /// race for it).
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
                Ok(created) => {
                    self.observe(&created).await;
                    Ok(true)
                }
                Err(kube::Error::Api(e)) if e.code == 409 => Ok(false),
                Err(e) => Err(e),
            };
        };
        let seen = self.observe(&lease).await;
        let mine = seen.holder == self.identity;
        if !mine && !seen.holder.is_empty() && seen.at.elapsed() < seen.lease_duration {
            return Ok(false);
        }
        let spec = lease.spec.clone().unwrap_or_default();
        let transitions = spec.lease_transitions.unwrap_or(0) + i32::from(!mine);
        let acquired = if mine { spec.acquire_time.clone() } else { None };
        let mut next = lease.clone();
        next.spec = Some(self.spec(acquired, transitions));
        match self.api.replace(&self.name, &PostParams::default(), &next).await {
            Ok(written) => {
                self.observe(&written).await;
                Ok(true)
            }
            Err(kube::Error::Api(e)) if e.code == 409 => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Gives the Lease up (on a clean shutdown): holder cleared and a one-second duration, so
    /// another replica takes over at once instead of after a lease duration.
    pub async fn release(&self) {
        let Ok(Some(lease)) = self.api.get_opt(&self.name).await else {
            return;
        };
        let mut spec = lease.spec.clone().unwrap_or_default();
        if spec.holder_identity.as_deref() != Some(self.identity.as_str()) {
            return;
        }
        let now = MicroTime(jiff::Timestamp::now());
        spec.holder_identity = None;
        spec.lease_duration_seconds = Some(1);
        spec.renew_time = Some(now.clone());
        spec.acquire_time = Some(now);
        let mut next = lease.clone();
        next.spec = Some(spec);
        if let Err(e) = self.api.replace(&self.name, &PostParams::default(), &next).await {
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
            tokio::time::sleep(jittered(self.timing.retry_period)).await;
        }
    }

    /// Renews the Lease every retry period until a renewal could not be made within the renew
    /// deadline; then returns (the caller stops reconciling: another replica may lead soon).
    pub async fn hold(&self) {
        let mut last_ok = Instant::now();
        loop {
            tokio::time::sleep(self.timing.retry_period).await;
            match tokio::time::timeout(self.timing.renew_deadline, self.try_acquire()).await {
                Ok(Ok(true)) => last_ok = Instant::now(),
                Ok(Ok(false)) => {
                    tracing::error!(lease = %self.name, "leadership lost to another replica");
                    return;
                }
                Ok(Err(e)) => tracing::warn!(lease = %self.name, error = %e, "lease renewal failed"),
                Err(_) => tracing::warn!(lease = %self.name, "lease renewal timed out"),
            }
            if last_ok.elapsed() >= self.timing.renew_deadline {
                tracing::error!(lease = %self.name, "lease not renewed within the renew deadline: leadership lost");
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timing_rules_and_shard_names() {
        assert!(Timing::default().validate().is_ok());
        let t = |l, r, p| Timing {
            lease_duration: Duration::from_secs(l),
            renew_deadline: Duration::from_secs(r),
            retry_period: Duration::from_secs(p),
        };
        assert!(
            t(10, 10, 2)
                .validate()
                .unwrap_err()
                .contains("greater than the renew deadline")
        );
        assert!(t(15, 2, 2).validate().unwrap_err().contains("1.2"));
        assert!(t(15, 10, 0).validate().is_err());
        assert_eq!(lease_name("sigil-agent-leader", None), "sigil-agent-leader");
        let a = lease_name("sigil-agent-leader", Some("shard=a"));
        assert!(a.starts_with("sigil-agent-leader-") && a.len() == "sigil-agent-leader-".len() + 8);
        assert_ne!(a, lease_name("sigil-agent-leader", Some("shard=b")));
    }
}
