//! The hot sparse/dense kernels shared by the solvers.
//!
//! Everything here works on plain slices: a CSR matrix is borrowed as a [`CsrRef`] (row pointers,
//! column indices, values) and a dense factor is a row-major `rows × k` slice, so row `i` is the
//! contiguous `a[i*k..(i+1)*k]`. The NMF solver keeps both factors in this layout: W as
//! documents × k and H **transposed** as terms × k (`Ht`). The products the updates need:
//!
//! - X·Hᵀ = X·Ht (X in CSR, documents × k): a gather per stored entry, one output row per
//!   CSR row ([`mu_kl_rows`], [`mu_frobenius_rows`], [`csr_mul_dense`]);
//! - (Wᵀ·X)ᵀ = Xᵀ·W and the KL numerator (Wᵀ·R)ᵀ (terms × k): sums over the rows of X, made
//!   by scattering each row into a per-part buffer ([`csr_transpose_mul_dense`], and fused
//!   into the KL W pass by [`mu_kl_rows_scatter`]), so the solver keeps no transposed copy of
//!   X ([`csr_transpose`] remains for CSC input and for tests).
//!
//! For k = 4, 8, …, 32 the per-row k-vectors are held in registers (specialized loops); other
//! k take generic loops over slices.
//!
//! # Parallelism and determinism
//! Every kernel is row-parallel with rayon and has exactly one writer per output row. Rows are
//! cut into fixed blocks of [`ROW_BLOCK`] rows (independent of the number of threads); scalar and
//! k-vector reductions are summed sequentially inside a block and then over the blocks in block
//! order. The scatters cut the rows into a fixed number of parts that depends on the matrix
//! only ([`scatter_parts`]), each with its own buffer, and add the buffers in part order. So
//! the same inputs give bit-identical outputs with 1 thread or 16.
//!
//! # Vector code
//! The per-block loops are compiled several times with the `multiversion` crate (AVX-512,
//! AVX2+FMA, AVX, NEON and a portable fallback) and the best version for the running CPU is
//! chosen once at run time; the binary does not need `-C target-cpu=native`. The inner dot and
//! axpy loops are written over `chunks_exact(8)`/`chunks_exact(4)` with independent 4-lane accumulators so that
//! LLVM vectorizes them; fused multiply-adds are used where the selected target has FMA.
//!
//! # Cost
//! One pass of [`mu_kl_rows`] or [`mu_frobenius_rows`] costs about `2·nnz·k` multiply-adds plus
//! `rows·k` (KL) or `rows·k²` (Frobenius) dense work, reads the CSR arrays once and gathers
//! rows of the other factor; it needs no temporaries beyond one k-vector per block and the
//! per-block partial sums. The scatters add `(parts − 1)·m·k` values of part buffers. Memory is
//! never `nnz × k`.

use multiversion::multiversion;
use multiversion::target::target_cfg_f;
use rayon::prelude::*;

/// scikit-learn's `EPSILON`: the machine epsilon of `f32` (≈ 1.19e-7), used to keep
/// denominators and `W·H` values away from zero.
pub const EPSILON: f64 = f32::EPSILON as f64;

/// Number of rows per parallel block. Fixed, so reductions do not depend on the thread count.
pub const ROW_BLOCK: usize = 128;

/// A borrowed CSR matrix: row `i` has the column indices `indices[indptr[i]..indptr[i+1]]` and
/// the values `data[indptr[i]..indptr[i+1]]`.
#[derive(Debug, Clone, Copy)]
pub struct CsrRef<'a> {
    /// Number of rows.
    pub nrows: usize,
    /// Number of columns.
    pub ncols: usize,
    /// Row pointers, `nrows + 1` entries, starting at 0.
    pub indptr: &'a [usize],
    /// Column index of each stored entry.
    pub indices: &'a [usize],
    /// Value of each stored entry.
    pub data: &'a [f64],
}

impl<'a> CsrRef<'a> {
    /// Borrows CSR arrays after checking their consistency (lengths, monotone row pointers,
    /// column indices in range).
    ///
    /// # Panics
    /// If the arrays are inconsistent.
    #[track_caller]
    pub fn new(
        nrows: usize,
        ncols: usize,
        indptr: &'a [usize],
        indices: &'a [usize],
        data: &'a [f64],
    ) -> Self {
        assert_eq!(
            indptr.len(),
            nrows + 1,
            "CSR: indptr must have nrows + 1 entries"
        );
        assert_eq!(indptr[0], 0, "CSR: indptr must start at 0");
        assert!(
            indptr.windows(2).all(|w| w[0] <= w[1]),
            "CSR: indptr must be non-decreasing"
        );
        let nnz = indptr[nrows];
        assert!(
            indices.len() == nnz && data.len() == nnz,
            "CSR: indices and data must have indptr[nrows] = {nnz} entries"
        );
        assert!(
            indices.iter().all(|&j| j < ncols),
            "CSR: a column index is out of range"
        );
        CsrRef {
            nrows,
            ncols,
            indptr,
            indices,
            data,
        }
    }

    /// Number of stored entries.
    pub fn nnz(&self) -> usize {
        self.indptr[self.nrows]
    }

    /// The column indices and values of row `i`.
    #[inline(always)]
    pub fn row(&self, i: usize) -> (&'a [usize], &'a [f64]) {
        let (s, e) = (self.indptr[i], self.indptr[i + 1]);
        (&self.indices[s..e], &self.data[s..e])
    }

    /// The column indices of row `i` followed by up to [`PREFETCH_AHEAD`] indices of the next
    /// rows, so that a loop over the row can prefetch across the row's end.
    #[inline(always)]
    fn row_ahead(&self, i: usize) -> &'a [usize] {
        let (s, e) = (self.indptr[i], self.indptr[i + 1]);
        &self.indices[s..(e + PREFETCH_AHEAD).min(self.indptr[self.nrows])]
    }
}

/// An owned CSR matrix (X converted from CSC input, or a transposed copy).
#[derive(Debug, Clone, PartialEq)]
pub struct Csr {
    /// Number of rows.
    pub nrows: usize,
    /// Number of columns.
    pub ncols: usize,
    /// Row pointers (`nrows + 1` entries).
    pub indptr: Vec<usize>,
    /// Column indices.
    pub indices: Vec<usize>,
    /// Values.
    pub data: Vec<f64>,
}

impl Csr {
    /// Borrows the matrix.
    pub fn view(&self) -> CsrRef<'_> {
        CsrRef {
            nrows: self.nrows,
            ncols: self.ncols,
            indptr: &self.indptr,
            indices: &self.indices,
            data: &self.data,
        }
    }
}

/// The CSR form of Xᵀ (a counting sort over the columns, `O(nnz + ncols)`, sequential). Within
/// each row of the result the column indices are increasing.
pub fn csr_transpose(x: CsrRef<'_>) -> Csr {
    let nnz = x.nnz();
    let mut indptr = vec![0usize; x.ncols + 1];
    for &j in &x.indices[..nnz] {
        indptr[j + 1] += 1;
    }
    for j in 0..x.ncols {
        indptr[j + 1] += indptr[j];
    }
    let mut next = indptr.clone();
    let mut indices = vec![0usize; nnz];
    let mut data = vec![0.0; nnz];
    for i in 0..x.nrows {
        let (cols, vals) = x.row(i);
        for (&j, &v) in cols.iter().zip(vals) {
            let p = next[j];
            indices[p] = i;
            data[p] = v;
            next[j] += 1;
        }
    }
    Csr {
        nrows: x.ncols,
        ncols: x.nrows,
        indptr,
        indices,
        data,
    }
}

// ---------------------------------------------------------------------------------------------
// Inner loops. `#[inline(always)]` so that they are compiled inside each multiversioned clone
// with its target features; `FMA` selects fused multiply-adds (only where the target has them:
// without hardware FMA, `mul_add` is a slow library call).

#[inline(always)]
fn madd<const FMA: bool>(a: f64, b: f64, c: f64) -> f64 {
    if FMA {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

/// Σ a_l·b_l over chunks of 4 lanes with two independent 4-lane accumulators (a fixed
/// summation order), then a scalar tail.
#[inline(always)]
fn dot<const FMA: bool>(a: &[f64], b: &[f64]) -> f64 {
    let b = &b[..a.len()];
    let mut s0 = [0.0f64; 4];
    let mut s1 = [0.0f64; 4];
    let mut ca = a.chunks_exact(8);
    let mut cb = b.chunks_exact(8);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for l in 0..4 {
            s0[l] = madd::<FMA>(x[l], y[l], s0[l]);
            s1[l] = madd::<FMA>(x[4 + l], y[4 + l], s1[l]);
        }
    }
    let (ra, rb) = (ca.remainder(), cb.remainder());
    let mut ca = ra.chunks_exact(4);
    let mut cb = rb.chunks_exact(4);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for l in 0..4 {
            s0[l] = madd::<FMA>(x[l], y[l], s0[l]);
        }
    }
    let mut tail = 0.0;
    for (x, y) in ca.remainder().iter().zip(cb.remainder()) {
        tail = madd::<FMA>(*x, *y, tail);
    }
    for l in 0..4 {
        s0[l] += s1[l];
    }
    ((s0[0] + s0[2]) + (s0[1] + s0[3])) + tail
}

