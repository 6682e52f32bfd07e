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
//! solver implements only its W and H updates (`nmf/mu`, [`hals`], [`als`], [`online`],
//! [`gnmf`], [`nsnmf`], [`pg`]). What `tol` means
//! depends on the solver, as in scikit-learn:
//!
//! | `--solver` | losses | update | stopping rule (`tol = 0` runs `max_iter`) |
//! |---|---|---|---|
//! | `hals` (Frobenius default) | Frobenius | exact coordinate steps, scikit-learn's `cd` ([`hals`]) | Σ\|projected gradient\| of both updates ≤ tol × that of the first iteration |
//! | `mu` (KL default) | Frobenius, KL | Lee & Seung's multiplicative updates, scikit-learn's `mu` (`nmf/mu`) | every 10 iterations, (e_prev − e)/e₀ < tol with e = √(2·divergence) |
//! | `als` | Frobenius | exact non-negative least squares for each factor ([`als`], [`nnls`]) | \|L_prev − L\| ≤ tol·L₁ after every iteration |
//! | `online` | Frobenius, KL | scikit-learn's `MiniBatchNMF`; one iteration is one epoch of mini-batches ([`online`]) | per batch: ‖H − H_prev‖/‖H‖ ≤ tol, or no new minimum of the smoothed batch cost for `max_no_improvement` batches |
//! | `gnmf` | Frobenius, KL | graph-regularized multiplicative updates (Cai et al.), the topics normalized every iteration ([`gnmf`], the graph: [`graph`]) | as `mu`, on the objective with its graph term |
//! | `nsnmf` | KL | non-smooth NMF X ≈ W·S·H (Pascual-Montano et al.), S absorbed into the W written out ([`nsnmf`]) | as `mu` |
//! | `pg` | Frobenius | alternating projected gradient with Armijo steps (Lin) ([`pg`]) | ‖projected gradient of (W, H)‖ ≤ tol × ‖gradient at the start‖ |
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
//! The kernels hold a row's k values in registers for k = 4, 8, …, 32, 40, 48, 52 and 64 and fall
//! back to generic loops, about 2.5 times slower per multiply-add, for other k. `mu`, `hals`,
//! `als` and `online` therefore run at the next of these ranks ([`crate::kernels::register_rank`]:
//! 5 → 8, 10 → 12, 25 → 28, 35 → 40, 50 → 52) with W and H padded by zero columns, which these updates keep at
//! zero (see `pad_columns`), and return the rank-k factors: the same answer up to the order of
//! floating-point sums (a test compares the two to 1e-10). Measured on the Debian matrix
//! (multiplicative updates, per iteration): k = 10 1.9×, k = 25 3.9×, k = 40 2.3× faster than
//! the generic loops.
//!
//! Measured figures (against scikit-learn, side by side) are in README.md, from
//! `benches/peer_nmf.py` (multiplicative updates per iteration; `--quality` for time to
//! scikit-learn cd's objective).
//!
//! # Example
//! ```
//! use nmf_topics::nmf::{Loss, NmfParams};
//! use nmf_topics::matrix::Triplets;
//!
//! let mut t = Triplets::new((4, 3));
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
pub mod gnmf;
pub mod graph;
pub mod hals;
pub mod init;
pub mod nnls;
pub mod nsnmf;
pub mod online;
pub mod pg;
pub mod stream;
pub mod svd;
pub mod wfile;

use std::borrow::Cow;
use std::fmt;

use crate::kernels::register_rank;
use crate::matrix::Matrix;
use ndarray::Array2;
use serde::{Deserialize, Serialize};

use crate::kernels;

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
    /// Graph-regularized NMF (Cai et al.), multiplicative updates, Frobenius and KL.
    Gnmf,
    /// Non-smooth NMF (Pascual-Montano et al.), KL.
    Nsnmf,
    /// Alternating projected gradient (Lin), Frobenius.
    Pg,
}

/// The default λ of `--solver gnmf` (`--graph-lambda`).
pub const DEFAULT_GRAPH_LAMBDA: f64 = 1.0;

/// The default θ of `--solver nsnmf` (`--theta`).
pub const DEFAULT_THETA: f64 = 0.5;

