//! The cluster side of the sealing keys: list the key Secrets in the agent's namespace,
//! create the one `keys::plan` asks for, and publish the set (resolver and certificate).

use std::time::Duration;

use crate::controller::{Ctx, Error};
use crate::keys;
use crate::object::Object;
use crate::secrets::SealedSecrets;

/// Lists the key Secrets, creates a new key when due, and swaps in the resolver and the
/// served certificate when the set of keys changed.
pub async fn refresh(ctx: &Ctx) -> Result<(), Error> {
    let ns = &ctx.config.namespace;
    let kind = ctx.api.kind("Secret", "v1", "Secret").await?;
    let mut found = ctx.api.list(&kind, ns, Some(keys::SIGIL_LABEL)).await?;
    found.extend(ctx.api.list(&kind, ns, Some(keys::BITNAMI_LABEL)).await?);
    let (set, new) = keys::plan(
        &found,
        jiff::Timestamp::now(),
        ctx.config.key_renew,
        ns,
        ctx.config.key_bits,
    )
    .map_err(|e| Error::Keys(e.to_string()))?;
    if let Some(new) = &new {
        let docs = sigil_crds::manifest::load(new.manifest.as_bytes()).map_err(|e| Error::Keys(e.to_string()))?;
        let obj = Object(docs.into_iter().next().unwrap_or_default());
        ctx.api.apply(&kind, &obj, false, None).await?;
        tracing::info!(fingerprint = %new.fingerprint, namespace = %ns, "new sealing key created");
    }
    let mut fps: Vec<&str> = set.keys.iter().map(|k| k.fingerprint.as_str()).collect();
    fps.sort_unstable();
    let generation = {
        use sha2::Digest;
        let d = sha2::Sha256::digest(fps.join(",").as_bytes());
        u64::from_be_bytes(d[..8].try_into().unwrap_or_default())
    };
    let current = ctx.sealed.read().map(|s| s.1).unwrap_or(0);
    if current != generation {
        tracing::info!(keys = set.keys.len(), sealing = ?set.sealing, "sealing keys loaded");
        let resolver = std::sync::Arc::new(SealedSecrets::new(set.keys));
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
pub async fn keep_fresh(ctx: std::sync::Arc<Ctx>, every: Duration) {
    loop {
        tokio::time::sleep(every).await;
        if let Err(e) = refresh(&ctx).await {
            tracing::warn!(error = %e, "sealing keys refresh failed");
        }
    }
}
