//! Starting points: the factors a fit starts from, and the least-squares start of
//! [`super::transform`].

use nalgebra::DMatrix;
use ndarray::Array2;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use sprs::CsMat;

use super::data::{check_factor, Sparse};
use super::{Init, NmfError, NmfParams};
use crate::kernels::{csr_mul_dense, dense_mul_small, factor_stats};

/// W0 (n × k) and H0 (k × m) for a fit. The single call site of the initialization.
pub(crate) fn initial_factors(
    x: &CsMat<f64>,
    n: usize,
    m: usize,
    p: &NmfParams,
) -> Result<(Array2<f64>, Array2<f64>), NmfError> {
    // MERGE: this becomes
    // super::init::initialize(x, p.k, p.init, p.seed, p.w0.as_ref(), p.h0.as_ref())
    placeholder_init(x, n, m, p)
}

/// Stand-in until `init.rs` lands: `Custom` checks and clones W0/H0, every other method is
/// scikit-learn's random init `|N(0,1)|·√(mean(X)/k)` (H drawn first, then W).
fn placeholder_init(
    x: &CsMat<f64>,
    n: usize,
    m: usize,
    p: &NmfParams,
) -> Result<(Array2<f64>, Array2<f64>), NmfError> {
    let k = p.k;
    if p.init == Init::Custom {
        let (Some(w0), Some(h0)) = (&p.w0, &p.h0) else {
            return Err(NmfError::Params(
                "--init custom needs both --w0 and --h0".into(),
            ));
        };
        if w0.dim() != (n, k) {
            return Err(NmfError::Data(format!(
                "W0 must be {n}×{k} (got {}×{})",
                w0.nrows(),
                w0.ncols()
            )));
        }
        if h0.dim() != (k, m) {
            return Err(NmfError::Data(format!(
                "H0 must be {k}×{m} (got {}×{})",
                h0.nrows(),
                h0.ncols()
            )));
        }
        check_factor("W0", w0)?;
        check_factor("H0", h0)?;
        return Ok((w0.clone(), h0.clone()));
    }
    let mean = x.data().iter().sum::<f64>() / (n as f64 * m as f64);
    let avg = (mean / k as f64).sqrt();
    let mut rng = ChaCha8Rng::seed_from_u64(p.seed);
    let mut draw = |_| {
        let z: f64 = StandardNormal.sample(&mut rng);
        avg * z.abs()
    };
    let h = Array2::from_shape_fn((k, m), &mut draw);
    let w = Array2::from_shape_fn((n, k), &mut draw);
    Ok((w, h))
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
