//! Go's `time.Time` as a template object: an instant (Unix seconds and nanoseconds), a
//! location, and for `now` a monotonic reading, printed and formatted as Go does, with the
//! methods charts call (`Unix`, `Format`, `UTC`, `Year`, `Add`, `AddDate`, ...).
//!
//! The local zone is UTC, as it is for Helm in a container without `TZ` or
//! `/etc/localtime` (and as the agent runs): a chart's output must not depend on the machine.
//! Named zones come from the IANA database bundled with `jiff`; a name it does not know
//! fails to load, as `time.LoadLocation` fails.

pub mod duration;
pub mod layout;
pub mod parse;

use crate::gotemplate::value::{Object, Value};
use jiff::tz::TimeZone;
use std::rc::Rc;
use std::sync::OnceLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// A location: how an instant reads as a civil time.
#[derive(Clone)]
pub enum Zone {
    /// `time.UTC`.
    Utc,
    /// `time.Local`, which is UTC here (Go names it `UTC` too when it is).
    Local,
    /// `time.FixedZone(name, offset)`; an empty name prints as the offset.
    Fixed {
        /// The abbreviation (`MST` prints it).
        name: String,
        /// Seconds east of UTC.
        offset: i32,
    },
    /// A zone from the IANA database.
    Tz(TimeZone),
}

impl Zone {
    /// `time.LoadLocation(name)`: `""` and `UTC` are UTC, `Local` the local zone, anything
    /// else an IANA name (case-sensitive, as on Go's Linux file-system lookup).
    pub fn load(name: &str) -> Result<Zone, String> {
        match name {
            "" | "UTC" => return Ok(Zone::Utc),
            "Local" => return Ok(Zone::Local),
            _ => {}
        }
        let unknown = || format!("unknown time zone {name}");
        if name.contains("..") || name.starts_with(['/', '\\']) {
            return Err(unknown());
        }
        let tz = TimeZone::get(name).map_err(|_| unknown())?;
        if tz.iana_name() != Some(name) {
            return Err(unknown());
        }
        Ok(Zone::Tz(tz))
    }

    /// The offset (seconds east of UTC) and abbreviation in effect at Unix second `secs`.
    fn lookup(&self, secs: i64) -> (i32, String) {
        match self {
            Zone::Utc | Zone::Local => (0, "UTC".into()),
            Zone::Fixed { name, offset } => (*offset, name.clone()),
            Zone::Tz(tz) => {
                let clamped = secs.clamp(jiff::Timestamp::MIN.as_second(), jiff::Timestamp::MAX.as_second());
                let ts = jiff::Timestamp::from_second(clamped).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
                let info = tz.to_offset_info(ts);
                (info.offset().seconds(), info.abbreviation().to_owned())
            }
        }
    }
}

/// A civil reading of an instant in a zone.
pub struct Civil {
    /// The year (proleptic Gregorian; year 0 is 1 BC).
    pub year: i64,
    /// 1..=12.
    pub month: u8,
    /// 1..=31.
    pub day: u8,
    /// 0..=23.
    pub hour: u8,
    /// 0..=59.
    pub minute: u8,
    /// 0..=59.
    pub second: u8,
    /// 0..1e9.
    pub nanosecond: u32,
    /// 0 is Sunday.
    pub weekday: u8,
    /// 1..=366.
    pub yday: u16,
    /// Seconds east of UTC.
    pub offset: i32,
    /// The zone's abbreviation (empty for an unnamed fixed zone).
    pub zone_name: String,
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u8, u8) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// The number of days in `month` of `year`.
pub fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Go's `time.quote`: double quotes, `"` and `\` escaped, bytes outside printable ASCII as
/// `\xNN`.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for b in s.bytes() {
        match b {
            b'"' | b'\\' => {
                out.push('\\');
                out.push(char::from(b));
            }
            0x20..0x80 => out.push(char::from(b)),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('"');
    out
}

/// The process's monotonic clock origin, read on the first `now`.
fn mono_origin() -> Instant {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    *ORIGIN.get_or_init(Instant::now)
}

/// A `time.Time`.
#[derive(Clone)]
pub struct GoTime {
    secs: i64,
    nsec: u32,
    zone: Zone,
    /// Nanoseconds since the monotonic origin, for times from `now` (Go prints it `m=+...`).
    mono: Option<i64>,
}

