//! sprig's date functions: `now`, `date`, `dateInZone`, `htmlDate`, `htmlDateInZone`,
//! `dateModify`/`mustDateModify`, `toDate`/`mustToDate`, `unixEpoch`, `ago`, `duration`,
//! `durationRound` (and the snake-case aliases sprig keeps), over [`gotime`]'s `time.Time`.

use super::args;
use super::f;
use super::gotime::{self, GoTime, Zone, as_time, duration, time_value};
use crate::gotemplate::value::Value;
use crate::gotemplate::{FuncMap, Ty};

/// Registers the date functions.
pub fn register(m: &mut FuncMap) {
    use Ty::{Any, String as S};
    m.insert("now", f(&[], |_| Ok(time_value(GoTime::now()))));
    m.insert(
        "date",
        f(&[S, Any], |a| {
            Ok(Value::str(date_in_zone(args::string(a, 0)?, args::any(a, 1), "Local")))
        }),
    );
    let in_zone = f(&[S, Any, S], |a| {
        Ok(Value::str(date_in_zone(
            args::string(a, 0)?,
            args::any(a, 1),
            args::string(a, 2)?,
        )))
    });
    m.insert("dateInZone", in_zone);
    m.insert("date_in_zone", in_zone);
    m.insert(
        "htmlDate",
        f(&[Any], |a| {
            Ok(Value::str(date_in_zone("2006-01-02", args::any(a, 0), "Local")))
        }),
    );
    m.insert(
        "htmlDateInZone",
        f(&[Any, S], |a| {
            Ok(Value::str(date_in_zone(
                "2006-01-02",
                args::any(a, 0),
                args::string(a, 1)?,
            )))
        }),
    );
    let modify = f(&[S, Any], |a| {
        let t = time_arg(a, 1)?;
        Ok(time_value(match duration::parse(args::string(a, 0)?) {
            Ok(d) => t.add(d),
            Err(_) => t,
        }))
    });
    m.insert("dateModify", modify);
    m.insert("date_modify", modify);
    let must_modify = f(&[S, Any], |a| {
        let t = time_arg(a, 1)?;
        Ok(time_value(t.add(duration::parse(args::string(a, 0)?)?)))
    });
    m.insert("mustDateModify", must_modify);
    m.insert("must_date_modify", must_modify);
    m.insert(
        "toDate",
        f(&[S, S], |a| {
            let t = gotime::parse::parse(args::string(a, 0)?, args::string(a, 1)?);
            Ok(time_value(t.unwrap_or_else(|_| gotime::zero())))
        }),
    );
    m.insert(
        "mustToDate",
        f(&[S, S], |a| {
            Ok(time_value(gotime::parse::parse(
                args::string(a, 0)?,
                args::string(a, 1)?,
            )?))
        }),
    );
    m.insert(
        "unixEpoch",
        f(&[Any], |a| Ok(Value::str(time_arg(a, 0)?.unix_secs().to_string()))),
    );
    m.insert(
        "ago",
        f(&[Any], |a| {
            let t = match args::any(a, 0) {
                Value::Int(n) | Value::Int64(n) => GoTime::unix(*n),
                v => as_time(v).unwrap_or_else(GoTime::now),
            };
            let since = GoTime::now().sub(&t);
            Ok(Value::str(duration::format(round(since, 1_000_000_000))))
        }),
    );
    m.insert(
        "duration",
        f(&[Any], |a| {
            let n = match args::any(a, 0) {
                Value::Str(s) => s.parse::<i64>().unwrap_or(0),
                Value::Int64(n) => *n,
                _ => 0,
            };
            Ok(Value::str(duration::format(n.wrapping_mul(1_000_000_000))))
        }),
    );
    m.insert(
        "durationRound",
        f(&[Any], |a| {
            let v = args::any(a, 0);
            let d = match v {
                Value::Str(s) => duration::parse(s).unwrap_or(0),
                Value::Int64(n) => *n,
                _ => as_time(v).map_or(0, |t| GoTime::now().sub(&t)),
            };
            Ok(Value::str(duration_round(d)))
        }),
    );
}

/// Argument `i` as a `time.Time`, or the error Go's call gives for another type.
fn time_arg(a: &[Value], i: usize) -> Result<GoTime, String> {
    let v = args::any(a, i);
    as_time(v).ok_or_else(|| format!("wrong type for value; expected time.Time; got {}", v.type_name()))
}

/// sprig's `dateInZone`: a `time.Time` or Unix seconds (an `int` or `int64`; anything else
/// is now) formatted in `zone` (UTC when the zone does not load, as sprig falls back).
fn date_in_zone(layout: &str, date: &Value, zone: &str) -> String {
    let t = match date {
        Value::Int(n) | Value::Int64(n) => GoTime::unix(*n),
        v => as_time(v).unwrap_or_else(GoTime::now),
    };
    let zone = Zone::load(zone).unwrap_or(Zone::Utc);
    t.with_zone(zone).format(layout)
}

/// `time.Duration.Round(m)`: halves away from zero, saturating.
fn round(d: i64, m: i64) -> i64 {
    let r = d % m;
    let less_than_half = |r: i64| (r as u64).wrapping_add(r as u64) < m as u64;
    if d < 0 {
        let r = -r;
        if less_than_half(r) {
            return d + r;
        }
        d.checked_sub(m - r).unwrap_or(i64::MIN)
    } else {
        if less_than_half(r) {
            return d - r;
        }
        d.checked_add(m - r).unwrap_or(i64::MAX)
    }
}

/// sprig's `durationRound`: the largest whole unit (`y`, `mo`, `d`, `h`, `m`, `s`) that the
/// absolute duration passes.
fn duration_round(d: i64) -> String {
    let u = d.unsigned_abs();
    const HOUR: u64 = 3_600_000_000_000;
    for (unit, name) in [
        (HOUR * 24 * 365, "y"),
        (HOUR * 24 * 30, "mo"),
        (HOUR * 24, "d"),
        (HOUR, "h"),
        (60_000_000_000, "m"),
        (1_000_000_000, "s"),
    ] {
        if u > unit {
            return format!("{}{name}", u / unit);
        }
    }
    "0s".into()
}

#[cfg(test)]
#[path = "dates_tests.rs"]
mod tests;
