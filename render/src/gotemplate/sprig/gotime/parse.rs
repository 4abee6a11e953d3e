//! `time.ParseInLocation(layout, value, time.Local)` with Go's error texts. The local zone is
//! UTC (see [`super::Zone::Local`]).

use super::layout::{LONG_DAYS, LONG_MONTHS, Std, TzForm, next_chunk};
use super::{GoTime, Zone, days_in_month, quote};

/// Go's `ParseError` text: `parsing time "V" as "L": cannot parse "REST" as "ELEM"` or
/// `parsing time "V"MESSAGE`.
fn error(layout: &str, value: &str, elem: &str, rest: &str) -> String {
    format!(
        "parsing time {} as {}: cannot parse {} as {}",
        quote(value),
        quote(layout),
        quote(rest),
        quote(elem)
    )
}

fn message(value: &str, msg: &str) -> String {
    format!("parsing time {}{msg}", quote(value))
}

/// Skips the literal `prefix` in `value` (runs of spaces match runs of spaces).
fn skip<'a>(mut value: &'a str, mut prefix: &str) -> Option<&'a str> {
    while let Some(p) = prefix.as_bytes().first() {
        if *p == b' ' {
            if value.as_bytes().first().is_some_and(|v| *v != b' ') {
                return None;
            }
            prefix = prefix.trim_start_matches(' ');
            value = value.trim_start_matches(' ');
            continue;
        }
        if value.as_bytes().first() != Some(p) {
            return None;
        }
        prefix = prefix.get(1..)?;
        value = value.get(1..)?;
    }
    Some(value)
}

fn digit(s: &str, i: usize) -> Option<i64> {
    s.as_bytes()
        .get(i)
        .filter(|c| c.is_ascii_digit())
        .map(|c| i64::from(c - b'0'))
}

/// Go's `getnum`: one or two digits (exactly two when `fixed`).
fn getnum(s: &str, fixed: bool) -> Option<(i64, &str)> {
    let a = digit(s, 0)?;
    match digit(s, 1) {
        None if fixed => None,
        None => Some((a, s.get(1..)?)),
        Some(b) => Some((a * 10 + b, s.get(2..)?)),
    }
}

/// Go's `getnum3`: one to three digits (exactly three when `fixed`).
fn getnum3(s: &str, fixed: bool) -> Option<(i64, &str)> {
    let mut n = 0;
    let mut i = 0;
    while i < 3 {
        let Some(d) = digit(s, i) else { break };
        n = n * 10 + d;
        i += 1;
    }
    if i == 0 || (fixed && i != 3) {
        return None;
    }
    Some((n, s.get(i..)?))
}

/// A case-insensitive prefix match against `names`: the index and the rest.
fn lookup<'a>(names: &[&str], value: &'a str) -> Option<(usize, &'a str)> {
    names.iter().enumerate().find_map(|(i, name)| {
        let head = value.get(..name.len())?;
        head.eq_ignore_ascii_case(name)
            .then(|| (i, value.get(name.len()..).unwrap_or("")))
    })
}

/// Go's `parseTimeZone`: the length of a zone abbreviation at the start of `value`.
fn zone_len(value: &str) -> Option<usize> {
    let b = value.as_bytes();
    if b.len() < 3 {
        return None;
    }
    if value.starts_with("ChST") || value.starts_with("MeST") {
        return Some(4);
    }
    if value.starts_with("GMT") {
        return Some(3 + signed_offset_len(value.get(3..).unwrap_or("")));
    }
    if b.first().is_some_and(|c| *c == b'+' || *c == b'-') {
        return Some(signed_offset_len(value)).filter(|n| *n > 0);
    }
    let upper = b.iter().take(6).take_while(|c| c.is_ascii_uppercase()).count();
    match upper {
        5 if b.get(4) == Some(&b'T') => Some(5),
        4 if b.get(3) == Some(&b'T') || value.starts_with("WITA") => Some(4),
        3 => Some(3),
        _ => None,
    }
}

