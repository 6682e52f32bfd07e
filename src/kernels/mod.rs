//! The hot sparse/dense kernels shared by the solvers; the update formulas of one method
//! live with that method in [`crate::nmf`] (`mu`, `hals`, `als`).
//!
//! Everything here works on plain slices: a CSR matrix is borrowed as a [`CsrRef`] (row
//! pointers, column indices increasing within each row, values) and a dense factor is a
//! row-major `rows × k` slice, so row `i` is the contiguous `a[i*k..(i+1)*k]`. The solvers keep
//! both factors in this layout: W as documents × k and H **transposed** as terms × k (`Ht`).
//!
//! | file | what it holds |
//! |---|---|
//! | `csr.rs` | [`CsrRef`], [`Csr`], [`csr_transpose`] (for CSC input and tests) |
//! | `simd.rs` | fused multiply-adds, dot/axpy over 4-lane chunks, prefetching, a branch-free logarithm, the register-resident k-vectors (`Lanes<C>`, k = 4·C) and the `by_lanes!` dispatch on k |
//! | `reduce.rs` | the block layout of partial sums, [`ROW_BLOCK`]-row block driver, factor statistics ([`factor_stats`]: norms, column sums, Gram AᵀA), [`trace_product`] |
//! | `spmm.rs` | X·B ([`csr_mul_dense`], one writer per output row), A·M for small M |
//! | `eval.rs` | values of A·Bᵀ at X's nonzeros: the KL ratios x/max(wh, ε) of a row and the evaluation pass [`eval_at_nonzeros`] (KL data term, Frobenius cross term) |
//! | `scatter.rs` | sums over the rows of X (Xᵀ·A, [`csr_transpose_mul_dense`]) scattered into part buffers, the pass that fuses a row update with its scatter (`parts_pass`) |
//!
//! # Parallelism and determinism
//! Every kernel is parallel with rayon and gives the same bits with 1 thread or 64.
//!
//! - Row passes (X·B, the W updates, factor statistics) have exactly one writer per output
//!   row. Rows are cut into fixed blocks of [`ROW_BLOCK`] rows (independent of the number of
//!   threads), scheduled dynamically; scalar and k-vector reductions are summed sequentially
//!   inside a block and then over the blocks in block order.
//! - Scatters (Xᵀ·A: a sum over the rows of X into row j of an m × k output, without a
//!   transposed copy of X) cut the rows of X into a fixed number of **parts** that depends on
//!   the matrix only ([`scatter_parts`]: at least 2, at most 16, about equal numbers of stored
//!   entries, the part buffers kept under about 1 byte per stored entry of X). Each part sums its rows
//!   in order into its own m × k buffer; the buffers are added in part order. The parts fix the
//!   order of every sum, so they fix the bits. To give every core work when there are more
//!   threads than parts, each part is further split into **column ranges**
//!   ([`column_splits`] = ⌈threads / parts⌉ ranges of equal width): one task per part and
//!   range, each owning the rows of its range in the part's buffer and taking from every row
//!   of the part only its entries in the range (found by binary search). A range changes which
//!   task adds an entry, never the order of the terms of any buf_j, so the bits stay those of
//!   the parts alone. Memory for the buffers: `parts · m · k` values, with parts ≤ 16 and
//!   independent of the thread count. The KL multiplicative update fuses the scatter into its
//!   W pass (one read of X per iteration) when there are no more threads than parts, and
//!   otherwise runs the W pass over all cores and the split scatter after it — the same parts,
//!   the same bits.
//!
//! Tests: every solver gives identical bits with 1, 2, 3 and 5 threads
//! (`tests/nmf_invariants.rs`), the scatter with 1-7 threads (below), and W.mtx/H.mtx of the
//! multiplicative updates on the Debian matrix are byte-identical with 1, 2, 3 and 16 threads.
//!
//! # Vector code
//! The per-block loops are compiled several times with the `multiversion` crate (AVX-512,
//! AVX2+FMA, AVX, NEON and a portable fallback) and the best version for the running CPU is
//! chosen once at run time; the binary does not need `-C target-cpu=native`. Inner loops are
//! written over fixed-size chunks with independent accumulators so that LLVM vectorizes them;
//! fused multiply-adds are used where the selected target has FMA. For k = 4, 8, …, 32, 40, 48,
//! 52 and 64 the per-row k-vectors are held in registers (specialized loops); other k take generic
//! loops, about 2.5 times slower per multiply-add, which is why the solvers whose zero columns
//! stay zero run at the next of these ranks ([`register_rank`], see `nmf`).
//!
//! # Cost
//! A row pass over X costs about `nnz·k` multiply-adds for the gather X·B plus the dense
//! per-row work of the update (`rows·k²` for the Frobenius updates); a scatter `nnz·k` plus
//! `(parts − 1)·m·k` additions of part buffers. No temporary is ever `nnz × k` or `n × m`.

