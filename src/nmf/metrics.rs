//! Quality measures of a factorization that need only the factors.

use ndarray::{Array2, ArrayView1, Axis};

/// Hoyer's sparsity of a vector v of length n:
///
/// ```text
/// s(v) = (√n − ‖v‖₁/‖v‖₂) / (√n − 1)
/// ```
///
/// 1 for a vector with a single non-zero, 0 for a constant vector. Conventions: a zero vector
/// and a vector of length 1 have sparsity 0 (the formula is 0/0 there), and the result is
/// clamped to [0, 1] against rounding.
pub fn hoyer_sparsity(v: ArrayView1<'_, f64>) -> f64 {
    let l1: f64 = v.iter().map(|x| x.abs()).sum();
    let sq: f64 = v.iter().map(|x| x * x).sum::<f64>();
    hoyer_of_sums(v.len(), l1, sq)
}

/// [`hoyer_sparsity`] of a vector of length `n` from Σ|v_i| and Σ v_i².
fn hoyer_of_sums(n: usize, l1: f64, sq: f64) -> f64 {
    if n <= 1 {
        return 0.0;
    }
    let l2 = sq.sqrt();
    if l2 == 0.0 {
        return 0.0;
    }
    let rn = (n as f64).sqrt();
    ((rn - l1 / l2) / (rn - 1.0)).clamp(0.0, 1.0)
}

/// The mean Hoyer sparsity of the columns and the share of zeros of a factor read a block of
/// rows at a time (W kept on disk): each column's sums taken in row order, as
/// [`mean_sparsity`] and [`zero_share`] take them, so the same bits.
#[derive(Debug, Clone)]
pub(crate) struct ColumnNorms {
    l1: Vec<f64>,
    sq: Vec<f64>,
    zeros: usize,
    values: usize,
}

impl ColumnNorms {
    pub(crate) fn new(k: usize) -> Self {
        ColumnNorms {
            l1: vec![0.0; k],
            sq: vec![0.0; k],
            zeros: 0,
            values: 0,
        }
    }

    /// Adds the next rows (row-major, k values each).
    pub(crate) fn add_rows(&mut self, a: &[f64]) {
        for row in a.chunks_exact(self.l1.len().max(1)) {
            for ((x, l1), sq) in row.iter().zip(&mut self.l1).zip(&mut self.sq) {
                *l1 += x.abs();
                *sq += x * x;
            }
            self.zeros += row.iter().filter(|v| **v == 0.0).count();
        }
        self.values += a.len();
    }

    /// (mean Hoyer sparsity of the columns, share of exact zeros).
    pub(crate) fn sparsity_and_zeros(&self) -> (f64, f64) {
        let k = self.l1.len();
        let rows = self.values / k.max(1);
        let sparsity = if k == 0 {
            0.0
        } else {
            self.l1
                .iter()
                .zip(&self.sq)
                .map(|(&l1, &sq)| hoyer_of_sums(rows, l1, sq))
                .sum::<f64>()
                / k as f64
        };
        let zeros = if self.values == 0 {
            0.0
        } else {
            self.zeros as f64 / self.values as f64
        };
        (sparsity, zeros)
    }
}

/// Mean Hoyer sparsity of the lanes of `a` along `axis` (`Axis(0)`: the columns).
pub(crate) fn mean_sparsity(a: &Array2<f64>, axis: Axis) -> f64 {
    let lanes = a.lanes(axis);
    let count = lanes.clone().into_iter().count();
    if count == 0 {
        return 0.0;
    }
    lanes.into_iter().map(hoyer_sparsity).sum::<f64>() / count as f64
}

/// Share of exact zeros among the entries of `a` (0 for an empty matrix).
pub(crate) fn zero_share(a: &Array2<f64>) -> f64 {
    if a.is_empty() {
        return 0.0;
    }
    a.iter().filter(|v| **v == 0.0).count() as f64 / a.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Array1};

    #[test]
    fn hoyer_is_one_for_a_single_spike_and_zero_for_constants() {
        assert!((hoyer_sparsity(array![0.0, 0.0, 5.0, 0.0].view()) - 1.0).abs() < 1e-15);
        assert!(hoyer_sparsity(array![2.0, 2.0, 2.0].view()).abs() < 1e-15);
        assert_eq!(hoyer_sparsity(Array1::zeros(4).view()), 0.0);
        assert_eq!(hoyer_sparsity(array![3.0].view()), 0.0);
        let s = hoyer_sparsity(array![1.0, 0.0, 1.0, 0.0].view());
        let want = (2.0 - 2.0 / 2f64.sqrt()) / (2.0 - 1.0);
        assert!((s - want).abs() < 1e-15);
    }

    #[test]
    fn means_and_zero_share() {
        let a = array![[1.0, 0.0], [0.0, 0.0], [0.0, 2.0]];
        // Columns are single spikes; rows are a spike, zeros, a spike.
        assert!((mean_sparsity(&a, Axis(0)) - 1.0).abs() < 1e-15);
        assert!((mean_sparsity(&a, Axis(1)) - 2.0 / 3.0).abs() < 1e-15);
        assert!((zero_share(&a) - 4.0 / 6.0).abs() < 1e-15);
    }

    #[test]
    fn column_norms_of_blocks_are_the_whole_factor_s_bits() {
        let (n, k) = (37, 3);
        let a = Array2::from_shape_fn((n, k), |(i, j)| {
            if (i + 2 * j) % 5 == 0 {
                0.0
            } else {
                ((i * 7 + j * 3) % 11) as f64 / 3.0
            }
        });
        let flat: Vec<f64> = a.iter().copied().collect();
        for rows in [1, 4, 37] {
            let mut c = ColumnNorms::new(k);
            for b in flat.chunks(rows * k) {
                c.add_rows(b);
            }
            let (s, z) = c.sparsity_and_zeros();
            assert_eq!(s.to_bits(), mean_sparsity(&a, Axis(0)).to_bits());
            assert_eq!(z.to_bits(), zero_share(&a).to_bits());
        }
    }
}
