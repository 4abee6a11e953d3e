//! `urlParse`, `urlJoin` and `getHostByName` against what Helm v4 rendered.

use crate::gotemplate::value::{Map, Value};

use crate::gotemplate::sprig::call;

fn parse(url: &str) -> String {
    call("urlParse", &[Value::str(url)]).unwrap_or_else(|e| e)
}

fn join(pairs: &[(&str, Value)]) -> String {
    let d: Map = pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
    call("urlJoin", &[Value::map(d)]).unwrap_or_else(|e| e)
}

#[test]
fn urls_parse_as_helm_parses_them() {
    for (url, want) in [
        (
            "https://user:p%40ss@Example.com:8443/a%20b/c?x=1&y=%20#frag%21",
            "map[fragment:frag! host:Example.com:8443 hostname:Example.com opaque: path:/a b/c \
             query:x=1&y=%20 scheme:https userinfo:user:p%40ss]",
        ),
        (
            "mailto:joe@x.com",
            "map[fragment: host: hostname: opaque:joe@x.com path: query: scheme:mailto userinfo:]",
        ),
        (
            "/rel/path?q",
            "map[fragment: host: hostname: opaque: path:/rel/path query:q scheme: userinfo:]",
        ),
        (
            "http://[::1]:80/",
            "map[fragment: host:[::1]:80 hostname:::1 opaque: path:/ query: scheme:http userinfo:]",
        ),
        (
            "",
            "map[fragment: host: hostname: opaque: path: query: scheme: userinfo:]",
        ),
        (
            "//host/p",
            "map[fragment: host:host hostname:host opaque: path:/p query: scheme: userinfo:]",
        ),
        (
            "HTTP://h/a+b",
            "map[fragment: host:h hostname:h opaque: path:/a+b query: scheme:http userinfo:]",
        ),
        (
            "http://h/a?b?c#x#y",
            "map[fragment:x#y host:h hostname:h opaque: path:/a query:b?c scheme:http userinfo:]",
        ),
        (
            "http://h/p?",
            "map[fragment: host:h hostname:h opaque: path:/p query: scheme:http userinfo:]",
        ),
        (
            "http://[fe80::1%25en0]:8080/",
            "map[fragment: host:[fe80::1%en0]:8080 hostname:fe80::1%en0 opaque: path:/ query: \
             scheme:http userinfo:]",
        ),
        (
            "http://ü.com/%E2%82%AC",
            "map[fragment: host:ü.com hostname:ü.com opaque: path:/€ query: scheme:http userinfo:]",
        ),
        (
            "http://u@h",
            "map[fragment: host:h hostname:h opaque: path: query: scheme:http userinfo:u]",
        ),
        (
            "file:///etc/hosts",
            "map[fragment: host: hostname: opaque: path:/etc/hosts query: scheme:file userinfo:]",
        ),
        (
            "x/y:z",
            "map[fragment: host: hostname: opaque: path:x/y:z query: scheme: userinfo:]",
        ),
        (
            "a:b:c/d",
            "map[fragment: host: hostname: opaque:b:c/d path: query: scheme:a userinfo:]",
        ),
        (
            "http://a@b@c/",
            "map[fragment: host:c hostname:c opaque: path:/ query: scheme:http userinfo:a%40b]",
        ),
        (
            "http://a b.com/",
            r#"unable to parse url: parse "http://a b.com/": invalid character " " in host name"#,
        ),
        (":foo", r#"unable to parse url: parse ":foo": missing protocol scheme"#),
        (
            "http://h/%zz",
            r#"unable to parse url: parse "http://h/%zz": invalid URL escape "%zz""#,
        ),
        (
            "http://h#%zz",
            r#"unable to parse url: parse "http://h#%zz": invalid URL escape "%zz""#,
        ),
        (
            "http://%41.com/",
            r#"unable to parse url: parse "http://%41.com/": invalid URL escape "%41""#,
        ),
        (
            "http://h:port/",
            r#"unable to parse url: parse "http://h:port/": invalid port ":port" after host"#,
        ),
        (
            "http://[::1/",
            r#"unable to parse url: parse "http://[::1/": missing ']' in host"#,
        ),
        (
            "http://a^b@c/",
            r#"unable to parse url: parse "http://a^b@c/": net/url: invalid userinfo"#,
        ),
        (
            "1a:b",
            r#"unable to parse url: parse "1a:b": first path segment in URL cannot contain colon"#,
        ),
    ] {
        assert_eq!(parse(url), want, "{url}");
    }
}

#[test]
fn urls_join_as_helm_joins_them() {
    let s = Value::str;
    assert_eq!(
        join(&[
            ("scheme", s("https")),
            ("host", s("h:1")),
            ("path", s("/a b/ü")),
            ("query", s("x=1")),
            ("fragment", s("f g")),
            ("userinfo", s("u:p@")),
        ]),
        "https://u:p%40@h:1/a%20b/%C3%BC?x=1#f%20g"
    );
    assert_eq!(join(&[("scheme", s("mailto")), ("opaque", s("joe@x"))]), "mailto:joe@x");
    assert_eq!(join(&[("path", s("a:b"))]), "./a:b");
    assert_eq!(join(&[("host", s("h")), ("path", s("rel"))]), "//h/rel");
    assert_eq!(join(&[]), "");
    assert_eq!(join(&[("userinfo", s("u"))]), "//u@");
    assert_eq!(join(&[("userinfo", s("a/b"))]), "");
    assert_eq!(
        join(&[("scheme", s("http")), ("host", s("ü.com")), ("path", s("*"))]),
        "http://%C3%BC.com/*"
    );
    assert_eq!(
        join(&[("scheme", s("http")), ("path", s("/x?y#z")), ("fragment", s("a/b!c"))]),
        "http:///x%3Fy%23z#a/b!c"
    );
    assert_eq!(
        join(&[("scheme", Value::Int(1))]),
        "unable to parse scheme key, must be of type string, but int found"
    );
    assert_eq!(
        join(&[("userinfo", s("a^b"))]),
        r#"unable to parse userinfo in dict: parse "proto://a^b@host": net/url: invalid userinfo"#
    );
    assert_eq!(
        join(&[("host", Value::Nil)]),
        "runtime error: invalid memory address or nil pointer dereference"
    );
}

#[test]
fn get_host_by_name_never_resolves() {
    // Helm without --enable-dns answers "" for any name.
    assert_eq!(call("getHostByName", &[Value::str("localhost")]), Ok(String::new()));
}