/// Go's `parseSignedOffset`: `+3`, `-11` (hours up to 23); 0 if not one.
fn signed_offset_len(value: &str) -> usize {
    let Some(sign) = value.as_bytes().first() else {
        return 0;
    };
    if *sign != b'+' && *sign != b'-' {
        return 0;
    }
    let rest = value.get(1..).unwrap_or("");
    let n = rest.bytes().take_while(u8::is_ascii_digit).count();
    if n == 0 {
        return 0;
    }
    match rest.get(..n).and_then(|d| d.parse::<u64>().ok()) {
        Some(h) if h <= 23 => 1 + n,
        _ => 0,
    }
}

fn frac_nanos(value: &str, nbytes: usize) -> Option<i64> {
    let nbytes = nbytes.min(10);
    if !value.starts_with(['.', ',']) {
        return None;
    }
    let digits = value.get(1..nbytes)?;
    let mut ns: i64 = digits.parse().ok()?;
    for _ in nbytes..10 {
        ns *= 10;
    }
    Some(ns)
}

#[derive(Default)]
struct Fields {
    year: i64,
    month: Option<i64>,
    day: Option<i64>,
    yday: Option<i64>,
    hour: i64,
    min: i64,
    sec: i64,
    nsec: i64,
    pm: Option<bool>,
    utc: bool,
    offset: Option<i32>,
    zone_name: String,
}

/// `time.ParseInLocation(layout, value, time.Local)`.
pub fn parse(layout: &str, value: &str) -> Result<GoTime, String> {
    let (alayout, avalue) = (layout, value);
    let mut layout = layout;
    let mut value = value;
    let mut f = Fields::default();
    loop {
        let (prefix, std, suffix) = next_chunk(layout);
        let elem = layout.get(prefix.len()..layout.len() - suffix.len()).unwrap_or("");
        value = skip(value, prefix).ok_or_else(|| error(alayout, avalue, prefix, value))?;
        let Some(std) = std else {
            if !value.is_empty() {
                return Err(message(avalue, &format!(": extra text: {}", quote(value))));
            }
            break;
        };
        layout = suffix;
        let hold = value;
        match element(&mut f, std, value, layout) {
            Ok(rest) => value = rest,
            Err(Some(range)) => {
                return Err(message(avalue, &format!(": {range} out of range")));
            }
            Err(None) => return Err(error(alayout, avalue, elem, hold)),
        }
    }
    finish(f, avalue)
}

