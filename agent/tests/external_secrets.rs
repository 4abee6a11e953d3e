//! ExternalSecrets (ESO manifests, Vault provider) against a real OpenBao dev server started
//! on 127.0.0.1 by each test: KV v2 and v1, data/dataFrom, properties (top-level, nested,
//! whole), versions, templates; token, AppRole and JWT auth; token caching, renewal and
//! re-login after revocation; failures naming the ExternalSecret, store and Vault path, with
//! no value or token in any message or log line.

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use secrecy::SecretString;
use sigil_agent::object::Object;
use sigil_agent::secrets::external::ExternalSecrets;
use sigil_agent::secrets::{Context, ResolveError, SecretResolver};
use sigil_agent::vault::VaultKv;
use sigil_tests::servers::{Server, bao, bao_api};

const DB_PASSWORD: &str = "Eso-Canary-Password-7";
const ROOT: &str = "sigil-test-root";

fn b64(s: &str) -> String {
    STANDARD.encode(s)
}

fn api(s: &Server, method: &str, path: &str, body: &str) -> String {
    let (code, text) = bao_api(s, method, path, body, Some(ROOT));
    assert!(code < 300, "{method} {path}: {code} {text}");
    text
}

/// OpenBao with: secret/app/db (two versions), secret/app/config (nested), kv1/app/legacy,
/// a read policy, AppRole role `es` (short renewable tokens) and JWT role `es`.
fn vault() -> Option<Server> {
    let s = bao()?;
    api(
        &s,
        "POST",
        "secret/data/app/db",
        r#"{"data":{"username":"app","password":"old-password"}}"#,
    );
    api(
        &s,
        "POST",
        "secret/data/app/db",
        &format!(r#"{{"data":{{"username":"app","password":"{DB_PASSWORD}","port":5432}}}}"#),
    );
    api(
        &s,
        "POST",
        "secret/data/app/config",
        r#"{"data":{"tls":{"cert":"CERT","key":"KEY"},"a.b":"dotted","token":"dG9rZW4="}}"#,
    );
    api(
        &s,
        "POST",
        "sys/mounts/kv1",
        r#"{"type":"kv","options":{"version":"1"}}"#,
    );
    api(&s, "POST", "kv1/app/legacy", r#"{"apikey":"legacy-key"}"#);
    api(
        &s,
        "PUT",
        "sys/policies/acl/read-app",
        r#"{"policy":"path \"secret/data/app/*\" { capabilities = [\"read\"] }\npath \"kv1/app/*\" { capabilities = [\"read\"] }"}"#,
    );
    api(&s, "POST", "sys/auth/approle", r#"{"type":"approle"}"#);
    api(
        &s,
        "POST",
        "auth/approle/role/es",
        r#"{"token_policies":"read-app","token_ttl":"6s","token_max_ttl":"10m"}"#,
    );
    Some(s)
}

fn approle_ids(s: &Server) -> (String, String) {
    let role: serde_json::Value = serde_json::from_str(&api(s, "GET", "auth/approle/role/es/role-id", "")).unwrap();
    let secret: serde_json::Value =
        serde_json::from_str(&api(s, "POST", "auth/approle/role/es/secret-id", "{}")).unwrap();
    (
        role["data"]["role_id"].as_str().unwrap().to_string(),
        secret["data"]["secret_id"].as_str().unwrap().to_string(),
    )
}

fn objects(yaml: &str) -> Vec<Object> {
    sigil_crds::manifest::load(yaml.as_bytes())
        .unwrap()
        .into_iter()
        .map(Object)
        .collect()
}

fn store(server: &str, extra: &str) -> String {
    format!(
        "apiVersion: external-secrets.io/v1
kind: SecretStore
metadata: {{name: vault, namespace: apps}}
spec:
  provider:
    vault:
      server: {server}
      path: secret
      version: v2
{extra}"
    )
}

async fn resolve_all(r: &ExternalSecrets, objs: &[Object]) -> Result<Vec<Object>, ResolveError> {
    let ctx = Context { objects: objs };
    let mut out = Vec::new();
    for o in objs {
        if r.handles(o)
            && let Some(s) = r.resolve(o, &ctx).await?
        {
            out.push(s);
        }
    }
    Ok(out)
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn data(secret: &Object, key: &str) -> String {
    let v = secret.0["data"][key]
        .as_str()
        .unwrap_or_else(|| panic!("no key {key} in {secret:?}"));
    String::from_utf8(STANDARD.decode(v).unwrap()).unwrap()
}

#[test]
fn kv2_kv1_properties_versions_templates_with_a_token() {
    let Some(s) = vault() else { return };
    let yaml = format!(
        "{}
---
apiVersion: external-secrets.io/v1
kind: SecretStore
metadata: {{name: legacy, namespace: apps}}
spec:
  provider:
    vault: {{server: {url}, path: kv1, version: v1, auth: {{tokenSecretRef: {{name: t, key: token}}}}}}
---
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {{name: db, namespace: apps}}
spec:
  refreshInterval: 1h
  secretStoreRef: {{name: vault, kind: SecretStore}}
  target: {{name: db-creds}}
  data:
  - {{secretKey: password, remoteRef: {{key: app/db, property: password}}}}
  - {{secretKey: old, remoteRef: {{key: secret/app/db, property: password, version: \"1\"}}}}
  - {{secretKey: port, remoteRef: {{key: app/db, property: port}}}}
  - {{secretKey: cert, remoteRef: {{key: app/config, property: tls.cert}}}}
  - {{secretKey: dotted, remoteRef: {{key: app/config, property: a.b}}}}
  - {{secretKey: tls, remoteRef: {{key: app/config, property: tls}}}}
  - {{secretKey: all, remoteRef: {{key: app/db}}}}
  - {{secretKey: token, remoteRef: {{key: app/config, property: token, decodingStrategy: Base64}}}}
---
apiVersion: external-secrets.io/v1beta1
kind: ExternalSecret
metadata: {{name: extracted, namespace: apps}}
spec:
  secretStoreRef: {{name: vault}}
  dataFrom:
  - extract: {{key: app/db}}
  target:
    template:
      type: kubernetes.io/basic-auth
      metadata: {{labels: {{team: db}}, annotations: {{note: templated}}}}
      data:
        dsn: 'postgres://{{{{ .username }}}}:{{{{ .password }}}}@db:{{{{ .port }}}}/app'
        username: '{{{{ .username | upper }}}}'
---
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {{name: legacy, namespace: apps}}
spec:
  secretStoreRef: {{name: legacy}}
  data: [{{secretKey: apikey, remoteRef: {{key: app/legacy, property: apikey}}}}]
---
apiVersion: v1
kind: Secret
metadata: {{name: t, namespace: apps}}
stringData: {{token: {ROOT}}}
",
        store(&s.url, "      auth: {tokenSecretRef: {name: t, key: token}}\n"),
        url = s.url
    );
    let r = ExternalSecrets::new(Arc::new(VaultKv::new()), None, None);
    let out = rt().block_on(resolve_all(&r, &objects(&yaml))).unwrap();
    assert_eq!(out.len(), 3, "stores are consumed, ExternalSecrets become Secrets");
    let db = &out[0];
    assert_eq!(db.name(), "db-creds");
    assert_eq!(db.namespace(), "apps");
    assert_eq!(db.0["type"], "Opaque");
    assert_eq!(data(db, "password"), DB_PASSWORD);
    assert_eq!(data(db, "old"), "old-password");
    assert_eq!(data(db, "port"), "5432");
    assert_eq!(data(db, "cert"), "CERT");
    assert_eq!(data(db, "dotted"), "dotted");
    assert_eq!(data(db, "tls"), r#"{"cert":"CERT","key":"KEY"}"#);
    assert_eq!(
        data(db, "all"),
        format!(r#"{{"password":"{DB_PASSWORD}","port":5432,"username":"app"}}"#)
    );
    assert_eq!(data(db, "token"), "token");
    let ex = &out[1];
    assert_eq!(ex.name(), "extracted");
    assert_eq!(ex.0["type"], "kubernetes.io/basic-auth");
    assert_eq!(ex.0["metadata"]["labels"]["team"], "db");
    assert_eq!(ex.0["metadata"]["annotations"]["note"], "templated");
    assert_eq!(data(ex, "dsn"), format!("postgres://app:{DB_PASSWORD}@db:5432/app"));
    assert_eq!(data(ex, "username"), "APP");
    assert!(
        ex.0["data"].get("password").is_none(),
        "template data replaces (mergePolicy Replace)"
    );
    assert_eq!(data(&out[2], "apikey"), "legacy-key");
    // Within refreshInterval, a second resolution makes no Vault call.
    let before = r.client().stats().requests;
    rt().block_on(resolve_all(&r, &objects(&yaml))).unwrap();
    assert_eq!(r.client().stats().requests, before, "warm: zero Vault calls");
}

fn approle_yaml(url: &str, role_id: &str, secret_id: &str, refresh: &str) -> String {
    format!(
        "{}
---
apiVersion: v1
kind: Secret
metadata: {{name: approle, namespace: apps}}
stringData: {{secret-id: {secret_id}}}
---
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {{name: db, namespace: apps}}
spec:
  refreshInterval: {refresh}
  secretStoreRef: {{name: vault}}
  data: [{{secretKey: password, remoteRef: {{key: app/db, property: password}}}}]
",
        store(
            url,
            &format!(
                "      auth:\n        appRole: {{path: approle, roleId: {role_id}, secretRef: {{name: approle, key: secret-id}}}}\n"
            )
        )
    )
}

#[test]
fn approle_login_is_cached_renewed_and_redone_after_revocation() {
    let Some(s) = vault() else { return };
    let (role_id, secret_id) = approle_ids(&s);
    // refreshInterval 1ns: every resolution reads Vault again, with the cached token.
    let objs = objects(&approle_yaml(&s.url, &role_id, &secret_id, "1ns"));
    let r = ExternalSecrets::new(Arc::new(VaultKv::new()), None, None);
    let rt = rt();
    for _ in 0..50 {
        let out = rt.block_on(resolve_all(&r, &objs)).unwrap();
        assert_eq!(data(&out[0], "password"), DB_PASSWORD);
    }
    let st = r.client().stats();
    assert_eq!(
        st.logins, 1,
        "one login for 50 resolutions within the token TTL: {st:?}"
    );
    // Past two thirds of the 6 s lease: renewed, not a new login.
    std::thread::sleep(Duration::from_millis(4500));
    rt.block_on(resolve_all(&r, &objs)).unwrap();
    let st = r.client().stats();
    assert_eq!((st.logins, st.renewals), (1, 1), "{st:?}");
    // Revoke every AppRole token: the next read gets 403, logs in again and succeeds.
    api(&s, "PUT", "sys/leases/revoke-prefix/auth/approle/login", "{}");
    let out = rt.block_on(resolve_all(&r, &objs)).unwrap();
    assert_eq!(data(&out[0], "password"), DB_PASSWORD);
    assert_eq!(r.client().stats().logins, 2);
}

/// An RS256 JWT signed by a key made here, with Python's `cryptography` (the peers' venv).
fn jwt_and_pubkey() -> Option<(String, String)> {
    let py = sigil_tests::python()?;
    let code = r#"
import base64, json, time
from cryptography.hazmat.primitives.asymmetric import rsa, padding
from cryptography.hazmat.primitives import hashes, serialization
k = rsa.generate_private_key(public_exponent=65537, key_size=2048)
pub = k.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
b = lambda d: base64.urlsafe_b64encode(d).rstrip(b"=").decode()
h = b(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
now = int(time.time())
p = b(json.dumps({"sub": "sigil", "aud": "sigil", "iat": now, "nbf": now - 5, "exp": now + 600}).encode())
sig = k.sign(f"{h}.{p}".encode(), padding.PKCS1v15(), hashes.SHA256())
print(json.dumps({"jwt": f"{h}.{p}.{b(sig)}", "pub": pub}))
"#;
    let out = sigil_tests::run_python(&py, code, &[]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    Some((v["jwt"].as_str()?.to_string(), v["pub"].as_str()?.to_string()))
}

#[test]
fn jwt_login_with_a_locally_configured_public_key() {
    let Some(s) = vault() else { return };
    let Some((jwt, pubkey)) = jwt_and_pubkey() else { return };
    api(&s, "POST", "sys/auth/jwt", r#"{"type":"jwt"}"#);
    api(
        &s,
        "POST",
        "auth/jwt/config",
        &serde_json::json!({"jwt_validation_pubkeys": [pubkey]}).to_string(),
    );
    api(
        &s,
        "POST",
        "auth/jwt/role/es",
        r#"{"role_type":"jwt","bound_audiences":["sigil"],"user_claim":"sub","token_policies":"read-app","token_ttl":"60s"}"#,
    );
    let yaml = format!(
        "{}
---
apiVersion: v1
kind: Secret
metadata: {{name: jwt, namespace: apps}}
stringData: {{token: {jwt}}}
---
apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {{name: db, namespace: apps}}
spec:
  secretStoreRef: {{name: vault}}
  data: [{{secretKey: password, remoteRef: {{key: app/db, property: password}}}}]
",
        store(
            &s.url,
            "      auth:\n        jwt: {path: jwt, role: es, secretRef: {name: jwt, key: token}}\n"
        )
    );
    let r = ExternalSecrets::new(Arc::new(VaultKv::new()), None, None);
    let out = rt().block_on(resolve_all(&r, &objects(&yaml))).unwrap();
    assert_eq!(data(&out[0], "password"), DB_PASSWORD);
    assert_eq!(r.client().stats().logins, 1);
    // A JWT the server does not trust fails the login, naming method and mount.
    let bad = yaml.replace(&jwt, "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln");
    let r = ExternalSecrets::new(Arc::new(VaultKv::new()), None, None);
    let e = rt().block_on(resolve_all(&r, &objects(&bad))).unwrap_err().to_string();
    assert!(
        e.contains("ExternalSecret apps/db") && e.contains("jwt login at auth/jwt failed"),
        "{e}"
    );
    assert!(!e.contains("eyJ"), "no JWT in the message: {e}");
}

/// Kubernetes auth as a ServiceAccount runs through a Sync (the cluster tests); outside the
/// agent there is no token to request, and the error says so.
#[test]
fn service_account_login_outside_the_agent_is_refused_clearly() {
    let yaml = format!(
        "{}---\napiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata: {{name: db, namespace: apps}}\nspec:\n  secretStoreRef: {{name: vault}}\n  data: [{{secretKey: p, remoteRef: {{key: app/db, property: p}}}}]\n",
        store(
            "http://127.0.0.1:9",
            "      auth:\n        kubernetes: {mountPath: kubernetes, role: app, serviceAccountRef: {name: reader}}\n"
        )
    );
    let r = ExternalSecrets::new(Arc::new(VaultKv::new()), None, None);
    let e = rt().block_on(resolve_all(&r, &objects(&yaml))).unwrap_err().to_string();
    assert!(
        e.contains("ExternalSecret apps/db") && e.contains("needs the agent running against a cluster"),
        "{e}"
    );
}

#[test]
fn failures_name_the_external_secret_store_and_path_never_a_value_or_token() {
    let Some(s) = vault() else { return };
    let rt = rt();
    let es = |key: &str, prop: &str| {
        format!(
            "apiVersion: external-secrets.io/v1
kind: ExternalSecret
metadata: {{name: db, namespace: apps}}
spec:
  secretStoreRef: {{name: vault}}
  data: [{{secretKey: k, remoteRef: {{key: {key}, property: {prop}}}}}]
"
        )
    };
    let with_token = |token: &str, key: &str, prop: &str, url: &str| {
        let r = ExternalSecrets::new(
            Arc::new(VaultKv::new().timeout(Duration::from_secs(2))),
            Some(SecretString::from(token.to_string())),
            None,
        );
        let yaml = format!("{}\n---\n{}", store(url, ""), es(key, prop));
        rt.block_on(resolve_all(&r, &objects(&yaml))).unwrap_err().to_string()
    };
    // Missing key and missing property.
    let e = with_token(ROOT, "app/nope", "x", &s.url);
    assert!(
        e.contains("ExternalSecret apps/db")
            && e.contains("store vault")
            && e.contains("no secret at secret/data/app/nope"),
        "{e}"
    );
    let e = with_token(ROOT, "app/db", "nope", &s.url);
    assert!(
        e.contains("property nope not found in") && e.contains("secret/data/app/db"),
        "{e}"
    );
    // Permission denied: a token without the policy.
    let t: serde_json::Value = serde_json::from_str(&api(
        &s,
        "POST",
        "auth/token/create",
        r#"{"policies":["default"],"ttl":"5m"}"#,
    ))
    .unwrap();
    let weak = t["auth"]["client_token"].as_str().unwrap().to_string();
    let e = with_token(&weak, "app/db", "password", &s.url);
    assert!(e.contains("permission denied on secret/data/app/db"), "{e}");
    assert!(
        !e.contains(&weak) && !e.contains(ROOT) && !e.contains(DB_PASSWORD),
        "{e}"
    );
    // Unreachable Vault.
    let dead = format!("http://127.0.0.1:{}", sigil_tests::servers::free_port());
    let e = with_token(ROOT, "app/db", "password", &dead);
    assert!(
        e.contains("ExternalSecret apps/db") && e.contains(&dead) && e.contains("cannot connect"),
        "{e}"
    );
    // No store named and no default; with a default store (a Sync's spec.vault) it resolves.
    let unnamed = "apiVersion: external-secrets.io/v1\nkind: ExternalSecret\nmetadata: {name: db, namespace: apps}\nspec:\n  data: [{secretKey: k, remoteRef: {key: app/db, property: password}}]\n";
    let r = ExternalSecrets::new(
        Arc::new(VaultKv::new()),
        Some(SecretString::from(ROOT.to_string())),
        None,
    );
    let yaml = format!("{}\n---\n{unnamed}", store(&s.url, ""));
    let e = rt.block_on(resolve_all(&r, &objects(&yaml))).unwrap_err().to_string();
    assert!(e.contains("no spec.secretStoreRef, and no default store"), "{e}");
    let r = r.default_store("vault", Some("SecretStore"));
    let out = rt.block_on(resolve_all(&r, &objects(&yaml))).unwrap();
    assert_eq!(data(&out[0], "k"), DB_PASSWORD);
    // A store that is not in the render, and another provider.
    let r = ExternalSecrets::new(Arc::new(VaultKv::new()), None, None);
    let e = rt
        .block_on(resolve_all(&r, &objects(&es("app/db", "password"))))
        .unwrap_err()
        .to_string();
    assert!(e.contains("SecretStore vault is not in the render"), "{e}");
    let aws = "apiVersion: external-secrets.io/v1\nkind: SecretStore\nmetadata: {name: vault, namespace: apps}\nspec: {provider: {aws: {service: SecretsManager}}}\n";
    let e = rt
        .block_on(resolve_all(
            &r,
            &objects(&format!("{aws}---\n{}", es("app/db", "password"))),
        ))
        .unwrap_err()
        .to_string();
    assert!(e.contains("provider aws not supported"), "{e}");
}

/// `sigil-agent render` on a Kustomize repo holding ESO's Vault manifests, with
/// `--vault-addr`/`--vault-token-file`; logs at trace carry no value and no token.
#[test]
fn render_cli_resolves_external_secrets_without_leaking() {
    let Some(s) = vault() else { return };
    let dir = tempfile::tempdir().unwrap();
    let w = |rel: &str, text: &str| {
        let p = dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    w(
        "repo/kustomization.yaml",
        "namespace: apps\nresources: [store.yaml, es.yaml]\n",
    );
    // As in ESO's Vault provider docs: a store with token auth and an ExternalSecret.
    w(
        "repo/store.yaml",
        "apiVersion: external-secrets.io/v1beta1
kind: SecretStore
metadata:
  name: vault-backend
spec:
  provider:
    vault:
      server: \"http://vault.example:8200\"
      path: \"secret\"
      version: \"v2\"
      auth:
        tokenSecretRef:
          name: \"vault-token\"
          key: \"token\"
",
    );
    w(
        "repo/es.yaml",
        "apiVersion: external-secrets.io/v1beta1
kind: ExternalSecret
metadata:
  name: vault-example
spec:
  refreshInterval: \"15s\"
  secretStoreRef:
    name: vault-backend
    kind: SecretStore
  target:
    name: example-sync
  data:
  - secretKey: foobar
    remoteRef:
      key: app/db
      property: password
  dataFrom:
  - extract:
      key: app/config
",
    );
    w("token", ROOT);
    let url = s.url.clone();
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_sigil-agent"))
            .env("SIGIL_LOG", "trace")
            .env_remove("VAULT_ADDR")
            .env_remove("VAULT_TOKEN")
            .arg("render")
            .arg(dir.path().join("repo"))
            .args(["--vault-addr", &url, "--vault-token-file"])
            .arg(dir.path().join("token"))
            .args(extra)
            .output()
            .unwrap()
    };
    let out = run(&[]);
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{err}");
    for t in [&text, &err] {
        assert!(
            !t.contains(DB_PASSWORD) && !t.contains(&b64(DB_PASSWORD)) && !t.contains(ROOT),
            "leak: {t}"
        );
    }
    let objs = sigil_crds::manifest::load(text.as_bytes()).unwrap();
    assert_eq!(objs.len(), 1, "the store is consumed: {text}");
    assert_eq!(objs[0]["metadata"]["name"], "example-sync");
    assert_eq!(objs[0]["metadata"]["namespace"], "apps");
    let key = sigil_agent::digest::DigestKey::derive(
        "sigil-agent render",
        &[zeroize::Zeroizing::new(ROOT.as_bytes().to_vec())],
    )
    .unwrap();
    assert!(text.contains(&key.marker(DB_PASSWORD.as_bytes())), "{text}");
    let shown = run(&["--show-secrets"]);
    let objs = sigil_crds::manifest::load(&shown.stdout).unwrap();
    assert_eq!(objs[0]["data"]["foobar"], b64(DB_PASSWORD).as_str());
    assert_eq!(objs[0]["data"]["a.b"], b64("dotted").as_str());
    // Vault down: the render fails naming the ExternalSecret and the server, nothing printed.
    drop(s);
    let out = run(&[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && out.stdout.is_empty());
    assert!(
        err.contains("ExternalSecret apps/vault-example") && err.contains("store vault-backend"),
        "{err}"
    );
    assert!(!err.contains(ROOT), "{err}");
}
