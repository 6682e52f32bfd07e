//! Sums over the rows of X — Xᵀ·A and friends — scattered from the rows of X into part
//! buffers, without a transposed copy of X (see the module docs of [`crate::kernels`] for the
//! scheme and why its bits do not depend on the thread count).

use multiversion::multiversion;
use multiversion::target::target_cfg_f;
use rayon::prelude::*;

use std::ops::Range;

use super::reduce::check_factor;
use super::simd::*;
use super::{CsrRef, ROW_BLOCK};

/// The stored entries of row `i` of X whose columns lie in `cols` (all of them when `cols`
/// covers every column), with the look-ahead indices for prefetching: the row's own indices
/// followed by those of the next rows ([`CsrRef::row_ahead`]) for the whole row, the selected
/// indices alone otherwise. Needs increasing column indices within the row.
#[inline(always)]
pub(crate) fn row_in<'x>(
    x: CsrRef<'x>,
    i: usize,
    cols: &Range<usize>,
) -> (&'x [Idx], &'x [f64], &'x [Idx]) {
    let (idx, vals) = x.row(i);
    if cols.start == 0 && cols.end >= x.ncols {
        return (idx, vals, x.row_ahead(i));
    }
    let lo = idx.partition_point(|&j| (j as usize) < cols.start);
    let hi = lo + idx[lo..].partition_point(|&j| (j as usize) < cols.end);
    (&idx[lo..hi], &vals[lo..hi], &idx[lo..hi])
}

/// buf_j += x_ij·a_i for the rows i = row0, row0 + 1, … of `a_block` (row-major, one row per
/// row of X from `row0`) and their stored entries j in the column range `cols`; `buf` holds
/// the rows `cols` of the part's buffer (row j at `(j − cols.start)·k`). Rows in order,
/// entries in storage order, so each buf_j is summed in the same order whatever the range.
#[multiversion(targets(
    "x86_64+avx512f+avx512vl+avx2+avx+fma",
    "x86_64+avx2+avx+fma",
    "x86_64+avx",
    "aarch64+neon"
))]
pub(crate) fn scatter_block<'x>(
    x: CsrRef<'x>,
    row0: usize,
    a_block: &[f64],
    k: usize,
    buf: &mut [f64],
    cols: Range<usize>,
) {
    let fma = target_cfg_f!(target_feature = "fma");
    const WITH_FMA: bool = true;
    if fma
        && by_lanes!(
            k,
            WITH_FMA,
            scatter_rows_lanes(x, row0, a_block, buf, &cols)
        )
    {
        return;
    }
    let base = cols.start;
    for (r, ai) in a_block.chunks_exact(k).enumerate() {
        let (idx, vals, ahead) = row_in(x, row0 + r, &cols);
        for (t, (&j, &v)) in idx.iter().zip(vals).enumerate() {
            if let Some(&jn) = ahead.get(t + PREFETCH_AHEAD) {
                prefetch_row(
                    buf.as_ptr()
                        .wrapping_add((jn as usize).wrapping_sub(base) * k),
                    k,
                );
            }
            let j = j as usize - base;
            let bj = &mut buf[j * k..(j + 1) * k];
            if fma {
                axpy::<true>(v, ai, bj);
            } else {
                axpy::<false>(v, ai, bj);
            }
        }
    }
}

/// The loop of [`scatter_block`] for k = 4·C: each row a_i is held in registers while it is
/// added into the rows buf_j of its stored entries (prefetched ahead).
#[inline(always)]
pub(crate) fn scatter_rows_lanes<const C: usize, const FMA: bool>(
    x: CsrRef<'_>,
    row0: usize,
    a_block: &[f64],
    buf: &mut [f64],
    cols: &Range<usize>,
) {
    let k = 4 * C;
    for (r, ar) in a_block.chunks_exact(k).enumerate() {
        let ai = lanes_load::<C>(ar);
        let (idx, vals, ahead) = row_in(x, row0 + r, cols);
        lanes_scatter_row::<C, FMA>(idx, ahead, vals, &ai, buf, cols.start);
    }
}

/// buf_{j_t − base} += v_t·a for the stored entries t of one CSR row (columns `cols`, weights
/// `v`; k = 4·C; `buf` starts at column `base`), with the rows of `buf` prefetched ahead
/// through `ahead` ([`row_in`]).
#[inline(always)]
pub(crate) fn lanes_scatter_row<const C: usize, const FMA: bool>(
    cols: &[Idx],
    ahead: &[Idx],
    v: &[f64],
    a: &Lanes<C>,
    buf: &mut [f64],
    base: usize,
) {
    // The whole range (base 0) is the common case: give it a constant base.
    if base == 0 {
        scatter_row_from::<C, FMA, false>(cols, ahead, v, a, buf, 0);
    } else {
        scatter_row_from::<C, FMA, true>(cols, ahead, v, a, buf, base);
    }
}

