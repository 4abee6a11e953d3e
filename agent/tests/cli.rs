//! `sigil-agent` prints its version and help.

use std::process::Command;

#[test]
fn version_and_help() {
    let bin = env!("CARGO_BIN_EXE_sigil-agent");
    let v = Command::new(bin).arg("--version").output().unwrap();
    assert!(v.status.success());
    assert_eq!(
        String::from_utf8_lossy(&v.stdout).trim(),
        format!("sigil-agent {}", env!("CARGO_PKG_VERSION"))
    );
    let h = Command::new(bin).arg("--help").output().unwrap();
    assert!(h.status.success());
    assert!(String::from_utf8_lossy(&h.stdout).contains("Usage: sigil-agent"));
}

#[test]
fn crds_print_what_deploy_ships() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sigil-agent"))
        .arg("crds")
        .output()
        .unwrap();
    assert!(out.status.success());
    let shipped = std::fs::read_to_string(sigil_tests::workspace_root().join("deploy/base/crds.yaml")).unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        shipped,
        "deploy/base/crds.yaml is stale: run `sigil-agent crds > deploy/base/crds.yaml`"
    );
    let docs = sigil_crds::manifest::load(shipped.as_bytes()).unwrap();
    let names: Vec<&str> = docs.iter().map(|d| d["metadata"]["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["gitsources.sigil.dev", "syncs.sigil.dev"]);
}
