//! The text of a schema violation as Helm prints it: santhosh-tekuri/jsonschema v6's messages
//! (`minimum: got 0, want 1`, `additional properties 'x' not allowed`), one `- at '<path>':`
//! line per violation, nested causes indented.

use std::fmt::Write as _;

use boon::{ErrorKind, ValidationError};

use crate::gotemplate::value::format_float_g;

/// Go's `%q` with single quotes, as the validator quotes names and strings.
fn quote(s: &str) -> String {
    let mut out = String::from("'");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

fn join_quoted<S: AsRef<str>>(items: &[S]) -> String {
    items.iter().map(|s| quote(s.as_ref())).collect::<Vec<_>>().join(", ")
}

fn display(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => quote(s),
        serde_json::Value::Array(_) | serde_json::Value::Object(_) => "value".into(),
        serde_json::Value::Null => "<nil>".into(),
        // Printed with `%v` outside the localizing printer: `12345`, not `12,345`.
        other => other.to_string(),
    }
}

/// A number as Helm's validator prints it: Go's `%v` through an English `x/text` printer,
/// which groups digits (`12,345.5`) and writes exponents as powers (`1×10⁰⁶`, `1×10⁻⁰⁵`).
fn num(n: &serde_json::Number) -> String {
    localized(&format_float_g(n.as_f64().unwrap_or_default()))
}

/// A count (`%d` through the same printer): digits grouped.
fn count(n: impl std::fmt::Display) -> String {
    localized(&n.to_string())
}

fn localized(go: &str) -> String {
    let (sign, unsigned) = match go.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", go),
    };
    if let Some((mantissa, exp)) = unsigned.split_once('e') {
        let powers: String = exp
            .chars()
            .filter_map(|c| match c {
                '-' => Some('⁻'),
                '+' => None,
                d => d.to_digit(10).and_then(|d| "⁰¹²³⁴⁵⁶⁷⁸⁹".chars().nth(d as usize)),
            })
            .collect();
        return format!("{sign}{mantissa}×10{powers}");
    }
    let (int, frac) = match unsigned.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (unsigned, None),
    };
    if !int.bytes().all(|b| b.is_ascii_digit()) {
        return go.to_string();
    }
    let mut out = String::from(sign);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    out
}

fn primitive(v: &serde_json::Value) -> bool {
    !matches!(v, serde_json::Value::Array(_) | serde_json::Value::Object(_))
}