/// Parses one element; `Err(Some(what))` is a range error, `Err(None)` a mismatch.
fn element<'a>(f: &mut Fields, std: Std, value: &'a str, layout_rest: &str) -> Result<&'a str, Option<&'static str>> {
    let bad = None;
    match std {
        Std::Year => {
            let p = value.get(..2).ok_or(bad)?;
            let y: i64 = p.parse().map_err(|_| bad)?;
            if !p.bytes().all(|c| c.is_ascii_digit()) {
                return Err(bad);
            }
            f.year = if y >= 69 { y + 1900 } else { y + 2000 };
            Ok(value.get(2..).unwrap_or(""))
        }
        Std::LongYear => {
            let p = value.get(..4).ok_or(bad)?;
            if !p.bytes().all(|c| c.is_ascii_digit()) {
                return Err(bad);
            }
            f.year = p.parse().map_err(|_| bad)?;
            Ok(value.get(4..).unwrap_or(""))
        }
        Std::Month | Std::LongMonth => {
            let names: Vec<&str> = if std == Std::Month {
                LONG_MONTHS.iter().map(|m| m.get(..3).unwrap_or(m)).collect()
            } else {
                LONG_MONTHS.to_vec()
            };
            let (i, rest) = lookup(&names, value).ok_or(bad)?;
            f.month = Some(i as i64 + 1);
            Ok(rest)
        }
        Std::NumMonth | Std::ZeroMonth => {
            let (m, rest) = getnum(value, std == Std::ZeroMonth).ok_or(bad)?;
            if !(1..=12).contains(&m) {
                return Err(Some("month"));
            }
            f.month = Some(m);
            Ok(rest)
        }
        Std::WeekDay | Std::LongWeekDay => {
            let names: Vec<&str> = if std == Std::WeekDay {
                LONG_DAYS.iter().map(|d| d.get(..3).unwrap_or(d)).collect()
            } else {
                LONG_DAYS.to_vec()
            };
            lookup(&names, value).map(|(_, rest)| rest).ok_or(bad)
        }
        Std::Day | Std::UnderDay | Std::ZeroDay => {
            let v = if std == Std::UnderDay {
                value.strip_prefix(' ').unwrap_or(value)
            } else {
                value
            };
            let (d, rest) = getnum(v, std == Std::ZeroDay).ok_or(bad)?;
            f.day = Some(d);
            Ok(rest)
        }
        Std::UnderYearDay | Std::ZeroYearDay => {
            let mut v = value;
            if std == Std::UnderYearDay {
                for _ in 0..2 {
                    v = v.strip_prefix(' ').unwrap_or(v);
                }
            }
            let (d, rest) = getnum3(v, std == Std::ZeroYearDay).ok_or(bad)?;
            f.yday = Some(d);
            Ok(rest)
        }
        Std::Hour => {
            let (h, rest) = getnum(value, false).ok_or(bad)?;
            if h >= 24 {
                return Err(Some("hour"));
            }
            f.hour = h;
            Ok(rest)
        }
        Std::Hour12 | Std::ZeroHour12 => {
            let (h, rest) = getnum(value, std == Std::ZeroHour12).ok_or(bad)?;
            if h > 12 {
                return Err(Some("hour"));
            }
            f.hour = h;
            Ok(rest)
        }
        Std::Minute | Std::ZeroMinute => {
            let (m, rest) = getnum(value, std == Std::ZeroMinute).ok_or(bad)?;
            if m >= 60 {
                return Err(Some("minute"));
            }
            f.min = m;
            Ok(rest)
        }
        Std::Second | Std::ZeroSecond => {
            let (s, mut rest) = getnum(value, std == Std::ZeroSecond).ok_or(bad)?;
            if s >= 60 {
                return Err(Some("second"));
            }
            f.sec = s;
            // A fraction in the value with none in the layout is read anyway.
            if rest.starts_with(['.', ',']) && digit(rest, 1).is_some() {
                let (_, next, _) = next_chunk(layout_rest);
                if !matches!(next, Some(Std::Frac0 { .. } | Std::Frac9 { .. })) {
                    let n = 1 + rest
                        .get(1..)
                        .unwrap_or("")
                        .bytes()
                        .take_while(u8::is_ascii_digit)
                        .count();
                    f.nsec = frac_nanos(rest, n).ok_or(bad)?;
                    rest = rest.get(n..).unwrap_or("");
                }
            }
            Ok(rest)
        }
        Std::Pm | Std::PmLower => {
            let p = value.get(..2).ok_or(bad)?;
            let (am, pm) = if std == Std::Pm { ("AM", "PM") } else { ("am", "pm") };
            f.pm = Some(match p {
                x if x == pm => true,
                x if x == am => false,
                _ => return Err(bad),
            });
            Ok(value.get(2..).unwrap_or(""))
        }
        Std::Iso(_) if value.starts_with('Z') => {
            f.utc = true;
            Ok(value.get(1..).unwrap_or(""))
        }
        Std::Iso(form) | Std::Num(form) => {
            let b = value.as_bytes();
            let at = |i: usize| b.get(i).copied();
            let (h, m, s, len) = match form {
                TzForm::ColonHhMm if at(3) == Some(b':') => ((1, 3), Some((4, 6)), None, 6),
                TzForm::Hh => ((1, 3), None, None, 3),
                TzForm::ColonHhMmSs if at(3) == Some(b':') && at(6) == Some(b':') => {
                    ((1, 3), Some((4, 6)), Some((7, 9)), 9)
                }
                TzForm::HhMmSs => ((1, 3), Some((3, 5)), Some((5, 7)), 7),
                TzForm::HhMm => ((1, 3), Some((3, 5)), None, 5),
                _ => return Err(bad),
            };
            if b.len() < len {
                return Err(bad);
            }
            let num = |r: Option<(usize, usize)>| -> Result<i64, Option<&'static str>> {
                match r {
                    None => Ok(0),
                    Some((x, y)) => {
                        let p = value.get(x..y).ok_or(bad)?;
                        getnum(p, true).map(|(n, _)| n).ok_or(bad)
                    }
                }
            };
            let (hr, mm, ss) = (num(Some(h))?, num(m)?, num(s)?);
            if ss > 60 {
                return Err(Some("time zone offset second"));
            }
            if mm > 60 {
                return Err(Some("time zone offset minute"));
            }
            if hr > 24 {
                return Err(Some("time zone offset hour"));
            }
            let off = ((hr * 60 + mm) * 60 + ss) as i32;
            f.offset = Some(match at(0) {
                Some(b'+') => off,
                Some(b'-') => -off,
                _ => return Err(bad),
            });
            Ok(value.get(len..).unwrap_or(""))
        }
        Std::Tz => {
            if let Some(rest) = value.strip_prefix("UTC") {
                f.utc = true;
                return Ok(rest);
            }
            let n = zone_len(value).ok_or(bad)?;
            f.zone_name = value.get(..n).ok_or(bad)?.to_owned();
            Ok(value.get(n..).unwrap_or(""))
        }
        Std::Frac0 { n, .. } => {
            let nbytes = 1 + n;
            if value.len() < nbytes {
                return Err(bad);
            }
            f.nsec = frac_nanos(value, nbytes).ok_or(bad)?;
            Ok(value.get(nbytes..).unwrap_or(""))
        }
        Std::Frac9 { .. } => {
            if !value.starts_with(['.', ',']) || digit(value, 1).is_none() {
                return Ok(value);
            }
            let n = 1 + value
                .get(1..)
                .unwrap_or("")
                .bytes()
                .take_while(u8::is_ascii_digit)
                .count();
            f.nsec = frac_nanos(value, n).ok_or(bad)?;
            Ok(value.get(n..).unwrap_or(""))
        }
    }
}

