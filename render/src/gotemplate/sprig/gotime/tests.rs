//! Formatting and parsing against what Helm v4 (Go's `time`) gave for the same input.

use super::parse::parse;
use super::*;

fn parsed(layout: &str, value: &str) -> String {
    match parse(layout, value) {
        Ok(t) => t.string(),
        Err(e) => e,
    }
}

#[test]
fn every_layout_element_formats_as_go_formats_it() {
    let t = parse(
        "2006-01-02T15:04:05.999999999Z07:00",
        "2024-03-09T07:08:09.012345678+05:30",
    );
    let Ok(t) = t else { panic!("parse failed") };
    assert_eq!(t.string(), "2024-03-09 07:08:09.012345678 +0530 +0530");
    assert_eq!(
        t.format(
            "Mon Monday Jan January 1 01 2 02 _2 __2 002 15 3 03 4 04 5 05 2006 06 PM pm MST -0700 \
             -07:00 -07 -070000 -07:00:00 Z0700 Z07:00 Z07 .0 .000 .999 ,999999999 .9 _2006 2006_2 05.00x"
        ),
        "Sat Saturday Mar March 3 03 9 09  9  69 069 07 7 07 8 08 9 09 2024 24 AM am +0530 +0530 \
         +05:30 +05 +053000 +05:30:00 +0530 +05:30 +05 .0 .012 .012 ,012345678  _2024 2024 9 09.01x"
    );
    assert_eq!(t.clone().with_zone(Zone::Utc).format("Z07:00 Z0700 3PM"), "Z Z 1AM");
    assert_eq!(t.unix_secs(), 1_709_948_289);
}

#[test]
fn zones_read_instants_as_go_reads_them() {
    let at = |secs: i64, zone: &str, layout: &str| {
        let z = Zone::load(zone).unwrap_or(Zone::Utc);
        GoTime::unix(secs).with_zone(z).format(layout)
    };
    assert_eq!(
        at(1_700_000_000, "Local", "2006-01-02 15:04:05 MST"),
        "2023-11-14 22:13:20 UTC"
    );
    assert_eq!(
        at(1_700_000_000, "America/New_York", "2006-01-02 15:04:05 MST -0700"),
        "2023-11-14 17:13:20 EST -0500"
    );
    assert_eq!(
        at(1_690_000_000, "Europe/London", "Jan 2 15:04 MST"),
        "Jul 22 05:26 BST"
    );
    assert_eq!(at(1_690_000_000, "Asia/Kolkata", "MST"), "IST");
    assert_eq!(at(1_700_000_000, "Etc/GMT+3", "15:04 MST"), "19:13 -03");
    assert_eq!(at(-62_135_596_801, "UTC", "2006"), "0000");
    assert_eq!(at(253_402_300_800, "UTC", "2006-01-02"), "10000-01-01");
    assert!(Zone::load("america/new_york").is_err());
    assert!(Zone::load("Nope/Zone").is_err());
    assert!(Zone::load("../etc/passwd").is_err());
}

