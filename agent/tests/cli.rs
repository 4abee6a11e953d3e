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
