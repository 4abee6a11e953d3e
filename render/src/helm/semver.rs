//! Semantic versions and constraints for Helm's own checks (a dependency's `version:`
//! against the subchart present, a chart's `kubeVersion:`, a chart's own `version`), through
//! sprig's `semver`/`semverCompare`: one implementation of Masterminds/semver v3, which both
//! Helm and sprig use.

use std::sync::LazyLock;

use crate::gotemplate::Func;
use crate::gotemplate::sprig;
use crate::gotemplate::value::Value;

static SEMVER: LazyLock<Option<Func>> = LazyLock::new(|| sprig::funcs().get("semver").copied());
static SEMVER_COMPARE: LazyLock<Option<Func>> = LazyLock::new(|| sprig::funcs().get("semverCompare").copied());

/// Whether `version` is a version as Masterminds' `NewVersion` reads one (`v` prefix, missing
/// minor/patch, prerelease and build metadata allowed).
pub fn is_version(version: &str) -> bool {
    SEMVER
        .as_ref()
        .is_some_and(|f| (f.call)(&[Value::str(version)]).is_ok())
}

/// Helm's `IsCompatibleRange`: whether `version` meets `constraint` (false if either does not
/// parse).
pub fn compatible_range(constraint: &str, version: &str) -> bool {
    SEMVER_COMPARE.as_ref().is_some_and(|f| {
        matches!(
            (f.call)(&[Value::str(constraint), Value::str(version)]),
            Ok(Value::Bool(true))
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        for (c, v, want) in [
            ("2.x.x", "2.31.4", true),
            ("2.x.x", "3.0.0", false),
            ("1.x.x", "1.0.0", true),
            ("~0.3.0", "0.3.9", true),
            ("~0.3.0", "0.4.0", false),
            ("4.38.0", "4.38.0", true),
            ("4.38.0", "4.38.1", false),
            (">=1.2 <2", "1.9.0", true),
            (">= 1.2, < 2", "2.0.0", false),
            ("^1.2.3", "1.9.0", true),
            ("^1.2.3", "2.0.0", false),
            ("^0.2.3", "0.2.9", true),
            ("^0.2.3", "0.3.0", false),
            ("1.2 - 1.4.5", "1.4.5", true),
            ("1.2 - 1.4.5", "1.4.6", false),
            ("*", "5.0.0", true),
            ("*", "5.0.0-rc1", false),
            (">1.0.0-alpha", "1.0.0-beta", true),
            ("<1 || >=3", "3.1.0", true),
            ("garbage", "1.0.0", false),
            ("1.x", "1.0.0", true),
            // A prerelease in one constraint of a group admits prereleases to the whole group
            // (the old per-constraint rule said false; Helm says true).
            (">=1.0.0-0 <2.0.0", "1.5.0-rc1", true),
            (">=1.20-0", "v1.36.0", true),
        ] {
            assert_eq!(compatible_range(c, v), want, "{c} {v}");
        }
    }

    #[test]
    fn versions() {
        assert!(is_version("v1.2"));
        assert!(is_version("1.2.3-rc.1+b5"));
        assert!(!is_version("1.2.3.4"));
        assert!(!is_version("1.2.3-01"));
        assert!(!is_version(""));
    }
}
