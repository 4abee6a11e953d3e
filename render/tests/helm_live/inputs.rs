//! The live test's inputs: random values documents over a chart's keys, and `--set`
//! arguments (hand-written corners and random ones), from a small deterministic PRNG.

use std::fmt::Write as _;

use sigil_render::gotemplate::value::{Map, Value};

/// SplitMix64: small, deterministic, good enough to pick test inputs.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next() % n as u64) as usize }
    }
    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items.get(self.below(items.len())).copied().unwrap_or_default()
    }
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
}

/// YAML scalars as they appear in a values file: every type Helm's YAML reader resolves.
pub const SCALARS: &[&str] = &[
    "0",
    "42",
    "-7",
    "007",
    "0x1F",
    "0o17",
    "+12",
    "1_000",
    "9007199254740993",
    "12345678901234567890",
    "1e6",
    "1E6",
    "1.5",
    "-0.5",
    "3.0",
    "1e+21",
    "2.5e-7",
    "6.02e23",
    "0.1",
    "100000000000000000000.0",
    "true",
    "false",
    "True",
    "FALSE",
    "yes",
    "no",
    "on",
    "off",
    "y",
    "null",
    "~",
    "Null",
    "hello",
    "with space",
    "2024-01-02",
    "2024-01-02T03:04:05Z",
    "12:30",
    "1.2.3",
    "v1",
    "\"yes\"",
    "\"on\"",
    "\"1.0\"",
    "\"0\"",
    "\"null\"",
    "\"\"",
    "''",
    "\"a: b\"",
    "\"#not a comment\"",
    "'single ''quoted'''",
    "\"with \\\"escapes\\\"\"",
    "\"tab\\there\"",
    "\"multi\\nline\\n\"",
    "\"  padded \"",
    "\"- dash\"",
    "\"*star\"",
    "\"{curly}\"",
    "\"[square]\"",
    "\"ünïcödé ✓\"",
    "\"<html> & 'amp'\"",
    "\"%s %d\"",
    "\"{{ .Values }}\"",
    "\"1e6\"",
    "\"0x10\"",
];

/// Keys a random document adds next to the chart's own.
pub const EXTRA_KEYS: &[&str] = &[
    "extra",
    "10",
    "with-dash",
    "a.b",
    "Upper",
    "_under",
    "ünï",
    "\"quoted key\"",
];

/// A values node to emit.
pub enum Node {
    Scalar(String),
    Map(Vec<(String, Node)>),
    List(Vec<Node>),
}

pub fn random_leaf(rng: &mut Rng, depth: usize) -> Node {
    let roll = rng.below(100);
    if depth < 3 && roll < 10 {
        let n = rng.below(4);
        let items = (0..n).map(|_| random_leaf(rng, depth + 1)).collect();
        Node::List(items)
    } else if depth < 3 && roll < 20 {
        let n = rng.below(4);
        let items = (0..n)
            .map(|_| (rng.pick(EXTRA_KEYS).to_string(), random_leaf(rng, depth + 1)))
            .collect();
        Node::Map(items)
    } else {
        Node::Scalar(rng.pick(SCALARS).to_string())
    }
}

/// A random document over `template`'s keys: each key left out (the default stays), set to
/// `null` (deleting it), replaced by a random value, or — for maps — varied recursively.
pub fn random_doc(rng: &mut Rng, template: &Map, depth: usize, intensity: usize) -> Vec<(String, Node)> {
    let mut out = Vec::new();
    for (k, v) in template.iter() {
        let key = if k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') && !k.is_empty() {
            k.to_string()
        } else {
            serde_json::to_string(k).unwrap_or_default()
        };
        // `intensity` % of the keys change: 1 in 7 of those to null.
        if !rng.chance(intensity) {
            continue;
        }
        let roll = 30 + rng.below(70);
        if roll < 40 {
            out.push((key, Node::Scalar(rng.pick(&["null", "~"]).to_string())));
            continue;
        }
        match v {
            Value::Map(m) if roll < 75 && depth < 4 => {
                let inner = random_doc(rng, &m.borrow(), depth + 1, intensity);
                out.push((key, Node::Map(inner)));
            }
            Value::List(items) if roll < 60 => {
                let n = rng.below(items.len() + 3);
                out.push((key, Node::List((0..n).map(|_| random_leaf(rng, depth + 1)).collect())));
            }
            _ => out.push((key, random_leaf(rng, depth))),
        }
    }
    if rng.chance(25) {
        out.push((rng.pick(EXTRA_KEYS).to_string(), random_leaf(rng, depth)));
    }
    out
}

