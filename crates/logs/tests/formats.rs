//! Value and time formats against what LoadGen (C++ streams, strftime)
//! prints. The float cases were checked against `std::cout << double` with
//! g++/libstdc++; the first ones appear in the golden logs.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;
use yardstick_logs::json::{format_double, value_to_string};
use yardstick_logs::{power_time_string, test_datetime_string};

#[test]
fn doubles_print_like_a_cpp_stream() {
    let cases: &[(f64, &str)] = &[
        // Seen in the golden logs.
        (0.99, "0.99"),
        (0.9, "0.9"),
        (20321.9, "20321.9"),
        (2064.83, "2064.83"),
        (1.12806e-05, "1.12806e-05"),
        (1e6, "1e+06"),
        (2000.0, "2000"),
        // Style boundaries: scientific from 1e6 up and below 1e-4.
        (999999.0, "999999"),
        (999999.4, "999999"),
        (999999.5, "1e+06"),
        (123456.7, "123457"),
        (1234567.0, "1.23457e+06"),
        (0.0001, "0.0001"),
        (0.000099999949, "9.99999e-05"),
        (0.00009999995, "0.0001"),
        (1e-5, "1e-05"),
        (1e20, "1e+20"),
        (1e100, "1e+100"),
        (-1e-300, "-1e-300"),
        (5e-324, "4.94066e-324"),
        (f64::MAX, "1.79769e+308"),
        // Rounding: exact ties go to even, like glibc.
        (0.5, "0.5"),
        (1234565.0, "1.23456e+06"),
        (1234575.0, "1.23458e+06"),
        (1.0 / 3.0, "0.333333"),
        (2.0 / 3.0, "0.666667"),
        (0.30000000000000004, "0.3"),
        (0.0, "0"),
        (-0.0, "-0"),
        (-2.5, "-2.5"),
    ];
    for &(v, want) in cases {
        assert_eq!(format_double(v), want, "{v:e}");
    }
}

#[test]
fn integers_and_floats_stay_apart() {
    // serde_json keeps integers and floats distinct: an integer-valued f64
    // still prints as LoadGen prints a double.
    assert_eq!(value_to_string(&json!(1000000)), "1000000");
    assert_eq!(value_to_string(&json!(1000000.0)), "1e+06");
    assert_eq!(value_to_string(&json!(1000.0)), "1000");
    assert_eq!(value_to_string(&json!(i64::MIN)), "-9223372036854775808");
    assert_eq!(
        value_to_string(&json!(16159082839903944936u64)),
        "16159082839903944936"
    );
}

#[test]
fn nested_values() {
    assert_eq!(value_to_string(&json!([216, 267, 822])), "[216,267,822]");
    assert_eq!(
        value_to_string(&json!({"/b.cc": "22", "/a.cc": "11"})),
        r#"{"/a.cc":"11","/b.cc":"22"}"#
    );
    assert_eq!(
        value_to_string(&json!([[0.5], {"x": null}])),
        r#"[[0.5],{"x":null}]"#
    );
    // LoadGen would print `]` and `}`, which no JSON parser accepts.
    assert_eq!(value_to_string(&json!([])), "[]");
    assert_eq!(value_to_string(&json!({})), "{}");
}

#[test]
fn power_times_are_utc_milliseconds() {
    // 2026-11-22 12:01:52.535999 UTC: milliseconds are truncated.
    let t =
        UNIX_EPOCH + Duration::from_micros(1_795_867_312_535_999) - Duration::from_secs(6 * 86_400);
    assert_eq!(power_time_string(t), "11-22-2026 12:01:52.535");
    assert_eq!(power_time_string(UNIX_EPOCH), "01-01-1970 00:00:00.000");
}

#[test]
fn test_datetime_is_iso8601_with_z() {
    let s = test_datetime_string(SystemTime::now());
    let b = s.as_bytes();
    assert_eq!(s.len(), 20, "{s}");
    for (i, c) in b.iter().enumerate() {
        match i {
            4 | 7 => assert_eq!(*c, b'-', "{s}"),
            10 => assert_eq!(*c, b'T', "{s}"),
            13 | 16 => assert_eq!(*c, b':', "{s}"),
            19 => assert_eq!(*c, b'Z', "{s}"),
            _ => assert!(c.is_ascii_digit(), "{s}"),
        }
    }
}
