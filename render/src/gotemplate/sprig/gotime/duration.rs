//! Go's `time.Duration` (nanoseconds in an `int64`): its `String` form and
//! `time.ParseDuration`.

use super::quote;

const NS: u64 = 1;
const US: u64 = 1_000 * NS;
const MS: u64 = 1_000 * US;
const SEC: u64 = 1_000 * MS;
const MIN: u64 = 60 * SEC;
const HOUR: u64 = 60 * MIN;

/// `time.Duration.String()`: `1h2m3.5s`, `1.5ms`, `0s`, `-25h0m0s`.
pub fn format(d: i64) -> String {
    let neg = d < 0;
    let u = d.unsigned_abs();
    let mut out = String::new();
    if u < SEC {
        if u == 0 {
            return "0s".into();
        }
        let (unit, div, prec) = if u < US {
            ("ns", 1, 0)
        } else if u < MS {
            ("µs", US, 3)
        } else {
            ("ms", MS, 6)
        };
        out.push_str(&with_fraction(u, div, prec));
        out.push_str(unit);
    } else {
        let hours = u / HOUR;
        let mins = (u / MIN) % 60;
        if hours > 0 {
            out.push_str(&format!("{hours}h{mins}m"));
        } else if mins > 0 {
            out.push_str(&format!("{mins}m"));
        }
        out.push_str(&with_fraction(u % MIN, SEC, 9));
        out.push('s');
    }
    if neg {
        out.insert(0, '-');
    }
    out
}

/// `v / div` with the remainder as up to `prec` decimals, trailing zeros dropped.
fn with_fraction(v: u64, div: u64, prec: usize) -> String {
    let whole = v / div;
    let frac = v % div;
    if prec == 0 || frac == 0 {
        return whole.to_string();
    }
    let digits = format!("{frac:0prec$}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

/// `time.ParseDuration`: a signed sequence of decimal numbers with units (`ns`, `us`, `µs`,
/// `ms`, `s`, `m`, `h`), such as `-1.5h` or `2h45m`; Go's error texts.
pub fn parse(s: &str) -> Result<i64, String> {
    let invalid = || format!("time: invalid duration {}", quote(s));
    let mut rest = s;
    let mut neg = false;
    if let Some(r) = rest.strip_prefix('-') {
        neg = true;
        rest = r;
    } else if let Some(r) = rest.strip_prefix('+') {
        rest = r;
    }
    if rest == "0" {
        return Ok(0);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total: u64 = 0;
    while !rest.is_empty() {
        if !rest.starts_with(|c: char| c == '.' || c.is_ascii_digit()) {
            return Err(invalid());
        }
        let int_len = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        let (int_part, after) = rest.split_at(int_len);
        let whole: u64 = if int_part.is_empty() {
            0
        } else {
            int_part.parse().map_err(|_| invalid())?
        };
        rest = after;
        let mut frac: u64 = 0;
        let mut scale: f64 = 1.0;
        let mut had_frac = false;
        if let Some(r) = rest.strip_prefix('.') {
            let frac_len = r.find(|c: char| !c.is_ascii_digit()).unwrap_or(r.len());
            let (digits, after) = r.split_at(frac_len);
            had_frac = !digits.is_empty();
            for c in digits.bytes() {
                // Digits beyond what an int64 can hold are dropped, as Go drops them.
                if frac > (i64::MAX as u64 - 9) / 10 {
                    continue;
                }
                frac = frac * 10 + u64::from(c - b'0');
                scale *= 10.0;
            }
            rest = after;
        }
        if int_part.is_empty() && !had_frac {
            return Err(invalid());
        }
        let unit_len = rest
            .find(|c: char| c == '.' || c.is_ascii_digit())
            .unwrap_or(rest.len());
        let (unit, after) = rest.split_at(unit_len);
        rest = after;
        if unit.is_empty() {
            return Err(format!("time: missing unit in duration {}", quote(s)));
        }
        let unit_ns = match unit {
            "ns" => NS,
            "us" | "\u{b5}s" | "\u{3bc}s" => US,
            "ms" => MS,
            "s" => SEC,
            "m" => MIN,
            "h" => HOUR,
            _ => {
                return Err(format!("time: unknown unit {} in duration {}", quote(unit), quote(s)));
            }
        };
        let mut v = whole.checked_mul(unit_ns).ok_or_else(invalid)?;
        if frac > 0 {
            v = v
                .checked_add((frac as f64 * (unit_ns as f64 / scale)) as u64)
                .ok_or_else(invalid)?;
        }
        total = total.checked_add(v).ok_or_else(invalid)?;
        if total > 1u64 << 63 {
            return Err(invalid());
        }
    }
    if neg {
        Ok((total as i64).wrapping_neg())
    } else {
        i64::try_from(total).map_err(|_| invalid())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_as_go_prints_them() {
        for (d, want) in [
            (0, "0s"),
            (1, "1ns"),
            (1_500, "1.5µs"),
            (1_500_000, "1.5ms"),
            (1_500_000_000, "1.5s"),
            (3_661_000_000_000, "1h1m1s"),
            (-90_000_000_000_000, "-25h0m0s"),
            (90_000_000_000, "1m30s"),
            (8784 * 3_600_000_000_000, "8784h0m0s"),
            (i64::MIN, "-2562047h47m16.854775808s"),
        ] {
            assert_eq!(format(d), want, "{d}");
        }
    }

    #[test]
    fn durations_parse_as_go_parses_them() {
        assert_eq!(parse("-1.5h"), Ok(-5_400_000_000_000));
        assert_eq!(parse("1h30m"), Ok(5_400_000_000_000));
        assert_eq!(parse(".5s"), Ok(500_000_000));
        assert_eq!(parse("1µs"), Ok(1_000));
        assert_eq!(parse("0"), Ok(0));
        assert_eq!(parse("1d"), Err(r#"time: unknown unit "d" in duration "1d""#.into()));
        assert_eq!(parse("1"), Err(r#"time: missing unit in duration "1""#.into()));
        assert_eq!(parse("xx"), Err(r#"time: invalid duration "xx""#.into()));
        assert_eq!(parse(""), Err(r#"time: invalid duration """#.into()));
        assert!(parse("9999999999h").is_err());
    }
}
