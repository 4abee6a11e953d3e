//! `sealer` with AWS KMS (moto) and Vault transit (OpenBao dev server), both directions with
//! the real `sops`; every server runs on 127.0.0.1 for one test and is stopped by PID.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sigil_tests::servers::{self, BAO_ROOT_TOKEN, FIXED_KMS_ALIAS_ARN, FIXED_KMS_ARN, Server, bao_api};
use sigil_tests::{AgeIdentity, Sops, age_keygen, ok, shared_vectors};

const PLAIN: &str = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\n  namespace: apps\nstringData:\n  password: Kms-Canary-Password-9\n  user: app\n";

/// Points a command at the test servers (and nowhere else: no profile, no IMDS, no HOME).
fn aws_env(c: &mut Command, dir: &Path, moto: Option<&Server>) {
    c.env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_ENDPOINT_URL_KMS")
        .env_remove("SOPS_AGE_KEY")
        .env_remove("SOPS_AGE_KEY_FILE")
        .env_remove("VAULT_ADDR")
        .env("HOME", dir.join("no-home"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_MAX_ATTEMPTS", "1")
        .env("VAULT_TOKEN", BAO_ROOT_TOKEN);
    match moto {
        Some(m) => c.env("AWS_ENDPOINT_URL", &m.url),
        // A closed port: KMS is "down".
        None => c.env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{}", servers::free_port())),
    };
}

fn sealer(dir: &Path, moto: Option<&Server>) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sealer"));
    c.current_dir(dir);
    aws_env(&mut c, dir, moto);
    c
}

fn sops(s: &Sops, dir: &Path, moto: Option<&Server>, key: Option<&Path>) -> Command {
    let mut c = s.cmd(key);
    c.current_dir(dir);
    aws_env(&mut c, dir, moto);
    if let Some(k) = key {
        c.env("SOPS_AGE_KEY_FILE", k);
    }
    c
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn plaintext_of(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

#[test]
fn kms_both_ways_with_sops() {
    let (Some(s), Some(moto)) = (Sops::find(), servers::moto()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let plain = write(d, "secret.yaml", PLAIN);

    for (label, kms, ctx) in [
        ("key", FIXED_KMS_ARN, None),
        ("alias", FIXED_KMS_ALIAS_ARN, None),
        ("context", FIXED_KMS_ARN, Some("cluster:dev,app:demo")),
    ] {
        let mut args = vec!["--kms", kms];
        if let Some(c) = ctx {
            args.extend(["--encryption-context", c]);
        }
        // sops encrypts, sealer decrypts.
        let enc = ok(
            &sops(&s, d, Some(&moto), None)
                .arg("-e")
                .args(&args)
                .arg(&plain)
                .output()
                .unwrap(),
            label,
        );
        let f = write(d, &format!("sops.{label}.yaml"), &String::from_utf8(enc).unwrap());
        let ours = ok(&sealer(d, Some(&moto)).arg("decrypt").arg(&f).output().unwrap(), label);
        let theirs = ok(
            &sops(&s, d, Some(&moto), None).arg("-d").arg(&f).output().unwrap(),
            label,
        );
        assert_eq!(plaintext_of(&ours), plaintext_of(&theirs), "{label}");
        assert!(plaintext_of(&ours).contains("Kms-Canary-Password-9"));
        // sealer encrypts, sops decrypts.
        let enc = ok(
            &sealer(d, Some(&moto))
                .arg("encrypt")
                .args(&args)
                .arg(&plain)
                .output()
                .unwrap(),
            label,
        );
        let f = write(d, &format!("ours.{label}.yaml"), &String::from_utf8(enc).unwrap());
        let theirs2 = ok(
            &sops(&s, d, Some(&moto), None).arg("-d").arg(&f).output().unwrap(),
            label,
        );
        assert_eq!(plaintext_of(&theirs2), plaintext_of(&theirs), "{label}");
        if ctx.is_some() {
            // A wrong encryption context is refused, naming the provider and the key.
            let text = std::fs::read_to_string(&f)
                .unwrap()
                .replace("cluster: dev", "cluster: prod");
            let bad = write(d, "wrongctx.yaml", &text);
            let out = sealer(d, Some(&moto)).arg("decrypt").arg(&bad).output().unwrap();
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(128), "{err}");
            assert!(
                err.contains(&format!("kms key {FIXED_KMS_ARN}")) && err.contains("encryption context"),
                "{err}"
            );
            assert!(!err.contains("Kms-Canary"));
            assert!(
                !sops(&s, d, Some(&moto), None)
                    .arg("-d")
                    .arg(&bad)
                    .output()
                    .unwrap()
                    .status
                    .success()
            );
        }
    }
}

#[test]
fn kms_shared_vectors() {
    let Some(v) = shared_vectors() else { return };
    let Some(moto) = servers::moto() else { return };
    let dir = tempfile::tempdir().unwrap();
    let dec = std::fs::read(v.join("secret.dec.yaml")).unwrap();
    for f in ["secret.kms.enc.yaml", "secret.kms-context.enc.yaml"] {
        let out = sealer(dir.path(), Some(&moto))
            .arg("decrypt")
            .arg(v.join(f))
            .output()
            .unwrap();
        assert_eq!(ok(&out, f), dec, "{f}");
    }
}

#[test]
fn kms_unreachable_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let Some(v) = shared_vectors() else { return };
    let out = sealer(dir.path(), None)
        .arg("decrypt")
        .arg(v.join("secret.kms.enc.yaml"))
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(128), "{err}");
    assert!(
        err.contains(&format!("kms key {FIXED_KMS_ARN}: cannot reach the KMS endpoint")),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
}

#[test]
fn transit_both_ways_with_sops_and_failures() {
    let (Some(s), Some(bao)) = (Sops::find(), servers::bao()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let plain = write(d, "secret.yaml", PLAIN);
    let uri = format!("{}/v1/transit/keys/sops-key", bao.url);
    let enc = ok(
        &sops(&s, d, None, None)
            .args(["-e", "--hc-vault-transit", &uri])
            .arg(&plain)
            .output()
            .unwrap(),
        "sops -e transit",
    );
    let f = write(d, "sops.transit.yaml", &String::from_utf8(enc).unwrap());
    let ours = ok(
        &sealer(d, None).arg("decrypt").arg(&f).output().unwrap(),
        "sealer decrypt transit",
    );
    let theirs = ok(
        &sops(&s, d, None, None).arg("-d").arg(&f).output().unwrap(),
        "sops -d transit",
    );
    assert_eq!(ours, theirs);
    let enc = ok(
        &sealer(d, None)
            .args(["encrypt", "--hc-vault-transit", &uri])
            .arg(&plain)
            .output()
            .unwrap(),
        "sealer encrypt transit",
    );
    let f2 = write(d, "ours.transit.yaml", &String::from_utf8(enc).unwrap());
    assert_eq!(
        ok(
            &sops(&s, d, None, None).arg("-d").arg(&f2).output().unwrap(),
            "sops -d of sealer's"
        ),
        theirs
    );

    // A revoked token: a clear error, and the token never shows.
    let (_, body) = bao_api(
        &bao,
        "POST",
        "auth/token/create",
        r#"{"policies":["root"],"ttl":"1h"}"#,
        None,
    );
    let token = serde_json::from_str::<serde_json::Value>(&body).unwrap()["auth"]["client_token"]
        .as_str()
        .unwrap()
        .to_string();
    ok(
        &sealer(d, None)
            .env("VAULT_TOKEN", &token)
            .arg("decrypt")
            .arg(&f2)
            .output()
            .unwrap(),
        "fresh token works",
    );
    bao_api(
        &bao,
        "POST",
        "auth/token/revoke",
        &format!(r#"{{"token":"{token}"}}"#),
        None,
    );
    let out = sealer(d, None)
        .env("VAULT_TOKEN", &token)
        .arg("decrypt")
        .arg(&f2)
        .output()
        .unwrap();
    let err = stderr(&out);
    assert!(err.contains(&format!("hc_vault key {uri}: permission denied")), "{err}");
    assert!(!err.contains(&token), "the token leaked: {err}");

    // A deleted key.
    bao_api(&bao, "POST", "transit/keys/doomed", "{}", None);
    let doomed = format!("{}/v1/transit/keys/doomed", bao.url);
    let enc = ok(
        &sealer(d, None)
            .args(["encrypt", "--hc-vault-transit", &doomed])
            .arg(&plain)
            .output()
            .unwrap(),
        "encrypt doomed",
    );
    let f3 = write(d, "doomed.yaml", &String::from_utf8(enc).unwrap());
    bao_api(
        &bao,
        "POST",
        "transit/keys/doomed/config",
        r#"{"deletion_allowed":true}"#,
        None,
    );
    assert!(bao_api(&bao, "DELETE", "transit/keys/doomed", "", None).0 < 300);
    let out = sealer(d, None).arg("decrypt").arg(&f3).output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(128), "{err}");
    assert!(err.contains(&format!("hc_vault key {doomed}:")), "{err}");

    // --vault-addr overrides the recorded address; an unreachable one is named.
    let dead = format!("http://127.0.0.1:{}", servers::free_port());
    let out = sealer(d, None)
        .args(["decrypt", "--vault-addr", &dead])
        .arg(&f2)
        .output()
        .unwrap();
    assert!(stderr(&out).contains("cannot reach Vault"), "{}", stderr(&out));

    // The shared vector, after restoring its fixed key (sealer reaches it through --vault-addr).
    if let Some(v) = shared_vectors() {
        let backup = std::fs::read_to_string(v.join("bao-transit-sops-fixed.backup.b64")).unwrap();
        let (code, body) = bao_api(
            &bao,
            "POST",
            "transit/restore/sops-fixed",
            &format!(r#"{{"backup":"{}"}}"#, backup.trim()),
            None,
        );
        assert!(code < 300, "{code} {body}");
        let out = sealer(d, None)
            .args(["decrypt", "--vault-addr", &bao.url])
            .arg(v.join("secret.vault-transit.enc.yaml"))
            .output()
            .unwrap();
        assert_eq!(
            ok(&out, "transit vector"),
            std::fs::read(v.join("secret.dec.yaml")).unwrap()
        );
    }
}

#[test]
fn mixed_groups_threshold_two() {
    let (Some(s), Some(moto), Some(bao)) = (Sops::find(), servers::moto(), servers::bao()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let Some(AgeIdentity { key_file, recipient }) = age_keygen(d, "a") else {
        return;
    };
    let cfg = format!(
        "creation_rules:\n  - shamir_threshold: 2\n    key_groups:\n      - age: [{recipient}]\n      - kms:\n          - arn: {FIXED_KMS_ARN}\n            context:\n              app: mixed\n      - hc_vault: [{}/v1/transit/keys/sops-key]\n",
        bao.url
    );
    write(d, ".sops.yaml", &cfg);
    let plain = write(d, "secret.yaml", PLAIN);
    let enc = ok(
        &sealer(d, Some(&moto)).arg("encrypt").arg(&plain).output().unwrap(),
        "encrypt mixed",
    );
    let f = write(d, "mixed.enc.yaml", &String::from_utf8(enc).unwrap());
    let text = std::fs::read_to_string(&f).unwrap();
    assert!(text.contains("shamir_threshold: 2") && text.contains("key_groups:"));
    let expected = ok(
        &sops(&s, d, Some(&moto), Some(&key_file))
            .arg("-d")
            .arg(&f)
            .output()
            .unwrap(),
        "sops -d mixed",
    );
    let dead_vault = format!("http://127.0.0.1:{}", servers::free_port());
    // Any two providers up: decrypts.
    let run = |age: bool, kms: bool, vault: bool| {
        let mut c = sealer(d, if kms { Some(&moto) } else { None });
        if age {
            c.env("SOPS_AGE_KEY_FILE", &key_file);
        }
        c.arg("decrypt");
        if !vault {
            c.args(["--vault-addr", &dead_vault]);
        }
        c.arg(&f).output().unwrap()
    };
    for (age, kms, vault) in [(true, true, false), (true, false, true), (false, true, true)] {
        assert_eq!(
            ok(&run(age, kms, vault), &format!("age={age} kms={kms} vault={vault}")),
            expected
        );
    }
    // Only one: fails, naming each group and why.
    let out = run(true, false, false);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(128), "{err}");
    assert!(
        err.contains("group 2: kms key") && err.contains("cannot reach the KMS endpoint"),
        "{err}"
    );
    assert!(
        err.contains("group 3: hc_vault key") && err.contains("cannot reach Vault"),
        "{err}"
    );
    assert!(err.contains("opened 1 of 3 key groups, 2 needed"), "{err}");
}

#[test]
fn kms_role_and_profile_like_sops() {
    let (Some(s), Some(moto)) = (Sops::find(), servers::moto()) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let plain = write(d, "secret.yaml", PLAIN);
    // A role assumed through STS (moto answers AssumeRole), written as sops writes it: ARN+ROLE.
    let role = "arn:aws:iam::123456789012:role/sops-decrypter";
    let with_role = format!("{FIXED_KMS_ARN}+{role}");
    let enc = ok(
        &sealer(d, Some(&moto))
            .args(["encrypt", "--kms", &with_role])
            .arg(&plain)
            .output()
            .unwrap(),
        "encrypt with role",
    );
    let text = String::from_utf8(enc).unwrap();
    assert!(text.contains(&format!("role: {role}")), "{text}");
    let f = write(d, "role.yaml", &text);
    let theirs = ok(
        &sops(&s, d, Some(&moto), None).arg("-d").arg(&f).output().unwrap(),
        "sops -d role",
    );
    let ours = ok(
        &sealer(d, Some(&moto)).arg("decrypt").arg(&f).output().unwrap(),
        "sealer decrypt role",
    );
    assert_eq!(ours, theirs);
    let enc = ok(
        &sops(&s, d, Some(&moto), None)
            .args(["-e", "--kms", &with_role])
            .arg(&plain)
            .output()
            .unwrap(),
        "sops role",
    );
    let f = write(d, "sops-role.yaml", &String::from_utf8(enc).unwrap());
    assert_eq!(
        ok(
            &sealer(d, Some(&moto)).arg("decrypt").arg(&f).output().unwrap(),
            "sealer decrypt sops role"
        ),
        theirs
    );

    // A named profile from the shared config files, recorded as aws_profile.
    let creds = write(
        d,
        "aws-credentials",
        "[sigil-test]\naws_access_key_id = profilekey\naws_secret_access_key = profilesecret\n",
    );
    let config = write(d, "aws-config", "[profile sigil-test]\nregion = us-east-1\n");
    let profiled = |c: &mut Command| {
        c.env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env("AWS_SHARED_CREDENTIALS_FILE", &creds)
            .env("AWS_CONFIG_FILE", &config);
    };
    let mut c = sealer(d, Some(&moto));
    profiled(&mut c);
    let enc = ok(
        &c.args(["encrypt", "--kms", FIXED_KMS_ARN, "--aws-profile", "sigil-test"])
            .arg(&plain)
            .output()
            .unwrap(),
        "encrypt with profile",
    );
    let text = String::from_utf8(enc).unwrap();
    assert!(text.contains("aws_profile: sigil-test"), "{text}");
    let f = write(d, "profile.yaml", &text);
    let mut c = sops(&s, d, Some(&moto), None);
    profiled(&mut c);
    assert_eq!(ok(&c.arg("-d").arg(&f).output().unwrap(), "sops -d profile"), theirs);
    let mut c = sealer(d, Some(&moto));
    profiled(&mut c);
    assert_eq!(
        ok(&c.arg("decrypt").arg(&f).output().unwrap(), "sealer decrypt profile"),
        theirs
    );
}