/// [`lanes_scatter_row`] with the base applied only when `RANGED`.
#[inline(always)]
fn scatter_row_from<const C: usize, const FMA: bool, const RANGED: bool>(
    cols: &[Idx],
    ahead: &[Idx],
    v: &[f64],
    a: &Lanes<C>,
    buf: &mut [f64],
    base: usize,
) {
    let base = if RANGED { base } else { 0 };
    let rows = lane_rows_mut::<C>(buf);
    let n = v.len().min(cols.len());
    let (cols, v) = (&cols[..n], &v[..n]);
    let pf = prefetch_targets(ahead, n);
    let np = pf.len();
    for ((&j, &vt), &p) in cols[..np].iter().zip(&v[..np]).zip(pf) {
        prefetch_lanes(rows, (p as usize).wrapping_sub(base));
        lanes_add_scaled::<C, FMA>(vt, a, &mut rows[j as usize - base]);
    }
    for (&j, &vt) in cols[np..].iter().zip(&v[np..]) {
        lanes_add_scaled::<C, FMA>(vt, a, &mut rows[j as usize - base]);
    }
}

/// out ← Xᵀ·A for a CSR `X` (n × m) and a row-major `A` (n × k); `out` is row-major m × k —
/// without a transposed copy of X: the rows of X are cut into [`scatter_parts`] fixed parts
/// of about equal numbers of stored entries; each part adds x_ij·a_i into row j of its own
/// m × k buffer (rows of A read in order), then the buffers are summed in part order. The
/// parts do not depend on the thread count, so the result is deterministic. The buffers of
/// the parts after the first live in `extra` (`(parts − 1)·m·k` values, resized as needed;
/// keep it between calls).
///
/// # Panics
/// If the shapes do not agree.
#[track_caller]
pub fn csr_transpose_mul_dense(
    x: CsrRef<'_>,
    a: &[f64],
    k: usize,
    out: &mut [f64],
    extra: &mut Vec<f64>,
) {
    assert!(k >= 1, "csr_transpose_mul_dense: k must be at least 1");
    check_factor("csr_transpose_mul_dense: A", a, x.nrows, k);
    check_factor("csr_transpose_mul_dense: out", out, x.ncols, k);
    let nnz = x.nnz();
    let parts = scatter_parts(nnz, x.ncols, k);
    let mut cuts = vec![0usize];
    for p in 1..parts {
        let r = x
            .indptr
            .partition_point(|&q| q < nnz * p / parts)
            .min(x.nrows);
        cuts.push(r.max(*cuts.last().unwrap_or(&0)));
    }
    cuts.push(x.nrows);
    split_scatter(x, k, &cuts, out, extra, |rows, cols, buf| {
        scatter_block(
            x,
            rows.start,
            &a[rows.start * k..rows.end * k],
            k,
            buf,
            cols,
        )
    });
}

/// out ← Xᵀ·A as [`csr_transpose_mul_dense`], in one part: the rows of X summed in order
/// into `out` itself (no part buffers), the work split into column ranges over the threads.
/// For small X (a mini-batch) where zeroing part buffers would cost more than the sums.
///
/// # Panics
/// If the shapes do not agree.
#[track_caller]
pub fn csr_transpose_mul_dense_one_part(x: CsrRef<'_>, a: &[f64], k: usize, out: &mut [f64]) {
    out.fill(0.0);
    csr_transpose_add_dense_one_part(x, a, k, out);
}

/// out ← out + Xᵀ·A, otherwise as [`csr_transpose_mul_dense_one_part`]: for a caller that
/// keeps `out` at zero between calls (clearing each row as it consumes it), saving a pass
/// that zeroes all m × k values. From zeros the bits are those of
/// [`csr_transpose_mul_dense_one_part`].
///
/// # Panics
/// If the shapes do not agree.
#[track_caller]
pub fn csr_transpose_add_dense_one_part(x: CsrRef<'_>, a: &[f64], k: usize, out: &mut [f64]) {
    assert!(
        k >= 1,
        "csr_transpose_add_dense_one_part: k must be at least 1"
    );
    check_factor("csr_transpose_add_dense_one_part: A", a, x.nrows, k);
    check_factor("csr_transpose_add_dense_one_part: out", out, x.ncols, k);
    split_scatter_with(
        x,
        k,
        &[0, x.nrows],
        out,
        &mut Vec::new(),
        false,
        |rows, cols, buf| {
            scatter_block(
                x,
                rows.start,
                &a[rows.start * k..rows.end * k],
                k,
                buf,
                cols,
            )
        },
    );
}

