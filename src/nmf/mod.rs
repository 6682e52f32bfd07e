//! Non-negative matrix factorization X ≈ W·H of a sparse, non-negative X.
//!
//! Semantics follow scikit-learn's `NMF` (objective, penalties, initializations, stopping).
//! Parameters go through an unchecked builder ([`NmfParams`]) and [`NmfParams::check`] before a
//! fit is possible ([`NmfValidParams::fit`]).
//!
//! # The model
//! X (documents × terms, CSR) ≈ W (documents × k) · H (k × terms), all non-negative. The
//! objective is a divergence plus penalties:
//!
//! ```text
//! Frobenius:  ½‖X − WH‖²_F
//! KL:         Σ_ij x_ij·ln(x_ij / (WH)_ij) − x_ij + (WH)_ij
//! penalties:  l1_W‖W‖₁ + l1_H‖H‖₁ + ½·l2_W‖W‖²_F + ½·l2_H‖H‖²_F
//! ```
//!
//! with `l1_W = α_W·ρ·n_terms`, `l2_W = α_W·(1−ρ)·n_terms`, `l1_H = α_H·ρ·n_docs`,
//! `l2_H = α_H·(1−ρ)·n_docs` ([`NmfValidParams::regularization`]).
//!
//! # Solvers
//! Every algorithm runs in one loop, `nmf/driver.rs`: the driver owns the iterations, the
//! stopping rule, the loss history ([`NmfModel::history`], the objective after each
//! iteration), progress, timing and the final evaluation (one pass over X for the metrics); a
//! solver implements only its W and H updates (`nmf/mu`, [`hals`], [`als`]). What `tol` means
//! depends on the solver, as in scikit-learn:
//!
//! | `--solver` | losses | update | stopping rule (`tol = 0` runs `max_iter`) |
//! |---|---|---|---|
//! | `hals` (Frobenius default) | Frobenius | exact coordinate steps, scikit-learn's `cd` ([`hals`]) | Σ\|projected gradient\| of both updates ≤ tol × that of the first iteration |
//! | `mu` (KL default) | Frobenius, KL | Lee & Seung's multiplicative updates, scikit-learn's `mu` (`nmf/mu`) | every 10 iterations, (e_prev − e)/e₀ < tol with e = √(2·divergence) |
//! | `als` | Frobenius | exact non-negative least squares for each factor ([`als`], [`nnls`]) | \|L_prev − L\| ≤ tol·L₁ after every iteration |
//! | `online` | Frobenius, KL | scikit-learn's `MiniBatchNMF`; one iteration is one epoch of mini-batches ([`online`]) | per batch: ‖H − H_prev‖/‖H‖ ≤ tol, or no new minimum of the smoothed batch cost for `max_no_improvement` batches |
//!
//! The objective after every iteration comes from what the updates already compute, never an
//! extra pass over X: the multiplicative updates' W pass of iteration t+1 sees W_t·H_t at
//! every nonzero of X (KL) or X·H_tᵀ (Frobenius), so it returns the divergence of (W_t, H_t)
//! one pass late; coordinate descent and ALS have ⟨H, WᵀX⟩ and the Gram matrices after the H
//! update, and ½‖X − WH‖² = ½(‖X‖² − 2⟨H, WᵀX⟩ + ⟨WᵀW, HHᵀ⟩).
//!
//! [`transform`] (W for new documents with H fixed) solves W exactly by NNLS for the
//! Frobenius loss, whichever solver fitted H, and by the multiplicative updates for KL.
//!
//! # Implementation
//! W is kept as documents × k and H transposed (terms × k), both row-major. The W updates are
//! row-parallel passes over X in CSR; the numerators of the H updates, sums over the rows of X
//! (Xᵀ·W for Frobenius, Wᵀ·R for KL), are scattered from the rows of X into fixed parts (see
//! [`crate::kernels`]). No transposed copy of X is made, W and H are updated in place, and
//! nothing of size documents × terms or nnz × k is ever formed: memory is
//! O(nnz + (n_docs + P·n_terms)·k) with P the number of scatter parts (2 on the Debian matrix).
//! All reductions are done over fixed blocks and parts and summed in order, so a fit is
//! bit-for-bit reproducible with any number of threads.
//!
//! Measured figures (against scikit-learn, side by side) are in README.md, from
//! `benches/peer_nmf.py` (multiplicative updates per iteration; `--quality` for time to
//! scikit-learn cd's objective).
//!
//! # Example
//! ```
//! use nmf_topics::nmf::{Loss, NmfParams};
//! use sprs::TriMat;
//!
//! let mut t = TriMat::new((4, 3));
//! for (i, j, v) in [(0, 0, 1.0), (1, 0, 2.0), (2, 2, 1.0), (3, 1, 3.0), (3, 2, 1.0)] {
//!     t.add_triplet(i, j, v);
//! }
//! let x = t.to_csr();
//! let params = NmfParams::new(2).init(nmf_topics::nmf::Init::Random).seed(7).loss(Loss::Kl);
//! let model = params.check().unwrap().fit(&x, &mut |_, _| {}).unwrap();
//! assert_eq!(model.w.dim(), (4, 2));
//! assert!(model.w.iter().chain(model.h.iter()).all(|v| v.is_finite() && *v >= 0.0));
//! ```
//!
//! # References
//! - D. D. Lee, H. S. Seung, *Algorithms for non-negative matrix factorization*, NIPS 2000.
//! - C. Févotte, J. Idier, *Algorithms for nonnegative matrix factorization with the
//!   β-divergence*, Neural Computation 23(9), 2011.
//! - P. O. Hoyer, *Non-negative matrix factorization with sparseness constraints*, JMLR 2004.