#[test]
fn layouts_parse_as_go_parses_them() {
    for (layout, value, want) in [
        ("02/01/2006 15:04", "31/12/1999 23:59", "1999-12-31 23:59:00 +0000 UTC"),
        (
            "2006-01-02 15:04:05",
            "2024-01-01 10:00:00.5",
            "2024-01-01 10:00:00.5 +0000 UTC",
        ),
        ("Jan _2 2006", "Feb  3 2024", "2024-02-03 00:00:00 +0000 UTC"),
        ("2006 002", "2024 060", "2024-02-29 00:00:00 +0000 UTC"),
        ("06-1-2 3:4:5 PM", "99-1-2 12:4:5 AM", "1999-01-02 00:04:05 +0000 UTC"),
        ("2006-01-02 MST", "2024-02-03 GMT+3", "2024-02-03 03:00:00 +0300 GMT+3"),
        ("2006-01-02 MST", "2024-02-03 CET", "2024-02-03 00:00:00 +0000 CET"),
        (
            "Monday, 02-Jan-06",
            "friday, 09-Feb-24",
            "2024-02-09 00:00:00 +0000 UTC",
        ),
        ("2006-01-02 -07", "2024-02-03 -03", "2024-02-03 00:00:00 -0300 -0300"),
        (
            "2006-01-02 -0700",
            "2024-02-03 +0100",
            "2024-02-03 00:00:00 +0100 +0100",
        ),
        (
            "2006-01-02 Z07:00",
            "2024-02-03 +00:00",
            "2024-02-03 00:00:00 +0000 UTC",
        ),
        ("2006-01-02 Z07:00", "2024-02-03 Z", "2024-02-03 00:00:00 +0000 UTC"),
        (
            "2006-01-02T15:04:05.999Z07:00",
            "2024-02-03T01:02:03.123456Z",
            "2024-02-03 01:02:03.123456 +0000 UTC",
        ),
        (
            "2006-01-02",
            "2024-13-01",
            r#"parsing time "2024-13-01": month out of range"#,
        ),
        (
            "2006-01-02",
            "2024-02-30",
            r#"parsing time "2024-02-30": day out of range"#,
        ),
        (
            "2006-01-02",
            "2024-1-01",
            r#"parsing time "2024-1-01" as "2006-01-02": cannot parse "1-01" as "01""#,
        ),
        (
            "2006-01-02",
            "2024-01-01x",
            r#"parsing time "2024-01-01x": extra text: "x""#,
        ),
        (
            "2006-01-02 -0700",
            "2024-02-03 +2500",
            r#"parsing time "2024-02-03 +2500": time zone offset hour out of range"#,
        ),
        (
            "2006-01-02 -0700",
            "2024-02-03 +0161",
            r#"parsing time "2024-02-03 +0161": time zone offset minute out of range"#,
        ),
        (
            "2006-01-02 -0700",
            "2024-02-03 0100",
            r#"parsing time "2024-02-03 0100" as "2006-01-02 -0700": cannot parse "0100" as "-0700""#,
        ),
        (
            "2006-01-02 15:04",
            "2024-02-03 24:00",
            r#"parsing time "2024-02-03 24:00": hour out of range"#,
        ),
        (
            "2006 002",
            "2023 366",
            r#"parsing time "2023 366": day-of-year out of range"#,
        ),
        (
            "2006-01 002",
            "2024-03 060",
            r#"parsing time "2024-03 060": day-of-year does not match month"#,
        ),
        (
            "2006-01-02",
            "",
            r#"parsing time "" as "2006-01-02": cannot parse "" as "2006""#,
        ),
        (
            "Jan 2006",
            "Foo 2024",
            r#"parsing time "Foo 2024" as "Jan 2006": cannot parse "Foo 2024" as "Jan""#,
        ),
        (
            "2006-01-02 .000",
            "2024-01-02 .12",
            r#"parsing time "2024-01-02 .12" as "2006-01-02 .000": cannot parse ".12" as ".000""#,
        ),
        (
            "Jan 2 2006 3:04pm",
            "feb 3 2024 1:05PM",
            r#"parsing time "feb 3 2024 1:05PM" as "Jan 2 2006 3:04pm": cannot parse "PM" as "pm""#,
        ),
    ] {
        assert_eq!(parsed(layout, value), want, "{layout} / {value}");
    }
}

#[test]
fn time_methods_answer_as_go_answers() {
    let Ok(t) = parse("2006-01-02 15:04:05", "2024-02-29 13:04:05") else {
        panic!("parse failed")
    };
    let o = TimeObject(t);
    let call = |name: &str, args: &[Value]| match o.method(name, args) {
        Some(Ok(v)) => v.format_v(),
        Some(Err(e)) => e,
        None => "no method".into(),
    };
    assert_eq!(call("Unix", &[]), "1709211845");
    assert_eq!(call("Year", &[]), "2024");
    assert_eq!(call("Month", &[]), "February");
    assert_eq!(call("Weekday", &[]), "Thursday");
    assert_eq!(call("YearDay", &[]), "60");
    assert_eq!(call("Format", &[Value::str("Jan _2 __2 002")]), "Feb 29  60 060");
    assert_eq!(call("UTC", &[]), "2024-02-29 13:04:05 +0000 UTC");
    assert_eq!(
        call("Add", &[Value::Int(1_500_000_000)]),
        "2024-02-29 13:04:06.5 +0000 UTC"
    );
    assert_eq!(
        call("AddDate", &[Value::Int(0), Value::Int(1), Value::Int(1)]),
        "2024-03-30 13:04:05 +0000 UTC"
    );
    assert_eq!(
        call("AddDate", &[Value::Int(0), Value::Int(0), Value::Int(-60)]),
        "2023-12-31 13:04:05 +0000 UTC"
    );
    let next_year = o.method("AddDate", &[Value::Int(1), Value::Int(0), Value::Int(0)]);
    let Some(Ok(next_year)) = next_year else {
        panic!("AddDate failed")
    };
    assert_eq!(call("Before", std::slice::from_ref(&next_year)), "true");
    let Value::Object(ny) = &next_year else {
        panic!("not an object")
    };
    let sub = ny.method("Sub", &[time_value(o.0.clone())]);
    assert_eq!(sub.and_then(Result::ok).map(|v| v.format_v()), Some("8784h0m0s".into()));
    assert_eq!(call("IsZero", &[]), "false");
    assert_eq!(TimeObject(zero()).format_v(), "0001-01-01 00:00:00 +0000 UTC");
    assert_eq!(
        call("MarshalJSON", &[]),
        format!("{:?}", br#""2024-02-29T13:04:05Z""#.to_vec()).replace(',', "")
    );
    assert_eq!(call("Format", &[]), "wrong number of args for Format: want 1 got 0");
    assert_eq!(call("Nope", &[]), "no method");
}

#[test]
fn now_carries_a_monotonic_reading() {
    let s = GoTime::now().string();
    assert!(s.contains(" +0000 UTC m=+"), "{s}");
    // dateModify keeps it; UTC drops it, as Go does.
    assert!(GoTime::now().add(3_600_000_000_000).string().contains(" m=+3600."));
    assert!(!GoTime::now().with_zone(Zone::Utc).string().contains("m="));
}