const DAYS_BEFORE: [i64; 13] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365];

fn finish(mut f: Fields, avalue: &str) -> Result<GoTime, String> {
    match f.pm {
        Some(true) if f.hour < 12 => f.hour += 12,
        Some(false) if f.hour == 12 => f.hour = 0,
        _ => {}
    }
    let leap = days_in_month(f.year, 2) == 29;
    let (month, day) = if let Some(mut yday) = f.yday {
        let mut md = None;
        if leap {
            if yday == 31 + 29 {
                md = Some((2, 29));
            } else if yday > 31 + 29 {
                yday -= 1;
            }
        }
        if !(1..=365).contains(&yday) {
            return Err(message(avalue, ": day-of-year out of range"));
        }
        let (m, d) = md.unwrap_or_else(|| {
            let mut m = (yday - 1) / 31 + 1;
            if DAYS_BEFORE.get(m as usize).is_some_and(|b| *b < yday) {
                m += 1;
            }
            let before = DAYS_BEFORE.get((m - 1) as usize).copied().unwrap_or(0);
            (m, yday - before)
        });
        if f.month.is_some_and(|x| x != m) {
            return Err(message(avalue, ": day-of-year does not match month"));
        }
        if f.day.is_some_and(|x| x != d) {
            return Err(message(avalue, ": day-of-year does not match day"));
        }
        (m, d)
    } else {
        (f.month.unwrap_or(1), f.day.unwrap_or(1))
    };
    if day < 1 || day > days_in_month(f.year, month) {
        return Err(message(avalue, ": day out of range"));
    }
    let civil = (f.year, month, day, f.hour, f.min, f.sec, f.nsec);
    if f.utc {
        return Ok(GoTime::from_civil_utc(civil, Zone::Utc));
    }
    if let Some(offset) = f.offset {
        let t = GoTime::from_civil_utc(civil, Zone::Utc);
        let zone = if offset == 0 {
            Zone::Local
        } else {
            Zone::Fixed {
                name: f.zone_name,
                offset,
            }
        };
        return Ok(t.add_seconds(-i64::from(offset)).with_zone(zone));
    }
    if !f.zone_name.is_empty() {
        let mut offset = 0;
        if let Some(h) = f.zone_name.strip_prefix("GMT").filter(|h| !h.is_empty()) {
            offset = h.parse::<i32>().unwrap_or(0) * 3600;
        }
        let t = GoTime::from_civil_utc(civil, Zone::Utc);
        return Ok(t.with_zone(Zone::Fixed {
            name: f.zone_name,
            offset,
        }));
    }
    Ok(GoTime::from_civil_utc(civil, Zone::Local))
}