pub mod als;
pub(crate) mod driver;
pub mod hals;
pub mod init;
pub mod nnls;
pub mod online;
pub mod svd;

use std::borrow::Cow;
use std::fmt;

use ndarray::Array2;
use serde::{Deserialize, Serialize};
use sprs::CsMat;

pub(crate) mod data;
mod hyperparams;
mod metrics;
pub(crate) mod model;
pub mod mu;
pub(crate) mod start;

pub use hyperparams::{Method, NmfParams, NmfValidParams, Regularization};
pub use metrics::hoyer_sparsity;
pub use model::{Metrics, NmfModel};

/// Errors of the factorization.
#[derive(Debug, thiserror::Error)]
pub enum NmfError {
    /// An invalid parameter (the message names the option).
    #[error("{0}")]
    Params(String),
    /// Invalid data: negative entries, NaN/Inf, wrong shapes (the message says which).
    #[error("{0}")]
    Data(String),
}

impl NmfError {
    /// Whether this is the user's bad input (exit code 2) rather than a runtime failure.
    pub fn is_bad_input(&self) -> bool {
        matches!(self, NmfError::Params(_) | NmfError::Data(_))
    }
}

/// The objective's divergence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Loss {
    /// ½‖X − WH‖²_F
    #[default]
    Frobenius,
    /// Generalized Kullback-Leibler Σ X log(X/WH) − X + WH.
    Kl,
}

/// The algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Solver {
    /// Multiplicative updates (Lee & Seung; scikit-learn's `mu`), Frobenius and KL.
    Mu,
    /// Coordinate descent, one coordinate at a time (HALS; scikit-learn's `cd`), Frobenius.
    Hals,
    /// Alternating non-negative least squares, Frobenius.
    Als,
    /// Online mini-batch multiplicative updates (scikit-learn's `MiniBatchNMF`), Frobenius
    /// and KL.
    Online,
}

impl Solver {
    /// Every solver, in the order the help lists them.
    pub const ALL: [Solver; 4] = [Solver::Mu, Solver::Hals, Solver::Als, Solver::Online];

    /// The default for a loss: coordinate descent for Frobenius (scikit-learn's default
    /// solver), multiplicative updates for KL (the only one there).
    pub fn default_for(loss: Loss) -> Solver {
        match loss {
            Loss::Frobenius => Solver::Hals,
            Loss::Kl => Solver::Mu,
        }
    }

    /// Whether the solver minimizes this loss.
    pub fn supports(self, loss: Loss) -> bool {
        matches!(
            (self, loss),
            (Solver::Mu | Solver::Online, _) | (_, Loss::Frobenius)
        )
    }

