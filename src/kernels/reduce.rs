//! Fixed-block reductions: the layout of a block's partial sums, the row-parallel block
//! driver [`blocks`] that sums them in block order, and the statistics of a dense factor
//! (‖·‖₁, ‖·‖²_F, column sums, the Gram matrix AᵀA).

use multiversion::multiversion;
use multiversion::target::target_cfg_f;
use rayon::prelude::*;

use super::simd::*;
use super::ROW_BLOCK;

/// Number of scalar slots at the start of a block's partial sums.
pub(crate) const SCALARS: usize = 7;
pub(crate) const S_LOG: usize = 0;
pub(crate) const S_CROSS: usize = 1;
pub(crate) const S_OLD_L1: usize = 2;
pub(crate) const S_OLD_SQ: usize = 3;
pub(crate) const S_NEW_L1: usize = 4;
pub(crate) const S_NEW_SQ: usize = 5;
/// A solver-specific scalar (the projected-gradient violation of coordinate descent).
pub(crate) const S_EXTRA: usize = 6;

/// Statistics of a dense factor A (rows × k), all reduced deterministically.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FactorStats {
    /// Σ_il a_il (= ‖A‖₁ for a non-negative A).
    pub l1: f64,
    /// Σ_il a_il² = ‖A‖²_F.
    pub sq: f64,
    /// Column sums Aᵀ𝟙 (k entries).
    pub colsum: Vec<f64>,
    /// The Gram matrix AᵀA (row-major k×k), or empty when not requested.
    pub gram: Vec<f64>,
}

/// What one multiplicative-update row pass returns besides the updated factor.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PassStats {
    /// KL passes with `with_log`: Σ x·ln(x / max(a_i·b_j, ε)) over the stored entries with
    /// x > ε, for the **old** factor. Otherwise 0.
    pub logsum: f64,
    /// Σ_i a_i·(x_i·B) = Σ x_ij (a_i·b_j) over the stored entries, for the **old** factor
    /// (tr(Aᵀ·X·B) — the cross term of the Frobenius divergence).
    pub cross: f64,
    /// ‖A_old‖₁ and ‖A_old‖²_F.
    pub old_l1: f64,
    /// See [`PassStats::old_l1`].
    pub old_sq: f64,
    /// A solver-specific sum over the rows (coordinate descent: Σ |projected gradient|; the
    /// Frobenius multiplicative update: Σ_i a_i·(x_i·B) for the **new** factor, or with graph
    /// terms Tr(WᵀLW) of the old one).
    pub extra: f64,
    /// Statistics of the updated factor (the Gram matrix only when requested).
    pub new: FactorStats,
}

/// Blocks whose partials are held at once by [`blocks`] and [`factor_stats`]: the blocks run
/// in parallel a window at a time and their partials are added into the total in block order
/// after each window, so the partials take `WINDOW · stride` values whatever the number of
/// rows (with the Gram matrix at k = 50 a block's partial is 20 KB: one partial per block of a
/// million rows would be 160 MB, allocated and faulted in twice per iteration). The order of
/// the additions is block order as with one partial per block: the same bits.
const WINDOW: usize = 256;

/// Runs `body(first_row, out_block, partials)` over blocks of [`ROW_BLOCK`] rows in parallel
/// (one writer per block of output rows) and sums the per-block partials in block order.
pub(crate) fn blocks<F>(nrows: usize, k: usize, stride: usize, out: &mut [f64], body: F) -> Vec<f64>
where
    F: Fn(usize, &mut [f64], &mut [f64]) + Sync,
{
    let mut total = vec![0.0; stride];
    if nrows == 0 {
        return total;
    }
    let block_len = ROW_BLOCK * k.max(1);
    let nblocks = nrows.div_ceil(ROW_BLOCK);
    let mut partials = vec![0.0; WINDOW.min(nblocks) * stride];
    for (w, ow) in out.chunks_mut(WINDOW * block_len).enumerate() {
        let nb = ow.len().div_ceil(block_len);
        let pw = &mut partials[..nb * stride];
        pw.fill(0.0);
        ow.par_chunks_mut(block_len)
            .zip(pw.par_chunks_mut(stride))
            .enumerate()
            .for_each(|(b, (ob, pb))| body((w * WINDOW + b) * ROW_BLOCK, ob, pb));
        add_in_order(&mut total, pw);
    }
    total
}

