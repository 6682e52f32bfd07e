//! The Kullback-Leibler multiplicative updates: the W row pass over X, the pass fused with the
//! scatter of the H numerator, and the update from a precomputed numerator.

use multiversion::multiversion;
use multiversion::target::target_cfg_f;

use super::{nonzero_den, old_row};
use crate::kernels::reduce::*;
use crate::kernels::simd::*;
use std::ops::Range;

use crate::kernels::{
    block_cuts, column_splits, kl_ratios, lanes_scatter_row, parts_pass, row_in, split_scatter_with,
};
use crate::kernels::{CsrRef, EPSILON};

/// [`kl_rows_inner`] for k = 4·C, in three phases per row so that the independent work is
/// not serialized behind one dependency chain per stored entry: (1) the dots w_t = a_i·b_j
/// for all stored entries of the row into a buffer, (2) over that buffer, vectorized, the
/// cross term, the log term and the ratios x/max(w, ε), (3) the sum of ratio·b_j (the rows
/// b_j are still in L1 from phase 1).
#[inline(always)]
pub(crate) fn kl_rows_lanes<const C: usize, const FMA: bool>(
    x: CsrRef<'_>,
    row0: usize,
    a: Option<&[f64]>,
    b: &[f64],
    den_base: &[f64],
    l2: f64,
    floor: bool,
    with_log: bool,
    gram: bool,
    out: &mut [f64],
    part: &mut [f64],
) {
    let k = 4 * C;
    let mut logsum = 0.0;
    let mut cross = 0.0;
    let mut ratio: Vec<f64> = Vec::new();
    for (r, o) in out.chunks_exact_mut(k).enumerate() {
        let i = row0 + r;
        let ai = lanes_load::<C>(old_row(a, i, k, o));
        let (cols, vals) = x.row(i);
        let ahead = x.row_ahead(i);
        ratio.clear();
        ratio.resize(cols.len(), 0.0);
        lanes_dots::<C, FMA>(cols, ahead, &ai, b, &mut ratio);
        let (c, l) = kl_ratios::<FMA>(vals, &mut ratio, with_log);
        cross += c;
        logsum += l;
        let acc = lanes_row_sum::<C, FMA>(cols, &ratio, b, false);
        for c in 0..C {
            for l in 0..4 {
                o[4 * c + l] = kl_update(ai[c][l], acc[c][l], den_base[4 * c + l], l2, floor);
            }
        }
        lanes_old_stats::<C, FMA>(&ai, part);
    }
    lanes_block_stats::<C, FMA>(out, part, gram);
    part[S_LOG] += logsum;
    part[S_CROSS] += cross;
}

/// The KL multiplicative update of one entry a with numerator `num`:
/// `a · (num / d)`, d = den_base + l2·a (0 → ε), then 0 if `floor` and the result is below
/// `f64::EPSILON`.
#[inline(always)]
pub(crate) fn kl_update(a: f64, num: f64, den_base: f64, l2: f64, floor: bool) -> f64 {
    let val = a * (num / nonzero_den(den_base + l2 * a));
    if floor && val < f64::EPSILON {
        0.0
    } else {
        val
    }
}

#[multiversion(targets(
    "x86_64+avx512f+avx512vl+avx2+avx+fma",
    "x86_64+avx2+avx+fma",
    "x86_64+avx",
    "aarch64+neon"
))]
pub(crate) fn kl_block<'x>(
    x: CsrRef<'x>,
    row0: usize,
    a: Option<&[f64]>,
    b: &[f64],
    k: usize,
    den_base: &[f64],
    l2: f64,
    floor: bool,
    with_log: bool,
    gram: bool,
    out: &mut [f64],
    part: &mut [f64],
) {
    if target_cfg_f!(target_feature = "fma") {
        kl_rows_inner::<true>(
            x, row0, a, b, k, den_base, l2, floor, with_log, gram, out, part,
        );
    } else {
        kl_rows_inner::<false>(
            x, row0, a, b, k, den_base, l2, floor, with_log, gram, out, part,
        );
    }
}