/// y ← y + α·x, in chunks of 4 lanes.
#[inline(always)]
fn axpy<const FMA: bool>(alpha: f64, x: &[f64], y: &mut [f64]) {
    let x = &x[..y.len()];
    let mut cy = y.chunks_exact_mut(4);
    let mut cx = x.chunks_exact(4);
    for (yy, xx) in (&mut cy).zip(&mut cx) {
        for l in 0..4 {
            yy[l] = madd::<FMA>(alpha, xx[l], yy[l]);
        }
    }
    for (yy, xx) in cy.into_remainder().iter_mut().zip(cx.remainder()) {
        *yy = madd::<FMA>(alpha, *xx, *yy);
    }
}

/// How many stored entries ahead the rows of the dense factor are prefetched. The gathers
/// B[j] at the column indices of a CSR row are the latency-bound part of the sparse passes.
const PREFETCH_AHEAD: usize = 8;

/// Hints the CPU to fetch the `k` values at `base` (a row of a dense factor) into the cache.
/// A no-op off x86-64. Never faults: a prefetch of any address is allowed.
#[inline(always)]
fn prefetch_row(base: *const f64, k: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        use core::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let mut o = 0;
        while o < k {
            // SAFETY: prefetching has no architectural effect and never faults; the pointer
            // is only formed with wrapping arithmetic and never dereferenced.
            #[allow(unused_unsafe)]
            unsafe {
                _mm_prefetch::<_MM_HINT_T0>(base.wrapping_add(o) as *const i8)
            };
            o += 8;
        }
        #[allow(unused_unsafe)]
        // SAFETY: as above.
        unsafe {
            _mm_prefetch::<_MM_HINT_T0>(base.wrapping_add(k - 1) as *const i8)
        };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (base, k);
}

/// Prefetches the row of `b` for the stored entry `PREFETCH_AHEAD` places after `t`.
#[inline(always)]
fn prefetch_ahead(cols: &[usize], t: usize, b: &[f64], k: usize) {
    if let Some(&jn) = cols.get(t + PREFETCH_AHEAD) {
        prefetch_row(b.as_ptr().wrapping_add(jn * k), k);
    }
}

/// out ← a·G for a k-vector `a` and a symmetric row-major k×k `G`.
#[inline(always)]
fn vec_mat<const FMA: bool>(a: &[f64], g: &[f64], out: &mut [f64]) {
    let k = a.len();
    out.fill(0.0);
    for (m, &am) in a.iter().enumerate() {
        if am != 0.0 {
            axpy::<FMA>(am, &g[m * k..(m + 1) * k], out);
        }
    }
}

/// ln(y) for a positive, finite, normal `y`, branch-free so that loops over it vectorize.
///
/// y = 2^e·μ with μ ∈ [√½, √2); ln μ = 2·atanh(s) with s = (μ−1)/(μ+1), |s| ≤ 0.172, summed
/// as 2s·Σ_{i<12} s^{2i}/(2i+1) (truncation < 1e-18 relative), plus e·ln 2 (ln 2 split in a
/// high and a low part). Agrees with `f64::ln` to a few ulp; callers only pass ratios
/// x/max(wh, ε) of normal numbers.
#[inline(always)]
pub fn ln_fast(y: f64) -> f64 {
    const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000); // 6.9314718036912382e-1
    const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76); // 1.9082149292705877e-10
    let bits = y.to_bits();
    let mut e = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mut mu = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    let big = mu > std::f64::consts::SQRT_2;
    mu = if big { mu * 0.5 } else { mu };
    e += big as i64;
    let f = mu - 1.0;
    let s = f / (2.0 + f);
    let z = s * s;
    let mut p = 1.0 / 23.0;
    p = p * z + 1.0 / 21.0;
    p = p * z + 1.0 / 19.0;
    p = p * z + 1.0 / 17.0;
    p = p * z + 1.0 / 15.0;
    p = p * z + 1.0 / 13.0;
    p = p * z + 1.0 / 11.0;
    p = p * z + 1.0 / 9.0;
    p = p * z + 1.0 / 7.0;
    p = p * z + 1.0 / 5.0;
    p = p * z + 1.0 / 3.0;
    let ef = e as f64;
    // ln μ = f − (f − 2s·(1 + z·p')) keeps the leading term exact: 2s = f − s·f.
    let r = s * z * p; // Σ_{i≥1} s^{2i+1}/(2i+1)
    ef * LN2_HI + ((f - s * f) + (2.0 * r + ef * LN2_LO))
}

/// Σ_t x_t·ln(x_t / d_t) over paired slices, with [`ln_fast`] and four accumulators.
#[inline(always)]
fn xlogx_ratio_sum(x: &[f64], d: &[f64]) -> f64 {
    let d = &d[..x.len()];
    let mut acc = [0.0f64; 4];
    let cx = x.chunks_exact(4);
    let cd = d.chunks_exact(4);
    let (rx, rd) = (cx.remainder(), cd.remainder());
    for (xx, dd) in cx.zip(cd) {
        for l in 0..4 {
            acc[l] += xx[l] * ln_fast(xx[l] / dd[l]);
        }
    }
    let mut tail = 0.0;
    for (xx, dd) in rx.iter().zip(rd) {
        tail += xx * ln_fast(xx / dd);
    }
    ((acc[0] + acc[2]) + (acc[1] + acc[3])) + tail
}

// ---------------------------------------------------------------------------------------------
// Block reductions.

/// Number of scalar slots at the start of a block's partial sums.
const SCALARS: usize = 6;
const S_LOG: usize = 0;
const S_CROSS: usize = 1;
const S_OLD_L1: usize = 2;
const S_OLD_SQ: usize = 3;
const S_NEW_L1: usize = 4;
const S_NEW_SQ: usize = 5;

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
    /// Statistics of the updated factor (the Gram matrix only when requested).
    pub new: FactorStats,
}

/// Runs `body(first_row, out_block, partials)` over blocks of [`ROW_BLOCK`] rows in parallel
/// (one writer per block of output rows) and sums the per-block partials in block order.
fn blocks<F>(nrows: usize, k: usize, stride: usize, out: &mut [f64], body: F) -> Vec<f64>
where
    F: Fn(usize, &mut [f64], &mut [f64]) + Sync,
{
    let nblocks = nrows.div_ceil(ROW_BLOCK).max(1);
    let mut partials = vec![0.0; nblocks * stride];
    if nrows > 0 {
        out.par_chunks_mut(ROW_BLOCK * k.max(1))
            .zip(partials.par_chunks_mut(stride))
            .enumerate()
            .for_each(|(b, (ob, pb))| body(b * ROW_BLOCK, ob, pb));
    }
    let mut total = vec![0.0; stride];
    for pb in partials.chunks_exact(stride) {
        for (t, p) in total.iter_mut().zip(pb) {
            *t += p;
        }
    }
    total
}

