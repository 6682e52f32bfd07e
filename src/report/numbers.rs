//! Numbers in the output files: the check that none is NaN or infinite, and the short form of
//! weights.
//!
//! - [`check_fit`] runs before any file of a fit is written: a NaN or an infinity anywhere in
//!   what the files hold (W, H, the loss history, the metrics, the idf, the derived topic and
//!   document weights) is an error naming where it is, and nothing is written. The writers
//!   then write the numbers as they are (no NaN is ever turned into 0 or `null`).
//! - Weights (the normalized document-topic weights, topic prevalences and term weights of
//!   topics.json and the CSV files) are written with at most [`WEIGHT_DIGITS`] significant
//!   digits, in the shortest form that reads back to the rounded value (`0.123457`,
//!   `1.09628e-12`). W.mtx, H.mtx and model.json keep every number at full precision.

use crate::nmf::Metrics;
use crate::topics::TopicSet;
use crate::{Error, Result};

use super::FitRun;

/// Significant digits of the weights in topics.json and the CSV files.
pub const WEIGHT_DIGITS: usize = 6;

/// A fixed buffer to format into.
struct Stack {
    buf: [u8; 48],
    len: usize,
}

impl std::fmt::Write for Stack {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        if end > self.buf.len() {
            return Err(std::fmt::Error);
        }
        self.buf[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// `format!("{v:.5e}")` on the stack (`None` if it does not fit, which it always does).
fn sci6(v: f64) -> Option<Stack> {
    let mut out = Stack {
        buf: [0; 48],
        len: 0,
    };
    std::fmt::Write::write_fmt(&mut out, format_args!("{v:.*e}", WEIGHT_DIGITS - 1)).ok()?;
    Some(out)
}

/// `v` rounded to [`WEIGHT_DIGITS`] significant digits (0 stays 0): the decimal of
/// `format!("{v:.5e}")` read back, formatted on the stack (no allocation).
pub fn round_weight(v: f64) -> f64 {
    if v == 0.0 || !v.is_finite() {
        return v;
    }
    match sci6(v) {
        Some(out) => std::str::from_utf8(&out.buf[..out.len])
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(v),
        None => format!("{v:.*e}", WEIGHT_DIGITS - 1).parse().unwrap_or(v),
    }
}

/// A weight as written to the CSV files: [`round_weight`] in its shortest form (`0.25`,
/// `1.09628e-12`, `0`, `1`).
pub fn fmt_weight(v: f64) -> String {
    let mut out = String::new();
    push_weight(&mut out, v, &mut ryu::Buffer::new());
    out
}

/// Appends [`fmt_weight`]`(v)` to `out` (with a reused `ryu` buffer).
///
/// For normal numbers the rounded decimal is written straight from the digits of
/// `format!("{v:.5e}")`, in the layout `ryu` gives its value: a decimal with at most 15
/// significant digits is the shortest form of the number it reads back to (two such decimals
/// never read back to the same `f64`), so the digits are the same and only the layout is
/// `ryu`'s. A test compares this with reading back and formatting on many values.
pub fn push_weight(out: &mut String, v: f64, buf: &mut ryu::Buffer) {
    if v == 0.0 || !v.is_finite() {
        out.push('0');
        return;
    }
    if v.abs() > 1e-290 && v.abs() < 1e290 {
        if let Some(sci) = sci6(v) {
            if push_digits(out, &sci.buf[..sci.len]) {
                return;
            }
        }
    }
    let r = round_weight(v);
    if r == 0.0 {
        out.push('0');
        return;
    }
    let s = buf.format(r);
    out.push_str(s.strip_suffix(".0").unwrap_or(s));
}

/// Writes `[-]d.ddddde[-]x` in `ryu`'s layout without a trailing `.0`; `false` when the text
/// is not of that form.
fn push_digits(out: &mut String, sci: &[u8]) -> bool {
    let (negative, sci) = match sci.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, sci),
    };
    let Some(e_at) = sci.iter().position(|&c| c == b'e') else {
        return false;
    };
    let (mantissa, exp) = (&sci[..e_at], &sci[e_at + 1..]);
    let Some(exp) = std::str::from_utf8(exp)
        .ok()
        .and_then(|e| e.parse::<i32>().ok())
    else {
        return false;
    };
    let mut digits = [0u8; 20];
    let mut len = 0;
    for &c in mantissa {
        if c.is_ascii_digit() {
            if len == digits.len() {
                return false;
            }
            digits[len] = c;
            len += 1;
        } else if c != b'.' {
            return false;
        }
    }
    while len > 1 && digits[len - 1] == b'0' {
        len -= 1;
    }
    if len == 0 || digits[0] == b'0' {
        return false;
    }
    let digits = &digits[..len];
    // The value is digits × 10^k, with 10^(kk−1) ≤ value < 10^kk (ryu's names).
    let length = len as i32;
    let k = exp - (length - 1);
    let kk = length + k;
    let push = |out: &mut String, d: &[u8]| d.iter().for_each(|&c| out.push(c as char));
    if negative {
        out.push('-');
    }
    if 0 <= k && kk <= 16 {
        push(out, digits);
        for _ in length..kk {
            out.push('0');
        }
    } else if 0 < kk && kk <= 16 {
        push(out, &digits[..kk as usize]);
        out.push('.');
        push(out, &digits[kk as usize..]);
    } else if -5 < kk && kk <= 0 {
        out.push_str("0.");
        for _ in 0..-kk {
            out.push('0');
        }
        push(out, digits);
    } else {
        push(out, &digits[..1]);
        if length > 1 {
            out.push('.');
            push(out, &digits[1..]);
        }
        out.push('e');
        out.push_str(itoa::Buffer::new().format(kk - 1));
    }
    true
}