/// total ← total + Σ_b partial_b, the partials (`stride` values each) added in order.
fn add_in_order(total: &mut [f64], partials: &[f64]) {
    for pb in partials.chunks_exact(total.len()) {
        for (t, p) in total.iter_mut().zip(pb) {
            *t += p;
        }
    }
}

pub(crate) fn split_stats(total: &[f64], k: usize, gram: bool) -> PassStats {
    PassStats {
        logsum: total[S_LOG],
        cross: total[S_CROSS],
        old_l1: total[S_OLD_L1],
        old_sq: total[S_OLD_SQ],
        extra: total[S_EXTRA],
        new: FactorStats {
            l1: total[S_NEW_L1],
            sq: total[S_NEW_SQ],
            colsum: total[SCALARS..SCALARS + k].to_vec(),
            gram: if gram {
                let mut g = total[SCALARS + k..SCALARS + k + k * k].to_vec();
                for a in 1..k {
                    for b in 0..a {
                        g[a * k + b] = g[b * k + a];
                    }
                }
                g
            } else {
                Vec::new()
            },
        },
    }
}

/// Accumulates the statistics of one new row `v` into a block's partials.
#[inline(always)]
pub(crate) fn add_new_row<const FMA: bool>(v: &[f64], part: &mut [f64], gram: bool) {
    let k = v.len();
    let mut l1 = 0.0;
    let mut sq = 0.0;
    for &x in v {
        l1 += x;
        sq = madd::<FMA>(x, x, sq);
    }
    part[S_NEW_L1] += l1;
    part[S_NEW_SQ] += sq;
    let (head, rest) = part[SCALARS..].split_at_mut(k);
    for (c, &x) in head.iter_mut().zip(v) {
        *c += x;
    }
    if gram {
        // Upper triangle only (m ≤ l); `split_stats` mirrors it.
        for (m, &vm) in v.iter().enumerate() {
            if vm != 0.0 {
                axpy::<FMA>(vm, &v[m..], &mut rest[m * k + m..(m + 1) * k]);
            }
        }
    }
}

#[inline(always)]
pub(crate) fn add_old_row<const FMA: bool>(v: &[f64], part: &mut [f64]) {
    let mut l1 = 0.0;
    let mut sq = 0.0;
    for &x in v {
        l1 += x;
        sq = madd::<FMA>(x, x, sq);
    }
    part[S_OLD_L1] += l1;
    part[S_OLD_SQ] += sq;
}

/// Checks that `a` is rows × k (k ≥ 1) and `num` has its shape; returns the number of rows.
#[track_caller]
pub(crate) fn check_numerator(name: &str, a: &[f64], num: &[f64], k: usize) -> usize {
    assert!(
        k >= 1 && a.len().is_multiple_of(k),
        "{name}: A must be rows × k"
    );
    assert_eq!(num.len(), a.len(), "{name}: num must have A's shape");
    a.len() / k
}

#[track_caller]
pub(crate) fn check_factor(name: &str, a: &[f64], rows: usize, k: usize) {
    assert_eq!(
        a.len(),
        rows * k,
        "{name} must be a row-major {rows}×{k} slice (got {} entries)",
        a.len()
    );
}

/// Adds the statistics of the new rows `out` (rows × k, row-major) to a block's partials:
/// ‖·‖₁, ‖·‖²_F, the column sums and (when `gram`) the Gram matrix, through the register
/// path for k = 4·C.
#[inline(always)]
pub(crate) fn add_block_stats<const FMA: bool>(
    out: &[f64],
    k: usize,
    part: &mut [f64],
    gram: bool,
) {
    if FMA && by_lanes!(k, FMA, lanes_block_stats(out, part, gram)) {
        return;
    }
    for v in out.chunks_exact(k) {
        add_new_row::<FMA>(v, part, gram);
    }
}