/// The `time.Time` zero value, `0001-01-01 00:00:00 +0000 UTC`.
pub fn zero() -> GoTime {
    GoTime {
        secs: days_from_civil(1, 1, 1) * 86_400,
        nsec: 0,
        zone: Zone::Utc,
        mono: None,
    }
}

impl GoTime {
    /// `time.Now()`, with its monotonic reading.
    pub fn now() -> GoTime {
        let origin = mono_origin();
        let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        let mono = i64::try_from(origin.elapsed().as_nanos()).unwrap_or(i64::MAX);
        GoTime {
            secs: i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
            nsec: since.subsec_nanos(),
            zone: Zone::Local,
            mono: Some(mono),
        }
    }

    /// `time.Unix(secs, 0)` in the local zone.
    pub fn unix(secs: i64) -> GoTime {
        GoTime {
            secs,
            nsec: 0,
            zone: Zone::Local,
            mono: None,
        }
    }

    /// `time.Date(y, m, d, h, min, s, ns, UTC)` with Go's normalisation, then `zone` set
    /// without moving the instant.
    pub fn from_civil_utc(c: (i64, i64, i64, i64, i64, i64, i64), zone: Zone) -> GoTime {
        let (y, m, d, h, min, s, ns) = c;
        let m0 = m - 1;
        let y = y.saturating_add(m0.div_euclid(12));
        let m = m0.rem_euclid(12) + 1;
        let days = days_from_civil(y, m, 1).saturating_add(d - 1);
        let secs = days
            .saturating_mul(86_400)
            .saturating_add(h.saturating_mul(3600))
            .saturating_add(min.saturating_mul(60))
            .saturating_add(s)
            .saturating_add(ns.div_euclid(1_000_000_000));
        GoTime {
            secs,
            nsec: ns.rem_euclid(1_000_000_000) as u32,
            zone,
            mono: None,
        }
    }

    /// Unix seconds.
    pub fn unix_secs(&self) -> i64 {
        self.secs
    }

    /// The time moved by `secs` seconds.
    pub fn add_seconds(mut self, secs: i64) -> GoTime {
        self.secs = self.secs.saturating_add(secs);
        self
    }

    /// The same instant in `zone` (Go's `In`/`UTC`/`Local`: the monotonic reading goes).
    pub fn with_zone(mut self, zone: Zone) -> GoTime {
        self.zone = zone;
        self.mono = None;
        self
    }

    /// `t.Add(d)`.
    pub fn add(&self, d: i64) -> GoTime {
        let total = i128::from(self.nsec) + i128::from(d);
        let secs = i128::from(self.secs) + total.div_euclid(1_000_000_000);
        GoTime {
            secs: secs.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64,
            nsec: total.rem_euclid(1_000_000_000) as u32,
            zone: self.zone.clone(),
            mono: self.mono.map(|m| m.saturating_add(d)),
        }
    }

    /// `t.Sub(u)` in nanoseconds, saturating as Go does.
    pub fn sub(&self, u: &GoTime) -> i64 {
        if let (Some(a), Some(b)) = (self.mono, u.mono) {
            return a.saturating_sub(b);
        }
        let d =
            (i128::from(self.secs) - i128::from(u.secs)) * 1_000_000_000 + i128::from(self.nsec) - i128::from(u.nsec);
        d.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
    }

    /// The civil reading in the time's zone.
    pub fn civil(&self) -> Civil {
        let (offset, zone_name) = self.zone.lookup(self.secs);
        let local = self.secs.saturating_add(i64::from(offset));
        let days = local.div_euclid(86_400);
        let rem = local.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        let yday = days - days_from_civil(year, 1, 1) + 1;
        Civil {
            year,
            month,
            day,
            hour: (rem / 3600) as u8,
            minute: (rem / 60 % 60) as u8,
            second: (rem % 60) as u8,
            nanosecond: self.nsec,
            weekday: (days + 4).rem_euclid(7) as u8,
            yday: yday as u16,
            offset,
            zone_name,
        }
    }

    /// `t.Format(layout)`.
    pub fn format(&self, layout: &str) -> String {
        layout::format(&self.civil(), layout)
    }