#[inline(always)]
pub(crate) fn kl_rows_inner<const FMA: bool>(
    x: CsrRef<'_>,
    row0: usize,
    a: Option<&[f64]>,
    b: &[f64],
    k: usize,
    den_base: &[f64],
    l2: f64,
    floor: bool,
    with_log: bool,
    gram: bool,
    out: &mut [f64],
    part: &mut [f64],
) {
    if FMA
        && by_lanes!(
            k,
            FMA,
            kl_rows_lanes(x, row0, a, b, den_base, l2, floor, with_log, gram, out, part)
        )
    {
        return;
    }
    let mut acc = vec![0.0; k];
    let mut old = vec![0.0; k];
    let mut logsum = 0.0;
    let mut cross = 0.0;
    // The (x, max(wh, ε)) pairs of the current row with x > ε, for the vectorized log sum.
    let (mut lx, mut ld) = (Vec::new(), Vec::new());
    for (r, o) in out.chunks_exact_mut(k).enumerate() {
        let i = row0 + r;
        old.copy_from_slice(old_row(a, i, k, o));
        let ai = &old[..];
        acc.fill(0.0);
        let (cols, vals) = x.row(i);
        let ahead = x.row_ahead(i);
        lx.clear();
        ld.clear();
        for (t, (&j, &v)) in cols.iter().zip(vals).enumerate() {
            prefetch_ahead(ahead, t, b, k);
            let bj = &b[j as usize * k..(j as usize + 1) * k];
            let wh = dot::<FMA>(ai, bj);
            let whc = if wh < EPSILON { EPSILON } else { wh };
            axpy::<FMA>(v / whc, bj, &mut acc);
            cross = madd::<FMA>(v, wh, cross);
            if with_log && v > EPSILON {
                lx.push(v);
                ld.push(whc);
            }
        }
        if with_log {
            logsum += xlogx_ratio_sum(&lx, &ld);
        }
        for l in 0..k {
            o[l] = kl_update(ai[l], acc[l], den_base[l], l2, floor);
        }
        add_old_row::<FMA>(ai, part);
        add_new_row::<FMA>(o, part, gram);
    }
    part[S_LOG] += logsum;
    part[S_CROSS] += cross;
}

/// One multiplicative update of A for the generalized Kullback-Leibler divergence of X ≈ A·Bᵀ,
/// written to `out` (row-major like `a`):
///
/// ```text
/// r_ij   = x_ij / max(a_i·b_j, ε)             (at the stored entries of X only)
/// out_il = a_il · (Σ_j r_ij b_jl) / d_il,      d_il = den_base_l + l2·a_il  (0 → ε)
/// ```
///
/// With A = W, B = Ht, `den_base = H𝟙 + l1_W` this is scikit-learn's W update
/// `W ⊙ (R·Hᵀ) ⊘ (𝟙(H𝟙)ᵀ + l1 + l2·W)`; with X replaced by Xᵀ, A = Ht, B = W and
/// `den_base = Wᵀ𝟙 (zeros → 1) + l1_H` it is the H update. `floor` sets results below
/// `f64::EPSILON` to 0 (scikit-learn does this to H for KL). The ratio, the products and the
/// update are fused: per row one k-vector accumulator, no `nnz`-sized temporary.
///
/// The pass also returns, for the old A, Σ x·ln(x/max(a_i·b_j, ε)) over the entries with
/// x > ε when `with_log` (the data term of the KL divergence), Σ x·(a_i·b_j), ‖A‖₁ and ‖A‖²_F,
/// and for the new A its statistics (Gram matrix when `gram`).
///
/// # Panics
/// If the shapes do not agree.
#[track_caller]
pub fn mu_kl_rows(
    x: CsrRef<'_>,
    a: &[f64],
    b: &[f64],
    k: usize,
    den_base: &[f64],
    l2: f64,
    floor: bool,
    with_log: bool,
    gram: bool,
    out: &mut [f64],
) -> PassStats {
    check_factor("mu_kl_rows: A", a, x.nrows, k);
    kl_pass(x, Some(a), b, k, den_base, l2, floor, with_log, gram, out)
}

/// [`mu_kl_rows`] with the result written over `a` itself (each row is read before it is
/// written; no second factor buffer). Same values and statistics.
///
/// # Panics
/// If the shapes do not agree.
#[track_caller]
pub fn mu_kl_rows_in_place(
    x: CsrRef<'_>,
    a: &mut [f64],
    b: &[f64],
    k: usize,
    den_base: &[f64],
    l2: f64,
    floor: bool,
    with_log: bool,
    gram: bool,
) -> PassStats {
    kl_pass(x, None, b, k, den_base, l2, floor, with_log, gram, a)
}