mod csr;
mod eval;
pub(crate) mod reduce;
mod scatter;
pub(crate) mod simd;
mod spmm;

pub use csr::{csr_transpose, Csr, CsrRef};
pub(crate) use eval::kl_ratios;
pub use eval::{eval_at_nonzeros, eval_at_nonzeros_with};
pub use reduce::{factor_stats, trace_product, FactorStats, FactorStatsSum, PassStats};
pub(crate) use scatter::{
    block_cuts, lanes_scatter_row, parts_pass, row_in, split_scatter, split_scatter_with,
};
pub use scatter::{
    column_splits, csr_transpose_add_dense_one_part, csr_transpose_mul_dense,
    csr_transpose_mul_dense_one_part, scatter_parts,
};
pub use simd::{ln_fast, register_rank};
pub(crate) use spmm::csr_dense_block;
pub use spmm::{csr_mul_dense, dense_mul_small};

/// scikit-learn's `EPSILON`: the machine epsilon of `f32` (≈ 1.19e-7), used to keep
/// denominators and `W·H` values away from zero.
pub const EPSILON: f64 = f32::EPSILON as f64;

/// Number of rows per parallel block. Fixed, so reductions do not depend on the thread count.
pub const ROW_BLOCK: usize = 128;

/// Small deterministic inputs shared by the kernel and solver unit tests.
#[cfg(test)]
pub(crate) mod testutil {
    use super::{Csr, CsrRef};

    /// A small deterministic sparse matrix (about a third of the entries stored).
    pub(crate) fn sample(n: usize, m: usize, seed: u64) -> Csr {
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
                    indices.push(j as u32);
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

    pub(crate) fn dense(x: CsrRef<'_>) -> Vec<f64> {
        let mut d = vec![0.0; x.nrows * x.ncols];
        for i in 0..x.nrows {
            let (c, v) = x.row(i);
            for (&j, &val) in c.iter().zip(v) {
                d[i * x.ncols + j as usize] += val;
            }
        }
        d
    }

    pub(crate) fn factor(rows: usize, k: usize, seed: u64) -> Vec<f64> {
        (0..rows * k)
            .map(|t| (((t as u64 + 1) * (seed + 7) * 2654435761) % 1000) as f64 / 500.0 + 0.01)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::testutil::*;
    use super::*;

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
    fn the_one_part_scatter_sets_or_adds_and_reused_part_buffers_start_from_zero() {
        let (n, m, k) = (200, 37, 8);
        let x = sample(n, m, 21);
        let a = factor(n, k, 22);
        let mut set = vec![f64::NAN; m * k];
        csr_transpose_mul_dense_one_part(x.view(), &a, k, &mut set);
        let mut added = factor(m, k, 23);
        let base = added.clone();
        csr_transpose_add_dense_one_part(x.view(), &a, k, &mut added);
        for ((s, p), b) in set.iter().zip(&added).zip(&base) {
            assert!(
                (s + b - p).abs() <= 1e-12 * p.abs().max(1.0),
                "{s} + {b} vs {p}"
            );
        }
        let mut zeros = vec![0.0; m * k];
        csr_transpose_add_dense_one_part(x.view(), &a, k, &mut zeros);
        assert_eq!(zeros, set, "from zeros, the same bits");
        // Part buffers kept between calls (holding the last call's sums) start again from 0.
        let mut extra = vec![f64::NAN; 3 * m * k];
        let mut out = vec![0.0; m * k];
        csr_transpose_mul_dense(x.view(), &a, k, &mut out, &mut extra);
        let mut again = vec![0.0; m * k];
        csr_transpose_mul_dense(x.view(), &a, k, &mut again, &mut extra);
        assert_eq!(out, again);
        assert!(out.iter().all(|v| v.is_finite()));
    }

    #[test]
    fn the_scatter_gives_the_same_bits_with_any_number_of_threads() {
        // 3, 4 and 7 threads split the 2 parts into column ranges (k = 7 generic, 8 lanes).
        for k in [7, 8] {
            let x = sample(400, 90, 9);
            let a = factor(400, k, 10);
            let run = |threads: usize| {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                pool.install(|| {
                    let mut out = vec![f64::NAN; 90 * k];
                    csr_transpose_mul_dense(x.view(), &a, k, &mut out, &mut Vec::new());
                    out.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
                })
            };
            let one = run(1);
            for t in [2, 3, 4, 7] {
                assert_eq!(run(t), one, "k = {k}, {t} threads");
            }
        }
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
