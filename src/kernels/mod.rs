//! The hot sparse/dense kernels shared by the solvers.
//!
//! DOCS-PLACEHOLDER

mod csr;
mod eval;
pub(crate) mod reduce;
mod scatter;
pub(crate) mod simd;
mod spmm;

pub use csr::{csr_transpose, Csr, CsrRef};
pub use eval::eval_at_nonzeros;
pub(crate) use eval::kl_ratios;
pub use reduce::{factor_stats, trace_product, FactorStats, PassStats};
pub(crate) use scatter::{block_cuts, lanes_scatter_row, parts_pass, row_in, split_scatter};
pub use scatter::{column_splits, csr_transpose_mul_dense, scatter_parts};
pub use simd::ln_fast;
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

    pub(crate) fn dense(x: CsrRef<'_>) -> Vec<f64> {
        let mut d = vec![0.0; x.nrows * x.ncols];
        for i in 0..x.nrows {
            let (c, v) = x.row(i);
            for (&j, &val) in c.iter().zip(v) {
                d[i * x.ncols + j] += val;
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