/// Serializes an `f64` weight rounded by [`round_weight`] (for `#[serde(serialize_with)]`).
pub fn serialize_weight<S: serde::Serializer>(
    v: &f64,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_f64(round_weight(*v))
}

/// The error for a non-finite value at `place`.
fn non_finite(place: impl FnOnce() -> String, v: f64) -> Error {
    let what = if v.is_nan() { "a NaN" } else { "an infinite" };
    Error::Runtime(format!(
        "the fit produced {what} value in {}: no output was written (are the values of the \
         matrix extreme?)",
        place()
    ))
}

/// The first non-finite value of `values`, as an error at `place(index)`.
fn check_all(values: &[f64], place: impl Fn(usize) -> String) -> Result<()> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(i) => Err(non_finite(|| place(i), values[i])),
        None => Ok(()),
    }
}

/// The metrics, one by one.
pub fn check_metrics(m: &Metrics) -> Result<()> {
    for (name, v) in [
        ("loss", m.loss),
        ("divergence", m.divergence),
        ("reconstruction_error", m.reconstruction_error),
        ("explained_variance", m.explained_variance),
        ("sparsity_w", m.sparsity_w),
        ("sparsity_h", m.sparsity_h),
        ("zeros_w", m.zeros_w),
        ("zeros_h", m.zeros_h),
        ("seconds", m.seconds),
    ] {
        if !v.is_finite() {
            return Err(non_finite(|| format!("the metric {name}"), v));
        }
    }
    Ok(())
}

