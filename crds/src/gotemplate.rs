//! Templates in `SealedSecret.spec.template.data` and ExternalSecret templates: Go's
//! `text/template` with sprig's functions and the YAML/JSON ones, executed by the project's one
//! Go-template engine (`sigil_render::gotemplate`) over the decrypted values, with a missing
//! key an error (as External Secrets Operator runs them) rather than a silent `<no value>`.

use std::collections::BTreeMap;

use sigil_render::gotemplate::value::Map;
use sigil_render::gotemplate::{Env, FuncMap, Limits, MissingKey, Templates, Value, sprig};
use zeroize::Zeroizing;

pub use sigil_render::gotemplate::TemplateError;

/// Largest rendered value (1 MiB, as a Secret's whole data is bounded).
const MAX_VALUE: usize = 1 << 20;

fn funcs() -> FuncMap {
    let mut f = sprig::funcs();
    f.extend(sigil_render::goyaml::funcs());
    f
}

/// Renders `template` with `data` (key → decrypted value: a string when it is UTF-8, bytes
/// otherwise). Errors quote the template, never a value.
pub fn render(
    template: &str,
    data: &BTreeMap<String, Zeroizing<Vec<u8>>>,
) -> Result<Zeroizing<Vec<u8>>, TemplateError> {
    let funcs = funcs();
    let mut set = Templates::new();
    set.parse("template", template, &funcs)?;
    let mut m = Map::new();
    for (k, v) in data {
        let value = match std::str::from_utf8(v) {
            Ok(s) => Value::str(s),
            Err(_) => Value::bytes(v.to_vec()),
        };
        m.insert(k.clone(), value);
    }
    let env = Env {
        funcs: &funcs,
        missing_key: MissingKey::Error,
        helm: false,
        limits: Limits {
            max_output_bytes: MAX_VALUE,
            ..Limits::default()
        },
    };
    let out = set.execute("template", &Value::map(m), &env)?;
    Ok(Zeroizing::new(out.as_bytes().to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> BTreeMap<String, Zeroizing<Vec<u8>>> {
        [("user", "app"), ("password", "p@ss"), ("host", "db")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), Zeroizing::new(v.as_bytes().to_vec())))
            .collect()
    }

    fn r(t: &str) -> Result<String, TemplateError> {
        render(t, &data()).map(|v| String::from_utf8(v.to_vec()).unwrap())
    }

    #[test]
    fn the_forms_people_write() {
        assert_eq!(
            r("postgres://{{ .user }}:{{ index . \"password\" }}@{{.host}}/app").unwrap(),
            "postgres://app:p@ss@db/app"
        );
        assert_eq!(r("{{ .user | upper }}").unwrap(), "APP");
        assert_eq!(r("{{ .user | b64enc }}").unwrap(), "YXBw");
        assert_eq!(r("{{ printf \"%s-%s\" .user .host }}").unwrap(), "app-db");
        assert_eq!(r("a {{- .user -}} b").unwrap(), "aappb");
        assert_eq!(r("{{ if .user }}x{{ else }}y{{ end }}").unwrap(), "x");
        assert_eq!(
            r("{{ range $k, $v := . }}{{ $k }},{{ end }}").unwrap(),
            "host,password,user,"
        );
        assert_eq!(r("{{ dict \"u\" .user | toJson }}").unwrap(), "{\"u\":\"app\"}");
        assert_eq!(r("plain").unwrap(), "plain");
    }

    #[test]
    fn a_missing_key_is_an_error_without_values() {
        let e = r("{{ .missing | default \"x\" }}").unwrap_err().to_string();
        assert!(e.contains("map has no entry for key \"missing\""), "{e}");
        assert!(!e.contains("p@ss"));
        let e = r("{{ .password | nosuchfunc }}").unwrap_err().to_string();
        assert!(e.contains("function \"nosuchfunc\" not defined"), "{e}");
        assert!(r("{{ .user").is_err());
    }

    #[test]
    fn output_is_bounded() {
        // Each step doubles the value; it must stop at a limit, not exhaust memory.
        let doubling = format!("{{{{ \"x\"{} }}}}", " | replace \"\" \"xx\"".repeat(40));
        assert!(r(&doubling).is_err());
        let b64 = format!("{{{{ .user{} }}}}", " | b64enc".repeat(120));
        assert!(r(&b64).is_err());
    }
}