/// How many column ranges each part of a scatter is split into: enough that the parts times
/// the ranges give every thread a task (1 when there are no more threads than parts). A
/// range only decides which task adds an entry, never the order of a buf_j's terms, so this
/// may depend on the thread count without changing a bit.
pub fn column_splits(parts: usize) -> usize {
    rayon::current_num_threads().div_ceil(parts.max(1)).max(1)
}

/// Runs a scatter over the parts of the rows of X given by `cuts` (part p is the rows
/// `cuts[p]..cuts[p + 1]`), each part into its own m × k buffer (the first is `out`, the
/// others live in `extra`, resized as needed), then sums the buffers into `out` in part
/// order. Each part is split into [`column_splits`] ranges of columns of about equal width,
/// one task per part and range: `scatter(rows, cols, buf)` adds the part's entries whose
/// columns lie in `cols` to `buf`, the rows `cols` of the part's buffer.
pub(crate) fn split_scatter<S>(
    x: CsrRef<'_>,
    k: usize,
    cuts: &[usize],
    out: &mut [f64],
    extra: &mut Vec<f64>,
    scatter: S,
) where
    S: Fn(Range<usize>, Range<usize>, &mut [f64]) + Sync,
{
    split_scatter_with(x, k, cuts, out, extra, true, scatter)
}

/// [`split_scatter`], with `out` zeroed first only when `zero_out` (otherwise the first part
/// adds onto what `out` holds). The other parts' buffers start from the zeros that resizing
/// `extra` writes, each zeroed once.
pub(crate) fn split_scatter_with<S>(
    x: CsrRef<'_>,
    k: usize,
    cuts: &[usize],
    out: &mut [f64],
    extra: &mut Vec<f64>,
    zero_out: bool,
    scatter: S,
) where
    S: Fn(Range<usize>, Range<usize>, &mut [f64]) + Sync,
{
    let parts = cuts.len() - 1;
    let m = x.ncols;
    let mk = m * k;
    extra.clear();
    extra.resize((parts - 1) * mk, 0.0);
    let splits = column_splits(parts).min(m.max(1));
    // (part, its rows, a range of columns, that range of the part's buffer)
    type Task<'b> = (usize, Range<usize>, Range<usize>, &'b mut [f64]);
    let mut tasks: Vec<Task<'_>> = Vec::new();
    let bufs = std::iter::once(&mut *out).chain(extra.chunks_exact_mut(mk.max(1)));
    for (p, buf) in bufs.take(parts).enumerate() {
        let mut rest = buf;
        for c in 0..splits {
            let cols = m * c / splits..m * (c + 1) / splits;
            let (mine, tail) = std::mem::take(&mut rest).split_at_mut(cols.len() * k);
            rest = tail;
            tasks.push((p, cuts[p]..cuts[p + 1], cols, mine));
        }
    }
    tasks.into_par_iter().for_each(|(p, rows, cols, buf)| {
        if p == 0 && zero_out {
            buf.fill(0.0);
        }
        scatter(rows, cols, buf);
    });
    add_buffers(out, extra, k);
}

/// The blocks (of [`ROW_BLOCK`] rows) where the parts of [`parts_pass`] begin, at about equal
/// numbers of stored entries, and the number of blocks as the last entry: `parts + 1` values.
fn part_blocks(x: CsrRef<'_>, k: usize) -> Vec<usize> {
    let nblocks = x.nrows.div_ceil(ROW_BLOCK).max(1);
    let parts = scatter_parts(x.nnz(), x.ncols, k);
    let mut cuts = vec![0usize];
    for p in 1..parts {
        let target = x.nnz() * p / parts;
        let row = x.indptr.partition_point(|&q| q < target).min(x.nrows);
        let blk = (row / ROW_BLOCK).min(nblocks);
        cuts.push(blk.max(*cuts.last().unwrap_or(&0)));
    }
    cuts.push(nblocks);
    cuts
}

/// The rows where the parts of [`parts_pass`] begin, and the number of rows as the last
/// entry (the part boundaries of [`part_blocks`] in rows).
pub(crate) fn block_cuts(x: CsrRef<'_>, k: usize) -> Vec<usize> {
    (part_blocks(x, k).iter())
        .map(|&b| (b * ROW_BLOCK).min(x.nrows))
        .collect()
}

