//! The fitted model and its metrics.

use ndarray::{Array2, Axis};
use serde::{Deserialize, Serialize};

use super::metrics::{mean_sparsity, zero_share};
use super::mu::SolveOut;

/// Quality measures of a fit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// The objective minimized: divergence plus penalties.
    pub loss: f64,
    /// ½‖X−WH‖²_F or the generalized KL divergence (scikit-learn's definition: for KL only
    /// the entries with x > ε enter the data term).
    pub divergence: f64,
    /// √(2·divergence), as scikit-learn's `reconstruction_err_`.
    pub reconstruction_error: f64,
    /// 1 − ‖X−WH‖²_F / ‖X‖²_F, computed as
    /// 1 − (‖X‖² − 2·tr(Wᵀ·X·Hᵀ) + tr(WᵀW·HHᵀ)) / ‖X‖² without forming W·H (for either loss).
    /// For X = 0 it is 1 when W·H = 0 and 0 otherwise.
    pub explained_variance: f64,
    /// Hoyer sparsity of W's columns, averaged (see [`super::hoyer_sparsity`]).
    pub sparsity_w: f64,
    /// Hoyer sparsity of H's rows, averaged.
    pub sparsity_h: f64,
    /// Share of exact zeros in W.
    pub zeros_w: f64,
    /// Share of exact zeros in H.
    pub zeros_h: f64,
    /// Iterations run.
    #[serde(default)]
    pub iterations: usize,
    /// Whether the stopping rule was met.
    #[serde(default)]
    pub converged: bool,
    /// Wall-clock seconds of the fit (initialization included).
    #[serde(default)]
    pub seconds: f64,
}

/// A fitted factorization.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct NmfModel {
    /// Documents × topics.
    pub w: Array2<f64>,
    /// Topics × terms.
    pub h: Array2<f64>,
    /// Objective after each iteration (`history[t-1]` after iteration t).
    pub history: Vec<f64>,
    /// Iterations run.
    pub iterations: usize,
    /// Whether the stopping rule `(e_prev − e)/e_0 < tol` was met at one of its checks (every
    /// 10 iterations, the last one included); always false with `tol = 0`.
    pub converged: bool,
    /// Wall-clock seconds of the fit (initialization included).
    pub seconds: f64,
    /// Seconds per iteration of the solver loop (initialization and final metrics excluded).
    #[serde(default)]
    pub seconds_per_iteration: f64,
    /// Quality measures.
    pub metrics: Metrics,
}

/// Builds the model and its metrics from the solver's output.
pub(crate) fn assemble(out: SolveOut, seconds: f64) -> NmfModel {
    let explained_variance = if out.x_sq > 0.0 {
        1.0 - out.resid_sq / out.x_sq
    } else if out.resid_sq > 0.0 {
        0.0
    } else {
        1.0
    };
    let metrics = Metrics {
        loss: out.loss,
        divergence: out.divergence,
        reconstruction_error: (2.0 * out.divergence.max(0.0)).sqrt(),
        explained_variance,
        sparsity_w: mean_sparsity(&out.w, Axis(0)),
        sparsity_h: mean_sparsity(&out.h, Axis(1)),
        zeros_w: zero_share(&out.w),
        zeros_h: zero_share(&out.h),
        iterations: out.iterations,
        converged: out.converged,
        seconds,
    };
    NmfModel {
        seconds_per_iteration: if out.iterations > 0 {
            out.loop_seconds / out.iterations as f64
        } else {
            0.0
        },
        w: out.w,
        h: out.h,
        history: out.history,
        iterations: out.iterations,
        converged: out.converged,
        seconds,
        metrics,
    }
}
