//! Go-style durations (`1h`, `15m`, `1h30m`, `90s`, `500ms`, `0`), as Kubernetes
//! manifests write them (`interval`, `timeout`, `refreshInterval`). Any input is answered
//! without panicking: too large, negative or malformed is `None`, and the caller names the
//! field in its message.

use std::time::Duration;

/// Parses a Go duration; `None` when it is not one (or does not fit a `Duration`).
pub fn parse(s: &str) -> Option<Duration> {
    let s = s.trim();
    let s = s.strip_prefix('+').unwrap_or(s);
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
            || ((c == 'u' || c == 'µ' || c == 'μ' || c == 'n') && chars.peek() == Some(&'s'))
        {
            unit.push(chars.next()?);
        }
        if num.is_empty() || num == "." {
            return None;
        }
        let n: f64 = num.parse().ok()?;
        num.clear();
        total += n * match unit.as_str() {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "us" | "µs" | "μs" => 1e-6,
            "ns" => 1e-9,
            _ => return None,
        };
        any = true;
    }
    if !any || !num.is_empty() {
        return None;
    }
    Duration::try_from_secs_f64(total).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations_and_hostile_input() {
        assert_eq!(parse("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse("0"), Some(Duration::ZERO));
        assert_eq!(parse("+2m"), Some(Duration::from_secs(120)));
        for bad in [
            "99999999999999999999h",
            "1e400h",
            "-1s",
            "",
            "h",
            "10",
            "1.2.3s",
            ".s",
            "5x",
            "1h-2m",
            "NaNs",
            "infh",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
        let huge = format!("{}h", "9".repeat(400));
        assert_eq!(parse(&huge), None);
    }
}
