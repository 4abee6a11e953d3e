//! Helm's errors, worded as Helm words them (`parse error at (t.yaml:3): ...`,
//! `execution error at (t.yaml:3:4): MSG`).

use super::chart::LoadError;
use super::funcs::warning_in;
use crate::gotemplate::TemplateError;

/// Why a chart did not render.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HelmError {
    /// The chart's files.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// The values could not be coalesced (a subchart's section is not a table, ...).
    #[error("{0}")]
    Values(String),
    /// `values.schema.json` refused the values; the text lists each chart and violation.
    #[error("values don't meet the specifications of the schema(s) in the following chart(s):\n{0}")]
    Schema(String),
    /// `kubeVersion:` of the chart excludes the cluster's version.
    #[error("chart requires kubeVersion: {required} which is incompatible with Kubernetes {actual}")]
    KubeVersion {
        /// The chart's constraint.
        required: String,
        /// The cluster's version.
        actual: String,
    },
    /// A template does not parse.
    #[error("{0}")]
    Parse(String),
    /// A template failed while executing (`fail`, `required`, a function's error).
    #[error("{0}")]
    Exec(String),
    /// The output is not YAML Helm can sort (`helm template` only).
    #[error("{0}")]
    Manifest(String),
    /// The render thread could not run.
    #[error("{0}")]
    Thread(String),
}

/// Helm's `cleanupParseError`: `parse error at (NAME:LINE): LAST PART OF THE MESSAGE`.
pub(crate) fn parse_error(name: &str, err: &TemplateError) -> HelmError {
    let text = err.to_string();
    let tokens: Vec<&str> = text.split(": ").collect();
    match (tokens.get(1), tokens.last()) {
        (Some(location), Some(msg)) if tokens.len() > 1 => {
            HelmError::Parse(format!("parse error at ({location}): {msg}"))
        }
        _ => HelmError::Parse(format!("parse error in ({name}): {text}")),
    }
}

/// Helm's `reformatExecErrorMsg`: `execution error at (NAME:LINE:COL): MSG` for `fail` and
/// `required`; otherwise each template on the way, its call and the message, indented.
pub(crate) fn exec_error(name: &str, err: &TemplateError) -> HelmError {
    let text = err.to_string();
    let tokens: Vec<&str> = text.splitn(3, ": ").collect();
    let (Some(location), Some(rest)) = (tokens.get(1), tokens.get(2)) else {
        return HelmError::Exec(format!("execution error in ({name}): {text}"));
    };
    if let Some(msg) = warning_in(rest) {
        return HelmError::Exec(format!("execution error at ({location}): {msg}"));
    }
    if ends_in_plain_error(&text) {
        return HelmError::Exec(text);
    }
    HelmError::Exec(trace(&text).unwrap_or(text))
}

/// Whether the chain of errors `text` spells ends in an error that is not a template's.
///
/// Helm formats the chain only when every error in it (`errors.Unwrap` after `errors.Unwrap`)
/// reads `template: ...`; Go wraps a function's error into `error calling F: ERR` (`%w`), so
/// a chain ending in a function's own error (`invalid semantic version`, a recovered
/// `runtime error`, `tpl`'s `error during tpl function execution`) is printed as Go wrote it.
/// One exception is kept on purpose: the runaway-`include` error ends in a plain error too,
/// but raw it would repeat a thousand nested calls; its folded trace is printed instead.
fn ends_in_plain_error(text: &str) -> bool {
    let mut rest = text;
    loop {
        let Some(r) = rest.strip_prefix("template: ") else {
            return !rest.starts_with("rendering template has a nested reference name: ");
        };
        if r.starts_with("no template ") {
            return false;
        }
        let Some((_, msg)) = r
            .split_once(": executing \"")
            .and_then(|(_, after)| after.split_once(">: "))
        else {
            return false;
        };
        let Some((_, inner)) = msg.strip_prefix("error calling ").and_then(|m| m.split_once(": ")) else {
            return false;
        };
        rest = inner;
    }
}

/// Helm's rewriting of a chain of `template: NAME: executing "F" at <X>: ...` errors, one
/// block per template on the way.
fn trace(text: &str) -> Option<String> {
    let mut out = String::new();
    let mut rest = text.to_string();
    let mut last: Option<(String, String, String)> = None;
    loop {
        let current = rest.clone();
        let remainder = current.strip_prefix("template: ")?;
        if remainder.starts_with("no template ") {
            out.push_str(&current);
            out.push('\n');
            break;
        }
        let entry = if let Some((tname, after)) = remainder.split_once(": executing \"") {
            let (func, after) = after.split_once('"')?;
            let after = after.strip_prefix(" at <")?;
            let (loc, msg) = after.split_once(">: ")?;
            (
                tname.to_string(),
                format!("executing \"{func}\" at <{loc}>:"),
                msg.to_string(),
            )
        } else {
            let (tname, msg) = remainder.rsplit_once(": ")?;
            (tname.to_string(), String::new(), msg.to_string())
        };
        let full_msg = entry.2.clone();
        let (shown, nested) = match full_msg.find(" template:") {
            Some(cut) => (
                full_msg.get(..cut).unwrap_or_default().to_string(),
                full_msg.get(cut + 1..).map(str::to_string),
            ),
            None => (full_msg.clone(), None),
        };
        let entry = (entry.0, entry.1, shown);
        if last.as_ref() != Some(&entry) {
            out.push_str(&format!("{}\n  ", entry.0));
            if !entry.1.is_empty() {
                out.push_str(&format!("{}\n    ", entry.1));
            }
            if !entry.2.is_empty() {
                out.push_str(&format!("{}\n", entry.2));
            }
            last = Some(entry);
        }
        match nested {
            Some(n) => rest = n,
            None => break,
        }
    }
    Some(out.trim().to_string())
}
