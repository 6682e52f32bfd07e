//! The fitted model and its metrics.

use ndarray::{Array2, Axis};
use serde::{Deserialize, Serialize};

use super::driver::Run;
use super::graph::GraphSummary;
use super::metrics::{mean_sparsity, zero_share, ColumnNorms};
use super::Method;

/// Quality measures of a fit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// The objective minimized: divergence plus penalties (plus the graph term for `gnmf`).
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
    /// Whether the solver's stopping rule was met (see [`super::NmfParams::tol`] for the rule
    /// of each solver); always false with `tol = 0`.
    pub converged: bool,
    /// Wall-clock seconds of the whole fit: initialization, iterations and final evaluation.
    pub seconds: f64,
    /// Seconds of the initialization (the start factors, e.g. the SVD of NNDSVD).
    #[serde(default)]
    pub init_seconds: f64,
    /// Seconds per iteration: the solver loop's time divided by the iterations run
    /// (initialization and final evaluation excluded). The one definition every output uses.
    #[serde(default)]
    pub seconds_per_iteration: f64,
    /// The algorithm that fitted the model, with its parameters.
    #[serde(default)]
    pub method: Method,
    /// `gnmf`: the document graph the fit used (how it was built, its links).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub graph: Option<GraphSummary>,
    /// Quality measures.
    pub metrics: Metrics,
}

/// Builds the model and its metrics from the driver's output (W n × k and Hᵀ m × k).
pub(crate) fn assemble(
    run: Run,
    n: usize,
    m: usize,
    k: usize,
    seconds: f64,
    init_seconds: f64,
    method: Method,
) -> NmfModel {
    let mut run = run;
    let w = Array2::from_shape_vec((n, k), std::mem::take(&mut run.w)).expect("n × k values");
    let w_metrics = (mean_sparsity(&w, Axis(0)), zero_share(&w));
    assemble_with(run, w, w_metrics, m, k, seconds, init_seconds, method)
}

/// [`assemble`] for a fit whose W is kept elsewhere (on disk, [`super::wfile`]): the model's W
/// is 0 × k and W's metrics come from `w_norms`, gathered over its rows.
pub(crate) fn assemble_without_w(
    run: Run,
    w_norms: &ColumnNorms,
    m: usize,
    k: usize,
    seconds: f64,
    init_seconds: f64,
    method: Method,
) -> NmfModel {
    let w = Array2::zeros((0, k));
    let w_metrics = w_norms.sparsity_and_zeros();
    assemble_with(run, w, w_metrics, m, k, seconds, init_seconds, method)
}

/// The model from the run (whose `w` is not used), W and W's (sparsity, share of zeros).
#[allow(clippy::too_many_arguments)]
fn assemble_with(
    run: Run,
    w: Array2<f64>,
    (sparsity_w, zeros_w): (f64, f64),
    m: usize,
    k: usize,
    seconds: f64,
    init_seconds: f64,
    method: Method,
) -> NmfModel {
    let ev = run.eval;
    let explained_variance = if ev.x_sq > 0.0 {
        1.0 - ev.resid_sq / ev.x_sq
    } else if ev.resid_sq > 0.0 {
        0.0
    } else {
        1.0
    };
    let h = Array2::from_shape_vec((m, k), run.ht)
        .expect("m × k values")
        .reversed_axes()
        .as_standard_layout()
        .into_owned();
    let metrics = Metrics {
        loss: ev.loss,
        divergence: ev.divergence,
        reconstruction_error: (2.0 * ev.divergence.max(0.0)).sqrt(),
        explained_variance,
        sparsity_w,
        sparsity_h: mean_sparsity(&h, Axis(1)),
        zeros_w,
        zeros_h: zero_share(&h),
        iterations: run.iterations,
        converged: run.converged,
        seconds,
    };
    NmfModel {
        seconds_per_iteration: if run.iterations > 0 {
            run.loop_seconds / run.iterations as f64
        } else {
            0.0
        },
        w,
        h,
        history: run.history,
        iterations: run.iterations,
        converged: run.converged,
        seconds,
        init_seconds,
        method,
        graph: None,
        metrics,
    }
}