fn split_stats(total: &[f64], k: usize, gram: bool) -> PassStats {
    PassStats {
        logsum: total[S_LOG],
        cross: total[S_CROSS],
        old_l1: total[S_OLD_L1],
        old_sq: total[S_OLD_SQ],
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
fn add_new_row<const FMA: bool>(v: &[f64], part: &mut [f64], gram: bool) {
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
fn add_old_row<const FMA: bool>(v: &[f64], part: &mut [f64]) {
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
fn check_numerator(name: &str, a: &[f64], num: &[f64], k: usize) -> usize {
    assert!(
        k >= 1 && a.len().is_multiple_of(k),
        "{name}: A must be rows × k"
    );
    assert_eq!(num.len(), a.len(), "{name}: num must have A's shape");
    a.len() / k
}

#[track_caller]
fn check_factor(name: &str, a: &[f64], rows: usize, k: usize) {
    assert_eq!(
        a.len(),
        rows * k,
        "{name} must be a row-major {rows}×{k} slice (got {} entries)",
        a.len()
    );
}

// ---------------------------------------------------------------------------------------------
// Factor statistics.

#[multiversion(targets(
    "x86_64+avx512f+avx512vl+avx2+avx+fma",
    "x86_64+avx2+avx+fma",
    "x86_64+avx",
    "aarch64+neon"
))]
fn stats_block(a: &[f64], k: usize, part: &mut [f64], gram: bool) {
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
    let rows = a.len() / k;
    let stride = SCALARS + k + if gram { k * k } else { 0 };
    // A read-only pass: give each block a dummy output so the block layout is shared.
    let nblocks = rows.div_ceil(ROW_BLOCK).max(1);
    let mut partials = vec![0.0; nblocks * stride];
    a.par_chunks(ROW_BLOCK * k)
        .zip(partials.par_chunks_mut(stride))
        .for_each(|(ab, pb)| stats_block(ab, k, pb, gram));
    let mut total = vec![0.0; stride];
    for pb in partials.chunks_exact(stride) {
        for (t, p) in total.iter_mut().zip(pb) {
            *t += p;
        }
    }
    split_stats(&total, k, gram).new
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

// ---------------------------------------------------------------------------------------------
// CSR × dense.

#[multiversion(targets(
    "x86_64+avx512f+avx512vl+avx2+avx+fma",
    "x86_64+avx2+avx+fma",
    "x86_64+avx",
    "aarch64+neon"
))]
fn csr_dense_block<'x>(x: CsrRef<'x>, row0: usize, b: &[f64], k: usize, out: &mut [f64]) {
    let fma = target_cfg_f!(target_feature = "fma");
    for (r, o) in out.chunks_exact_mut(k).enumerate() {
        o.fill(0.0);
        let (cols, vals) = x.row(row0 + r);
        let ahead = x.row_ahead(row0 + r);
        for (t, (&j, &v)) in cols.iter().zip(vals).enumerate() {
            prefetch_ahead(ahead, t, b, k);
            let bj = &b[j * k..(j + 1) * k];
            if fma {
                axpy::<true>(v, bj, o);
            } else {
                axpy::<false>(v, bj, o);
            }
        }
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

/// Row `i` of the old factor: from `a` when given, else the output row itself (an in-place
/// update, which reads the row before writing it).
#[inline(always)]
fn old_row<'s>(a: Option<&'s [f64]>, i: usize, k: usize, o: &'s [f64]) -> &'s [f64] {
    match a {
        Some(a) => &a[i * k..(i + 1) * k],
        None => o,
    }
}

// ---------------------------------------------------------------------------------------------
// Register-resident fast paths for k = 4·C (C = 1..=8, i.e. k ∈ {4, 8, …, 32}).
//
// With k known at compile time the k-vector accumulators live in vector registers for the
// whole sparse row instead of being loaded and stored for every stored entry (a
// store-to-load chain per entry), and every k-loop unrolls. The arithmetic is the same as in
// the generic path; only the grouping of the lanes in the sums differs (still a fixed order,
// so results stay independent of the thread count).

/// A k-vector held as `C` chunks of 4 lanes.
type Lanes<const C: usize> = [[f64; 4]; C];

#[inline(always)]
fn lanes_load<const C: usize>(s: &[f64]) -> Lanes<C> {
    let s = &s[..4 * C];
    let mut v = [[0.0; 4]; C];
    for (c, vc) in v.iter_mut().enumerate() {
        vc.copy_from_slice(&s[4 * c..4 * c + 4]);
    }
    v
}

/// A row-major `rows × 4C` factor seen as a slice of rows of lanes, so that row `j` is one
/// bounds-checked index (`rows[j]`) instead of a sub-slice with an overflow check and two bound
/// checks per stored entry in the hot loops.
#[inline(always)]
fn lane_rows<const C: usize>(b: &[f64]) -> &[Lanes<C>] {
    b.as_chunks::<4>().0.as_chunks::<C>().0
}

/// [`lane_rows`] for a factor that is written to.
#[inline(always)]
fn lane_rows_mut<const C: usize>(b: &mut [f64]) -> &mut [Lanes<C>] {
    b.as_chunks_mut::<4>().0.as_chunks_mut::<C>().0
}

/// Prefetches row `j` of a lane-row factor (see [`prefetch_row`]).
#[inline(always)]
fn prefetch_lanes<const C: usize>(rows: &[Lanes<C>], j: usize) {
    prefetch_row(rows.as_ptr().wrapping_add(j) as *const f64, 4 * C);
}

/// The prefetch targets of a row's stored entries: `ahead` is the row's column indices
/// followed by those of the next rows ([`CsrRef::row_ahead`]); entry `t` prefetches the row
/// for entry `t + PREFETCH_AHEAD`, which exists for the first `min(n, len)` entries.
#[inline(always)]
fn prefetch_targets(ahead: &[usize], n: usize) -> &[usize] {
    let pf = ahead.get(PREFETCH_AHEAD..).unwrap_or(&[]);
    &pf[..pf.len().min(n)]
}

/// out_t = a·b[j_t] for the stored entries t of one CSR row (columns `cols`; k = 4·C), with
/// the rows of b prefetched ahead through `ahead` ([`CsrRef::row_ahead`]).
#[inline(always)]
fn lanes_dots<const C: usize, const FMA: bool>(
    cols: &[usize],
    ahead: &[usize],
    a: &Lanes<C>,
    b: &[f64],
    out: &mut [f64],
) {
    let rows = lane_rows::<C>(b);
    let n = out.len().min(cols.len());
    let (cols, out) = (&cols[..n], &mut out[..n]);
    let pf = prefetch_targets(ahead, n);
    let np = pf.len();
    let (head, tail) = out.split_at_mut(np);
    for ((&j, w), &p) in cols[..np].iter().zip(head).zip(pf) {
        prefetch_lanes(rows, p);
        *w = lanes_dot_lanes::<C, FMA>(a, &rows[j]);
    }
    for (&j, w) in cols[np..].iter().zip(tail) {
        *w = lanes_dot_lanes::<C, FMA>(a, &rows[j]);
    }
}

/// s ← s + α·r for two k-vectors held as lanes (k = 4·C).
#[inline(always)]
fn lanes_add_scaled<const C: usize, const FMA: bool>(alpha: f64, r: &Lanes<C>, s: &mut Lanes<C>) {
    for c in 0..C {
        for l in 0..4 {
            s[c][l] = madd::<FMA>(alpha, r[c][l], s[c][l]);
        }
    }
}

/// Σ_l a_l·r_l for two k-vectors held as lanes: lane-wise products summed over the chunks,
/// then the 4 lanes pairwise.
#[inline(always)]
fn lanes_dot_lanes<const C: usize, const FMA: bool>(a: &Lanes<C>, r: &Lanes<C>) -> f64 {
    let mut s = [0.0f64; 4];
    for c in 0..C {
        for l in 0..4 {
            s[l] = madd::<FMA>(a[c][l], r[c][l], s[l]);
        }
    }
    (s[0] + s[2]) + (s[1] + s[3])
}

/// y ← y + α·x for a k-vector slice `x` (k = 4·C).
#[inline(always)]
fn lanes_axpy<const C: usize, const FMA: bool>(alpha: f64, x: &[f64], y: &mut Lanes<C>) {
    let x = &x[..4 * C];
    for (c, yc) in y.iter_mut().enumerate() {
        for l in 0..4 {
            yc[l] = madd::<FMA>(alpha, x[4 * c + l], yc[l]);
        }
    }
}

/// a·G for a k-vector `a` (k = 4·C) and a row-major k×k `G`: the rows of G weighted by the
/// even entries of `a` and by the odd ones are summed into two accumulators (two independent
/// chains of fused multiply-adds), added at the end.
#[inline(always)]
fn lanes_vec_mat<const C: usize, const FMA: bool>(a: &Lanes<C>, g: &[f64]) -> Lanes<C> {
    let k = 4 * C;
    let mut even: Lanes<C> = [[0.0; 4]; C];
    let mut odd: Lanes<C> = [[0.0; 4]; C];
    for (c, ac) in a.iter().enumerate() {
        for l in (0..4).step_by(2) {
            let m = 4 * c + l;
            lanes_axpy::<C, FMA>(ac[l], &g[m * k..(m + 1) * k], &mut even);
            lanes_axpy::<C, FMA>(ac[l + 1], &g[(m + 1) * k..(m + 2) * k], &mut odd);
        }
    }
    for c in 0..C {
        for l in 0..4 {
            even[c][l] += odd[c][l];
        }
    }
    even
}

/// Adds the statistics of the new block rows `out` (rows × 4C, row-major) to `part`: ‖·‖₁,
/// ‖·‖²_F and the column sums row by row, and (when `gram`) the full Gram matrix one row at
/// a time, G_m ← G_m + Σ_r o_rm·o_r, with the row of G kept in registers over the block.
#[inline(always)]
fn lanes_block_stats<const C: usize, const FMA: bool>(out: &[f64], part: &mut [f64], gram: bool) {
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
fn lanes_old_stats<const C: usize, const FMA: bool>(a: &Lanes<C>, part: &mut [f64]) {
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

/// Σ_t v_t·b[j_t] over one CSR row (k = 4·C), with two independent accumulator sets (even
/// and odd entries, added at the end) to halve the fused-multiply-add dependency chain.
/// `cols` may run past the row (see [`CsrRef::row_ahead`]); the row has `vals.len()` entries.
/// With `prefetch`, entry t prefetches the row of b for entry t + [`PREFETCH_AHEAD`].
#[inline(always)]
fn lanes_row_sum<const C: usize, const FMA: bool>(
    cols: &[usize],
    vals: &[f64],
    b: &[f64],
    prefetch: bool,
) -> Lanes<C> {
    let rows = lane_rows::<C>(b);
    let n = vals.len();
    let (ahead, cols) = (cols, &cols[..n]);
    let mut s0: Lanes<C> = [[0.0; 4]; C];
    let mut s1: Lanes<C> = [[0.0; 4]; C];
    // Pairs of entries with prefetch targets first (an even count), then the other pairs.
    let pf = if prefetch {
        prefetch_targets(ahead, n)
    } else {
        &[]
    };
    let np = pf.len() & !1;
    for ((jj, vv), pp) in cols[..np]
        .chunks_exact(2)
        .zip(vals[..np].chunks_exact(2))
        .zip(pf[..np].chunks_exact(2))
    {
        prefetch_lanes(rows, pp[0]);
        prefetch_lanes(rows, pp[1]);
        lanes_add_scaled::<C, FMA>(vv[0], &rows[jj[0]], &mut s0);
        lanes_add_scaled::<C, FMA>(vv[1], &rows[jj[1]], &mut s1);
    }
    let (ct, vt) = (&cols[np..], &vals[np..]);
    for (jj, vv) in ct.chunks_exact(2).zip(vt.chunks_exact(2)) {
        lanes_add_scaled::<C, FMA>(vv[0], &rows[jj[0]], &mut s0);
        lanes_add_scaled::<C, FMA>(vv[1], &rows[jj[1]], &mut s1);
    }
    if ct.len() % 2 == 1 {
        let last = ct.len() - 1;
        lanes_add_scaled::<C, FMA>(vt[last], &rows[ct[last]], &mut s0);
    }
    for c in 0..C {
        for l in 0..4 {
            s0[c][l] += s1[c][l];
        }
    }
    s0
}

/// [`frobenius_rows_inner`] for k = 4·C.
#[inline(always)]
fn frobenius_rows_lanes<const C: usize, const FMA: bool>(
    x: CsrRef<'_>,
    row0: usize,
    a: Option<&[f64]>,
    b: &[f64],
    g: &[f64],
    l1: f64,
    l2: f64,
    gram: bool,
    out: &mut [f64],
    part: &mut [f64],
) {
    let k = 4 * C;
    let mut cross = 0.0;
    for (r, o) in out.chunks_exact_mut(k).enumerate() {
        let i = row0 + r;
        let ai = lanes_load::<C>(old_row(a, i, k, o));
        let vals = x.row(i).1;
        let ahead = x.row_ahead(i);
        let num = lanes_row_sum::<C, FMA>(ahead, vals, b, true);
        cross += lanes_dot_lanes::<C, FMA>(&ai, &num);
        let den = lanes_vec_mat::<C, FMA>(&ai, g);
        for c in 0..C {
            for l in 0..4 {
                let mut d = den[c][l] + l1 + l2 * ai[c][l];
                if d == 0.0 {
                    d = EPSILON;
                }
                o[4 * c + l] = ai[c][l] * (num[c][l] / d);
            }
        }
        lanes_old_stats::<C, FMA>(&ai, part);
    }
    lanes_block_stats::<C, FMA>(out, part, gram);
    part[S_CROSS] += cross;
}

/// [`kl_rows_inner`] for k = 4·C, in three phases per row so that the independent work is
/// not serialized behind one dependency chain per stored entry: (1) the dots w_t = a_i·b_j
/// for all stored entries of the row into a buffer, (2) over that buffer, vectorized, the
/// cross term, the log term and the ratios x/max(w, ε), (3) the sum of ratio·b_j (the rows
/// b_j are still in L1 from phase 1).
#[inline(always)]
fn kl_rows_lanes<const C: usize, const FMA: bool>(
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
fn kl_update(a: f64, num: f64, den_base: f64, l2: f64, floor: bool) -> f64 {
    let mut den = den_base + l2 * a;
    if den == 0.0 {
        den = EPSILON;
    }
    let val = a * (num / den);
    if floor && val < f64::EPSILON {
        0.0
    } else {
        val
    }
}

/// Turns the dots w_t of one row into the ratios x_t / max(w_t, ε) in place and returns
/// (Σ x_t·w_t, Σ_{x_t>ε} x_t·ln(x_t / max(w_t, ε))) (the log sum only when `with_log`),
/// in 4 lanes so that it vectorizes.
#[inline(always)]
fn kl_ratios<const FMA: bool>(vals: &[f64], w: &mut [f64], with_log: bool) -> (f64, f64) {
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

/// Calls `$f::<C, FMA>(args…)` when k = 4·C with C ≤ 8 and evaluates to `true`; `false`
/// otherwise (the caller then runs the generic path).
macro_rules! by_lanes {
    ($k:expr, $fma:ident, $f:ident($($arg:expr),* $(,)?)) => {
        match $k {
            4 => { $f::<1, $fma>($($arg),*); true }
            8 => { $f::<2, $fma>($($arg),*); true }
            12 => { $f::<3, $fma>($($arg),*); true }
            16 => { $f::<4, $fma>($($arg),*); true }
            20 => { $f::<5, $fma>($($arg),*); true }
            24 => { $f::<6, $fma>($($arg),*); true }
            28 => { $f::<7, $fma>($($arg),*); true }
            32 => { $f::<8, $fma>($($arg),*); true }
            _ => false,
        }
    };
}

/// buf_j += x_ij·a_i for the rows i = row0, row0 + 1, … of `a_block` (row-major, one row per
/// row of X from `row0`) and their stored entries j; rows in order, entries in storage order.
#[multiversion(targets(
    "x86_64+avx512f+avx512vl+avx2+avx+fma",
    "x86_64+avx2+avx+fma",
    "x86_64+avx",
    "aarch64+neon"
))]
fn scatter_block<'x>(x: CsrRef<'x>, row0: usize, a_block: &[f64], k: usize, buf: &mut [f64]) {
    let fma = target_cfg_f!(target_feature = "fma");
    const WITH_FMA: bool = true;
    if fma && by_lanes!(k, WITH_FMA, scatter_rows_lanes(x, row0, a_block, buf)) {
        return;
    }
    for (r, ai) in a_block.chunks_exact(k).enumerate() {
        let (cols, vals) = x.row(row0 + r);
        let ahead = x.row_ahead(row0 + r);
        for (t, (&j, &v)) in cols.iter().zip(vals).enumerate() {
            prefetch_ahead(ahead, t, buf, k);
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
fn scatter_rows_lanes<const C: usize, const FMA: bool>(
    x: CsrRef<'_>,
    row0: usize,
    a_block: &[f64],
    buf: &mut [f64],
) {
    let k = 4 * C;
    for (r, ar) in a_block.chunks_exact(k).enumerate() {
        let ai = lanes_load::<C>(ar);
        let (cols, vals) = x.row(row0 + r);
        lanes_scatter_row::<C, FMA>(cols, x.row_ahead(row0 + r), vals, &ai, buf);
    }
}

/// buf_{j_t} += v_t·a for the stored entries t of one CSR row (columns `cols`, weights `v`;
/// k = 4·C), with the rows of `buf` prefetched ahead through `ahead` ([`CsrRef::row_ahead`]).
#[inline(always)]
fn lanes_scatter_row<const C: usize, const FMA: bool>(
    cols: &[usize],
    ahead: &[usize],
    v: &[f64],
    a: &Lanes<C>,
    buf: &mut [f64],
) {
    let rows = lane_rows_mut::<C>(buf);
    let n = v.len().min(cols.len());
    let (cols, v) = (&cols[..n], &v[..n]);
    let pf = prefetch_targets(ahead, n);
    let np = pf.len();
    for ((&j, &vt), &p) in cols[..np].iter().zip(&v[..np]).zip(pf) {
        prefetch_lanes(rows, p);
        lanes_add_scaled::<C, FMA>(vt, a, &mut rows[j]);
    }
    for (&j, &vt) in cols[np..].iter().zip(&v[np..]) {
        lanes_add_scaled::<C, FMA>(vt, a, &mut rows[j]);
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
    let (nnz, mk) = (x.nnz(), x.ncols * k);
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
    extra.clear();
    extra.resize((parts - 1) * mk, 0.0);
    let mut bufs: Vec<&mut [f64]> = Vec::with_capacity(parts);
    bufs.push(&mut *out);
    bufs.extend(extra.chunks_exact_mut(mk.max(1)).take(parts - 1));
    bufs.par_iter_mut().enumerate().for_each(|(p, buf)| {
        buf.fill(0.0);
        let rows = cuts[p]..cuts[p + 1];
        scatter_block(x, rows.start, &a[rows.start * k..rows.end * k], k, buf);
    });
    drop(bufs);
    add_buffers(out, extra, k);
}

#[multiversion(targets(
    "x86_64+avx512f+avx512vl+avx2+avx+fma",
    "x86_64+avx2+avx+fma",
    "x86_64+avx",
    "aarch64+neon"
))]
fn frobenius_num_block(
    a: &mut [f64],
    num: &[f64],
    k: usize,
    g: &[f64],
    l1: f64,
    l2: f64,
    gram: bool,
    part: &mut [f64],
) {
    let fma = target_cfg_f!(target_feature = "fma");
    const WITH_FMA: bool = true;
    if fma && by_lanes!(k, WITH_FMA, num_rows_lanes(a, num, g, l1, l2, gram, part)) {
        return;
    }
    let mut den = vec![0.0; k];
    for (o, nr) in a.chunks_exact_mut(k).zip(num.chunks_exact(k)) {
        if fma {
            vec_mat::<true>(o, g, &mut den);
            add_old_row::<true>(o, part);
        } else {
            vec_mat::<false>(o, g, &mut den);
            add_old_row::<false>(o, part);
        }
        for l in 0..k {
            let mut d = den[l] + l1 + l2 * o[l];
            if d == 0.0 {
                d = EPSILON;
            }
            o[l] *= nr[l] / d;
        }
        if fma {
            add_new_row::<true>(o, part, gram);
        } else {
            add_new_row::<false>(o, part, gram);
        }
    }
}

/// [`frobenius_num_block`] for k = 4·C.
#[inline(always)]
fn num_rows_lanes<const C: usize, const FMA: bool>(
    a: &mut [f64],
    num: &[f64],
    g: &[f64],
    l1: f64,
    l2: f64,
    gram: bool,
    part: &mut [f64],
) {
    let k = 4 * C;
    for (o, nr) in a.chunks_exact_mut(k).zip(num.chunks_exact(k)) {
        let ai = lanes_load::<C>(o);
        let den = lanes_vec_mat::<C, FMA>(&ai, g);
        for c in 0..C {
            for l in 0..4 {
                let mut d = den[c][l] + l1 + l2 * ai[c][l];
                if d == 0.0 {
                    d = EPSILON;
                }
                o[4 * c + l] = ai[c][l] * (nr[4 * c + l] / d);
            }
        }
        lanes_old_stats::<C, FMA>(&ai, part);
    }
    lanes_block_stats::<C, FMA>(a, part, gram);
}

/// The Frobenius multiplicative update of A in place from a precomputed numerator `num`
/// (row-major like A, e.g. Xᵀ·W from [`csr_transpose_mul_dense`]):
///
/// ```text
/// a_il ← a_il · num_il / d_il,     d_il = (a_i·G)_l + l1 + l2·a_il   (0 → ε)
/// ```
///
/// Returns ‖A_old‖₁, ‖A_old‖²_F and the new A's statistics (its Gram matrix when `gram`);
/// the cross term is 0.
///
/// # Panics
/// If the shapes do not agree.
#[track_caller]
pub fn mu_frobenius_from_numerator(
    a: &mut [f64],
    num: &[f64],
    k: usize,
    g: &[f64],
    l1: f64,
    l2: f64,
    gram: bool,
) -> PassStats {
    let rows = check_numerator("mu_frobenius_from_numerator", a, num, k);
    assert_eq!(g.len(), k * k, "mu_frobenius_from_numerator: G must be k×k");
    let stride = SCALARS + k + if gram { k * k } else { 0 };
    let total = blocks(rows, k, stride, a, |row0, ob, pb| {
        let s = row0 * k;
        frobenius_num_block(ob, &num[s..s + ob.len()], k, g, l1, l2, gram, pb)
    });
    split_stats(&total, k, gram)
}

// ---------------------------------------------------------------------------------------------
// Multiplicative updates.

#[multiversion(targets(
    "x86_64+avx512f+avx512vl+avx2+avx+fma",
    "x86_64+avx2+avx+fma",
    "x86_64+avx",
    "aarch64+neon"
))]
fn kl_block<'x>(
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
fn kl_rows_inner<const FMA: bool>(
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
            let bj = &b[j * k..(j + 1) * k];
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
fn kl_pass(
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

#[multiversion(targets(
    "x86_64+avx512f+avx512vl+avx2+avx+fma",
    "x86_64+avx2+avx+fma",
    "x86_64+avx",
    "aarch64+neon"
))]
fn frobenius_block<'x>(
    x: CsrRef<'x>,
    row0: usize,
    a: Option<&[f64]>,
    b: &[f64],
    k: usize,
    g: &[f64],
    l1: f64,
    l2: f64,
    gram: bool,
    out: &mut [f64],
    part: &mut [f64],
) {
    if target_cfg_f!(target_feature = "fma") {
        frobenius_rows_inner::<true>(x, row0, a, b, k, g, l1, l2, gram, out, part);
    } else {
        frobenius_rows_inner::<false>(x, row0, a, b, k, g, l1, l2, gram, out, part);
    }
}