#[track_caller]
pub(crate) fn kl_pass(
    x: CsrRef<'_>,
    a: Option<&[f64]>,
    b: &[f64],
    k: usize,
    den_base: &[f64],
    l2: f64,
    floor: bool,
    with_log: bool,
    gram: bool,
    out: &mut [f64],
) -> PassStats {
    assert!(k >= 1, "mu_kl_rows: k must be at least 1");
    check_factor("mu_kl_rows: B", b, x.ncols, k);
    check_factor("mu_kl_rows: out", out, x.nrows, k);
    assert_eq!(
        den_base.len(),
        k,
        "mu_kl_rows: den_base must have k entries"
    );
    let stride = SCALARS + k + if gram { k * k } else { 0 };
    let total = blocks(x.nrows, k, stride, out, |row0, ob, pb| {
        kl_block(
            x, row0, a, b, k, den_base, l2, floor, with_log, gram, ob, pb,
        )
    });
    split_stats(&total, k, gram)
}

/// buf_j += r_ij·a_i with r_ij = x_ij / max(a_i·b_j, ε), for the rows of `a_block` (rows
/// row0, row0 + 1, … of X) and their stored entries in the column range `cols` (`buf` holds
/// the rows `cols` of the buffer).
#[multiversion(targets(
    "x86_64+avx512f+avx512vl+avx2+avx+fma",
    "x86_64+avx2+avx+fma",
    "x86_64+avx",
    "aarch64+neon"
))]
pub(crate) fn kl_scatter_block<'x>(
    x: CsrRef<'x>,
    row0: usize,
    a_block: &[f64],
    b: &[f64],
    k: usize,
    buf: &mut [f64],
    cols: Range<usize>,
) {
    if target_cfg_f!(target_feature = "fma") {
        kl_scatter_inner::<true>(x, row0, a_block, b, k, buf, &cols);
    } else {
        kl_scatter_inner::<false>(x, row0, a_block, b, k, buf, &cols);
    }
}

#[inline(always)]
pub(crate) fn kl_scatter_inner<const FMA: bool>(
    x: CsrRef<'_>,
    row0: usize,
    a_block: &[f64],
    b: &[f64],
    k: usize,
    buf: &mut [f64],
    cols: &Range<usize>,
) {
    if FMA && by_lanes!(k, FMA, kl_scatter_lanes(x, row0, a_block, b, buf, cols)) {
        return;
    }
    let base = cols.start;
    for (r, ai) in a_block.chunks_exact(k).enumerate() {
        let (idx, vals, ahead) = row_in(x, row0 + r, cols);
        for (t, (&j, &v)) in idx.iter().zip(vals).enumerate() {
            prefetch_ahead(ahead, t, b, k);
            let wh = dot::<FMA>(ai, &b[j as usize * k..(j as usize + 1) * k]);
            let whc = if wh < EPSILON { EPSILON } else { wh };
            let jb = j as usize - base;
            axpy::<FMA>(v / whc, ai, &mut buf[jb * k..(jb + 1) * k]);
        }
    }
}

/// [`kl_scatter_inner`] for k = 4·C, in three phases per row as [`kl_rows_lanes`]: the dots,
/// the ratios (vectorized), then the scatter of ratio·a_i (the rows b_j and buf_j of the row's
/// entries are prefetched).
#[inline(always)]
pub(crate) fn kl_scatter_lanes<const C: usize, const FMA: bool>(
    x: CsrRef<'_>,
    row0: usize,
    a_block: &[f64],
    b: &[f64],
    buf: &mut [f64],
    cols: &Range<usize>,
) {
    let k = 4 * C;
    let mut ratio: Vec<f64> = Vec::new();
    for (r, ar) in a_block.chunks_exact(k).enumerate() {
        let ai = lanes_load::<C>(ar);
        let (idx, vals, ahead) = row_in(x, row0 + r, cols);
        ratio.clear();
        ratio.resize(idx.len(), 0.0);
        lanes_dots::<C, FMA>(idx, ahead, &ai, b, &mut ratio);
        kl_ratios::<FMA>(vals, &mut ratio, false);
        lanes_scatter_row::<C, FMA>(idx, ahead, &ratio, &ai, buf, cols.start);
    }
}

