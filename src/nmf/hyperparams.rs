//! Parameters: the unchecked builder [`NmfParams`] and the validated [`NmfValidParams`].

use super::{Init, Loss, NmfError, Solver};
use ndarray::Array2;

/// Unchecked parameters (a builder). Call [`NmfParams::check`] to validate.
///
/// ```
/// use nmf_topics::nmf::{Loss, NmfParams};
/// let params = NmfParams::new(10).loss(Loss::Kl).alpha_w(1e-3).l1_ratio(0.5).check().unwrap();
/// assert_eq!(params.params().k, 10);
/// ```
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

impl Default for NmfParams {
    fn default() -> Self {
        NmfParams::new(10)
    }
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

    /// Sets the divergence.
    pub fn loss(mut self, loss: Loss) -> Self {
        self.loss = loss;
        self
    }

    /// Sets the algorithm.
    pub fn solver(mut self, solver: Solver) -> Self {
        self.solver = solver;
        self
    }

    /// Sets the initialization.
    pub fn init(mut self, init: Init) -> Self {
        self.init = init;
        self
    }

    /// Uses W0 and H0 as the starting point (sets [`Init::Custom`]).
    pub fn custom_init(mut self, w0: Array2<f64>, h0: Array2<f64>) -> Self {
        self.init = Init::Custom;
        self.w0 = Some(w0);
        self.h0 = Some(h0);
        self
    }

    /// Sets `alpha_W`.
    pub fn alpha_w(mut self, alpha: f64) -> Self {
        self.alpha_w = alpha;
        self
    }

    /// Sets `alpha_H` (`None`: same as `alpha_W`).
    pub fn alpha_h(mut self, alpha: Option<f64>) -> Self {
        self.alpha_h = alpha;
        self
    }

    /// Sets the L1 share of the penalty.
    pub fn l1_ratio(mut self, ratio: f64) -> Self {
        self.l1_ratio = ratio;
        self
    }

    /// Sets the maximum number of iterations.
    pub fn max_iter(mut self, n: usize) -> Self {
        self.max_iter = n;
        self
    }

    /// Sets the tolerance of the stopping rule.
    pub fn tol(mut self, tol: f64) -> Self {
        self.tol = tol;
        self
    }

    /// Sets the seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Validates the parameters that do not depend on the data. Errors name the command-line
    /// option at fault.
    pub fn check(self) -> Result<NmfValidParams, NmfError> {
        let bad = |msg: String| Err(NmfError::Params(msg));
        if self.k == 0 {
            return bad("-k must be at least 1".into());
        }
        if !(self.alpha_w >= 0.0 && self.alpha_w.is_finite()) {
            return bad(format!(
                "--alpha-w must be non-negative (got {})",
                self.alpha_w
            ));
        }
        if let Some(a) = self.alpha_h {
            if !(a >= 0.0 && a.is_finite()) {
                return bad(format!("--alpha-h must be non-negative (got {a})"));
            }
        }
        if !(0.0..=1.0).contains(&self.l1_ratio) {
            return bad(format!(
                "--l1-ratio must be in [0, 1] (got {})",
                self.l1_ratio
            ));
        }
        if !(self.tol >= 0.0 && self.tol.is_finite()) {
            return bad(format!("--tol must be non-negative (got {})", self.tol));
        }
        if self.max_iter == 0 {
            return bad("--max-iter must be at least 1".into());
        }
        if self.solver != Solver::Mu {
            return bad(format!(
                "--solver {} is not available yet; use --solver mu",
                self.solver
            ));
        }
        if self.init == Init::Custom && (self.w0.is_none() || self.h0.is_none()) {
            return bad("--init custom needs both --w0 and --h0".into());
        }
        Ok(NmfValidParams(self))
    }
}

/// Validated parameters; the only way to fit.
#[derive(Debug, Clone)]
pub struct NmfValidParams(pub(crate) NmfParams);

impl NmfValidParams {
    /// The parameters.
    pub fn params(&self) -> &NmfParams {
        &self.0
    }