/// Checks everything of `run` and `set` the output files hold (see the module docs). Errors
/// ([`Error::Runtime`]) name the factor, row and column (with the document id or term), or the
/// metric.
pub fn check_fit(run: &FitRun<'_>, set: &TopicSet) -> Result<()> {
    let model = run.model;
    let doc = |i: usize| {
        run.dtm
            .documents
            .get(i)
            .map_or_else(String::new, |d| format!(", document {}", d.id))
    };
    let term = |j: usize| {
        run.dtm
            .terms
            .get(j)
            .map_or_else(String::new, |t| format!(", term {}", t.surface))
    };
    let k = model.w.ncols().max(1);
    if let Some(w) = model.w.as_slice() {
        check_all(w, |p| {
            format!(
                "W[{}, {}] (row {}{}, topic {})",
                p / k,
                p % k,
                p / k,
                doc(p / k),
                p % k
            )
        })?;
    } else if let Some(((i, t), &v)) = model.w.indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(non_finite(
            || format!("W[{i}, {t}] (row {i}{}, topic {t})", doc(i)),
            v,
        ));
    }
    let m = model.h.ncols().max(1);
    if let Some(h) = model.h.as_slice() {
        check_all(h, |p| {
            format!("H[{}, {}] (topic {}{})", p / m, p % m, p / m, term(p % m))
        })?;
    } else if let Some(((t, j), &v)) = model.h.indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(non_finite(
            || format!("H[{t}, {j}] (topic {t}{})", term(j)),
            v,
        ));
    }
    check_all(&model.history, |i| {
        format!(
            "the objective after iteration {} (loss_history[{i}])",
            i + 1
        )
    })?;
    check_metrics(&model.metrics)?;
    for (name, v) in [
        ("seconds", model.seconds),
        ("seconds_per_iteration", model.seconds_per_iteration),
    ] {
        if !v.is_finite() {
            return Err(non_finite(|| format!("the timing {name}"), v));
        }
    }
    if let Some(idf) = &run.dtm.idf {
        check_all(idf, |j| format!("the idf of column {j}{}", term(j)))?;
    }
    if let Some((i, t, v)) = set.doc_weights.first_non_finite() {
        return Err(non_finite(
            || format!("the normalized weight of topic {t} in row {i}{}", doc(i)),
            v,
        ));
    }
    for topic in &set.topics {
        if !topic.prevalence.is_finite() {
            return Err(non_finite(
                || format!("the prevalence of topic {}", topic.id),
                topic.prevalence,
            ));
        }
        for t in &topic.terms {
            for (what, v) in [("weight", t.weight), ("relevance", t.relevance)] {
                if !v.is_finite() {
                    return Err(non_finite(
                        || format!("the {what} of term {} in topic {}", t.term, topic.id),
                        v,
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Checks W of `transform` (rows are the new documents, named by `id`).
pub fn check_transformed(w: ndarray::ArrayView2<f64>, id: impl Fn(usize) -> String) -> Result<()> {
    match w.indexed_iter().find(|(_, v)| !v.is_finite()) {
        Some(((i, t), &v)) => Err(Error::Runtime(format!(
            "the solve for W produced {} value for document {} (row {i}), topic {t}: no \
             output was written",
            if v.is_nan() { "a NaN" } else { "an infinite" },
            id(i)
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_weight_layout_is_ryus_of_the_rounded_value() {
        use rand::{Rng, SeedableRng};
        let slow = |v: f64| {
            let r = round_weight(v);
            if r == 0.0 {
                return "0".to_string();
            }
            let mut buf = ryu::Buffer::new();
            let s = buf.format(r);
            s.strip_suffix(".0").unwrap_or(s).to_string()
        };
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let mut values: Vec<f64> = vec![
            1.0,
            0.5,
            0.1,
            0.123456789,
            0.9999995,
            0.99999949,
            9.999995,
            1e-5,
            1.5e-5,
            9.99999e-5,
            1e-4,
            1e-12,
            1.09628e-12,
            12.0,
            123456.7,
            1234567.0,
            1e15,
            1e16,
            1e17,
            123e20,
            3.0e-7,
            2.5e-6,
            0.000123456,
            1e-300,
            5e-324,
            1e300,
            -0.25,
            -1e-7,
        ];
        for _ in 0..200_000 {
            let mantissa: f64 = rng.random();
            let exp: i32 = rng.random_range(-40..40);
            values.push(mantissa * 10f64.powi(exp));
            values.push(f64::from_bits(rng.random::<u64>() >> 2));
        }
        for v in values {
            if !v.is_finite() {
                continue;
            }
            assert_eq!(fmt_weight(v), slow(v), "{v:e}");
        }
    }

    #[test]
    fn weights_have_at_most_six_significant_digits() {
        assert_eq!(fmt_weight(0.00000000000109627760437701), "1.09628e-12");
        assert_eq!(fmt_weight(0.123456789), "0.123457");
        assert_eq!(fmt_weight(0.25), "0.25");
        assert_eq!(fmt_weight(1.0), "1");
        assert_eq!(fmt_weight(0.0), "0");
        assert_eq!(fmt_weight(123456789.0), "123457000");
        assert_eq!(round_weight(0.999999999), 1.0);
        let v: f64 = fmt_weight(0.3333333333).parse().unwrap();
        assert_eq!(v, 0.333333);
    }
}
