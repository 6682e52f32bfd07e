//! Non-negative matrix factorization X ≈ W·H of a sparse, non-negative X.
//!
//! Semantics follow scikit-learn's `NMF` (objective, penalties, initializations, stopping).
//! Parameters go through an unchecked builder ([`NmfParams`]) and [`NmfParams::check`] before a
//! fit is possible ([`NmfValidParams::fit`]).

pub mod init;
pub mod svd;

use std::fmt;

use ndarray::Array2;
use serde::{Deserialize, Serialize};
use sprs::CsMat;

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Loss {
    /// ½‖X − WH‖²_F
    #[default]
    Frobenius,
    /// Generalized Kullback-Leibler Σ X log(X/WH) − X + WH.
    Kl,
}

/// The algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Solver {
    /// Multiplicative updates (Lee & Seung; scikit-learn's `mu`).
    Mu,
    /// Hierarchical alternating least squares (coordinate descent).
    Hals,
    /// Alternating (projected) least squares.
    Als,
    /// Graph-regularized NMF.
    Gnmf,
    /// Non-smooth NMF.
    Nsnmf,
}

/// How W and H start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, clap::ValueEnum)]
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

/// Unchecked parameters (a builder). Call [`NmfParams::check`] to validate.
#[derive(Debug, Clone)]
pub struct NmfParams {
    /// Number of topics.
    pub k: usize,
    /// Divergence.
    pub loss: Loss,
    /// Algorithm.
    pub solver: Solver,
    /// Initialization.
    pub init: Init,
    /// W0 and H0 for [`Init::Custom`].
    pub w0: Option<Array2<f64>>,
    /// See [`NmfParams::w0`].
    pub h0: Option<Array2<f64>>,
    /// Regularization of W (scikit-learn's `alpha_W`).
    pub alpha_w: f64,
    /// Regularization of H; `None` means the same as `alpha_w` (scikit-learn's "same").
    pub alpha_h: Option<f64>,
    /// Share of L1 in the penalty, in [0, 1].
    pub l1_ratio: f64,
    /// Maximum number of iterations (≥ 1).
    pub max_iter: usize,
    /// Relative tolerance of the stopping rule (≥ 0; 0 runs `max_iter` iterations).
    pub tol: f64,
    /// Seed of the random number generator.
    pub seed: u64,
}

impl NmfParams {
    /// Defaults as in DESIGN.md with `k` topics.
    pub fn new(k: usize) -> Self {
        NmfParams {
            k,
            loss: Loss::Frobenius,
            solver: Solver::Mu,
            init: Init::Nndsvda,
            w0: None,
            h0: None,
            alpha_w: 0.0,
            alpha_h: None,
            l1_ratio: 0.0,
            max_iter: 200,
            tol: 1e-4,
            seed: 0,
        }
    }

    /// Validates the parameters that do not depend on the data.
    pub fn check(self) -> Result<NmfValidParams, NmfError> {
        if self.k == 0 {
            return Err(NmfError::Params("-k must be at least 1".into()));
        }
        Ok(NmfValidParams(self))
    }
}

/// Validated parameters; the only way to fit.
#[derive(Debug, Clone)]
pub struct NmfValidParams(NmfParams);

impl NmfValidParams {
    /// The parameters.
    pub fn params(&self) -> &NmfParams {
        &self.0
    }

    /// Fits X ≈ W·H. `progress(iteration, objective)` is called after every iteration.
    pub fn fit(
        &self,
        x: &CsMat<f64>,
        progress: &mut dyn FnMut(usize, f64),
    ) -> Result<NmfModel, NmfError> {
        let _ = (x, progress);
        Err(NmfError::Params("the solver is not implemented yet".into()))
    }
}

/// Quality measures of a fit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// The objective minimized: divergence plus penalties.
    pub loss: f64,
    /// ½‖X−WH‖²_F or the generalized KL divergence.
    pub divergence: f64,
    /// √(2·divergence), as scikit-learn's `reconstruction_err_`.
    pub reconstruction_error: f64,
    /// 1 − ‖X−WH‖²_F / ‖X‖²_F.
    pub explained_variance: f64,
    /// Hoyer sparsity of W's columns, averaged.
    pub sparsity_w: f64,
    /// Hoyer sparsity of H's rows, averaged.
    pub sparsity_h: f64,
    /// Share of exact zeros in W.
    pub zeros_w: f64,
    /// Share of exact zeros in H.
    pub zeros_h: f64,
}

/// A fitted factorization.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NmfModel {
    /// Documents × topics.
    pub w: Array2<f64>,
    /// Topics × terms.
    pub h: Array2<f64>,
    /// Objective after each iteration.
    pub history: Vec<f64>,
    /// Iterations run.
    pub iterations: usize,
    /// Whether the stopping rule was met before `max_iter`.
    pub converged: bool,
    /// Wall-clock seconds of the fit (initialization included).
    pub seconds: f64,
    /// Quality measures.
    pub metrics: Metrics,
}

/// Solves for W with H fixed (for new documents), starting from `w0` when given.
pub fn transform(
    x: &CsMat<f64>,
    h: &Array2<f64>,
    params: &NmfValidParams,
    w0: Option<Array2<f64>>,
) -> Result<Array2<f64>, NmfError> {
    let _ = (x, h, params, w0);
    Err(NmfError::Params("transform is not implemented yet".into()))
}