#[inline(always)]
fn frobenius_rows_inner<const FMA: bool>(
    x: CsrRef<'_>,
    row0: usize,
    a: Option<&[f64]>,
    b: &[f64],
    k: usize,
    g: &[f64],
    l1: f64,
    l2: f64,
    gram: bool,
    out: &mut [f64],
    part: &mut [f64],
) {
    if FMA
        && by_lanes!(
            k,
            FMA,
            frobenius_rows_lanes(x, row0, a, b, g, l1, l2, gram, out, part)
        )
    {
        return;
    }
    let mut num = vec![0.0; k];
    let mut den = vec![0.0; k];
    let mut old = vec![0.0; k];
    let mut cross = 0.0;
    for (r, o) in out.chunks_exact_mut(k).enumerate() {
        let i = row0 + r;
        old.copy_from_slice(old_row(a, i, k, o));
        let ai = &old[..];
        num.fill(0.0);
        let (cols, vals) = x.row(i);
        let ahead = x.row_ahead(i);
        for (t, (&j, &v)) in cols.iter().zip(vals).enumerate() {
            prefetch_ahead(ahead, t, b, k);
            axpy::<FMA>(v, &b[j * k..(j + 1) * k], &mut num);
        }
        cross += dot::<FMA>(ai, &num);
        vec_mat::<FMA>(ai, g, &mut den);
        for l in 0..k {
            let mut d = den[l] + l1 + l2 * ai[l];
            if d == 0.0 {
                d = EPSILON;
            }
            o[l] = ai[l] * (num[l] / d);
        }
        add_old_row::<FMA>(ai, part);
        add_new_row::<FMA>(o, part, gram);
    }
    part[S_CROSS] += cross;
}

