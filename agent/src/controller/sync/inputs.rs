//! What a Sync's reconcile reads before rendering: its dependencies (Ready at their current
//! revision), its source's artifact, its decryption keys and substitution variables (only
//! from its own namespace), and a keyed digest of all of them — equal digests mean an
//! identical render, so an unchanged Sync need not render again.

use std::collections::BTreeMap;
use std::sync::Arc;

use kube::runtime::reflector::ObjectRef;
use kube::{Resource, ResourceExt};
use sigil_crds::sigil::{GitSource, Sync};
use zeroize::Zeroizing;

use crate::conditions::{self, reason};
use crate::controller::refs::{RefKind, RefVersion};
use crate::controller::sync::status::{ARTIFACT_FAILED, Failed, REQUESTED_AT, failed};
use crate::controller::{Ctx, secret_data};
use crate::pipeline::{self, DecryptionKeys};
use crate::substitute::Vars;

/// Every dependency Ready at its observed generation — and, when it reads the same source,
/// having applied that source's current revision (Flux's rule).
pub fn dependencies_ready(ctx: &Ctx, sync: &Sync, ns: &str) -> Result<(), Failed> {
    for d in &sync.spec.depends_on {
        let dns = d.namespace.clone().unwrap_or_else(|| ns.to_string());
        let not_ready = |why: &str| {
            failed(
                reason::DEPENDENCY_NOT_READY,
                format!("dependency '{dns}/{}' {why}", d.name),
                None,
            )
        };
        let Some(dep) = ctx.syncs.get(&ObjectRef::<Sync>::new(&d.name).within(&dns)) else {
            return Err(not_ready("not found"));
        };
        let Some(st) = dep.status.as_ref() else {
            return Err(not_ready("is not ready"));
        };
        if st.observed_generation != dep.meta().generation || !conditions::is_true(&st.conditions, "Ready") {
            return Err(not_ready("is not ready"));
        }
        let same_source = crate::controller::triggers::source_of(&dep) == crate::controller::triggers::source_of(sync)
            && dep.spec.source_ref.kind() == sync.spec.source_ref.kind();
        if same_source {
            let current = source(ctx, sync, ns).ok().map(|(_, r)| r);
            if current.is_some() && current != st.last_applied_revision {
                return Err(not_ready("is not ready at the source's current revision"));
            }
        }
    }
    Ok(())
}

/// The GitSource and its artifact's revision (from the watch cache: no request).
pub fn source(ctx: &Ctx, sync: &Sync, ns: &str) -> Result<(Arc<GitSource>, String), Failed> {
    let sns = sync.spec.source_ref.namespace.clone().unwrap_or_else(|| ns.to_string());
    let name = &sync.spec.source_ref.name;
    let gs = ctx
        .gitsources
        .get(&ObjectRef::<GitSource>::new(name).within(&sns))
        .ok_or_else(|| failed(ARTIFACT_FAILED, format!("GitSource {sns}/{name} not found"), None))?;
    if let Some(st) = &gs.status
        && let Some(c) = st.conditions.iter().find(|c| c.type_ == "Ready" && c.status == "False")
        && c.reason == crate::gitsource::VERIFICATION_FAILED
    {
        return Err(failed(
            reason::VERIFICATION_FAILED,
            format!("GitSource {sns}/{name}: {}", c.message),
            None,
        ));
    }
    let revision = gs
        .status
        .as_ref()
        .and_then(|s| s.artifact.as_ref())
        .map(|a| a.revision.clone())
        .ok_or_else(|| {
            failed(
                ARTIFACT_FAILED,
                format!("GitSource {sns}/{name} has no artifact yet"),
                None,
            )
        })?;
    Ok((gs, revision))
}

