//! The cluster side of the sealing keys and the digest key. Sealing keys: the labelled key
//! Secrets of the agent's namespace are read (by every replica, so each serves the current
//! certificate), planned (`crate::sealing_keys`: which unseal, which seals, whether a new one is
//! due — RSA key generation off the async workers), and, on the leader only, a new key is
//! created when due. A malformed key Secret is reported (log and Warning event on it) and
//! skipped; it never stops the agent. The digest key (HMAC key of the Secret-value digests in
//! events) is made once and kept in a Secret of the agent's namespace.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::controller::{Ctx, Error};
use crate::digest::DigestKey;
use crate::object::Object;
use crate::sealing_keys;
use crate::secrets::SealedSecrets;

/// The Secret holding the digest key.
pub const DIGEST_KEY_SECRET: &str = "sigil-digest-key";

/// Lists the key Secrets, creates a new key when due (`may_create`: the leader), and swaps in
/// the resolver and the served certificate when the set of keys changed.
pub async fn refresh(ctx: &Ctx, may_create: bool) -> Result<(), Error> {
    let ns = ctx.config.namespace.clone();
    let kind = ctx.api.kind("Secret", "v1", "Secret").await?;
    let found = ctx.api.list(&kind, &ns, Some(sealing_keys::BITNAMI_LABEL)).await?;
    let (renew, bits) = (ctx.config.key_renew, ctx.config.key_bits);
    let ns2 = ns.clone();
    let plan = tokio::task::spawn_blocking(move || {
        sealing_keys::plan(&found, jiff::Timestamp::now(), renew, &ns2, bits, may_create)
    })
    .await
    .map_err(|e| Error::Keys(e.to_string()))?
    .map_err(|e| Error::Keys(e.to_string()))?;
    for s in &plan.skipped {
        tracing::warn!(secret = %s.secret, reason = %s.reason, "key Secret skipped");
        let o = k8s_openapi::api::core::v1::ObjectReference {
            api_version: Some("v1".into()),
            kind: Some("Secret".into()),
            namespace: Some(ns.clone()),
            name: Some(s.name.clone()),
            ..Default::default()
        };
        let note = format!("not used as a sealing key: {}", s.reason);
        if may_create
            && let Err(e) = ctx
                .events
                .publish(&o, true, "InvalidSealingKey", "LoadKeys", &note)
                .await
        {
            tracing::debug!(error = %e, "event not published");
        }
    }
    if let Some(new) = &plan.new_key {
        let docs = sigil_crds::manifest::load(new.manifest.as_bytes()).map_err(Error::Keys)?;
        let obj = Object(docs.into_iter().next().unwrap_or_default());
        ctx.api.create(&kind, &obj).await?;
        tracing::info!(fingerprint = %new.fingerprint, namespace = %ns, "new sealing key created");
    }
    let set = plan.keys;
    let mut fps: Vec<&str> = set.keys.iter().map(|k| k.fingerprint.as_str()).collect();
    fps.sort_unstable();
    let generation = {
        let mut m = crate::digest::process_key().mac();
        m.update(fps.join(",").as_bytes());
        m.finish_u64()
    };
    if ctx.sealed_generation() != generation {
        tracing::info!(keys = set.keys.len(), sealing = ?set.sealing, "sealing keys loaded");
        let resolver = Arc::new(SealedSecrets::new(set.keys));
        if let Ok(mut s) = ctx.sealed.write() {
            *s = (resolver, generation);
        }
        if let Ok(mut c) = ctx.http.cert.write() {
            *c = set.cert;
        }
    }
    Ok(())
}

/// Re-reads the keys every `every` (imported keys are picked up, renewal happens on time).
pub async fn keep_fresh(ctx: Arc<Ctx>, leading: Arc<AtomicBool>, every: Duration) {
    loop {
        tokio::time::sleep(every).await;
        if let Err(e) = refresh(&ctx, leading.load(Ordering::Relaxed)).await {
            tracing::warn!(error = %e, "sealing keys refresh failed");
        }
    }
}

/// Loads the digest key from its Secret, making it (once, 32 random bytes) when absent.
pub async fn load_digest_key(ctx: &Ctx) -> Result<(), Error> {
    let ns = &ctx.config.namespace;
    for _ in 0..3 {
        if let Some(data) = crate::controller::secret_data(ctx, ns, DIGEST_KEY_SECRET).await?
            && let Some(bytes) = data.get("key").filter(|b| b.len() >= 16)
        {
            if let Ok(mut k) = ctx.digest_key.write() {
                *k = Arc::new(DigestKey::from_bytes(bytes));
            }
            return Ok(());
        }
        let fresh = DigestKey::random();
        let kind = ctx.api.kind("Secret", "v1", "Secret").await?;
        let obj = Object(serde_json::json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": DIGEST_KEY_SECRET, "namespace": ns,
                         "labels": {"app.kubernetes.io/name": "sigil-agent"}},
            "type": "Opaque",
            "data": {"key": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, fresh.bytes())},
        }));
        // Another replica may have made it meanwhile: then read theirs.
        ctx.api.create(&kind, &obj).await?;
    }
    Err(Error::Keys(format!(
        "Secret {ns}/{DIGEST_KEY_SECRET} could not be read or made"
    )))
}
