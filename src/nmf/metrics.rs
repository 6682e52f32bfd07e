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
    let n = v.len();
    if n <= 1 {
        return 0.0;
    }
    let l1: f64 = v.iter().map(|x| x.abs()).sum();
    let l2: f64 = v.iter().map(|x| x * x).sum::<f64>().sqrt();
    if l2 == 0.0 {
        return 0.0;
    }
    let rn = (n as f64).sqrt();
    ((rn - l1 / l2) / (rn - 1.0)).clamp(0.0, 1.0)
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
}