    /// The solver/loss combinations that exist, for messages:
    /// `mu (frobenius, kl), hals (frobenius), als (frobenius), online (frobenius, kl)`.
    pub fn combinations() -> String {
        let losses = [Loss::Frobenius, Loss::Kl];
        (Solver::ALL.iter())
            .map(|s| {
                let ls: Vec<String> = (losses.iter())
                    .filter(|l| s.supports(**l))
                    .map(|l| l.to_string())
                    .collect();
                format!("{s} ({})", ls.join(", "))
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The variant of `--solver als`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AlsVariant {
    /// Exact non-negative least squares for each factor (block principal pivoting).
    #[default]
    Exact,
    /// Unconstrained least squares, then negative entries set to 0 (cheap, not monotone).
    Projected,
}

/// How W and H start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Init {
    /// |N(0,1)|·√(mean(X)/k).
    Random,
    /// Non-negative double SVD.
    Nndsvd,
    /// NNDSVD with zeros filled by mean(X).
    #[default]
    Nndsvda,
    /// NNDSVD with zeros filled by small random values.
    Nndsvdar,
    /// User-supplied W0 and H0.
    Custom,
}

impl fmt::Display for Loss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Loss::Frobenius => "frobenius",
            Loss::Kl => "kl",
        })
    }
}

impl fmt::Display for Solver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Solver::Mu => "mu",
            Solver::Hals => "hals",
            Solver::Als => "als",
            Solver::Online => "online",
        })
    }
}

impl fmt::Display for AlsVariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AlsVariant::Exact => "exact",
            AlsVariant::Projected => "projected",
        })
    }
}

impl fmt::Display for Init {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Init::Random => "random",
            Init::Nndsvd => "nndsvd",
            Init::Nndsvda => "nndsvda",
            Init::Nndsvdar => "nndsvdar",
            Init::Custom => "custom",
        })
    }
}

impl NmfValidParams {
    /// Fits X ≈ W·H. `progress(iteration, objective)` is called after every iteration with the
    /// objective after that iteration (for the multiplicative updates it is known during the
    /// next iteration, so the calls lag by one pass).
    ///
    /// Errors: [`NmfError::Data`] for an empty X, a negative, NaN or infinite entry of X, and
    /// for bad custom factors; [`NmfError::Params`] for parameters that do not fit the data
    /// (k larger than the number of documents or terms, factors larger than the memory).
    pub fn fit(
        &self,
        x: &CsMat<f64>,
        progress: &mut dyn FnMut(usize, f64),
    ) -> Result<NmfModel, NmfError> {
        self.fit_from(x, None, progress)
    }

    /// [`NmfValidParams::fit`], consuming the parameters: custom starting factors are moved
    /// into the solver instead of copied (W0 is n × k, as large as W itself).
    pub fn into_fit(
        mut self,
        x: &CsMat<f64>,
        progress: &mut dyn FnMut(usize, f64),
    ) -> Result<NmfModel, NmfError> {
        let w0 = self.params.w0.take();
        self.fit_from(x, w0, progress)
    }

