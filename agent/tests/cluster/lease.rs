//! Leader election on the real API server's Lease objects, by client-go's rules: a Lease held
//! by another replica is taken only after it has not changed for a lease duration *as observed
//! here* (never by comparing the holder's renewTime with our clock), renewals keep it, a
//! release frees it at once, and a race for it has one winner.

use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use kube::api::PostParams;
use serde_json::json;
use sigil_agent::controller::lease::{Elector, Timing};

use crate::support::{TestEnv, apply};

fn timing() -> Timing {
    Timing {
        lease_duration: Duration::from_secs(3),
        renew_deadline: Duration::from_secs(2),
        retry_period: Duration::from_millis(500),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_leader_at_a_time() {
    let Some(env) = TestEnv::new("lease").await else { return };
    let d = timing().lease_duration;
    let a = Elector::new(env.client.clone(), &env.system, "leader", "a", timing());
    let b = Elector::new(env.client.clone(), &env.system, "leader", "b", timing());
    assert!(a.try_acquire().await.unwrap(), "the first replica takes the free Lease");
    assert!(!b.try_acquire().await.unwrap(), "the second waits while it is held");
    assert!(a.try_acquire().await.unwrap(), "the holder renews");
    assert!(!b.try_acquire().await.unwrap());
    // The holder stops renewing: a lease duration after b last saw it change, b takes over.
    tokio::time::sleep(d + Duration::from_millis(300)).await;
    assert!(b.try_acquire().await.unwrap(), "an expired Lease is taken over");
    assert!(!a.try_acquire().await.unwrap(), "the old holder does not take it back");
    let leases = env.api::<Lease>(&env.system);
    let spec = leases.get("leader").await.unwrap().spec.unwrap();
    assert_eq!(spec.holder_identity.as_deref(), Some("b"));
    assert_eq!(spec.lease_transitions, Some(1));
    // A clean shutdown gives the Lease up at once.
    b.release().await;
    assert!(a.try_acquire().await.unwrap(), "a released Lease is free");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_skewed_clock_does_not_make_two_leaders() {
    let Some(env) = TestEnv::new("skew").await else { return };
    let leases = env.api::<Lease>(&env.system);
    // Held by a replica whose clock is years behind: its renewTime looks long expired to us,
    // but the record is fresh. We must still wait a whole lease duration from our first look.
    apply(
        &leases,
        "leader",
        json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": "leader"},
               "spec": {"holderIdentity": "far-behind", "leaseDurationSeconds": 3,
                        "renewTime": "2001-01-01T00:00:00.000000Z", "acquireTime": "2001-01-01T00:00:00.000000Z"}}),
    )
    .await;
    let b = Elector::new(env.client.clone(), &env.system, "leader", "b", timing());
    assert!(
        !b.try_acquire().await.unwrap(),
        "a fresh record is valid whatever its timestamps say"
    );
    // The other replica renews (the record changes): the wait starts again.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut l = leases.get("leader").await.unwrap();
    l.spec.as_mut().unwrap().lease_transitions = Some(7);
    leases.replace("leader", &PostParams::default(), &l).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        !b.try_acquire().await.unwrap(),
        "renewed: the wait starts again from this look"
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        !b.try_acquire().await.unwrap(),
        "1.5 s since we saw it change: still valid"
    );
    tokio::time::sleep(Duration::from_millis(1800)).await;
    assert!(
        b.try_acquire().await.unwrap(),
        "unchanged for a lease duration as we saw it: taken over"
    );

    // Two candidates racing for a free Lease: exactly one wins.
    let free: Vec<Elector> = (0..4)
        .map(|i| Elector::new(env.client.clone(), &env.system, "race", &format!("c{i}"), timing()))
        .collect();
    let wins = futures::future::join_all(free.iter().map(|e| e.try_acquire())).await;
    let winners = wins.iter().filter(|w| matches!(w, Ok(true))).count();
    assert_eq!(winners, 1, "{wins:?}");
}