impl Solver {
    /// Every solver, in the order the help lists them.
    pub const ALL: [Solver; 7] = [
        Solver::Mu,
        Solver::Hals,
        Solver::Als,
        Solver::Online,
        Solver::Gnmf,
        Solver::Nsnmf,
        Solver::Pg,
    ];

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
            (Solver::Mu | Solver::Online | Solver::Gnmf, _)
                | (Solver::Nsnmf, Loss::Kl)
                | (Solver::Hals | Solver::Als | Solver::Pg, Loss::Frobenius)
        )
    }

    /// The solver/loss combinations that exist, for messages:
    /// `mu (frobenius, kl), hals (frobenius), als (frobenius), online (frobenius, kl),
    /// gnmf (frobenius, kl), nsnmf (kl), pg (frobenius)`.
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
            Solver::Gnmf => "gnmf",
            Solver::Nsnmf => "nsnmf",
            Solver::Pg => "pg",
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
        x: &Matrix,
        progress: &mut dyn FnMut(usize, f64),
    ) -> Result<NmfModel, NmfError> {
        self.fit_from(x, None, progress)
    }

    /// [`NmfValidParams::fit`], consuming the parameters: custom starting factors are moved
    /// into the solver instead of copied (W0 is n × k, as large as W itself).
    pub fn into_fit(
        mut self,
        x: &Matrix,
        progress: &mut dyn FnMut(usize, f64),
    ) -> Result<NmfModel, NmfError> {
        let w0 = self.params.w0.take();
        self.fit_from(x, w0, progress)
    }

    /// The solver of these parameters on `pb`, starting at W (own rows × k) and Hᵀ (own rows
    /// × k), and for `gnmf` the summary of the graph it uses. The one place a method becomes a
    /// solver, for local and distributed fits.
    ///
    /// Errors: `gnmf` without a usable graph ([`NmfValidParams::graph_for`]).
    pub(crate) fn solver<'a>(
        &self,
        pb: driver::Problem<'a>,
        w: Vec<f64>,
        ht: Vec<f64>,
    ) -> Result<(Box<dyn driver::Solver + 'a>, Option<graph::GraphSummary>), NmfError> {
        let p = self.params();
        let checks = p.tol > 0.0;
        let mut graph_used = None;
        let solver: Box<dyn driver::Solver + 'a> = match self.method {
            Method::Mu => Box::new(mu::Mu::new(pb, w, ht, true, checks)),
            Method::Hals {
                shuffle,
                inner_sweeps,
            } => Box::new(hals::Hals::new(pb, w, ht, shuffle, inner_sweeps, p.seed)),
            Method::Als { variant } => Box::new(als::Als::new(pb, w, ht, variant)),
            Method::Online { opts } => {
                let alpha_h = p.alpha_h.unwrap_or(p.alpha_w);
                Box::new(online::Online::new(
                    pb, w, ht, opts, p.alpha_w, alpha_h, p.l1_ratio, p.tol, p.max_iter, p.k,
                ))
            }
            Method::Gnmf { lambda } => {
                let graph = self.graph_for(pb.x)?;
                let lam = graph.scaled_lambda(lambda);
                graph_used = Some(graph.summary().clone());
                Box::new(gnmf::Gnmf::new(pb, w, ht, graph, lam, checks))
            }
            Method::Nsnmf { theta } => Box::new(nsnmf::Nsnmf::new(pb, w, ht, theta, checks)),
            Method::Pg => Box::new(pg::Pg::new(pb, w, ht, p.tol)),
        };
        Ok((solver, graph_used))
    }

    /// The rank the solver runs at: the rank of the register kernels
    /// ([`kernels::register_rank`]) for the methods whose zero columns stay zero (W and H are
    /// then padded with zero columns, see [`pad_columns`]), k itself otherwise.
    pub(crate) fn padded_rank(&self) -> usize {
        let p = self.params();
        if self.method.keeps_zero_columns(p.loss == Loss::Kl) {
            register_rank(p.k)
        } else {
            p.k
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
        x: &Matrix,
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
        let kp = self.padded_rank();
        let (w, ht) = (pad_columns(w, p.k, kp), pad_columns(ht, p.k, kp));
        let pb = driver::Problem::new(&xs, kp, p.loss == Loss::Kl, reg);
        let (solver, graph_used) = self.solver(pb, w, ht)?;
        let mut run = driver::run(&pb, solver, self.limits(), progress);
        run.w = unpad_columns(run.w, kp, p.k);
        run.ht = unpad_columns(run.ht, kp, p.k);
        let seconds = start.elapsed().as_secs_f64();
        let mut model = model::assemble(run, n, m, p.k, seconds, init_seconds, self.method);
        model.graph = graph_used;
        Ok(model)
    }

    /// The graph of a `gnmf` fit of X: the one built ahead ([`NmfParams::doc_graph`]), else
    /// the k-nearest-neighbour graph of X's rows. Errors: a graph file that was not read, a
    /// graph of another number of documents, P ≥ the number of documents.
    fn graph_for(
        &self,
        x: kernels::CsrRef<'_>,
    ) -> Result<std::sync::Arc<graph::DocGraph>, NmfError> {
        let p = &self.params;
        let g = match (&p.doc_graph, p.graph.clone().unwrap_or_default()) {
            (Some(g), _) => g.clone(),
            (None, graph::GraphSpec::Knn { neighbours, weight }) => {
                std::sync::Arc::new(graph::knn_graph_csr(x, neighbours, weight)?)
            }
            (None, graph::GraphSpec::File(f)) => {
                return Err(NmfError::Params(format!(
                    "--graph {}: the graph file must be read with the documents' ids first \
                     (nmf::graph::read_links, then NmfParams::doc_graph)",
                    f.display()
                )))
            }
        };
        if g.n() != x.nrows {
            return Err(NmfError::Data(format!(
                "the document graph has {} documents but X has {} rows",
                g.n(),
                x.nrows
            )));
        }
        Ok(g)
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
    x: &Matrix,
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
    // Multiplicative updates and NNLS keep zero columns at zero: run at the register rank.
    let kp = register_rank(k);
    let pb = driver::Problem::new(&xs, kp, p.loss == Loss::Kl, reg);
    let (w, ht) = (start::row_major(Cow::Owned(w0)), start::transposed(h));
    let (w, ht) = (pad_columns(w, k, kp), pad_columns(ht, k, kp));
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
    let w = unpad_columns(run.w, kp, k);
    Ok(Array2::from_shape_vec((xs.nrows(), k), w).expect("n × k values"))
}

/// `a` (rows × k, row-major) widened to rows × kp with zero columns on the right; `a` itself
/// when kp = k.
///
/// A zero column of W with the matching zero row of H stays zero under the multiplicative
/// updates (its numerator is 0, its zero denominator is replaced by ε), coordinate descent
/// (its gradient is l1 ≥ 0 at 0, so the step is clipped to 0) and NNLS (its variable has
/// G_ll = 0 and is held at 0), and adds nothing to X·Hᵀ, the Gram matrices or the objective;
/// so these solvers run at the rank of the register kernels ([`register_rank`]: 10 → 12,
/// 25 → 28, 35 → 40) and give the rank-k answer, up to the order of floating-point sums.
pub(crate) fn pad_columns(mut a: Vec<f64>, k: usize, kp: usize) -> Vec<f64> {
    if kp <= k {
        return a;
    }
    let rows = a.len() / k.max(1);
    // Widened in place (the factor is not held twice): row i moves from i·k to i·kp, the last
    // row first (no row's new place starts before its old one), and its padding is zeroed.
    a.resize(rows * kp, 0.0);
    for i in (0..rows).rev() {
        a.copy_within(i * k..(i + 1) * k, i * kp);
        a[i * kp + k..(i + 1) * kp].fill(0.0);
    }
    a
}

/// The first min(k_src, k_dst) columns of each row of `src` (rows × k_src, row-major) into the
/// same row of `dst` (rows × k_dst); `dst`'s other columns are left as they are. Pads rows with
/// the zero columns already in `dst`, or drops a padding.
pub(crate) fn copy_columns(src: &[f64], k_src: usize, dst: &mut [f64], k_dst: usize) {
    let k = k_src.min(k_dst);
    for (o, r) in dst.chunks_exact_mut(k_dst).zip(src.chunks_exact(k_src)) {
        o[..k].copy_from_slice(&r[..k]);
    }
}

/// The first k columns of `a` (rows × kp, row-major): the inverse of [`pad_columns`].
/// Compacted in place (row i moves to i·k, before any row after it is overwritten), so W is
/// not held twice.
pub(crate) fn unpad_columns(mut a: Vec<f64>, kp: usize, k: usize) -> Vec<f64> {
    if kp == k {
        return a;
    }
    let rows = a.len() / kp.max(1);
    for i in 0..rows {
        a.copy_within(i * kp..i * kp + k, i * k);
    }
    a.truncate(rows * k);
    a.shrink_to_fit();
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::testutil::{factor, sample};

    /// W and Hᵀ after 30 iterations of `method` at rank `k`, run at rank `kp` (zero columns
    /// added, then dropped).
    fn run_at(x: &Matrix, valid: &NmfValidParams, k: usize, kp: usize) -> (Vec<f64>, Vec<f64>) {
        let xs = data::Sparse::new(x).unwrap();
        let (n, m) = (xs.nrows(), xs.ncols());
        let (w, ht) = (factor(n, k, 1), factor(m, k, 2));
        let (w, ht) = (pad_columns(w, k, kp), pad_columns(ht, k, kp));
        let p = valid.params();
        let pb = driver::Problem::new(&xs, kp, p.loss == Loss::Kl, valid.regularization(n, m));
        let (solver, _) = valid.solver(pb, w, ht).unwrap();
        let limits = driver::Limits {
            max_iter: 30,
            tol: 0.0,
            update_h: true,
        };
        let run = driver::run(&pb, solver, limits, &mut |_, _| {});
        (unpad_columns(run.w, kp, k), unpad_columns(run.ht, kp, k))
    }

    #[test]
    fn padded_online_fits_with_several_batches_and_fresh_restarts_give_the_rank_k_answer() {
        let c = sample(70, 30, 5);
        let x = Matrix::new((c.nrows, c.ncols), c.indptr, c.indices, c.data);
        // (With penalties the start of new rows' W matters: the updates are scale-invariant
        // without them.)
        for (loss, fresh, alpha) in [
            (Loss::Frobenius, true, 0.02),
            (Loss::Kl, true, 0.01),
            (Loss::Frobenius, false, 0.0),
        ] {
            let k = 5;
            let mut p = NmfParams::new(k)
                .solver(Solver::Online)
                .loss(loss)
                .alpha_w(alpha)
                .l1_ratio(0.5);
            p.online = Some(online::OnlineOptions {
                batch_size: 16,
                fresh_restarts: fresh,
                ..online::OnlineOptions::default()
            });
            let valid = p.check().unwrap();
            assert_eq!(valid.padded_rank(), 8);
            let (w1, h1) = run_at(&x, &valid, k, k);
            let (w2, h2) = run_at(&x, &valid, k, 8);
            for (a, b) in w1.iter().chain(&h1).zip(w2.iter().chain(&h2)) {
                assert!(
                    (a - b).abs() <= 1e-10 * a.abs().max(1e-3),
                    "{loss:?}, fresh restarts {fresh}, α {alpha}: {a} vs {b}"
                );
            }
        }
    }

    #[test]
    fn padded_ranks_give_the_rank_k_answer() {
        let c = sample(70, 30, 5);
        let x = Matrix::new((c.nrows, c.ncols), c.indptr, c.indices, c.data);
        for k in [3, 5, 7, 10] {
            let kp = register_rank(k);
            assert!(kp > k && kp.is_multiple_of(4));
            for (solver, loss, alpha) in [
                (Solver::Mu, Loss::Frobenius, 0.0),
                (Solver::Mu, Loss::Kl, 0.01),
                (Solver::Hals, Loss::Frobenius, 0.0),
                (Solver::Hals, Loss::Frobenius, 0.02),
                (Solver::Als, Loss::Frobenius, 0.02),
                (Solver::Gnmf, Loss::Frobenius, 0.0),
                (Solver::Online, Loss::Frobenius, 0.0),
                (Solver::Online, Loss::Frobenius, 0.02),
                (Solver::Online, Loss::Kl, 0.01),
            ] {
                let valid = NmfParams::new(k)
                    .solver(solver)
                    .loss(loss)
                    .alpha_w(alpha)
                    .l1_ratio(0.5)
                    .check()
                    .unwrap();
                assert!(valid.method.keeps_zero_columns(loss == Loss::Kl));
                let (w1, h1) = run_at(&x, &valid, k, k);
                let (w2, h2) = run_at(&x, &valid, k, kp);
                for (a, b) in w1.iter().chain(&h1).zip(w2.iter().chain(&h2)) {
                    assert!(
                        (a - b).abs() <= 1e-10 * a.abs().max(1e-3),
                        "{solver:?} {loss:?} k = {k}: {a} vs {b}"
                    );
                }
            }
        }
    }
}
