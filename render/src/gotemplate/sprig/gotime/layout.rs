//! Go's reference-time layout language (`Mon Jan 2 15:04:05 MST 2006`): splitting a layout
//! into literal text and elements, and formatting a time with it (`Time.Format`).

use super::Civil;

/// One element of a layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Std {
    /// `January`
    LongMonth,
    /// `Jan`
    Month,
    /// `1`
    NumMonth,
    /// `01`
    ZeroMonth,
    /// `Monday`
    LongWeekDay,
    /// `Mon`
    WeekDay,
    /// `2`
    Day,
    /// `_2`
    UnderDay,
    /// `02`
    ZeroDay,
    /// `__2`
    UnderYearDay,
    /// `002`
    ZeroYearDay,
    /// `15`
    Hour,
    /// `3`
    Hour12,
    /// `03`
    ZeroHour12,
    /// `4`
    Minute,
    /// `04`
    ZeroMinute,
    /// `5`
    Second,
    /// `05`
    ZeroSecond,
    /// `2006`
    LongYear,
    /// `06`
    Year,
    /// `PM`
    Pm,
    /// `pm`
    PmLower,
    /// `MST`
    Tz,
    /// `Z0700` and its kin: `Z` for UTC, else the numeric form.
    Iso(TzForm),
    /// `-0700` and its kin.
    Num(TzForm),
    /// `.000` (or `,000`): exactly `n` digits.
    Frac0 { n: usize, comma: bool },
    /// `.999` (or `,999`): up to `n` digits, trailing zeros dropped.
    Frac9 { n: usize, comma: bool },
}

/// The shapes of a numeric zone offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TzForm {
    /// `0700`
    HhMm,
    /// `07:00`
    ColonHhMm,
    /// `07`
    Hh,
    /// `070000`
    HhMmSs,
    /// `07:00:00`
    ColonHhMmSs,
}

pub const LONG_DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

pub const LONG_MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Go's `nextStdChunk`: the literal text before the first element, the element, and the rest.
pub fn next_chunk(layout: &str) -> (&str, Option<Std>, &str) {
    let b = layout.as_bytes();
    let at = |i: usize| b.get(i).copied().unwrap_or(0);
    let has = |i: usize, s: &str| layout.get(i..).is_some_and(|r| r.starts_with(s));
    for i in 0..b.len() {
        let (std, len) = match at(i) {
            b'J' if has(i, "January") => (Std::LongMonth, 7),
            b'J' if has(i, "Jan") => (Std::Month, 3),
            b'M' if has(i, "Monday") => (Std::LongWeekDay, 6),
            b'M' if has(i, "Mon") => (Std::WeekDay, 3),
            b'M' if has(i, "MST") => (Std::Tz, 3),
            b'0' if has(i, "002") => (Std::ZeroYearDay, 3),
            b'0' if (b'1'..=b'6').contains(&at(i + 1)) => {
                let std = match at(i + 1) {
                    b'1' => Std::ZeroMonth,
                    b'2' => Std::ZeroDay,
                    b'3' => Std::ZeroHour12,
                    b'4' => Std::ZeroMinute,
                    b'5' => Std::ZeroSecond,
                    _ => Std::Year,
                };
                (std, 2)
            }
            b'1' if at(i + 1) == b'5' => (Std::Hour, 2),
            b'1' => (Std::NumMonth, 1),
            b'2' if has(i, "2006") => (Std::LongYear, 4),
            b'2' => (Std::Day, 1),
            b'_' if at(i + 1) == b'2' => {
                if has(i + 1, "2006") {
                    // `_2006` is a literal `_` and a year.
                    let (pre, rest) = layout.split_at(i + 1);
                    return (pre, Some(Std::LongYear), rest.get(4..).unwrap_or(""));
                }
                (Std::UnderDay, 2)
            }
            b'_' if has(i, "__2") => (Std::UnderYearDay, 3),
            b'3' => (Std::Hour12, 1),
            b'4' => (Std::Minute, 1),
            b'5' => (Std::Second, 1),
            b'P' if at(i + 1) == b'M' => (Std::Pm, 2),
            b'p' if at(i + 1) == b'm' => (Std::PmLower, 2),
            b'-' if has(i, "-070000") => (Std::Num(TzForm::HhMmSs), 7),
            b'-' if has(i, "-07:00:00") => (Std::Num(TzForm::ColonHhMmSs), 9),
            b'-' if has(i, "-0700") => (Std::Num(TzForm::HhMm), 5),
            b'-' if has(i, "-07:00") => (Std::Num(TzForm::ColonHhMm), 6),
            b'-' if has(i, "-07") => (Std::Num(TzForm::Hh), 3),
            b'Z' if has(i, "Z070000") => (Std::Iso(TzForm::HhMmSs), 7),
            b'Z' if has(i, "Z07:00:00") => (Std::Iso(TzForm::ColonHhMmSs), 9),
            b'Z' if has(i, "Z0700") => (Std::Iso(TzForm::HhMm), 5),
            b'Z' if has(i, "Z07:00") => (Std::Iso(TzForm::ColonHhMm), 6),
            b'Z' if has(i, "Z07") => (Std::Iso(TzForm::Hh), 3),
            c @ (b'.' | b',') if matches!(at(i + 1), b'0' | b'9') => {
                let digit = at(i + 1);
                let mut j = i + 1;
                while at(j) == digit {
                    j += 1;
                }
                if at(j).is_ascii_digit() {
                    continue;
                }
                let n = j - (i + 1);
                let comma = c == b',';
                let std = if digit == b'0' {
                    Std::Frac0 { n, comma }
                } else {
                    Std::Frac9 { n, comma }
                };
                (std, j - i)
            }
            _ => continue,
        };
        let pre = layout.get(..i).unwrap_or("");
        let rest = layout.get(i + len..).unwrap_or("");
        return (pre, Some(std), rest);
    }
    (layout, None, "")
}

