//! Go-style durations (`1h`, `15m`, `1h30m`, `90s`, `500ms`, `0`), as Kubernetes
//! manifests write them (`interval`, `timeout`, `refreshInterval`).

use std::time::Duration;

/// Parses a Go duration; `None` when it is not one.
pub fn parse(s: &str) -> Option<Duration> {
    let s = s.trim();
    if s == "0" {
        return Some(Duration::ZERO);
    }
    let mut total = 0f64;
    let mut num = String::new();
    let mut chars = s.chars().peekable();
    let mut any = false;
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        let mut unit = c.to_string();
        if (c == 'm' && chars.peek() == Some(&'s'))
            || ((c == 'u' || c == 'µ' || c == 'n') && chars.peek() == Some(&'s'))
        {
            unit.push(chars.next()?);
        }
        let n: f64 = num.parse().ok()?;
        num.clear();
        total += n * match unit.as_str() {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" => 1e-6,
            "ns" => 1e-9,
            _ => return None,
        };
        any = true;
    }
    (any && num.is_empty()).then(|| Duration::from_secs_f64(total))
}