pub fn emit_map(out: &mut String, entries: &[(String, Node)], indent: usize) {
    for (k, v) in entries {
        let _ = write!(out, "{:indent$}{k}:", "");
        emit_value(out, v, indent);
    }
}

/// Emits `v` after a `key:` or `-` already written on the current line.
pub fn emit_value(out: &mut String, v: &Node, indent: usize) {
    match v {
        Node::Scalar(s) => {
            let _ = writeln!(out, " {s}");
        }
        Node::Map(m) if m.is_empty() => out.push_str(" {}\n"),
        Node::List(l) if l.is_empty() => out.push_str(" []\n"),
        Node::Map(m) => {
            out.push('\n');
            emit_map(out, m, indent + 2);
        }
        Node::List(l) => {
            out.push('\n');
            for item in l {
                let _ = write!(out, "{:w$}-", "", w = indent + 2);
                emit_value(out, item, indent + 4);
            }
        }
    }
}

/// Hand-written `--set` arguments where Helm's parser has corners.
pub const SETS: &[&str] = &[
    "a=1",
    "a=01",
    "a=-1",
    "a=+1",
    "a=1.5",
    "a=1e6",
    "a=0x10",
    "a=9223372036854775807",
    "a=9223372036854775808",
    "a=-9223372036854775808",
    "a=true,b=false,c=TRUE,d=yes",
    "a=null",
    "a=",
    "a",
    "=a",
    "a.b.c=d",
    "a.b=1,a.c=2,a.b=3",
    "a=1,a.b=2",
    "a.b=2,a=1",
    "a\\.b=c",
    "a=b\\,c",
    "a=b,c",
    "a={x,y,z}",
    "a={}",
    "a={1,true,null}",
    "a={x\\,y}",
    "a[0]=x",
    "a[2]=x",
    "a[0].b=1,a[1].c=2",
    "a[0][1]=x",
    "a[-1]=x",
    "a[x]=1",
    "a[65537]=1",
    "a[0]=1,a[0]=2",
    "a.b[1]=x,a.b[0]=y",
    "name=value with spaces",
    "a=b=c",
    "a==",
    ",,a=1,,",
    "a.=1",
    ".a=1",
    "a..b=1",
    "a[0=1",
    "a]=1",
    "a=\\{x}",
    "a={x",
    "a=x}",
    "a=ünïcödé",
    "a=1,b",
    "a.b=1,a=null",
    "a=null,a.b=1",
    "a[0]=null",
    "global.image.tag=v1.2.3",
    "tags.frontend=false",
    "a\\\\=1",
    "l[0]=0x1,l[0].k=",
    "l[1][0]=a,l[1][0].k=",
    "l[0]=1,l[2][0].k=",
    "a=TRUE,b=False,c=NULL,d=-0,e=+7",
];

pub fn random_set(rng: &mut Rng) -> String {
    const KEYS: &[&str] = &[
        "a", "b", "a.b", "a.c", "x.y.z", "l[0]", "l[1]", "l[0].k", "m.l[2]", "a\\.b", "k-1", "10", "a[0][0]",
    ];
    const VALUES: &[&str] = &[
        "1",
        "0",
        "01",
        "-3",
        "1.5",
        "1e3",
        "true",
        "false",
        "null",
        "",
        "x",
        "x y",
        "{a,b}",
        "{}",
        "{1,2}",
        "a\\,b",
        "a=b",
        "ünï",
        "9223372036854775808",
        "0x1",
    ];
    let n = 1 + rng.below(4);
    let parts: Vec<String> = (0..n)
        .map(|_| format!("{}={}", rng.pick(KEYS), rng.pick(VALUES)))
        .collect();
    parts.join(",")
}