/// One multiplicative update of A for the Frobenius objective ½‖X − A·Bᵀ‖²_F, written to
/// `out` (row-major like `a`):
///
/// ```text
/// out_il = a_il · (x_i·B)_l / d_il,     d_il = (a_i·G)_l + l1 + l2·a_il   (0 → ε)
/// ```
///
/// where `G = BᵀB` (row-major k×k, symmetric). With A = W, B = Ht, G = HHᵀ it is
/// scikit-learn's W update `W ⊙ XHᵀ ⊘ (W·HHᵀ + l1 + l2·W)`; with Xᵀ, A = Ht, B = W, G = WᵀW it
/// is the H update. The numerator row x_i·B is accumulated in a k-vector and used at once.
///
/// Also returns tr(Aᵀ·X·B) = Σ_i a_i·(x_i·B) for the old A (the Frobenius cross term), ‖A‖₁,
/// ‖A‖²_F, and the new A's statistics (its Gram matrix when `gram`).
///
/// # Panics
/// If the shapes do not agree.
#[track_caller]
pub fn mu_frobenius_rows(
    x: CsrRef<'_>,
    a: &[f64],
    b: &[f64],
    k: usize,
    g: &[f64],
    l1: f64,
    l2: f64,
    gram: bool,
    out: &mut [f64],
) -> PassStats {
    check_factor("mu_frobenius_rows: A", a, x.nrows, k);
    frobenius_pass(x, Some(a), b, k, g, l1, l2, gram, out)
}