#[multiversion(targets(
    "x86_64+avx512f+avx512vl+avx2+avx+fma",
    "x86_64+avx2+avx+fma",
    "x86_64+avx",
    "aarch64+neon"
))]
pub(crate) fn stats_block(a: &[f64], k: usize, part: &mut [f64], gram: bool) {
    if target_cfg_f!(target_feature = "fma") {
        for v in a.chunks_exact(k) {
            add_new_row::<true>(v, part, gram);
        }
    } else {
        for v in a.chunks_exact(k) {
            add_new_row::<false>(v, part, gram);
        }
    }
}

/// ‖A‖₁, ‖A‖²_F, the column sums and (when `gram`) AᵀA of a row-major `rows × k` factor.
///
/// # Panics
/// If `a.len()` is not a multiple of `k` (k ≥ 1).
#[track_caller]
pub fn factor_stats(a: &[f64], k: usize, gram: bool) -> FactorStats {
    assert!(
        k >= 1 && a.len().is_multiple_of(k),
        "a factor must be rows × k with k ≥ 1"
    );
    // A read-only pass over the blocks of `a`, a window at a time, partials in order.
    let mut acc = FactorStatsSum::new(k, gram);
    for aw in a.chunks(FactorStatsSum::WINDOW_ROWS * k) {
        acc.add_window(aw);
    }
    acc.finish()
}

/// [`factor_stats`] of a factor read a window of rows at a time (W kept on disk,
/// [`crate::nmf::wfile`]): the windows, of [`FactorStatsSum::WINDOW_ROWS`] rows each but the
/// last, added in row order give the same bits as [`factor_stats`] of the whole factor.
#[derive(Debug, Clone)]
pub struct FactorStatsSum {
    k: usize,
    gram: bool,
    total: Vec<f64>,
    partials: Vec<f64>,
}

impl FactorStatsSum {
    /// Rows of a window: [`ROW_BLOCK`]-row blocks summed in parallel, their partials added in
    /// order.
    pub const WINDOW_ROWS: usize = WINDOW * ROW_BLOCK;

    /// An empty sum over rows of `k` values (with the Gram matrix when `gram`).
    pub fn new(k: usize, gram: bool) -> Self {
        let stride = SCALARS + k + if gram { k * k } else { 0 };
        FactorStatsSum {
            k,
            gram,
            total: vec![0.0; stride],
            partials: Vec::new(),
        }
    }

    /// Adds the next rows (row-major, at most [`FactorStatsSum::WINDOW_ROWS`] of them; only
    /// the last window may be shorter).
    pub fn add_window(&mut self, aw: &[f64]) {
        debug_assert!(
            aw.len().is_multiple_of(self.k) && aw.len() <= Self::WINDOW_ROWS * self.k,
            "a window of whole rows, at most WINDOW_ROWS of them"
        );
        let stride = self.total.len();
        let block_len = ROW_BLOCK * self.k;
        let (k, gram) = (self.k, self.gram);
        let pw_len = aw.len().div_ceil(block_len) * stride;
        if self.partials.len() < pw_len {
            self.partials.resize(pw_len, 0.0);
        }
        let pw = &mut self.partials[..pw_len];
        pw.fill(0.0);
        aw.par_chunks(block_len)
            .zip(pw.par_chunks_mut(stride))
            .for_each(|(ab, pb)| stats_block(ab, k, pb, gram));
        add_in_order(&mut self.total, pw);
    }

    /// The statistics of the rows added.
    pub fn finish(self) -> FactorStats {
        split_stats(&self.total, self.k, self.gram).new
    }
}

/// tr(A·B) = Σ_ab A_ab·B_ba of two k×k matrices (for symmetric Gram matrices,
/// tr((WᵀW)(HHᵀ)) = ‖W·H‖²_F).
pub fn trace_product(a: &[f64], b: &[f64], k: usize) -> f64 {
    let mut s = 0.0;
    for i in 0..k {
        for j in 0..k {
            s += a[i * k + j] * b[j * k + i];
        }
    }
    s
}