    /// The penalty weights for a matrix with `n_samples` rows (documents) and `n_features`
    /// columns (terms), scaled as scikit-learn ≥ 1.0:
    /// `l1_W = α_W·ρ·n_features`, `l2_W = α_W·(1−ρ)·n_features`,
    /// `l1_H = α_H·ρ·n_samples`, `l2_H = α_H·(1−ρ)·n_samples`.
    pub fn regularization(&self, n_samples: usize, n_features: usize) -> Regularization {
        let p = &self.0;
        let aw = p.alpha_w;
        let ah = p.alpha_h.unwrap_or(aw);
        let (nf, ns) = (n_features as f64, n_samples as f64);
        Regularization {
            l1_w: nf * aw * p.l1_ratio,
            l2_w: nf * aw * (1.0 - p.l1_ratio),
            l1_h: ns * ah * p.l1_ratio,
            l2_h: ns * ah * (1.0 - p.l1_ratio),
        }
    }
}

/// Scaled penalty weights of the objective
/// `l1_w‖W‖₁ + l1_h‖H‖₁ + ½·l2_w‖W‖²_F + ½·l2_h‖H‖²_F`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Regularization {
    /// L1 weight of W.
    pub l1_w: f64,
    /// L2 weight of W.
    pub l2_w: f64,
    /// L1 weight of H.
    pub l1_h: f64,
    /// L2 weight of H.
    pub l2_h: f64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(p: NmfParams) -> String {
        match p.check() {
            Err(NmfError::Params(m)) => m,
            other => panic!("expected a params error, got {other:?}"),
        }
    }

    #[test]
    fn k_zero_is_rejected() {
        assert_eq!(err(NmfParams::new(0)), "-k must be at least 1");
    }

    #[test]
    fn negative_alpha_w_is_rejected() {
        assert_eq!(
            err(NmfParams::new(3).alpha_w(-1.0)),
            "--alpha-w must be non-negative (got -1)"
        );
    }

    #[test]
    fn negative_alpha_h_is_rejected() {
        assert_eq!(
            err(NmfParams::new(3).alpha_h(Some(-0.5))),
            "--alpha-h must be non-negative (got -0.5)"
        );
    }

    #[test]
    fn nan_alpha_is_rejected() {
        assert!(err(NmfParams::new(3).alpha_w(f64::NAN)).starts_with("--alpha-w"));
    }

    #[test]
    fn l1_ratio_outside_unit_interval_is_rejected() {
        assert!(err(NmfParams::new(3).l1_ratio(1.5)).starts_with("--l1-ratio must be in [0, 1]"));
        assert!(err(NmfParams::new(3).l1_ratio(-0.1)).starts_with("--l1-ratio must be in [0, 1]"));
        assert!(err(NmfParams::new(3).l1_ratio(f64::NAN)).starts_with("--l1-ratio"));
    }

    #[test]
    fn negative_tol_is_rejected() {
        assert!(err(NmfParams::new(3).tol(-1e-4)).starts_with("--tol must be non-negative"));
    }

    #[test]
    fn max_iter_zero_is_rejected() {
        assert_eq!(
            err(NmfParams::new(3).max_iter(0)),
            "--max-iter must be at least 1"
        );
    }

    #[test]
    fn other_solvers_are_not_available_yet() {
        assert_eq!(
            err(NmfParams::new(3).solver(Solver::Hals)),
            "--solver hals is not available yet; use --solver mu"
        );
    }

    #[test]
    fn custom_init_needs_both_factors() {
        let p = NmfParams::new(2).init(Init::Custom);
        assert!(err(p).contains("--w0"));
    }

    #[test]
    fn regularization_is_scaled_like_scikit_learn() {
        let p = NmfParams::new(2)
            .alpha_w(0.1)
            .l1_ratio(0.25)
            .check()
            .unwrap();
        let r = p.regularization(30, 20);
        assert!((r.l1_w - 0.1 * 0.25 * 20.0).abs() < 1e-15);
        assert!((r.l2_w - 0.1 * 0.75 * 20.0).abs() < 1e-15);
        assert!((r.l1_h - 0.1 * 0.25 * 30.0).abs() < 1e-15);
        assert!((r.l2_h - 0.1 * 0.75 * 30.0).abs() < 1e-15);
        let p = NmfParams::new(2)
            .alpha_w(0.1)
            .alpha_h(Some(0.0))
            .check()
            .unwrap();
        assert_eq!(p.regularization(30, 20).l2_h, 0.0);
    }
}