/// The KL multiplicative update of W fused with the numerator of the H update, in one pass
/// over X. With `a` = W_t (or `None`: W_t is `out`, updated in place), B = Ht and
/// `den_base` = H𝟙 + l1_W it writes W_{t+1} to `out` exactly as [`mu_kl_rows`] (no floor, no
/// Gram matrix) and returns the same statistics, and it also computes
///
/// ```text
/// num_j = Σ_i r_ij · w_i,    r_ij = x_ij / max(w_i·h_j, ε)   (w_i: row i of W_{t+1})
/// ```
///
/// — the numerator (Wᵀ·R)ᵀ of the H update, as an m × k row-major matrix — by scattering each
/// new row of W right after it is computed. `extra` holds the part buffers
/// (`(parts − 1)·m·k` values, see [`crate::kernels::scatter_parts`]); keep it between calls.
///
/// # Panics
/// If the shapes do not agree.
#[track_caller]
#[allow(clippy::too_many_arguments)]
pub fn mu_kl_rows_scatter(
    x: CsrRef<'_>,
    a: Option<&[f64]>,
    b: &[f64],
    k: usize,
    den_base: &[f64],
    l2: f64,
    with_log: bool,
    out: &mut [f64],
    num: &mut [f64],
    extra: &mut Vec<f64>,
) -> PassStats {
    assert!(k >= 1, "mu_kl_rows_scatter: k must be at least 1");
    if let Some(a) = a {
        check_factor("mu_kl_rows_scatter: A", a, x.nrows, k);
    }
    check_factor("mu_kl_rows_scatter: B", b, x.ncols, k);
    check_factor("mu_kl_rows_scatter: out", out, x.nrows, k);
    check_factor("mu_kl_rows_scatter: num", num, x.ncols, k);
    assert_eq!(
        den_base.len(),
        k,
        "mu_kl_rows_scatter: den_base must have k entries"
    );
    let cuts = block_cuts(x, k);
    if column_splits(cuts.len() - 1) > 1 {
        // More threads than parts: the W pass over all cores, then the scatter of the new W
        // over the parts and column ranges. The same bits as the fused pass (the same block
        // kernel, the same parts, each buf_j summed in the same order).
        let st = kl_pass(x, a, b, k, den_base, l2, false, with_log, false, out);
        scatter_ratios(x, out, b, k, &cuts, num, extra, true);
        return st;
    }
    let stride = SCALARS + k;
    let all = 0..x.ncols;
    let total = parts_pass(
        x,
        k,
        stride,
        out,
        num,
        extra,
        |row0, ob, pb| {
            kl_block(
                x, row0, a, b, k, den_base, l2, false, with_log, false, ob, pb,
            )
        },
        |row0, nb, buf| kl_scatter_block(x, row0, nb, b, k, buf, all.clone()),
    );
    split_stats(&total, k, false)
}

#[multiversion(targets(
    "x86_64+avx512f+avx512vl+avx2+avx+fma",
    "x86_64+avx2+avx+fma",
    "x86_64+avx",
    "aarch64+neon"
))]
pub(crate) fn kl_num_block(
    a: &mut [f64],
    num: &[f64],
    k: usize,
    den_base: &[f64],
    l2: f64,
    floor: bool,
    part: &mut [f64],
) {
    if target_cfg_f!(target_feature = "fma") {
        kl_num_inner::<true>(a, num, k, den_base, l2, floor, part);
    } else {
        kl_num_inner::<false>(a, num, k, den_base, l2, floor, part);
    }
}

#[inline(always)]
pub(crate) fn kl_num_inner<const FMA: bool>(
    a: &mut [f64],
    num: &[f64],
    k: usize,
    den_base: &[f64],
    l2: f64,
    floor: bool,
    part: &mut [f64],
) {
    for (o, nr) in a.chunks_exact_mut(k).zip(num.chunks_exact(k)) {
        add_old_row::<FMA>(o, part);
        for l in 0..k {
            o[l] = kl_update(o[l], nr[l], den_base[l], l2, floor);
        }
        add_new_row::<FMA>(o, part, false);
    }
}

