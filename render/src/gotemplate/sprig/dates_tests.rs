//! The date functions against what Helm v4 rendered for the same calls.

use super::super::gotime::{self, GoTime, time_value};
use crate::gotemplate::value::Value;

use crate::gotemplate::sprig::call;

fn s(x: &str) -> Value {
    Value::str(x)
}

fn date(layout: &str, value: &str) -> Value {
    gotime::parse::parse(layout, value).map_or(Value::Nil, time_value)
}

#[test]
fn dates_format_as_helm_formats_them() {
    let ok = |name: &str, args: &[Value]| call(name, args).unwrap_or_else(|e| e);
    assert_eq!(
        ok(
            "date",
            &[
                s("2006-01-02T15:04:05Z07:00 MST Mon January Jan _2 3PM .000 .999999 -0700"),
                Value::Int(0)
            ]
        ),
        "1970-01-01T00:00:00Z UTC Thu January Jan  1 12AM .000  +0000"
    );
    assert_eq!(
        ok(
            "dateInZone",
            &[s("2006-01-02 15:04 MST"), Value::Int(1_700_000_000), s("Europe/Paris")]
        ),
        "2023-11-14 23:13 CET"
    );
    assert_eq!(
        ok("date_in_zone", &[s("MST -07:00"), Value::Int(0), s("Nope/Zone")]),
        "UTC +00:00"
    );
    assert_eq!(
        ok("dateInZone", &[s("MST"), Value::Int(0), s("america/new_york")]),
        "UTC"
    );
    assert_eq!(ok("htmlDate", &[Value::Int(0)]), "1970-01-01");
    assert_eq!(
        ok("htmlDateInZone", &[Value::Int64(1_700_000_000), s("Asia/Tokyo")]),
        "2023-11-15"
    );
    // Anything but a time or an int means now (a float from values, a string).
    assert_eq!(ok("date", &[s("2006"), s("x")]).len(), 4);
    assert_eq!(
        ok("date", &[s("2006"), Value::Float(5.0)]),
        GoTime::now().format("2006")
    );
    assert_eq!(ok("date", &[s("2006"), date("2006", "2024")]), "2024");
}

#[test]
fn to_date_and_modify_match_helm() {
    let ok = |name: &str, args: &[Value]| call(name, args).unwrap_or_else(|e| e);
    assert_eq!(
        ok("toDate", &[s("2006-01-02"), s("2024-02-03")]),
        "2024-02-03 00:00:00 +0000 UTC"
    );
    assert_eq!(
        ok("toDate", &[s("2006-01-02"), s("bad")]),
        "0001-01-01 00:00:00 +0000 UTC"
    );
    assert_eq!(
        call("mustToDate", &[s("2006-01-02"), s("2024-13-01")]),
        Err(r#"parsing time "2024-13-01": month out of range"#.into())
    );
    let t = date("2006", "2024");
    assert_eq!(
        ok("dateModify", &[s("-1.5h"), t.clone()]),
        "2023-12-31 22:30:00 +0000 UTC"
    );
    assert_eq!(
        ok("date_modify", &[s("xx"), t.clone()]),
        "2024-01-01 00:00:00 +0000 UTC"
    );
    assert_eq!(
        call("mustDateModify", &[s("1d"), t.clone()]),
        Err(r#"time: unknown unit "d" in duration "1d""#.into())
    );
    assert_eq!(
        call("dateModify", &[s("1h"), s("2024")]),
        Err("wrong type for value; expected time.Time; got string".into())
    );
    assert_eq!(ok("unixEpoch", &[t]), "1704067200");
    let now = call("now", &[]).unwrap_or_default();
    assert!(now.contains(" +0000 UTC m=+"), "{now}");
}

#[test]
fn durations_match_helm() {
    let ok = |name: &str, args: &[Value]| call(name, args).unwrap_or_else(|e| e);
    assert_eq!(ok("duration", &[Value::Float(3.5)]), "0s");
    assert_eq!(ok("duration", &[Value::Int(3661)]), "0s");
    assert_eq!(ok("duration", &[Value::Int64(3661)]), "1h1m1s");
    assert_eq!(ok("duration", &[s("90")]), "1m30s");
    assert_eq!(ok("duration", &[s("-90000")]), "-25h0m0s");
    assert_eq!(ok("durationRound", &[s("3h5m")]), "3h");
    assert_eq!(ok("durationRound", &[s("-3h5m")]), "3h");
    assert_eq!(ok("durationRound", &[Value::Int64(61_000_000_000)]), "1m");
    assert_eq!(ok("durationRound", &[s("1.5us")]), "0s");
    assert_eq!(ok("durationRound", &[s("8761h")]), "1y");
    assert_eq!(ok("durationRound", &[s("721h")]), "1mo");
    assert_eq!(ok("durationRound", &[s("720h")]), "30d");
    assert_eq!(ok("durationRound", &[s("1s")]), "0s");
    let earlier = time_value(GoTime::now().add(-49 * 3_600_000_000_000));
    assert_eq!(ok("durationRound", &[earlier]), "2d");
    let earlier = time_value(GoTime::now().add(-90_000_000_000));
    assert_eq!(ok("ago", &[earlier]), "1m30s");
    // Since 1970: hours, minutes and whole seconds (`497616h12m5s`).
    let since_epoch = ok("ago", &[Value::Int(0)]);
    assert!(since_epoch.contains('h') && since_epoch.ends_with('s') && !since_epoch.contains('.'));
}