    /// `t.AddDate(years, months, days)`.
    pub fn add_date(&self, years: i64, months: i64, days: i64) -> GoTime {
        let c = self.civil();
        let civil = (
            c.year.saturating_add(years),
            i64::from(c.month).saturating_add(months),
            i64::from(c.day).saturating_add(days),
            i64::from(c.hour),
            i64::from(c.minute),
            i64::from(c.second),
            i64::from(c.nanosecond),
        );
        self.date_in_zone(civil)
    }

    /// `time.Date(..., t.Location())`: a civil time read in this time's zone.
    fn date_in_zone(&self, civil: (i64, i64, i64, i64, i64, i64, i64)) -> GoTime {
        let as_utc = GoTime::from_civil_utc(civil, self.zone.clone());
        // Go looks the offset up at the civil time read as UTC, then once more after moving.
        let (offset, _) = self.zone.lookup(as_utc.secs);
        let moved = as_utc.secs.saturating_sub(i64::from(offset));
        let (offset2, _) = self.zone.lookup(moved);
        let secs = if offset2 == offset {
            moved
        } else {
            as_utc.secs.saturating_sub(i64::from(offset2))
        };
        GoTime {
            secs,
            nsec: as_utc.nsec,
            zone: self.zone.clone(),
            mono: None,
        }
    }

    /// `t.String()`: `2006-01-02 15:04:05.999999999 -0700 MST`, with ` m=+S.NNNNNNNNN` when
    /// the time carries a monotonic reading.
    pub fn string(&self) -> String {
        let mut s = self.format("2006-01-02 15:04:05.999999999 -0700 MST");
        if let Some(m) = self.mono {
            let sign = if m < 0 { '-' } else { '+' };
            let m = m.unsigned_abs();
            s.push_str(&format!(" m={sign}{}.{:09}", m / 1_000_000_000, m % 1_000_000_000));
        }
        s
    }

    fn is_zero(&self) -> bool {
        self.secs == zero().secs && self.nsec == 0
    }

    fn instant(&self) -> (i64, u32) {
        (self.secs, self.nsec)
    }
}

/// The name of the hidden method that hands a [`GoTime`] out of its object (no template can
/// name it: `:` is not an identifier character).
const TAKE: &str = "sigil:time";

/// The `time.Time` a value holds, if it holds one.
pub fn as_time(v: &Value) -> Option<GoTime> {
    match v {
        Value::Object(o) if o.type_name() == "time.Time" => {
            TIME_SLOT.with(|slot| slot.set(None));
            o.method(TAKE, &[])?.ok()?;
            TIME_SLOT.with(std::cell::Cell::take)
        }
        _ => None,
    }
}

thread_local! {
    /// Hands a [`GoTime`] out of a `dyn Object` without downcasting.
    static TIME_SLOT: std::cell::Cell<Option<GoTime>> = const { std::cell::Cell::new(None) };
}

/// A `time.Time` as a template value.
pub fn time_value(t: GoTime) -> Value {
    Value::Object(Rc::new(TimeObject(t)))
}

fn duration_value(d: i64) -> Value {
    Value::Object(Rc::new(DurationObject(d)))
}

struct TimeObject(GoTime);

/// `time.Duration`: an `int64` of nanoseconds that prints as `1h0m0s`.
struct DurationObject(i64);

/// `time.Month` and `time.Weekday`, which print as names (their numbers are not kept).
struct NamedNumber {
    type_name: &'static str,
    name: &'static str,
}

impl Object for NamedNumber {
    fn type_name(&self) -> &str {
        self.type_name
    }
    fn field(&self, name: &str) -> Option<Value> {
        (name == "String").then(|| Value::str(self.name))
    }
    fn format_v(&self) -> String {
        self.name.to_owned()
    }
}

impl Object for DurationObject {
    fn type_name(&self) -> &str {
        "time.Duration"
    }
    fn field(&self, name: &str) -> Option<Value> {
        let d = self.0;
        Some(match name {
            "String" => Value::str(duration::format(d)),
            "Nanoseconds" => Value::Int64(d),
            "Microseconds" => Value::Int64(d / 1_000),
            "Milliseconds" => Value::Int64(d / 1_000_000),
            "Seconds" => Value::Float(d as f64 / 1e9),
            "Minutes" => Value::Float(d as f64 / 6e10),
            "Hours" => Value::Float(d as f64 / 3.6e12),
            _ => return None,
        })
    }
    fn format_v(&self) -> String {
        duration::format(self.0)
    }
}

