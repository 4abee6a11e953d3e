//! `.Files` as templates use it, with the output the real Helm renders for the same chart.

use std::collections::BTreeMap;

use super::entry::render;
use super::render::{Release, RenderOptions};

#[test]
fn files_get_lines_glob_config_secrets() {
    let template = r#"get: {{ .Files.Get "conf/app.conf" | quote }}
lines: {{ .Files.Lines "conf/app.conf" | toJson }}
missing: {{ .Files.Get "nope" | quote }}
config:
{{ (.Files.Glob "conf/*.{conf,txt}").AsConfig | indent 2 }}
secrets:
{{ (.Files.Glob "conf/key.txt").AsSecrets | indent 2 }}
bytes: {{ .Files.GetBytes "conf/key.txt" | printf "%v" }}
"#;
    let files: BTreeMap<String, Vec<u8>> = [
        ("Chart.yaml", "apiVersion: v2\nname: f\nversion: 0.1.0\n"),
        ("conf/app.conf", "a=1\nb=2\n"),
        ("conf/sub/z.yaml", "x: \"y\"\n"),
        ("conf/key.txt", "secret\n"),
        ("templates/f.yaml", template),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
    .collect();
    let opts = RenderOptions {
        release: Release::install("r", "default"),
        capabilities: Default::default(),
    };
    let out = render(&files, "", &opts).unwrap_or_else(|e| panic!("{e}")).manifests;
    assert_eq!(
        out.get("f/templates/f.yaml").map(|s| s.as_str()),
        Some(
            "get: \"a=1\\nb=2\\n\"\nlines: [\"a=1\",\"b=2\"]\nmissing: \"\"\nconfig:\n  app.conf: |\n    a=1\n    b=2\n  key.txt: |\n    secret\nsecrets:\n  key.txt: c2VjcmV0Cg==\nbytes: [115 101 99 114 101 116 10]\n"
        )
    );
}

/// `.Files` and `.Capabilities.APIVersions` are a Go map and slice with methods: `len`,
/// `range`, `index`, truth and `toJson` see their elements. An action prints `KubeVersion`
/// through its `String` method, a function gets the struct.
#[test]
fn files_and_api_versions_are_a_map_and_a_slice() {
    let t = r#"{{ range $p, $b := .Files.Glob "conf/*" }}{{$p}} {{ printf "%T" $b }} {{ $b | toString }};{{end}}
{{ range .Files.Glob "conf/*" }}[{{ printf "%T %v" . . }}]{{end}}
{{ len .Files }} {{ index .Files "conf/b.txt" | toString }} {{ toJson (.Files.Glob "conf/*") }}
{{ printf "%v" (.Files.Glob "conf/*") }} {{ (.Files.Glob "conf/*").AsConfig | len }}
{{ toYaml (.Files.Glob "conf/b*") }}
{{ range $k, $v := .Capabilities.APIVersions }}{{ if eq $k 0 }}{{ printf "%T %T" $k $v }}{{end}}{{end}}
"#;
    let u = r#"{{ len .Capabilities.APIVersions }} {{ index .Capabilities.APIVersions 1 }}
{{ if .Capabilities.APIVersions }}y{{end}} {{ with .Files.Glob "none" }}y{{else}}n{{end}} {{ not (.Files.Glob "none") }} {{ and (.Files.Glob "conf/a*") 1 }}
[{{ index .Files "nope" }}] [{{ range .Files.Glob "none" }}x{{else}}empty{{end}}]
{{ toJson (.Files.Glob "none") }} {{ .Capabilities.APIVersions | toJson | len }}
{{ .Capabilities.KubeVersion }}|{{ .Capabilities.KubeVersion | quote }}|{{ .Capabilities.HelmVersion }}|{{ .Capabilities | printf "%v" | trunc 20 }}
"#;
    let files: BTreeMap<String, Vec<u8>> = [
        ("Chart.yaml", "apiVersion: v2\nname: t\nversion: 0.1.0\n"),
        ("conf/a.yaml", "a: 1\n"),
        ("conf/b.txt", "hello\n"),
        ("templates/t.yaml", t),
        ("templates/u.yaml", u),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
    .collect();
    let opts = RenderOptions {
        release: Release::install("r", "default"),
        capabilities: Default::default(),
    };
    let out = render(&files, "", &opts).unwrap_or_else(|e| panic!("{e}")).manifests;
    assert_eq!(
        out.get("t/templates/t.yaml").map(|s| s.as_str()),
        Some(
            "conf/a.yaml []uint8 a: 1\n;conf/b.txt []uint8 hello\n;\n[[]uint8 [97 58 32 49 10]][[]uint8 [104 101 108 108 111 10]]\n2 hello\n {\"conf/a.yaml\":\"YTogMQo=\",\"conf/b.txt\":\"aGVsbG8K\"}\nmap[conf/a.yaml:[97 58 32 49 10] conf/b.txt:[104 101 108 108 111 10]] 33\nconf/b.txt: aGVsbG8K\nint string\n"
        )
    );
    assert_eq!(
        out.get("t/templates/u.yaml").map(|s| s.as_str()),
        Some(
            "55 admissionregistration.k8s.io/v1\ny n true 1\n[[]] [empty]\n{} 1430\nv1.36.0|\"{v1.36.0 v1.36.0 1 36}\"|{v4.2   go1.26.6 v1.36}|&{{v1.36.0 v1.36.0 1\n"
        )
    );
}
