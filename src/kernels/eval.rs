//! Values of A·Bᵀ at the stored entries of X: the KL ratios x/max(wh, ε) of one row and the
//! evaluation pass of the divergences.

use multiversion::multiversion;
use multiversion::target::target_cfg_f;
use rayon::prelude::*;

use super::reduce::check_factor;
use super::simd::*;
use super::{CsrRef, EPSILON, ROW_BLOCK};

/// Turns the dots w_t of one row into the ratios x_t / max(w_t, ε) in place and returns
/// (Σ x_t·w_t, Σ_{x_t>ε} x_t·ln(x_t / max(w_t, ε))) (the log sum only when `with_log`),
/// in 4 lanes so that it vectorizes.
#[inline(always)]
pub(crate) fn kl_ratios<const FMA: bool>(
    vals: &[f64],
    w: &mut [f64],
    with_log: bool,
) -> (f64, f64) {
    let vals = &vals[..w.len()];
    let mut cr = [0.0f64; 4];
    let mut lg = [0.0f64; 4];
    let mut cw = w.chunks_exact_mut(4);
    let mut cv = vals.chunks_exact(4);
    for (ww, vv) in (&mut cw).zip(&mut cv) {
        for l in 0..4 {
            let (v, wh) = (vv[l], ww[l]);
            cr[l] = madd::<FMA>(v, wh, cr[l]);
            let whc = if wh < EPSILON { EPSILON } else { wh };
            let q = v / whc;
            if with_log {
                let t = v * ln_fast(q);
                lg[l] += if v > EPSILON { t } else { 0.0 };
            }
            ww[l] = q;
        }
    }
    let (mut ct, mut lt) = (0.0, 0.0);
    for (ww, &v) in cw.into_remainder().iter_mut().zip(cv.remainder()) {
        let wh = *ww;
        ct = madd::<FMA>(v, wh, ct);
        let whc = if wh < EPSILON { EPSILON } else { wh };
        let q = v / whc;
        if with_log && v > EPSILON {
            lt += v * ln_fast(q);
        }
        *ww = q;
    }
    (
        ((cr[0] + cr[2]) + (cr[1] + cr[3])) + ct,
        ((lg[0] + lg[2]) + (lg[1] + lg[3])) + lt,
    )
}

#[multiversion(targets(
    "x86_64+avx512f+avx512vl+avx2+avx+fma",
    "x86_64+avx2+avx+fma",
    "x86_64+avx",
    "aarch64+neon"
))]
pub(crate) fn eval_block<'x>(
    x: CsrRef<'x>,
    rows: std::ops::Range<usize>,
    a: &[f64],
    b: &[f64],
    k: usize,
) -> [f64; 2] {
    let fma = target_cfg_f!(target_feature = "fma");
    let mut logsum = 0.0;
    let mut cross = 0.0;
    for i in rows {
        let ai = &a[i * k..(i + 1) * k];
        let (cols, vals) = x.row(i);
        let ahead = x.row_ahead(i);
        for (t, (&j, &v)) in cols.iter().zip(vals).enumerate() {
            prefetch_ahead(ahead, t, b, k);
            let bj = &b[j as usize * k..(j as usize + 1) * k];
            let wh = if fma {
                dot::<true>(ai, bj)
            } else {
                dot::<false>(ai, bj)
            };
            cross += v * wh;
            if v > EPSILON {
                let whc = if wh < EPSILON { EPSILON } else { wh };
                logsum += v * (v / whc).ln();
            }
        }
    }
    [logsum, cross]
}

/// Σ_i a_i·(x_i·B) over the rows `rows` (the Frobenius cross term alone).
#[multiversion(targets(
    "x86_64+avx512f+avx512vl+avx2+avx+fma",
    "x86_64+avx2+avx+fma",
    "x86_64+avx",
    "aarch64+neon"
))]
pub(crate) fn cross_block<'x>(
    x: CsrRef<'x>,
    rows: std::ops::Range<usize>,
    a: &[f64],
    b: &[f64],
    k: usize,
) -> f64 {
    let fma = target_cfg_f!(target_feature = "fma");
    const WITH_FMA: bool = true;
    let mut cross = 0.0;
    if fma
        && by_lanes!(
            k,
            WITH_FMA,
            cross_rows_lanes(x, rows.clone(), a, b, &mut cross)
        )
    {
        return cross;
    }
    let mut s = vec![0.0; k];
    for i in rows {
        s.fill(0.0);
        let (cols, vals) = x.row(i);
        for (&j, &v) in cols.iter().zip(vals) {
            if fma {
                axpy::<true>(v, &b[j as usize * k..(j as usize + 1) * k], &mut s);
            } else {
                axpy::<false>(v, &b[j as usize * k..(j as usize + 1) * k], &mut s);
            }
        }
        cross += if fma {
            dot::<true>(&a[i * k..(i + 1) * k], &s)
        } else {
            dot::<false>(&a[i * k..(i + 1) * k], &s)
        };
    }
    cross
}

#[inline(always)]
fn cross_rows_lanes<const C: usize, const FMA: bool>(
    x: CsrRef<'_>,
    rows: std::ops::Range<usize>,
    a: &[f64],
    b: &[f64],
    cross: &mut f64,
) {
    let k = 4 * C;
    for i in rows {
        let s = lanes_row_sum::<C, FMA>(x.row_ahead(i), x.row(i).1, b, true);
        *cross += lanes_dot_lanes::<C, FMA>(&lanes_load::<C>(&a[i * k..(i + 1) * k]), &s);
    }
}

/// Evaluates, for X ≈ A·Bᵀ at the stored entries of X only, `(Σ_{x>ε} x·ln(x / max(a_i·b_j, ε)),
/// Σ x·(a_i·b_j))` — the data term of the KL divergence and the Frobenius cross term — without
/// updating anything.
///
/// # Panics
/// If the shapes do not agree.
#[track_caller]
pub fn eval_at_nonzeros(x: CsrRef<'_>, a: &[f64], b: &[f64], k: usize) -> (f64, f64) {
    eval_at_nonzeros_with(x, a, b, k, true)
}

/// [`eval_at_nonzeros`], with the KL data term only when `with_log` (it is 0 otherwise): the
/// cross term alone is then Σ_i a_i·(x_i·B), one k-vector gathered per row (register-resident
/// for k = 4·C) and no logarithm.
///
/// # Panics
/// If the shapes do not agree.
#[track_caller]
pub fn eval_at_nonzeros_with(
    x: CsrRef<'_>,
    a: &[f64],
    b: &[f64],
    k: usize,
    with_log: bool,
) -> (f64, f64) {
    assert!(k >= 1, "eval_at_nonzeros: k must be at least 1");
    check_factor("eval_at_nonzeros: A", a, x.nrows, k);
    check_factor("eval_at_nonzeros: B", b, x.ncols, k);
    let nblocks = x.nrows.div_ceil(ROW_BLOCK);
    let parts: Vec<[f64; 2]> = (0..nblocks)
        .into_par_iter()
        .map(|blk| {
            let r0 = blk * ROW_BLOCK;
            let rows = r0..(r0 + ROW_BLOCK).min(x.nrows);
            if with_log {
                eval_block(x, rows, a, b, k)
            } else {
                [0.0, cross_block(x, rows, a, b, k)]
            }
        })
        .collect();
    parts
        .iter()
        .fold((0.0, 0.0), |(l, c), p| (l + p[0], c + p[1]))
}
