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

/// `v` rounded to [`WEIGHT_DIGITS`] significant digits (0 stays 0): the decimal of
/// `format!("{v:.5e}")` read back, formatted on the stack (no allocation).
pub fn round_weight(v: f64) -> f64 {
    if v == 0.0 || !v.is_finite() {
        return v;
    }
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
    let mut out = Stack {
        buf: [0; 48],
        len: 0,
    };
    if std::fmt::Write::write_fmt(&mut out, format_args!("{v:.*e}", WEIGHT_DIGITS - 1)).is_err() {
        return format!("{v:.*e}", WEIGHT_DIGITS - 1).parse().unwrap_or(v);
    }
    std::str::from_utf8(&out.buf[..out.len])
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(v)
}

/// A weight as written to the CSV files: [`round_weight`] in its shortest form (`0.25`,
/// `1.09628e-12`, `0`, `1`).
pub fn fmt_weight(v: f64) -> String {
    let mut out = String::new();
    push_weight(&mut out, v, &mut ryu::Buffer::new());
    out
}

/// Appends [`fmt_weight`]`(v)` to `out` (with a reused `ryu` buffer).
pub fn push_weight(out: &mut String, v: f64, buf: &mut ryu::Buffer) {
    let r = round_weight(v);
    if r == 0.0 {
        out.push('0');
        return;
    }
    let s = buf.format(r);
    out.push_str(s.strip_suffix(".0").unwrap_or(s));
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
    if let Some(((i, t), &v)) = set.doc_weights.indexed_iter().find(|(_, v)| !v.is_finite()) {
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