/// Adds the statistics of the new block rows `out` (rows × 4C, row-major) to `part`: ‖·‖₁,
/// ‖·‖²_F and the column sums row by row, and (when `gram`) the full Gram matrix one row at
/// a time, G_m ← G_m + Σ_r o_rm·o_r, with the row of G kept in registers over the block.
#[inline(always)]
pub(crate) fn lanes_block_stats<const C: usize, const FMA: bool>(
    out: &[f64],
    part: &mut [f64],
    gram: bool,
) {
    let k = 4 * C;
    let mut l1 = 0.0;
    let mut sq = 0.0;
    let mut col: Lanes<C> = [[0.0; 4]; C];
    for o in out.chunks_exact(k) {
        let v = lanes_load::<C>(o);
        let mut s1 = [0.0f64; 4];
        let mut s2 = [0.0f64; 4];
        for c in 0..C {
            for l in 0..4 {
                s1[l] += v[c][l];
                s2[l] = madd::<FMA>(v[c][l], v[c][l], s2[l]);
                col[c][l] += v[c][l];
            }
        }
        l1 += (s1[0] + s1[2]) + (s1[1] + s1[3]);
        sq += (s2[0] + s2[2]) + (s2[1] + s2[3]);
    }
    part[S_NEW_L1] += l1;
    part[S_NEW_SQ] += sq;
    let (head, rest) = part[SCALARS..].split_at_mut(k);
    for (c, cc) in col.iter().enumerate() {
        for l in 0..4 {
            head[4 * c + l] += cc[l];
        }
    }
    if gram {
        // Two rows of G at a time: two independent accumulator chains per lane (each row of G
        // is still summed over the block's rows in order, so the bits do not change).
        let add = |gm: &mut [f64], g: &Lanes<C>| {
            for (c, gc) in g.iter().enumerate() {
                for l in 0..4 {
                    gm[4 * c + l] += gc[l];
                }
            }
        };
        for m in (0..k).step_by(2) {
            let mut g0: Lanes<C> = [[0.0; 4]; C];
            let mut g1: Lanes<C> = [[0.0; 4]; C];
            for o in out.chunks_exact(k) {
                lanes_axpy::<C, FMA>(o[m], o, &mut g0);
                lanes_axpy::<C, FMA>(o[m + 1], o, &mut g1);
            }
            add(&mut rest[m * k..(m + 1) * k], &g0);
            add(&mut rest[(m + 1) * k..(m + 2) * k], &g1);
        }
    }
}

/// ‖a‖₁ and ‖a‖² of one old row into `part`.
#[inline(always)]
pub(crate) fn lanes_old_stats<const C: usize, const FMA: bool>(a: &Lanes<C>, part: &mut [f64]) {
    let mut s1 = [0.0f64; 4];
    let mut s2 = [0.0f64; 4];
    for ac in a {
        for l in 0..4 {
            s1[l] += ac[l];
            s2[l] = madd::<FMA>(ac[l], ac[l], s2[l]);
        }
    }
    part[S_OLD_L1] += (s1[0] + s1[2]) + (s1[1] + s1[3]);
    part[S_OLD_SQ] += (s2[0] + s2[2]) + (s2[1] + s2[3]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::testutil::factor;

    /// The statistics of rows × k summed block by block in block order, written out.
    fn block_order_sums(a: &[f64], k: usize) -> Vec<f64> {
        let stride = SCALARS + k + k * k;
        let mut total = vec![0.0; stride];
        for ab in a.chunks(ROW_BLOCK * k) {
            let mut part = vec![0.0; stride];
            stats_block(ab, k, &mut part, true);
            for (t, p) in total.iter_mut().zip(&part) {
                *t += p;
            }
        }
        total
    }

    #[test]
    fn windows_of_blocks_sum_in_block_order_with_any_number_of_threads() {
        // More than two windows of blocks, the last one partial, the last block partial.
        let k = 4;
        let rows = (2 * WINDOW + 37) * ROW_BLOCK + 55;
        let a = factor(rows, k, 41);
        let want = split_stats(&block_order_sums(&a, k), k, true).new;
        for threads in [1, 2, 3] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let (got, total) = pool.install(|| {
                let got = factor_stats(&a, k, true);
                let mut out = a.clone();
                let stride = SCALARS + k + k * k;
                let total = blocks(rows, k, stride, &mut out, |row0, ob, pb| {
                    // Each block is told its own first row.
                    assert_eq!(ob, &a[row0 * k..row0 * k + ob.len()]);
                    stats_block(ob, k, pb, true)
                });
                (got, total)
            });
            assert_eq!(got, want, "{threads} threads");
            assert_eq!(split_stats(&total, k, true).new, want, "{threads} threads");
        }
    }
}