/// A keyed digest of everything a render and apply of `sync` at `revision` depends on, or
/// `None` when part of it is not known without a request (then the reconcile is a full one).
pub fn digest(ctx: &Ctx, sync: &Sync, ns: &str, revision: &str) -> Option<u64> {
    let mut m = crate::digest::process_key().mac();
    let mut feed = |b: &[u8]| {
        m.update(&(b.len() as u64).to_be_bytes());
        m.update(b);
    };
    feed(revision.as_bytes());
    feed(&sync.meta().generation.unwrap_or(0).to_be_bytes());
    feed(sync.meta().uid.as_deref().unwrap_or("").as_bytes());
    feed(
        sync.annotations()
            .get(REQUESTED_AT)
            .map_or("", |s| s.as_str())
            .as_bytes(),
    );
    feed(&ctx.sealed_generation().to_be_bytes());
    feed(ctx.config.default_service_account.as_deref().unwrap_or("").as_bytes());
    let mut refs: Vec<(RefKind, &str)> = Vec::new();
    if let Some(r) = sync.spec.decryption.as_ref().and_then(|d| d.secret_ref.as_ref()) {
        refs.push((RefKind::Secret, &r.name));
    }
    for r in sync.spec.post_build.iter().flat_map(|p| &p.substitute_from) {
        let kind = if r.kind == "Secret" {
            RefKind::Secret
        } else {
            RefKind::ConfigMap
        };
        refs.push((kind, &r.name));
    }
    for (kind, name) in refs {
        match ctx.refs.version(kind, ns, name) {
            RefVersion::Unknown => return None,
            RefVersion::Missing => feed(b"missing"),
            RefVersion::At(v) => feed(&v.to_be_bytes()),
        }
    }
    Some(m.finish_u64())
}

/// The SOPS keys and resolver credentials from the Sync's decryption Secret (its own
/// namespace only).
pub async fn decryption_keys(ctx: &Ctx, sync: &Sync, ns: &str, rev: Option<&str>) -> Result<DecryptionKeys, Failed> {
    let keys = match sync.spec.decryption.as_ref().and_then(|d| d.secret_ref.as_ref()) {
        None => pipeline::decryption_keys(&Default::default()),
        Some(r) => {
            let data = secret_data(ctx, ns, &r.name)
                .await
                .map_err(|e| failed(reason::DECRYPTION_FAILED, e.to_string(), rev))?
                .ok_or_else(|| {
                    failed(
                        reason::DECRYPTION_FAILED,
                        format!("decryption Secret {ns}/{} not found", r.name),
                        rev,
                    )
                })?;
            pipeline::decryption_keys(&data)
        }
    };
    keys.map_err(|e| failed(reason::DECRYPTION_FAILED, e.to_string(), rev))
}

/// The `postBuild` variables: `substituteFrom` in order (later entries win), then the inline
/// `substitute` over them. Secret values stay in zeroizing buffers.
pub async fn variables(ctx: &Ctx, sync: &Sync, ns: &str, rev: Option<&str>) -> Result<Vars, Failed> {
    let mut vars = Vars::new();
    let Some(pb) = &sync.spec.post_build else {
        return Ok(vars);
    };
    for r in &pb.substitute_from {
        let what = format!("{} {ns}/{}", r.kind, r.name);
        let data: Option<BTreeMap<String, Zeroizing<Vec<u8>>>> = match r.kind.as_str() {
            "Secret" => secret_data(ctx, ns, &r.name)
                .await
                .map_err(|e| failed(reason::BUILD_FAILED, format!("substitute from {what}: {e}"), rev))?,
            "ConfigMap" => config_map_data(ctx, ns, &r.name)
                .await
                .map_err(|e| failed(reason::BUILD_FAILED, format!("substitute from {what}: {e}"), rev))?,
            other => {
                return Err(failed(
                    super::status::INVALID,
                    format!("postBuild.substituteFrom kind {other:?} is not ConfigMap or Secret"),
                    rev,
                ));
            }
        };
        match data {
            Some(d) => {
                for (k, v) in d {
                    let text = Zeroizing::new(String::from_utf8_lossy(&v).into_owned());
                    vars.set(&k, &text);
                }
            }
            None if r.optional => {}
            None => {
                return Err(failed(
                    reason::BUILD_FAILED,
                    format!("substitute from {what}: not found"),
                    rev,
                ));
            }
        }
    }
    for (k, v) in &pb.substitute {
        vars.set(k, v);
    }
    Ok(vars)
}

/// A ConfigMap's `data` (as Flux, not its `binaryData`), or `None`.
async fn config_map_data(
    ctx: &Ctx,
    ns: &str,
    name: &str,
) -> Result<Option<BTreeMap<String, Zeroizing<Vec<u8>>>>, crate::controller::kubeapi::ApiError> {
    let kind = ctx.api.kind("ConfigMap", "v1", "ConfigMap").await?;
    let Some(o) = ctx.api.get(&kind, ns, name, None).await? else {
        return Ok(None);
    };
    let mut out = BTreeMap::new();
    if let Some(d) = o.0.get("data").and_then(|d| d.as_object()) {
        for (k, v) in d {
            out.insert(k.clone(), Zeroizing::new(v.as_str().unwrap_or("").as_bytes().to_vec()));
        }
    }
    Ok(Some(out))
}