/// Number of fixed parts the rows of X are cut into by the scatters, for a matrix with
/// `nnz` stored entries and `m` columns at rank `k`: at least 2 (so two threads share the
/// work), more for matrices with many entries per column, with the part buffers (`parts·m·k`
/// values of 8 bytes) kept under about 1 byte per stored entry of X (a twelfth of X's own
/// 12); at most 16. More threads than parts split each part by columns instead
/// ([`column_splits`]), which costs no memory. Depends on the matrix only, never on the
/// thread count, so results do not either.
pub fn scatter_parts(nnz: usize, m: usize, k: usize) -> usize {
    (nnz / (8 * m * k).max(1)).clamp(2, 16)
}

/// out ← out + Σ_p rest_p, block-parallel, the buffers added in order (deterministic).
pub(crate) fn add_buffers(out: &mut [f64], rest: &[f64], k: usize) {
    let len = out.len();
    if len == 0 {
        return;
    }
    out.par_chunks_mut(ROW_BLOCK * k)
        .enumerate()
        .for_each(|(blk, ob)| {
            let (s, n) = (blk * ROW_BLOCK * k, ob.len());
            for r in rest.chunks_exact(len) {
                for (o, v) in ob.iter_mut().zip(&r[s..s + n]) {
                    *o += v;
                }
            }
        });
}

/// Runs a row pass over the [`scatter_parts`] fixed parts of the rows of X (cut at block
/// boundaries, about equal numbers of stored entries), one task per part. In a part, blocks of
/// [`ROW_BLOCK`] rows are taken in order: `block(row0, out_block, partials)` updates the block
/// and `scatter(row0, new_block, buf)` adds its contribution to the part's m × k buffer. The
/// first buffer is `num`; the others live in `extra` (resized as needed); they are summed into
/// `num` in part order. Returns the block partials summed in block order, as [`blocks`] does.
#[allow(clippy::too_many_arguments)]
pub(crate) fn parts_pass<F, S>(
    x: CsrRef<'_>,
    k: usize,
    stride: usize,
    out: &mut [f64],
    num: &mut [f64],
    extra: &mut Vec<f64>,
    block: F,
    scatter: S,
) -> Vec<f64>
where
    F: Fn(usize, &mut [f64], &mut [f64]) + Sync,
    S: Fn(usize, &[f64], &mut [f64]) + Sync,
{
    let nblocks = x.nrows.div_ceil(ROW_BLOCK).max(1);
    // Part p covers the blocks cuts[p]..cuts[p + 1].
    let cuts = part_blocks(x, k);
    let parts = cuts.len() - 1;
    let mk = x.ncols * k;
    extra.clear();
    extra.resize((parts - 1) * mk, 0.0);
    let mut partials = vec![0.0; nblocks * stride];

    let mut tasks = Vec::with_capacity(parts);
    let (mut out_rest, mut part_rest) = (out, &mut partials[..]);
    let mut bufs = std::iter::once(&mut *num).chain(extra.chunks_exact_mut(mk.max(1)));
    for p in 0..parts {
        let (b0, b1) = (cuts[p], cuts[p + 1]);
        let rows = (b1 * ROW_BLOCK).min(x.nrows) - (b0 * ROW_BLOCK).min(x.nrows);
        let (o, rest) = std::mem::take(&mut out_rest).split_at_mut(rows * k);
        out_rest = rest;
        let (pp, rest) = std::mem::take(&mut part_rest).split_at_mut((b1 - b0) * stride);
        part_rest = rest;
        let buf = bufs.next().unwrap_or_default();
        tasks.push((p, b0, o, pp, buf));
    }
    tasks.into_par_iter().for_each(|(p, b0, o, pp, buf)| {
        // The other parts' buffers hold the zeros that resizing `extra` wrote.
        if p == 0 {
            buf.fill(0.0);
        }
        for (t, (ob, pb)) in o
            .chunks_mut(ROW_BLOCK * k)
            .zip(pp.chunks_mut(stride))
            .enumerate()
        {
            let row0 = (b0 + t) * ROW_BLOCK;
            block(row0, ob, pb);
            scatter(row0, ob, buf);
        }
    });
    add_buffers(num, extra, k);

    let mut total = vec![0.0; stride];
    for pb in partials.chunks_exact(stride) {
        for (t, p) in total.iter_mut().zip(pb) {
            *t += p;
        }
    }
    total
}