/// [`mu_frobenius_rows`] with the result written over `a` itself (each row is read before
/// it is written; no second factor buffer). Same values and statistics.
///
/// # Panics
/// If the shapes do not agree.
#[track_caller]
pub fn mu_frobenius_rows_in_place(
    x: CsrRef<'_>,
    a: &mut [f64],
    b: &[f64],
    k: usize,
    g: &[f64],
    l1: f64,
    l2: f64,
    gram: bool,
) -> PassStats {
    frobenius_pass(x, None, b, k, g, l1, l2, gram, a)
}

#[track_caller]
fn frobenius_pass(
    x: CsrRef<'_>,
    a: Option<&[f64]>,
    b: &[f64],
    k: usize,
    g: &[f64],
    l1: f64,
    l2: f64,
    gram: bool,
    out: &mut [f64],
) -> PassStats {
    assert!(k >= 1, "mu_frobenius_rows: k must be at least 1");
    check_factor("mu_frobenius_rows: B", b, x.ncols, k);
    check_factor("mu_frobenius_rows: out", out, x.nrows, k);
    assert_eq!(g.len(), k * k, "mu_frobenius_rows: G must be k×k");
    let stride = SCALARS + k + if gram { k * k } else { 0 };
    let total = blocks(x.nrows, k, stride, out, |row0, ob, pb| {
        frobenius_block(x, row0, a, b, k, g, l1, l2, gram, ob, pb)
    });
    split_stats(&total, k, gram)
}

#[multiversion(targets(
    "x86_64+avx512f+avx512vl+avx2+avx+fma",
    "x86_64+avx2+avx+fma",
    "x86_64+avx",
    "aarch64+neon"
))]
fn eval_block<'x>(
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
            let bj = &b[j * k..(j + 1) * k];
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

/// Evaluates, for X ≈ A·Bᵀ at the stored entries of X only, `(Σ_{x>ε} x·ln(x / max(a_i·b_j, ε)),
/// Σ x·(a_i·b_j))` — the data term of the KL divergence and the Frobenius cross term — without
/// updating anything.
///
/// # Panics
/// If the shapes do not agree.
#[track_caller]
pub fn eval_at_nonzeros(x: CsrRef<'_>, a: &[f64], b: &[f64], k: usize) -> (f64, f64) {
    assert!(k >= 1, "eval_at_nonzeros: k must be at least 1");
    check_factor("eval_at_nonzeros: A", a, x.nrows, k);
    check_factor("eval_at_nonzeros: B", b, x.ncols, k);
    let nblocks = x.nrows.div_ceil(ROW_BLOCK);
    let parts: Vec<[f64; 2]> = (0..nblocks)
        .into_par_iter()
        .map(|blk| {
            let r0 = blk * ROW_BLOCK;
            eval_block(x, r0..(r0 + ROW_BLOCK).min(x.nrows), a, b, k)
        })
        .collect();
    parts
        .iter()
        .fold((0.0, 0.0), |(l, c), p| (l + p[0], c + p[1]))
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

// ---------------------------------------------------------------------------------------------
// The fused KL pass: the W update and the numerator of the H update in one pass over X.
//
// The KL H update needs Wᵀ·R, a sum over the rows of X, which a row pass can only scatter.
// Each fixed part of the rows scatters into its own m × k buffer while it updates its rows of
// W, so X is read once per iteration, the rows h_j the W update just gathered are still in
// cache for the ratios r_ij, and no transposed copy of X is kept. (For Frobenius the same
// fusion measured ~8% slower than the dynamic W pass followed by [`csr_transpose_mul_dense`]
// on the Debian matrix: its scatter needs no dots with h_j, so there is nothing to share,
// and the fixed parts balance worse than dynamic blocks.)

/// Number of fixed parts the rows of X are cut into by the scatters, for a matrix with
/// `nnz` stored entries and `m` columns at rank `k`: at least 2 (so two threads share the
/// work), more for matrices with many entries per column, with the part buffers (`parts·m·k`
/// values) kept under a quarter of the storage of X (16 bytes per entry); at most 16. Depends
/// on the matrix only, never on the thread count, so results do not either.
pub fn scatter_parts(nnz: usize, m: usize, k: usize) -> usize {
    (nnz / (2 * m * k).max(1)).clamp(2, 16)
}

/// out ← out + Σ_p rest_p, block-parallel, the buffers added in order (deterministic).
fn add_buffers(out: &mut [f64], rest: &[f64], k: usize) {
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
fn parts_pass<F, S>(
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
    let parts = scatter_parts(x.nnz(), x.ncols, k);
    // Part p covers the blocks cuts[p]..cuts[p + 1].
    let mut cuts = vec![0usize];
    for p in 1..parts {
        let target = x.nnz() * p / parts;
        let row = x.indptr.partition_point(|&q| q < target).min(x.nrows);
        let blk = (row / ROW_BLOCK).min(nblocks);
        cuts.push(blk.max(*cuts.last().unwrap_or(&0)));
    }
    cuts.push(nblocks);
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
        tasks.push((b0, o, pp, buf));
    }
    tasks.into_par_iter().for_each(|(b0, o, pp, buf)| {
        buf.fill(0.0);
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

/// buf_j += r_ij·a_i with r_ij = x_ij / max(a_i·b_j, ε), for the rows of `a_block` (rows
/// row0, row0 + 1, … of X) and their stored entries.
#[multiversion(targets(
    "x86_64+avx512f+avx512vl+avx2+avx+fma",
    "x86_64+avx2+avx+fma",
    "x86_64+avx",
    "aarch64+neon"
))]
fn kl_scatter_block<'x>(
    x: CsrRef<'x>,
    row0: usize,
    a_block: &[f64],
    b: &[f64],
    k: usize,
    buf: &mut [f64],
) {
    if target_cfg_f!(target_feature = "fma") {
        kl_scatter_inner::<true>(x, row0, a_block, b, k, buf);
    } else {
        kl_scatter_inner::<false>(x, row0, a_block, b, k, buf);
    }
}

#[inline(always)]
fn kl_scatter_inner<const FMA: bool>(
    x: CsrRef<'_>,
    row0: usize,
    a_block: &[f64],
    b: &[f64],
    k: usize,
    buf: &mut [f64],
) {
    if FMA && by_lanes!(k, FMA, kl_scatter_lanes(x, row0, a_block, b, buf)) {
        return;
    }
    for (r, ai) in a_block.chunks_exact(k).enumerate() {
        let (cols, vals) = x.row(row0 + r);
        let ahead = x.row_ahead(row0 + r);
        for (t, (&j, &v)) in cols.iter().zip(vals).enumerate() {
            prefetch_ahead(ahead, t, b, k);
            let wh = dot::<FMA>(ai, &b[j * k..(j + 1) * k]);
            let whc = if wh < EPSILON { EPSILON } else { wh };
            axpy::<FMA>(v / whc, ai, &mut buf[j * k..(j + 1) * k]);
        }
    }
}

/// [`kl_scatter_inner`] for k = 4·C, in three phases per row as [`kl_rows_lanes`]: the dots,
/// the ratios (vectorized), then the scatter of ratio·a_i (the rows b_j and buf_j of the row's
/// entries are prefetched).
#[inline(always)]
fn kl_scatter_lanes<const C: usize, const FMA: bool>(
    x: CsrRef<'_>,
    row0: usize,
    a_block: &[f64],
    b: &[f64],
    buf: &mut [f64],
) {
    let k = 4 * C;
    let mut ratio: Vec<f64> = Vec::new();
    for (r, ar) in a_block.chunks_exact(k).enumerate() {
        let ai = lanes_load::<C>(ar);
        let (cols, vals) = x.row(row0 + r);
        let ahead = x.row_ahead(row0 + r);
        ratio.clear();
        ratio.resize(cols.len(), 0.0);
        lanes_dots::<C, FMA>(cols, ahead, &ai, b, &mut ratio);
        kl_ratios::<FMA>(vals, &mut ratio, false);
        lanes_scatter_row::<C, FMA>(cols, ahead, &ratio, &ai, buf);
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
/// (`(parts − 1)·m·k` values, see [`scatter_parts`]); keep it between calls.
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
    let stride = SCALARS + k;
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
        |row0, nb, buf| kl_scatter_block(x, row0, nb, b, k, buf),
    );
    split_stats(&total, k, false)
}