fn message(kind: &ErrorKind<'_, '_>) -> String {
    match kind {
        ErrorKind::Group | ErrorKind::Reference { .. } => "validation failed".into(),
        ErrorKind::Schema { url } => format!("jsonschema validation failed with {}", quote(url)),
        ErrorKind::ContentSchema => "contentSchema failed".into(),
        ErrorKind::PropertyName { prop } => format!("invalid propertyName {}", quote(prop)),
        ErrorKind::RefCycle { url, kw_loc1, kw_loc2 } => {
            format!("both {kw_loc1} and {kw_loc2} resolve to {url:?} causing reference cycle")
        }
        ErrorKind::FalseSchema => "false schema".into(),
        ErrorKind::Type { got, want } => {
            let want: Vec<String> = want.iter().map(|t| t.to_string()).collect();
            format!("got {got}, want {}", want.join(" or "))
        }
        ErrorKind::Enum { want } => {
            if want.iter().all(primitive) {
                match want.as_slice() {
                    [one] => format!("value must be {}", display(one)),
                    many => format!(
                        "value must be one of {}",
                        many.iter().map(display).collect::<Vec<_>>().join(", ")
                    ),
                }
            } else {
                "enum failed".into()
            }
        }
        ErrorKind::Const { want } => {
            if primitive(want) {
                format!("value must be {}", display(want))
            } else {
                "const failed".into()
            }
        }
        ErrorKind::Format { got, want, err } => {
            format!("{} is not valid {want}: {err}", display(got))
        }
        ErrorKind::MinProperties { got, want } => format!("minProperties: got {}, want {}", count(got), count(want)),
        ErrorKind::MaxProperties { got, want } => format!("maxProperties: got {}, want {}", count(got), count(want)),
        ErrorKind::AdditionalProperties { got } => {
            format!("additional properties {} not allowed", join_quoted(got))
        }
        ErrorKind::Required { want } => match want.as_slice() {
            [one] => format!("missing property {}", quote(one)),
            many => format!("missing properties {}", join_quoted(many)),
        },
        ErrorKind::Dependency { prop, missing } | ErrorKind::DependentRequired { prop, missing } => {
            format!(
                "properties {} required, if {} exists",
                join_quoted(missing),
                quote(prop)
            )
        }
        ErrorKind::MinItems { got, want } => format!("minItems: got {}, want {}", count(got), count(want)),
        ErrorKind::MaxItems { got, want } => format!("maxItems: got {}, want {}", count(got), count(want)),
        ErrorKind::Contains => "no items match contains schema".into(),
        ErrorKind::MinContains { got, want } => {
            if got.is_empty() {
                format!("min {want} items required to match contains schema, but none matched")
            } else {
                format!(
                    "min {want} items required to match contains schema, but matched {} items at {}",
                    got.len(),
                    got.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(" ")
                )
            }
        }
        ErrorKind::MaxContains { got, want } => format!(
            "max {want} items required to match contains schema, but matched {} items at {}",
            got.len(),
            got.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(" ")
        ),
        ErrorKind::UniqueItems { got } => format!("items at {} and {} are equal", got[0], got[1]),
        ErrorKind::AdditionalItems { got } => format!("last {got} additionalItem(s) not allowed"),
        ErrorKind::MinLength { got, want } => format!("minLength: got {}, want {}", count(got), count(want)),
        ErrorKind::MaxLength { got, want } => format!("maxLength: got {}, want {}", count(got), count(want)),
        ErrorKind::Pattern { got, want } => {
            format!("{} does not match pattern {}", quote(got), quote(want))
        }
        ErrorKind::ContentEncoding { want, err } => {
            format!("value is not {} encoded: {err}", quote(want))
        }
        ErrorKind::ContentMediaType { want, err, .. } => {
            format!("value if not of mediatype {}: {err}", quote(want))
        }
        ErrorKind::Minimum { got, want } => format!("minimum: got {}, want {}", num(got), num(want)),
        ErrorKind::Maximum { got, want } => format!("maximum: got {}, want {}", num(got), num(want)),
        ErrorKind::ExclusiveMinimum { got, want } => {
            format!("exclusiveMinimum: got {}, want {}", num(got), num(want))
        }
        ErrorKind::ExclusiveMaximum { got, want } => {
            format!("exclusiveMaximum: got {}, want {}", num(got), num(want))
        }
        ErrorKind::MultipleOf { got, want } => {
            format!("multipleOf: got {}, want {}", num(got), num(want))
        }
        ErrorKind::Not => "not failed".into(),
        ErrorKind::AllOf => "allOf failed".into(),
        ErrorKind::AnyOf => "anyOf failed".into(),
        ErrorKind::OneOf(None) => "oneOf failed, none matched".into(),
        ErrorKind::OneOf(Some((a, b))) => format!("oneOf failed, subschemas {a}, {b} matched"),
    }
}

/// The violations below the root (which names the schema and which Helm drops), one line
/// each, `- ` marked and indented by depth, each line ending in a newline.
pub(crate) fn violations(root: &ValidationError<'_, '_>) -> String {
    let mut out = String::new();
    if root.causes.is_empty() {
        write_tree(root, 0, &mut out);
    }
    for cause in &root.causes {
        write_tree(cause, 0, &mut out);
    }
    out
}

fn write_tree(e: &ValidationError<'_, '_>, depth: usize, out: &mut String) {
    // A reference with one cause shows only the cause.
    if e.causes.len() == 1 && matches!(e.kind, ErrorKind::Reference { .. }) {
        if let Some(c) = e.causes.first() {
            write_tree(c, depth, out);
        }
        return;
    }
    for _ in 0..depth {
        out.push_str("  ");
    }
    let _ = writeln!(
        out,
        "- at {}: {}",
        quote(&e.instance_location.to_string()),
        message(&e.kind)
    );
    for c in &e.causes {
        write_tree(c, depth + 1, out);
    }
}

#[cfg(test)]
mod tests {
    use super::localized;

    // Helm v4.2.3's texts for these numbers (`maximum: got ..., want ...`).
    #[test]
    fn numbers_print_as_helms_validator_prints_them() {
        for (go, helm) in [
            ("11", "11"),
            ("99999", "99,999"),
            ("-12345", "-12,345"),
            ("1234.5", "1,234.5"),
            ("123456.25", "123,456.25"),
            ("-0.5", "-0.5"),
            ("12.345678901", "12.345678901"),
            ("1e+06", "1×10⁰⁶"),
            ("-1.0000005e+06", "-1.0000005×10⁰⁶"),
            ("1e-05", "1×10⁻⁰⁵"),
            ("1e+300", "1×10³⁰⁰"),
            ("1.23456789012e+11", "1.23456789012×10¹¹"),
        ] {
            assert_eq!(localized(go), helm);
        }
    }
}
