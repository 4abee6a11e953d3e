//! `.Files` as templates use it, with the output the real Helm renders for the same chart.

use std::collections::BTreeMap;

use super::chart::Chart;
use super::render::{Release, RenderOptions, render};

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
    let chart = Chart::load(&files).unwrap_or_else(|e| panic!("{e}"));
    let opts = RenderOptions {
        release: Release::install("r", "default"),
        capabilities: Default::default(),
    };
    let out = render(&chart, &Default::default(), &opts).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        out.get("f/templates/f.yaml").map(|s| s.as_str()),
        Some(
            "get: \"a=1\\nb=2\\n\"\nlines: [\"a=1\",\"b=2\"]\nmissing: \"\"\nconfig:\n  app.conf: |\n    a=1\n    b=2\n  key.txt: |\n    secret\nsecrets:\n  key.txt: c2VjcmV0Cg==\nbytes: [115 101 99 114 101 116 10]\n"
        )
    );
}