#[multiversion(targets(
    "x86_64+avx512f+avx512vl+avx2+avx+fma",
    "x86_64+avx2+avx+fma",
    "x86_64+avx",
    "aarch64+neon"
))]
fn kl_num_block(
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
fn kl_num_inner<const FMA: bool>(
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic sparse matrix (about a third of the entries stored).
    fn sample(n: usize, m: usize, seed: u64) -> Csr {
        let mut s = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let mut next = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut indptr = vec![0];
        let mut indices = vec![];
        let mut data = vec![];
        for _ in 0..n {
            for j in 0..m {
                if next() < 0.35 {
                    indices.push(j);
                    data.push(next() * 3.0);
                }
            }
            indptr.push(indices.len());
        }
        Csr {
            nrows: n,
            ncols: m,
            indptr,
            indices,
            data,
        }
    }

    fn dense(x: CsrRef<'_>) -> Vec<f64> {
        let mut d = vec![0.0; x.nrows * x.ncols];
        for i in 0..x.nrows {
            let (c, v) = x.row(i);
            for (&j, &val) in c.iter().zip(v) {
                d[i * x.ncols + j] += val;
            }
        }
        d
    }

    fn factor(rows: usize, k: usize, seed: u64) -> Vec<f64> {
        (0..rows * k)
            .map(|t| (((t as u64 + 1) * (seed + 7) * 2654435761) % 1000) as f64 / 500.0 + 0.01)
            .collect()
    }

    #[test]
    fn transpose_round_trips_and_matches_dense() {
        let x = sample(37, 23, 1);
        let xt = csr_transpose(x.view());
        let (d, dt) = (dense(x.view()), dense(xt.view()));
        for i in 0..37 {
            for j in 0..23 {
                assert_eq!(d[i * 23 + j], dt[j * 37 + i]);
            }
        }
        assert_eq!(csr_transpose(xt.view()), x);
    }

    #[test]
    fn csr_mul_dense_matches_naive_product() {
        let (n, m, k) = (300, 41, 11);
        let x = sample(n, m, 2);
        let b = factor(m, k, 3);
        let mut out = vec![f64::NAN; n * k];
        csr_mul_dense(x.view(), &b, k, &mut out);
        let d = dense(x.view());
        for i in 0..n {
            for l in 0..k {
                let want: f64 = (0..m).map(|j| d[i * m + j] * b[j * k + l]).sum();
                assert!((out[i * k + l] - want).abs() <= 1e-12 * want.abs().max(1.0));
            }
        }
    }

    /// k = 5 and 7 run the generic loops; 8 and 20 the register-resident fast paths.
    #[test]
    fn kl_pass_matches_dense_formula() {
        for k in [5, 8, 20] {
            kl_pass_check(k);
        }
    }

    fn kl_pass_check(k: usize) {
        let (n, m) = (260, 19);
        let x = sample(n, m, 4);
        let (a, b) = (factor(n, k, 5), factor(m, k, 6));
        let den_base: Vec<f64> = (0..k).map(|l| (0..m).map(|j| b[j * k + l]).sum()).collect();
        let mut out = vec![0.0; n * k];
        let st = mu_kl_rows(
            x.view(),
            &a,
            &b,
            k,
            &den_base,
            0.5,
            false,
            true,
            true,
            &mut out,
        );
        let d = dense(x.view());
        let mut logsum = 0.0;
        for i in 0..n {
            let mut num = vec![0.0; k];
            for j in 0..m {
                let xv = d[i * m + j];
                if xv == 0.0 {
                    continue;
                }
                let wh: f64 = (0..k).map(|l| a[i * k + l] * b[j * k + l]).sum();
                for l in 0..k {
                    num[l] += xv / wh.max(EPSILON) * b[j * k + l];
                }
                logsum += xv * (xv / wh.max(EPSILON)).ln();
            }
            for l in 0..k {
                let want = a[i * k + l] * num[l] / (den_base[l] + 0.5 * a[i * k + l]);
                assert!((out[i * k + l] - want).abs() <= 1e-12 * want.max(1.0));
            }
        }
        assert!((st.logsum - logsum).abs() <= 1e-10 * logsum.abs().max(1.0));
        let ns = factor_stats(&out, k, true);
        assert!((ns.l1 - st.new.l1).abs() <= 1e-10 * ns.l1);
        assert_eq!(st.new.gram.len(), k * k);
        for (p, q) in ns.gram.iter().zip(&st.new.gram) {
            assert!((p - q).abs() <= 1e-10 * p.abs().max(1.0));
        }
        let sa = factor_stats(&a, k, false);
        assert!((sa.sq - st.old_sq).abs() <= 1e-10 * sa.sq);
    }

    #[test]
    fn frobenius_pass_matches_dense_formula() {
        for k in [4, 7, 20] {
            frobenius_pass_check(k);
        }
    }

    fn frobenius_pass_check(k: usize) {
        let (n, m) = (150, 31);
        let x = sample(n, m, 8);
        let (a, b) = (factor(n, k, 9), factor(m, k, 10));
        let g = factor_stats(&b, k, true).gram;
        let mut out = vec![0.0; n * k];
        let st = mu_frobenius_rows(x.view(), &a, &b, k, &g, 0.1, 0.2, true, &mut out);
        let d = dense(x.view());
        let mut cross = 0.0;
        for i in 0..n {
            for l in 0..k {
                let num: f64 = (0..m).map(|j| d[i * m + j] * b[j * k + l]).sum();
                let den: f64 = (0..k).map(|q| a[i * k + q] * g[q * k + l]).sum::<f64>()
                    + 0.1
                    + 0.2 * a[i * k + l];
                cross += a[i * k + l] * num;
                let want = a[i * k + l] * num / den;
                assert!((out[i * k + l] - want).abs() <= 1e-12 * want.max(1.0));
            }
        }
        assert!((st.cross - cross).abs() <= 1e-10 * cross);
        let ns = factor_stats(&out, k, true);
        assert!((ns.sq - st.new.sq).abs() <= 1e-10 * ns.sq);
        for (p, q) in ns.colsum.iter().zip(&st.new.colsum) {
            assert!((p - q).abs() <= 1e-10 * p.abs().max(1.0));
        }
        for (p, q) in ns.gram.iter().zip(&st.new.gram) {
            assert!((p - q).abs() <= 1e-10 * p.abs().max(1.0));
        }
        let (_, c2) = eval_at_nonzeros(x.view(), &a, &b, k);
        assert!((c2 - cross).abs() <= 1e-10 * cross);
    }

    #[test]
    fn transpose_product_by_scatter_matches_the_transposed_copy() {
        for (n, m, k) in [(300, 41, 7), (3, 50, 4), (0, 5, 2)] {
            let x = sample(n, m, 15);
            let a = factor(n, k, 16);
            let mut want = vec![0.0; m * k];
            csr_mul_dense(csr_transpose(x.view()).view(), &a, k, &mut want);
            let mut got = vec![f64::NAN; m * k];
            csr_transpose_mul_dense(x.view(), &a, k, &mut got, &mut Vec::new());
            for (g, w) in got.iter().zip(&want) {
                assert!((g - w).abs() <= 1e-12 * w.abs().max(1.0), "{g} vs {w}");
            }
        }
    }

    #[test]
    fn update_from_numerator_equals_the_sparse_pass() {
        let (n, m, k) = (200, 29, 20);
        let x = sample(n, m, 17);
        let (ht, w) = (factor(m, k, 18), factor(n, k, 19));
        let g = factor_stats(&w, k, true).gram;
        let xt = csr_transpose(x.view());
        let mut want = vec![0.0; m * k];
        let sw = mu_frobenius_rows(xt.view(), &ht, &w, k, &g, 0.1, 0.2, true, &mut want);
        let mut num = vec![0.0; m * k];
        csr_transpose_mul_dense(x.view(), &w, k, &mut num, &mut Vec::new());
        let mut got = ht.clone();
        let sg = mu_frobenius_from_numerator(&mut got, &num, k, &g, 0.1, 0.2, true);
        for (p, q) in got.iter().zip(&want) {
            assert!((p - q).abs() <= 1e-12 * q.abs().max(1.0));
        }
        assert!((sw.old_sq - sg.old_sq).abs() <= 1e-12 * sw.old_sq);
        for (p, q) in sw.new.gram.iter().zip(&sg.new.gram) {
            assert!((p - q).abs() <= 1e-10 * p.abs().max(1.0));
        }
    }

    /// The fused KL pass on an n × m sample: its W equals [`mu_kl_rows`]'s bit for bit (same
    /// block kernel), in place or not; its numerator equals the dense formula with the new W;
    /// and everything is bit-identical with 1 and 2 threads.
    fn kl_scatter_check(n: usize, m: usize, k: usize) {
        let x = sample(n, m, 21);
        let (a, b) = (factor(n, k, 22), factor(m, k, 23));
        let den: Vec<f64> = (0..k).map(|l| 0.3 + l as f64).collect();
        let mut want = vec![0.0; n * k];
        let sw = mu_kl_rows(
            x.view(),
            &a,
            &b,
            k,
            &den,
            0.2,
            false,
            true,
            false,
            &mut want,
        );
        let run = |threads: usize, in_place: bool| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let mut out = if in_place {
                    a.clone()
                } else {
                    vec![f64::NAN; n * k]
                };
                let mut num = vec![f64::NAN; m * k];
                let mut extra = vec![f64::NAN; 3];
                let src = (!in_place).then_some(&a[..]);
                let st = mu_kl_rows_scatter(
                    x.view(),
                    src,
                    &b,
                    k,
                    &den,
                    0.2,
                    true,
                    &mut out,
                    &mut num,
                    &mut extra,
                );
                (out, num, st)
            })
        };
        let (out, num, st) = run(2, false);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&out), bits(&want), "n={n} m={m} k={k}");
        assert_eq!(st, sw);
        for (threads, in_place) in [(1, false), (1, true), (2, true)] {
            let (o, nu, s) = run(threads, in_place);
            assert_eq!(bits(&o), bits(&out));
            assert_eq!(bits(&nu), bits(&num), "numerator with {threads} threads");
            assert_eq!(s, st);
        }
        let d = dense(x.view());
        let mut expect = vec![0.0; m * k];
        for i in 0..n {
            for j in 0..m {
                let xv = d[i * m + j];
                if xv == 0.0 {
                    continue;
                }
                let wh: f64 = (0..k).map(|l| out[i * k + l] * b[j * k + l]).sum();
                for l in 0..k {
                    expect[j * k + l] += xv / wh.max(EPSILON) * out[i * k + l];
                }
            }
        }
        for (g, e) in num.iter().zip(&expect) {
            assert!((g - e).abs() <= 1e-12 * e.abs().max(1.0), "{g} vs {e}");
        }
    }

    #[test]
    fn fused_kl_pass_matches_the_row_pass_and_the_dense_numerator() {
        // (260, 19, 4) has more parts than blocks (some parts are empty), (3, 50, 4) a
        // single block, k = 7 takes the generic loops, k = 20 the register path.
        assert!(scatter_parts(sample(260, 19, 21).view().nnz(), 19, 4) > 2);
        for (n, m, k) in [
            (260, 19, 4),
            (260, 19, 7),
            (300, 41, 20),
            (3, 50, 4),
            (129, 5, 8),
        ] {
            kl_scatter_check(n, m, k);
        }
    }

    #[test]
    fn kl_update_from_numerator_equals_the_sparse_pass() {
        // The H update from the fused numerator equals the KL row pass over Xᵀ with the
        // floor, for both the values and the statistics.
        let (n, m, k) = (200, 29, 20);
        let x = sample(n, m, 24);
        let (w, mut ht) = (factor(n, k, 25), factor(m, k, 26));
        ht[3] = 1e-300; // floored to 0 by both
        let den: Vec<f64> = (0..k).map(|l| 1.0 + 0.1 * l as f64).collect();
        let xt = csr_transpose(x.view());
        let mut want = vec![0.0; m * k];
        let sw = mu_kl_rows(
            xt.view(),
            &ht,
            &w,
            k,
            &den,
            0.3,
            true,
            false,
            false,
            &mut want,
        );
        // The numerator Wᵀ·R, summed densely.
        let d = dense(x.view());
        let mut num = vec![0.0; m * k];
        for i in 0..n {
            for j in 0..m {
                let xv = d[i * m + j];
                if xv != 0.0 {
                    let wh: f64 = (0..k).map(|l| w[i * k + l] * ht[j * k + l]).sum();
                    for l in 0..k {
                        num[j * k + l] += xv / wh.max(EPSILON) * w[i * k + l];
                    }
                }
            }
        }
        let mut got = ht.clone();
        let sg = mu_kl_from_numerator(&mut got, &num, k, &den, 0.3, true);
        assert_eq!(got[3], 0.0);
        for (p, q) in got.iter().zip(&want) {
            assert!((p - q).abs() <= 1e-12 * q.abs().max(1.0), "{p} vs {q}");
        }
        assert!((sw.old_l1 - sg.old_l1).abs() <= 1e-12 * sw.old_l1);
        assert!((sw.new.l1 - sg.new.l1).abs() <= 1e-12 * sw.new.l1);
        for (p, q) in sw.new.colsum.iter().zip(&sg.new.colsum) {
            assert!((p - q).abs() <= 1e-12 * p.abs().max(1.0));
        }
    }

    #[test]
    fn in_place_passes_equal_the_out_of_place_ones() {
        for k in [3, 20] {
            let (n, m) = (300, 23);
            let x = sample(n, m, 12);
            let (a, b) = (factor(n, k, 13), factor(m, k, 14));
            let g = factor_stats(&b, k, true).gram;
            let den: Vec<f64> = (0..k).map(|l| 1.0 + l as f64).collect();
            let mut out = vec![0.0; n * k];
            let st = mu_kl_rows(x.view(), &a, &b, k, &den, 0.1, true, true, true, &mut out);
            let mut ip = a.clone();
            let st2 = mu_kl_rows_in_place(x.view(), &mut ip, &b, k, &den, 0.1, true, true, true);
            assert_eq!((out, st), (ip, st2));
            let mut out = vec![0.0; n * k];
            let st = mu_frobenius_rows(x.view(), &a, &b, k, &g, 0.1, 0.2, true, &mut out);
            let mut ip = a.clone();
            let st2 = mu_frobenius_rows_in_place(x.view(), &mut ip, &b, k, &g, 0.1, 0.2, true);
            assert_eq!((out, st), (ip, st2));
        }
    }

    #[test]
    fn zero_denominators_become_epsilon_and_give_no_nan() {
        let x = sample(10, 6, 11);
        let k = 3;
        let a = vec![0.0; 10 * k];
        let b = vec![0.0; 6 * k];
        let mut out = vec![f64::NAN; 10 * k];
        mu_kl_rows(
            x.view(),
            &a,
            &b,
            k,
            &[0.0; 3],
            0.0,
            true,
            true,
            false,
            &mut out,
        );
        assert!(out.iter().all(|v| *v == 0.0));
        let mut out = vec![f64::NAN; 10 * k];
        mu_frobenius_rows(x.view(), &a, &b, k, &[0.0; 9], 0.0, 0.0, false, &mut out);
        assert!(out.iter().all(|v| *v == 0.0));
    }

    #[test]
    #[should_panic(expected = "B must be a row-major")]
    fn shape_mismatch_panics_with_a_clear_message() {
        let x = sample(5, 4, 1);
        let mut out = vec![0.0; 10];
        csr_mul_dense(x.view(), &[0.0; 6], 2, &mut out);
    }

    #[test]
    fn ln_fast_agrees_with_std_ln() {
        let mut y = 1e-300f64;
        while y < 1e300 {
            for f in [1.0, 1.0001, 1.3, std::f64::consts::SQRT_2, 1.5, 1.99999] {
                let v = y * f;
                let (got, want) = (ln_fast(v), v.ln());
                assert!(
                    (got - want).abs() <= 4.0 * f64::EPSILON * want.abs().max(1.0),
                    "ln({v}) = {want}, ln_fast gives {got}"
                );
            }
            y *= 3.7;
        }
        for v in [1.0, 1.0 + 1e-15, 1.0 - 1e-15, 0.999, 2.0, 0.5] {
            assert!((ln_fast(v) - v.ln()).abs() <= 2.0 * f64::EPSILON);
        }
    }

    #[test]
    fn trace_product_is_frobenius_norm_of_product() {
        let (n, m, k) = (7, 5, 3);
        let (w, ht) = (factor(n, k, 1), factor(m, k, 2));
        let gw = factor_stats(&w, k, true).gram;
        let gh = factor_stats(&ht, k, true).gram;
        let mut want = 0.0;
        for i in 0..n {
            for j in 0..m {
                let v: f64 = (0..k).map(|l| w[i * k + l] * ht[j * k + l]).sum();
                want += v * v;
            }
        }
        let got = trace_product(&gw, &gh, k);
        assert!((got - want).abs() <= 1e-12 * want);
    }
}
