//! `--extract '["data"]["key"]'`: sops' tree path syntax.

use anyhow::{Result, bail};
use sigil_crypto::sops::tree::{Branch, Value};

/// One step of an extract path.
#[derive(Debug, PartialEq)]
pub enum Step {
    /// A mapping key.
    Key(String),
    /// A sequence index.
    Index(usize),
}

/// Parses `["a"][0]["b"]`.
pub fn parse(path: &str) -> Result<Vec<Step>> {
    let mut steps = Vec::new();
    let mut rest = path.trim();
    while !rest.is_empty() {
        let Some(inner) = rest.strip_prefix('[') else {
            bail!("invalid --extract path {path:?}: expected '['")
        };
        let Some(end) = inner.find(']') else {
            bail!("invalid --extract path {path:?}: missing ']'")
        };
        let token = inner[..end].trim();
        if let Some(q) = token
            .strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .or_else(|| token.strip_prefix('\'').and_then(|t| t.strip_suffix('\'')))
        {
            steps.push(Step::Key(q.to_string()));
        } else if let Ok(i) = token.parse::<usize>() {
            steps.push(Step::Index(i));
        } else {
            bail!("invalid --extract path {path:?}: component {token:?} is neither a quoted key nor an index");
        }
        rest = inner[end + 1..].trim_start();
    }
    Ok(steps)
}

/// Follows `steps` from the first document.
pub fn follow<'a>(doc: &'a Branch, steps: &[Step]) -> Result<&'a Value> {
    let mut steps_iter = steps.iter();
    let mut current: Option<&Value> = None;
    let mut root = Some(doc);
    for step in steps_iter.by_ref() {
        let next = match (step, current, root.take()) {
            (Step::Key(k), None, Some(b)) | (Step::Key(k), Some(Value::Map(b)), None) => b.get(k),
            (Step::Index(i), Some(Value::Seq(items)), None) => {
                items.iter().filter(|v| !matches!(v, Value::Comment(_))).nth(*i)
            }
            _ => None,
        };
        match next {
            Some(v) => current = Some(v),
            None => bail!("component {step:?} not found"),
        }
    }
    current.ok_or_else(|| anyhow::anyhow!("empty --extract path"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_paths() {
        assert_eq!(
            parse(r#"["data"][0]['k']"#).unwrap(),
            vec![Step::Key("data".into()), Step::Index(0), Step::Key("k".into())]
        );
        assert!(parse("data").is_err());
    }
}