/// Go's `appendInt(b, x, width)`: a sign, then the digits zero-padded to `width`.
fn push_int(out: &mut String, x: i64, width: usize) {
    if x < 0 {
        out.push('-');
    }
    out.push_str(&format!("{:0width$}", x.unsigned_abs()));
}

/// `Time.Format(layout)` of a civil time.
pub fn format(c: &Civil, layout: &str) -> String {
    let mut out = String::with_capacity(layout.len() + 10);
    let mut rest = layout;
    loop {
        let (pre, std, next) = next_chunk(rest);
        out.push_str(pre);
        let Some(std) = std else { break };
        rest = next;
        push_std(&mut out, c, std);
    }
    out
}

fn push_std(out: &mut String, c: &Civil, std: Std) {
    let month_name = LONG_MONTHS
        .get(usize::from(c.month).saturating_sub(1))
        .copied()
        .unwrap_or("%!Month");
    let day_name = LONG_DAYS.get(usize::from(c.weekday)).copied().unwrap_or("");
    let hour = i64::from(c.hour);
    match std {
        Std::Year => push_int(out, c.year % 100, 2),
        Std::LongYear => push_int(out, c.year, 4),
        Std::Month => out.push_str(month_name.get(..3).unwrap_or(month_name)),
        Std::LongMonth => out.push_str(month_name),
        Std::NumMonth => push_int(out, i64::from(c.month), 0),
        Std::ZeroMonth => push_int(out, i64::from(c.month), 2),
        Std::WeekDay => out.push_str(day_name.get(..3).unwrap_or(day_name)),
        Std::LongWeekDay => out.push_str(day_name),
        Std::Day => push_int(out, i64::from(c.day), 0),
        Std::UnderDay => {
            if c.day < 10 {
                out.push(' ');
            }
            push_int(out, i64::from(c.day), 0);
        }
        Std::ZeroDay => push_int(out, i64::from(c.day), 2),
        Std::UnderYearDay => {
            if c.yday < 100 {
                out.push(' ');
                if c.yday < 10 {
                    out.push(' ');
                }
            }
            push_int(out, i64::from(c.yday), 0);
        }
        Std::ZeroYearDay => push_int(out, i64::from(c.yday), 3),
        Std::Hour => push_int(out, hour, 2),
        Std::Hour12 | Std::ZeroHour12 => {
            let h = match hour % 12 {
                0 => 12,
                h => h,
            };
            push_int(out, h, if std == Std::Hour12 { 0 } else { 2 });
        }
        Std::Minute => push_int(out, i64::from(c.minute), 0),
        Std::ZeroMinute => push_int(out, i64::from(c.minute), 2),
        Std::Second => push_int(out, i64::from(c.second), 0),
        Std::ZeroSecond => push_int(out, i64::from(c.second), 2),
        Std::Pm => out.push_str(if hour >= 12 { "PM" } else { "AM" }),
        Std::PmLower => out.push_str(if hour >= 12 { "pm" } else { "am" }),
        Std::Iso(_) if c.offset == 0 => out.push('Z'),
        Std::Iso(form) | Std::Num(form) => push_offset(out, c.offset, form),
        Std::Tz => {
            if c.zone_name.is_empty() {
                push_offset(out, c.offset, TzForm::HhMm);
            } else {
                out.push_str(&c.zone_name);
            }
        }
        Std::Frac0 { n, comma } | Std::Frac9 { n, comma } => {
            let digits = format!("{:09}", c.nanosecond);
            let mut digits = digits.get(..n.min(9)).unwrap_or("");
            if matches!(std, Std::Frac9 { .. }) {
                digits = digits.trim_end_matches('0');
                if digits.is_empty() {
                    return;
                }
            }
            out.push(if comma { ',' } else { '.' });
            out.push_str(digits);
        }
    }
}

fn push_offset(out: &mut String, offset: i32, form: TzForm) {
    let minutes = i64::from(offset) / 60;
    let abs_secs = i64::from(offset).abs();
    out.push(if minutes < 0 { '-' } else { '+' });
    let minutes = minutes.abs();
    push_int(out, minutes / 60, 2);
    if matches!(form, TzForm::ColonHhMm | TzForm::ColonHhMmSs) {
        out.push(':');
    }
    if form != TzForm::Hh {
        push_int(out, minutes % 60, 2);
    }
    if matches!(form, TzForm::HhMmSs | TzForm::ColonHhMmSs) {
        if form == TzForm::ColonHhMmSs {
            out.push(':');
        }
        push_int(out, abs_secs % 60, 2);
    }
}