/// The KL multiplicative update of A in place from a precomputed numerator `num` (row-major
/// like A, e.g. from [`mu_kl_rows_scatter`]):
///
/// ```text
/// a_jl ← a_jl · num_jl / d_jl,     d_jl = den_base_l + l2·a_jl   (0 → ε)
/// ```
///
/// then, with `floor`, values below `f64::EPSILON` set to 0. With A = Ht and
/// `den_base = Wᵀ𝟙 (zeros → 1) + l1_H` this is scikit-learn's H update. Returns ‖A_old‖₁,
/// ‖A_old‖²_F and the new A's statistics (no Gram matrix); the log and cross terms are 0.
///
/// # Panics
/// If the shapes do not agree.
#[track_caller]
pub fn mu_kl_from_numerator(
    a: &mut [f64],
    num: &[f64],
    k: usize,
    den_base: &[f64],
    l2: f64,
    floor: bool,
) -> PassStats {
    let rows = check_numerator("mu_kl_from_numerator", a, num, k);
    assert_eq!(
        den_base.len(),
        k,
        "mu_kl_from_numerator: den_base must have k entries"
    );
    let stride = SCALARS + k;
    let total = blocks(rows, k, stride, a, |row0, ob, pb| {
        let s = row0 * k;
        kl_num_block(ob, &num[s..s + ob.len()], k, den_base, l2, floor, pb)
    });
    split_stats(&total, k, false)
}

/// The numerator of the KL multiplicative H update for the current W and H,
///
/// ```text
/// num_j = Σ_i r_ij · w_i,    r_ij = x_ij / max(w_i·h_j, ε)
/// ```
///
/// (an m × k row-major matrix), scattered from the rows of X in one part (the rows in order,
/// no part buffers, the columns split over the threads): the same bits with any number of
/// threads. Meant for mini-batches.
///
/// # Panics
/// If the shapes do not agree.
#[track_caller]
pub fn kl_numerator(x: CsrRef<'_>, w: &[f64], b: &[f64], k: usize, num: &mut [f64]) {
    kl_numerator_with(x, w, b, k, num, true);
}

/// [`kl_numerator`] adding onto `num` when `zero` is false (for a caller that keeps `num` at
/// zero between calls; from zeros, the same bits).
#[track_caller]
pub(crate) fn kl_numerator_with(
    x: CsrRef<'_>,
    w: &[f64],
    b: &[f64],
    k: usize,
    num: &mut [f64],
    zero: bool,
) {
    assert!(k >= 1, "kl_numerator: k must be at least 1");
    check_factor("kl_numerator: W", w, x.nrows, k);
    check_factor("kl_numerator: B", b, x.ncols, k);
    check_factor("kl_numerator: num", num, x.ncols, k);
    scatter_ratios(x, w, b, k, &[0, x.nrows], num, &mut Vec::new(), zero);
}

/// The numerator of the KL multiplicative W update, without the update:
///
/// ```text
/// num_i = Σ_j r_ij · b_j,    r_ij = x_ij / max(a_i·b_j, ε)   (at the stored entries of X)
/// ```
///
/// written to `num` (rows × k, row-major like `a`), for when the rows of X are split over
/// processes and each holds a partial sum of every numerator row (the distributed fit; a
/// process holding whole rows fuses this into [`mu_kl_rows`]). Returns the partial sums of
/// Σ x·ln(x / max(a_i·b_j, ε)) over the entries with x > ε (when `with_log`) and of
/// Σ x·(a_i·b_j), for the given A. Rows in fixed blocks, sums in block order: the same bits
/// with any number of threads.
///
/// # Panics
/// If the shapes do not agree.
#[track_caller]
pub fn kl_w_numerator(
    x: CsrRef<'_>,
    a: &[f64],
    b: &[f64],
    k: usize,
    with_log: bool,
    num: &mut [f64],
) -> (f64, f64) {
    assert!(k >= 1, "kl_w_numerator: k must be at least 1");
    check_factor("kl_w_numerator: A", a, x.nrows, k);
    check_factor("kl_w_numerator: B", b, x.ncols, k);
    check_factor("kl_w_numerator: num", num, x.nrows, k);
    let total = blocks(x.nrows, k, SCALARS, num, |row0, ob, pb| {
        kl_w_num_block(x, row0, a, b, k, with_log, ob, pb)
    });
    (total[S_LOG], total[S_CROSS])
}