impl Object for TimeObject {
    fn type_name(&self) -> &str {
        "time.Time"
    }

    fn field(&self, name: &str) -> Option<Value> {
        let t = &self.0;
        let month = |c: &Civil| NamedNumber {
            type_name: "time.Month",
            name: layout::LONG_MONTHS
                .get(usize::from(c.month).saturating_sub(1))
                .copied()
                .unwrap_or(""),
        };
        let c = t.civil();
        Some(match name {
            "Unix" => Value::Int64(t.secs),
            "UnixMilli" => Value::Int64(t.secs.saturating_mul(1000) + i64::from(t.nsec / 1_000_000)),
            "UnixMicro" => Value::Int64(t.secs.saturating_mul(1_000_000) + i64::from(t.nsec / 1_000)),
            "UnixNano" => Value::Int64(t.secs.wrapping_mul(1_000_000_000).wrapping_add(i64::from(t.nsec))),
            "Year" => Value::Int(c.year),
            "Month" => Value::Object(Rc::new(month(&c))),
            "Day" => Value::Int(i64::from(c.day)),
            "Hour" => Value::Int(i64::from(c.hour)),
            "Minute" => Value::Int(i64::from(c.minute)),
            "Second" => Value::Int(i64::from(c.second)),
            "Nanosecond" => Value::Int(i64::from(c.nanosecond)),
            "YearDay" => Value::Int(i64::from(c.yday)),
            "Weekday" => Value::Object(Rc::new(NamedNumber {
                type_name: "time.Weekday",
                name: layout::LONG_DAYS.get(usize::from(c.weekday)).copied().unwrap_or(""),
            })),
            "UTC" => time_value(t.clone().with_zone(Zone::Utc)),
            "Local" => time_value(t.clone().with_zone(Zone::Local)),
            "IsZero" => Value::Bool(t.is_zero()),
            "String" => Value::str(t.string()),
            "MarshalJSON" => {
                Value::bytes(format!("\"{}\"", t.format("2006-01-02T15:04:05.999999999Z07:00")).into_bytes())
            }
            "MarshalText" => Value::bytes(t.format("2006-01-02T15:04:05.999999999Z07:00").into_bytes()),
            _ => return None,
        })
    }

    fn method(&self, name: &str, args: &[Value]) -> Option<Result<Value, String>> {
        let t = &self.0;
        let want = |n: usize| -> Result<(), String> {
            if args.len() == n {
                Ok(())
            } else {
                Err(format!("wrong number of args for {name}: want {n} got {}", args.len()))
            }
        };
        let int = |i: usize| match args.get(i) {
            Some(Value::Int(n) | Value::Int64(n)) => Ok(*n),
            Some(v) => Err(format!("wrong type for value; expected int; got {}", v.type_name())),
            None => Err(format!("wrong number of args for {name}")),
        };
        let time = |i: usize| {
            let v = args.get(i).cloned().unwrap_or_default();
            as_time(&v).ok_or_else(|| format!("wrong type for value; expected time.Time; got {}", v.type_name()))
        };
        let result = match name {
            TAKE => {
                TIME_SLOT.with(|slot| slot.set(Some(t.clone())));
                Ok(Value::Nil)
            }
            "Format" => want(1).and_then(|()| match args.first() {
                Some(Value::Str(s)) => Ok(Value::str(t.format(s))),
                Some(v) => Err(format!("wrong type for value; expected string; got {}", v.type_name())),
                None => Err(String::new()),
            }),
            "Add" => want(1).and_then(|()| Ok(time_value(t.add(int(0)?)))),
            "AddDate" => want(3).and_then(|()| Ok(time_value(t.add_date(int(0)?, int(1)?, int(2)?)))),
            "Sub" => want(1).and_then(|()| Ok(duration_value(t.sub(&time(0)?)))),
            "Before" => want(1).and_then(|()| Ok(Value::Bool(t.instant() < time(0)?.instant()))),
            "After" => want(1).and_then(|()| Ok(Value::Bool(t.instant() > time(0)?.instant()))),
            "Equal" => want(1).and_then(|()| Ok(Value::Bool(t.instant() == time(0)?.instant()))),
            _ => return self.field(name).map(|v| want(0).map(|()| v)),
        };
        Some(result)
    }

    fn format_v(&self) -> String {
        self.0.string()
    }
}

#[cfg(test)]
mod tests;
