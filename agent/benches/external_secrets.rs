//! 500 ExternalSecrets against a real OpenBao dev server (started here on 127.0.0.1):
//! Vault requests made and wall time, cold (fresh resolver: one AppRole login, then reads)
//! and warm (same resolver within refreshInterval: no Vault call at all).
//! Run: `cargo bench -p sigil-agent --bench external_secrets` (needs .peers/ from
//! tools/peers/setup.sh; says so and exits when OpenBao is missing).

use std::sync::Arc;
use std::time::Instant;

use sigil_agent::object::Object;
use sigil_agent::secrets::external::ExternalSecrets;
use sigil_agent::secrets::{self, Policy, SecretResolver};
use sigil_agent::vault::VaultKv;
use sigil_tests::servers::{bao, bao_api};

fn main() {
    let Some(s) = bao() else {
        eprintln!("SKIPPED: OpenBao (bao) is not installed; run tools/peers/setup.sh");
        return;
    };
    let root = Some(sigil_tests::servers::BAO_ROOT_TOKEN);
    let ok = |m: &str, p: &str, b: &str| {
        let (code, text) = bao_api(&s, m, p, b, root);
        assert!(code < 300, "{p}: {code} {text}");
        text
    };
    for i in 0..500 {
        ok(
            "POST",
            &format!("secret/data/apps/s{i}"),
            &format!(r#"{{"data":{{"user":"u{i}","password":"p{i}"}}}}"#),
        );
    }
    ok(
        "PUT",
        "sys/policies/acl/r",
        r#"{"policy":"path \"secret/data/*\" { capabilities = [\"read\"] }"}"#,
    );
    ok("POST", "sys/auth/approle", r#"{"type":"approle"}"#);
    ok(
        "POST",
        "auth/approle/role/es",
        r#"{"token_policies":"r","token_ttl":"10m"}"#,
    );
    let role: serde_json::Value = serde_json::from_str(&ok("GET", "auth/approle/role/es/role-id", "")).unwrap();
    let sid: serde_json::Value = serde_json::from_str(&ok("POST", "auth/approle/role/es/secret-id", "{}")).unwrap();
    let mut yaml = format!(
        "apiVersion: external-secrets.io/v1
kind: SecretStore
metadata: {{name: vault, namespace: apps}}
spec:
  provider:
    vault:
      server: {}
      path: secret
      auth: {{appRole: {{roleId: {}, secretRef: {{name: approle, key: id}}}}}}
---
apiVersion: v1
kind: Secret
metadata: {{name: approle, namespace: apps}}
stringData: {{id: {}}}
",
        s.url,
        role["data"]["role_id"].as_str().unwrap(),
        sid["data"]["secret_id"].as_str().unwrap()
    );
    for i in 0..500 {
        yaml.push_str(&format!(
            "---
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {{name: es{i}, namespace: apps}}
spec:
  refreshInterval: 1h
  secretStoreRef: {{name: vault}}
  data:
  - {{secretKey: user, remoteRef: {{key: apps/s{i}, property: user}}}}
  - {{secretKey: password, remoteRef: {{key: apps/s{i}, property: password}}}}
"
        ));
    }
    let objects: Vec<Object> = sigil_crds::manifest::load(yaml.as_bytes())
        .unwrap()
        .into_iter()
        .map(Object)
        .collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let run = |r: ExternalSecrets| {
        let resolvers: Vec<Box<dyn SecretResolver>> = vec![Box::new(r)];
        let input: Vec<(Object, bool)> = objects.iter().map(|o| (o.clone(), false)).collect();
        let t = Instant::now();
        let out = rt
            .block_on(secrets::resolve_all(input, &resolvers, Policy::default()))
            .unwrap();
        (
            t.elapsed(),
            out.iter().filter(|o| o.kind() == "Secret").count() - 1,
            resolvers,
        )
    };
    let kv = Arc::new(VaultKv::new());
    let r = ExternalSecrets::new(Arc::clone(&kv), None, None);
    // The resolver (and its value cache) is kept between the two renders.
    let (cold, n, resolvers) = run(r);
    assert_eq!(n, 500);
    let st = kv.stats();
    let input: Vec<(Object, bool)> = objects.iter().map(|o| (o.clone(), false)).collect();
    let t = Instant::now();
    rt.block_on(secrets::resolve_all(input, &resolvers, Policy::default()))
        .unwrap();
    let warm = t.elapsed();
    let st2 = kv.stats();
    println!("500 ExternalSecrets (1,000 keys from 500 Vault secrets), AppRole auth, OpenBao dev server:");
    println!(
        "  cold: {:>9.1?}  {} Vault requests ({} login, {} reads)",
        cold,
        st.requests,
        st.logins,
        st.requests - st.logins
    );
    println!(
        "  warm: {:>9.1?}  {} Vault requests (within refreshInterval)",
        warm,
        st2.requests - st.requests
    );
}