    /// The solver of these parameters on `pb`, starting at W (own rows × k) and Hᵀ (own rows
    /// × k). The one place a method becomes a solver, for local and distributed fits.
    pub(crate) fn solver<'a>(
        &self,
        pb: driver::Problem<'a>,
        w: Vec<f64>,
        ht: Vec<f64>,
    ) -> Box<dyn driver::Solver + 'a> {
        let p = self.params();
        let checks = p.tol > 0.0;
        match self.method {
            Method::Mu => Box::new(mu::Mu::new(pb, w, ht, true, checks)),
            Method::Hals { shuffle } => Box::new(hals::Hals::new(pb, w, ht, shuffle, p.seed)),
            Method::Als { variant } => Box::new(als::Als::new(pb, w, ht, variant)),
            Method::Online { opts } => {
                let alpha_h = p.alpha_h.unwrap_or(p.alpha_w);
                Box::new(online::Online::new(
                    pb, w, ht, opts, p.alpha_w, alpha_h, p.l1_ratio, p.tol, p.max_iter,
                ))
            }
        }
    }

    /// The loop's limits of a fit.
    pub(crate) fn limits(&self) -> driver::Limits {
        let p = self.params();
        driver::Limits {
            max_iter: p.max_iter,
            tol: p.tol,
            update_h: true,
        }
    }

    /// The fit, with the custom W0 given apart from the parameters when it is owned.
    fn fit_from(
        &self,
        x: &CsMat<f64>,
        owned_w0: Option<Array2<f64>>,
        progress: &mut dyn FnMut(usize, f64),
    ) -> Result<NmfModel, NmfError> {
        let start = std::time::Instant::now();
        let xs = data::Sparse::new(x)?;
        let p = self.params();
        let (n, m) = (xs.nrows(), xs.ncols());
        data::check_rank(p.k, n, m)?;
        data::check_memory(n, m, p.k)?;
        let (w0, h0) = start::initial_factors(x, n, m, p, owned_w0)?;
        let (w, ht) = (start::row_major(w0), start::transposed(&h0));
        drop(h0);
        let init_seconds = start.elapsed().as_secs_f64();
        let reg = self.regularization(n, m);
        let pb = driver::Problem::new(&xs, p.k, p.loss == Loss::Kl, reg);
        let solver = self.solver(pb, w, ht);
        let run = driver::run(&pb, solver, self.limits(), progress);
        let seconds = start.elapsed().as_secs_f64();
        Ok(model::assemble(
            run,
            n,
            m,
            p.k,
            seconds,
            init_seconds,
            self.method,
        ))
    }
}

/// Solves for W with H fixed (for new documents), starting from `w0` when given.
///
/// For the Frobenius loss W is the exact minimizer `argmin_{W≥0} ½‖X − WH‖²_F + penalties`,
/// one non-negative least-squares problem per document on the Gram matrix HHᵀ (whatever
/// solver fitted H; see [`als`]); `max_iter` and `tol` are not used. For KL the updates and
/// stopping rule are the multiplicative-update fit's with H fixed, from `w0` or, without it,
/// from the clipped least-squares solution `max(X·Hᵀ·(HHᵀ + δI)⁻¹, 0)` with entries left at 0
/// replaced by a small positive value in every row that has terms (multiplicative updates
/// cannot move an exact zero), so transforming the training matrix reproduces the fitted
/// topics.
///
/// Errors: [`NmfError::Data`] when X is invalid or the shapes of X, H and `w0` disagree.
pub fn transform(
    x: &CsMat<f64>,
    h: &Array2<f64>,
    params: &NmfValidParams,
    w0: Option<Array2<f64>>,
) -> Result<Array2<f64>, NmfError> {
    let xs = data::Sparse::new(x)?;
    let k = h.nrows();
    if k == 0 {
        return Err(NmfError::Data("H has no topics (0 rows)".into()));
    }
    if h.ncols() != xs.ncols() {
        return Err(NmfError::Data(format!(
            "X has {} columns (terms) but H has {}",
            xs.ncols(),
            h.ncols()
        )));
    }
    data::check_factor("H", h)?;
    let w0 = match w0 {
        Some(w) => {
            if w.dim() != (xs.nrows(), k) {
                return Err(NmfError::Data(format!(
                    "W0 must be {}×{} (got {}×{})",
                    xs.nrows(),
                    k,
                    w.nrows(),
                    w.ncols()
                )));
            }
            data::check_factor("W0", &w)?;
            w
        }
        None => start::least_squares_start(&xs, h),
    };
    let p = params.params();
    let reg = params.regularization(xs.nrows(), xs.ncols());
    let pb = driver::Problem::new(&xs, k, p.loss == Loss::Kl, reg);
    let (w, ht) = (start::row_major(Cow::Owned(w0)), start::transposed(h));
    let solver: Box<dyn driver::Solver> = if pb.kl {
        Box::new(mu::Mu::new(pb, w, ht, false, p.tol > 0.0))
    } else {
        Box::new(als::Als::new(pb, w, ht, AlsVariant::Exact))
    };
    let limits = driver::Limits {
        max_iter: p.max_iter,
        tol: p.tol,
        update_h: false,
    };
    let run = driver::run(&pb, solver, limits, &mut |_, _| {});
    Ok(Array2::from_shape_vec((xs.nrows(), k), run.w).expect("n × k values"))
}
