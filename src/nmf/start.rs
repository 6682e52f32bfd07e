//! Starting points: the factors a fit starts from, and the least-squares start of
//! [`super::transform`].

use std::borrow::Cow;

use crate::matrix::Matrix;
use nalgebra::DMatrix;
use ndarray::Array2;

use super::data::Sparse;
use super::{Init, NmfError, NmfParams};
use crate::kernels::{csr_mul_dense, dense_mul_small, factor_stats};

/// A starting factor: borrowed from the parameters (custom) or computed.
pub(crate) type Factor<'p> = Cow<'p, Array2<f64>>;

/// W0 (n × k) and H0 (k × m) for a fit. The single call site of the initialization. Custom
/// factors are checked and borrowed from `p`, not copied; `owned_w0`, when given, is the
/// custom W0 taken out of `p` by the caller (and used instead of `p.w0`).
pub(crate) fn initial_factors<'p>(
    x: &Matrix,
    n: usize,
    m: usize,
    p: &'p NmfParams,
    owned_w0: Option<Array2<f64>>,
) -> Result<(Factor<'p>, Factor<'p>), NmfError> {
    debug_assert_eq!((x.rows(), x.cols()), (n, m));
    if p.init == Init::Custom {
        let w0 = match owned_w0 {
            Some(w) => Cow::Owned(w),
            None => {
                p.w0.as_ref()
                    .map(Cow::Borrowed)
                    .ok_or_else(missing_custom)?
            }
        };
        let h0 = p.h0.as_ref().ok_or_else(missing_custom)?;
        super::init::check_custom(x, p.k, &w0, h0)?;
        return Ok((w0, Cow::Borrowed(h0)));
    }
    let (w0, h0) = super::init::initialize(x, p.k, p.init, p.seed, p.w0.as_ref(), p.h0.as_ref())?;
    Ok((Cow::Owned(w0), Cow::Owned(h0)))
}

/// A starting factor as a row-major `Vec`: an owned, standard-layout array becomes it without
/// a copy.
pub(crate) fn row_major(a: Factor<'_>) -> Vec<f64> {
    match a {
        Cow::Owned(a) if a.is_standard_layout() => {
            let len = a.len();
            // Contiguous in row-major order: the values are v[offset..offset + len].
            let (mut v, offset) = a.into_raw_vec_and_offset();
            v.drain(..offset.unwrap_or(0));
            v.truncate(len);
            v
        }
        other => other.iter().copied().collect(),
    }
}

/// Hᵀ (m × k, row-major) of H (k × m), the layout the solvers keep H in.
pub(crate) fn transposed(h: &Array2<f64>) -> Vec<f64> {
    h.t().iter().copied().collect()
}

fn missing_custom() -> NmfError {
    NmfError::Params("--init custom needs both --w0 and --h0".into())
}

/// The start of `transform`: `max(X·Hᵀ·(HHᵀ + δI)⁻¹, 0)` (δ = 1e-10·tr(HHᵀ)/k keeps the
/// solve defined when topics are collinear or empty), where in each row of X with stored
/// entries the entries at 0 are replaced by 1% of the row's largest value (or, if the whole
/// row came out 0, by √(mean(X)/k)); rows of X without entries start (and stay) at 0.
pub(crate) fn least_squares_start(xs: &Sparse<'_>, h: &Array2<f64>) -> Array2<f64> {
    let x = xs.x();
    let (n, m, k) = (x.nrows, x.ncols, h.nrows());
    let ht: Vec<f64> = h.t().iter().copied().collect();
    let g = factor_stats(&ht, k, true).gram;
    let trace: f64 = (0..k).map(|l| g[l * k + l]).sum();
    let mut ginv = None;
    let mut delta = 1e-10 * trace / k as f64 + f64::MIN_POSITIVE;
    for _ in 0..8 {
        let mut gm = DMatrix::from_row_slice(k, k, &g);
        for l in 0..k {
            gm[(l, l)] += delta;
        }
        if let Some(ch) = gm.cholesky() {
            ginv = Some(ch.inverse());
            break;
        }
        delta = delta.max(1e-300) * 1e4;
    }
    let ginv: Vec<f64> = match ginv {
        // nalgebra is column-major; G⁻¹ is symmetric, so either order works.
        Some(inv) => inv.transpose().as_slice().to_vec(),
        None => (0..k * k)
            .map(|t| if t % (k + 1) == 0 { 1.0 } else { 0.0 })
            .collect(),
    };
    let mut xht = vec![0.0; n * k];
    csr_mul_dense(x, &ht, k, &mut xht);
    let mut w = vec![0.0; n * k];
    dense_mul_small(&xht, &ginv, k, &mut w);
    let mean = x.data.iter().sum::<f64>() / (n as f64 * m as f64);
    let fallback = (mean / k as f64).sqrt();
    for (i, row) in w.chunks_exact_mut(k).enumerate() {
        if x.indptr[i] == x.indptr[i + 1] {
            row.fill(0.0);
            continue;
        }
        let top = row.iter().fold(0.0f64, |a, &b| a.max(b));
        let fill = if top > 0.0 { 0.01 * top } else { fallback };
        for v in row.iter_mut() {
            if v.is_nan() || *v <= 0.0 {
                *v = fill;
            }
        }
    }
    Array2::from_shape_vec((n, k), w).expect("n × k values")
}
