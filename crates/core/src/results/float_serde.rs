//! Serde for the summary's `f64` fields that LoadGen's formulas can leave
//! NaN or infinite (a throughput of a scenario that does not report it, a
//! run with no samples): JSON has no such numbers (serde_json would write
//! `null` and then refuse to read it back), so they are written as the
//! strings `"NaN"`, `"-NaN"`, `"inf"` and `"-inf"`. Finite values stay
//! numbers; `null` reads back as NaN.

use serde::{Deserialize, Deserializer, Serializer};

pub(crate) fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    if v.is_finite() {
        s.serialize_f64(*v)
    } else if v.is_nan() {
        // The sign of a NaN is kept: the summary prints `-nan` for it.
        s.serialize_str(if v.is_sign_negative() { "-NaN" } else { "NaN" })
    } else if *v > 0.0 {
        s.serialize_str("inf")
    } else {
        s.serialize_str("-inf")
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Repr {
    Number(f64),
    Text(String),
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    match Option::<Repr>::deserialize(d)? {
        None => Ok(f64::NAN),
        Some(Repr::Number(v)) => Ok(v),
        Some(Repr::Text(text)) => match text.as_str() {
            "NaN" | "nan" => Ok(f64::NAN),
            "-NaN" | "-nan" => Ok(-f64::NAN),
            "inf" | "Infinity" => Ok(f64::INFINITY),
            "-inf" | "-Infinity" => Ok(f64::NEG_INFINITY),
            other => Err(serde::de::Error::invalid_value(
                serde::de::Unexpected::Str(other),
                &"a number, NaN, inf or -inf",
            )),
        },
    }
}