#[multiversion(targets(
    "x86_64+avx512f+avx512vl+avx2+avx+fma",
    "x86_64+avx2+avx+fma",
    "x86_64+avx",
    "aarch64+neon"
))]
fn kl_w_num_block<'x>(
    x: CsrRef<'x>,
    row0: usize,
    a: &[f64],
    b: &[f64],
    k: usize,
    with_log: bool,
    out: &mut [f64],
    part: &mut [f64],
) {
    if target_cfg_f!(target_feature = "fma") {
        kl_w_num_inner::<true>(x, row0, a, b, k, with_log, out, part);
    } else {
        kl_w_num_inner::<false>(x, row0, a, b, k, with_log, out, part);
    }
}

#[inline(always)]
fn kl_w_num_inner<const FMA: bool>(
    x: CsrRef<'_>,
    row0: usize,
    a: &[f64],
    b: &[f64],
    k: usize,
    with_log: bool,
    out: &mut [f64],
    part: &mut [f64],
) {
    let (mut logsum, mut cross) = (0.0, 0.0);
    let (mut lx, mut ld) = (Vec::new(), Vec::new());
    for (r, o) in out.chunks_exact_mut(k).enumerate() {
        let i = row0 + r;
        let ai = &a[i * k..(i + 1) * k];
        o.fill(0.0);
        let (cols, vals) = x.row(i);
        let ahead = x.row_ahead(i);
        lx.clear();
        ld.clear();
        for (t, (&j, &v)) in cols.iter().zip(vals).enumerate() {
            prefetch_ahead(ahead, t, b, k);
            let bj = &b[j as usize * k..(j as usize + 1) * k];
            let wh = dot::<FMA>(ai, bj);
            let whc = if wh < EPSILON { EPSILON } else { wh };
            axpy::<FMA>(v / whc, bj, o);
            cross = madd::<FMA>(v, wh, cross);
            if with_log && v > EPSILON {
                lx.push(v);
                ld.push(whc);
            }
        }
        if with_log {
            logsum += xlogx_ratio_sum(&lx, &ld);
        }
    }
    part[S_LOG] += logsum;
    part[S_CROSS] += cross;
}

/// The numerator of the KL multiplicative H update, `num_j = Σ_i r_ij · a_i` with
/// r_ij = x_ij / max(a_i·b_j, ε) (an m × k row-major matrix), scattered from the rows of X
/// over the fixed parts of [`crate::kernels::scatter_parts`] (the same parts, hence the same
/// bits, as the fused pass of [`mu_kl_rows_scatter`]). `extra` holds the part buffers.
///
/// # Panics
/// If the shapes do not agree.
#[track_caller]
pub fn kl_h_numerator(
    x: CsrRef<'_>,
    a: &[f64],
    b: &[f64],
    k: usize,
    num: &mut [f64],
    extra: &mut Vec<f64>,
) {
    assert!(k >= 1, "kl_h_numerator: k must be at least 1");
    check_factor("kl_h_numerator: A", a, x.nrows, k);
    check_factor("kl_h_numerator: B", b, x.ncols, k);
    check_factor("kl_h_numerator: num", num, x.ncols, k);
    scatter_ratios(x, a, b, k, &block_cuts(x, k), num, extra, true);
}

/// num_j (+)= Σ_i r_ij · a_i, r_ij = x_ij / max(a_i·b_j, ε), scattered from the rows of X in
/// the parts given by `cuts` ([`split_scatter_with`]; `num` zeroed first when `zero`).
#[allow(clippy::too_many_arguments)]
fn scatter_ratios(
    x: CsrRef<'_>,
    a: &[f64],
    b: &[f64],
    k: usize,
    cuts: &[usize],
    num: &mut [f64],
    extra: &mut Vec<f64>,
    zero: bool,
) {
    split_scatter_with(x, k, cuts, num, extra, zero, |rows, cols, buf| {
        let a_rows = &a[rows.start * k..rows.end * k];
        kl_scatter_block(x, rows.start, a_rows, b, k, buf, cols)
    });
}
