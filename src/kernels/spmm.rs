//! CSR × dense products (X·B, one writer per output row) and the small dense product A·M.

use multiversion::multiversion;
use multiversion::target::target_cfg_f;
use rayon::prelude::*;

use super::reduce::check_factor;
use super::simd::*;
use super::{CsrRef, ROW_BLOCK};

#[multiversion(targets(
    "x86_64+avx512f+avx512vl+avx2+avx+fma",
    "x86_64+avx2+avx+fma",
    "x86_64+avx",
    "aarch64+neon"
))]
pub(crate) fn csr_dense_block<'x>(
    x: CsrRef<'x>,
    row0: usize,
    b: &[f64],
    k: usize,
    out: &mut [f64],
) {
    let fma = target_cfg_f!(target_feature = "fma");
    const WITH_FMA: bool = true;
    if fma && by_lanes!(k, WITH_FMA, csr_rows_lanes(x, row0, b, out)) {
        return;
    }
    for (r, o) in out.chunks_exact_mut(k).enumerate() {
        o.fill(0.0);
        let (cols, vals) = x.row(row0 + r);
        let ahead = x.row_ahead(row0 + r);
        for (t, (&j, &v)) in cols.iter().zip(vals).enumerate() {
            prefetch_ahead(ahead, t, b, k);
            let bj = &b[j as usize * k..(j as usize + 1) * k];
            if fma {
                axpy::<true>(v, bj, o);
            } else {
                axpy::<false>(v, bj, o);
            }
        }
    }
}

/// The rows of [`csr_dense_block`] for k = 4·C: each output row is summed in registers
/// ([`lanes_row_sum`], the rows of B prefetched ahead).
#[inline(always)]
fn csr_rows_lanes<const C: usize, const FMA: bool>(
    x: CsrRef<'_>,
    row0: usize,
    b: &[f64],
    out: &mut [f64],
) {
    for (r, o) in out.chunks_exact_mut(4 * C).enumerate() {
        let i = row0 + r;
        let s = lanes_row_sum::<C, FMA>(x.row_ahead(i), x.row(i).1, b, true);
        lanes_store::<C>(&s, o);
    }
}

/// out ← X·B for a CSR `X` (n × m) and a row-major dense `B` (m × k); `out` is row-major n × k.
///
/// Row-parallel, one writer per output row; each output row is a sequential sum over the
/// row's stored entries in storage order (deterministic).
///
/// # Panics
/// If the shapes do not agree.
#[track_caller]
pub fn csr_mul_dense(x: CsrRef<'_>, b: &[f64], k: usize, out: &mut [f64]) {
    assert!(k >= 1, "csr_mul_dense: k must be at least 1");
    check_factor("csr_mul_dense: B", b, x.ncols, k);
    check_factor("csr_mul_dense: out", out, x.nrows, k);
    out.par_chunks_mut(ROW_BLOCK * k)
        .enumerate()
        .for_each(|(blk, ob)| csr_dense_block(x, blk * ROW_BLOCK, b, k, ob));
}

/// out ← A·M for a row-major `rows × k` A and a row-major k×k M (row-parallel).
///
/// # Panics
/// If the shapes do not agree.
#[track_caller]
pub fn dense_mul_small(a: &[f64], m: &[f64], k: usize, out: &mut [f64]) {
    assert!(
        k >= 1 && a.len().is_multiple_of(k),
        "dense_mul_small: A must be rows × k"
    );
    assert_eq!(m.len(), k * k, "dense_mul_small: M must be k×k");
    assert_eq!(
        out.len(),
        a.len(),
        "dense_mul_small: out must have A's shape"
    );
    out.par_chunks_mut(k)
        .zip(a.par_chunks(k))
        .for_each(|(o, ai)| {
            o.fill(0.0);
            for (l, &v) in ai.iter().enumerate() {
                for (oo, mm) in o.iter_mut().zip(&m[l * k..(l + 1) * k]) {
                    *oo += v * mm;
                }
            }
        });
}
