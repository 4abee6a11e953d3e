//! `semverCompare` and `semver` against answers from Helm v4 (the oracle).

use super::super::funcs;
use crate::gotemplate::value::Value;

use crate::gotemplate::sprig::call;

fn compare(c: &str, v: &str) -> String {
    call("semverCompare", &[Value::str(c), Value::str(v)]).unwrap_or_else(|e| e)
}

#[test]
fn fixed_patterns_compile() {
    for r in [
        &super::LOOSE,
        &super::CONSTRAINT,
        &super::RANGE,
        &super::FIND,
        &super::VALID,
    ] {
        assert!(r.is_some());
    }
}

#[test]
fn constraints_match_the_oracle() {
    let cases = [
        (">=1.19-0", "v1.20.0", "true"),
        (">=1.19-0", "v1.19.0-gke.1", "true"),
        (">=1.19", "v1.19.0-gke.1", "false"),
        ("<1.19-0", "v1.18.5", "true"),
        (">= 1.2, < 3.0.0", "2.5.0", "true"),
        (">= 1.2 < 3.0.0", "3.0.0", "false"),
        ("^1.2.3", "1.9.9", "true"),
        ("^1.2.3", "2.0.0", "false"),
        ("^0.2.3", "0.2.9", "true"),
        ("^0.2.3", "0.3.0", "false"),
        ("^0.0.3", "0.0.3", "true"),
        ("^0.0.3", "0.0.4", "false"),
        ("^0.0", "0.0.9", "true"),
        ("^0", "0.9.0", "true"),
        ("~1.2.3", "1.2.9", "true"),
        ("~1.2.3", "1.3.0", "false"),
        ("~1", "1.9.0", "true"),
        ("~1.x", "1.5.0", "true"),
        ("1.2.x", "1.2.7", "true"),
        ("1.2.x", "1.3.0", "false"),
        ("*", "1.0.0", "true"),
        ("*", "1.0.0-alpha", "false"),
        ("1.2 - 1.4.5", "1.4.5", "true"),
        ("1.2 - 1.4.5", "1.4.6", "false"),
        ("!=1.2.3", "1.2.3", "false"),
        ("!=1.2.x", "1.2.5", "false"),
        ("!=1.2.x", "1.3.5", "true"),
        (">1.2", "1.2.5", "false"),
        (">1.2", "1.3.0", "true"),
        (">1.2.x", "1.3.0", "true"),
        ("<=1.2", "1.2.9", "true"),
        ("<=1.2", "1.3.0", "false"),
        ("<=1.2.3", "1.2.3", "true"),
        (">=1.0.0-alpha", "1.0.0-beta", "true"),
        (">=1.0.0-beta", "1.0.0-alpha", "false"),
        ("1.0.0-rc.10", "1.0.0-rc.10", "true"),
        (">1.0.0-rc.2", "1.0.0-rc.10", "true"),
        (">1.0.0-alpha", "1.0.0-alpha.1", "true"),
        ("=1.2.3", "v1.2.3+meta", "true"),
        ("1.2.3", "1.2.3", "true"),
        (">=v1.2", "1.2.0", "true"),
        ("~> 1.2", "1.2.5", "true"),
        ("=> 1.2", "1.2.0", "true"),
        (">= 1.16.0-0 < 1.25.0-0", "v1.24.3+k3s1", "true"),
        (">=1.21.0-0", "v1.29.0-eks-a5ec690", "true"),
        ("<2.0.0 || >3", "3.5.0", "false"),
        ("<2.0.0 || >3", "2.5.0", "false"),
        ("<2.0.0 || >3", "1.5.0", "true"),
        ("", "1.0.0", "improper constraint: \"\""),
        ("1.2.3.4", "1.0.0", "improper constraint: \"1.2.3.4\""),
        (">=a", "1.0.0", "improper constraint: \">=a\""),
        (">1", "1.2.3.4", "invalid semantic version"),
        (">01.x-01", "1.0.0", "constraint parser error"),
    ];
    for (c, v, want) in cases {
        assert_eq!(compare(c, v), want, "{c} {v}");
    }
}

#[test]
fn versions_match_the_oracle() {
    let s = Value::str;
    assert_eq!(call("semver", &[s("v1.2.3")]).as_deref(), Ok("1.2.3"));
    assert_eq!(call("semver", &[s("1.2")]).as_deref(), Ok("1.2.0"));
    assert_eq!(call("semver", &[s("01.2")]).as_deref(), Ok("1.2.0"));
    assert_eq!(
        call("semver", &[s("99999999999999999999")]),
        Err(
            "error parsing version segment: strconv.ParseUint: parsing \"99999999999999999999\": value out of range"
                .into()
        )
    );
    assert_eq!(
        call("semver", &[s("1.0.0+a..b")]),
        Err("invalid semantic version".into())
    );
    assert_eq!(
        call("semver", &[s("1.2.3-01")]),
        Err("version segment starts with 0".into())
    );
    let m = funcs();
    let Some(semver) = m.get("semver") else {
        panic!("no semver")
    };
    let Ok(Value::Object(v)) = (semver.call)(&[s("v1.2.3-rc.1+b")]) else {
        panic!("not an object")
    };
    assert_eq!(v.type_name(), "*semver.Version");
    assert_eq!(v.field("Prerelease").map(|x| x.format_v()).as_deref(), Some("rc.1"));
    assert_eq!(
        v.field("Original").map(|x| x.format_v()).as_deref(),
        Some("v1.2.3-rc.1+b")
    );
    assert_eq!(v.field("Major").map(|x| x.format_v()).as_deref(), Some("1"));
    let Ok(other) = (semver.call)(&[s("1.3")]) else {
        panic!("no version")
    };
    let cmp = v.method("Compare", &[other]).and_then(Result::ok).map(|x| x.format_v());
    assert_eq!(cmp.as_deref(), Some("-1"));
}
