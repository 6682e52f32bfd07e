//! Parameters: the unchecked builder [`NmfParams`] and the validated [`NmfValidParams`].

use std::sync::Arc;

use super::graph::{DocGraph, GraphSpec};
use super::online::OnlineOptions;
use super::{AlsVariant, Init, Loss, NmfError, Solver, DEFAULT_GRAPH_LAMBDA, DEFAULT_THETA};
use ndarray::Array2;
use serde::{Deserialize, Serialize};

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
    /// Algorithm; `None` picks the default for the loss ([`Solver::default_for`]: `hals` for
    /// Frobenius, `mu` for KL).
    pub solver: Option<Solver>,
    /// `hals` only: a seeded random order of the coordinates in every update instead of the
    /// cyclic order (scikit-learn's `shuffle=True`).
    pub shuffle: bool,
    /// `hals` only: the most coordinate sweeps per update of W or H while X·Hᵀ (Xᵀ·W) and
    /// the Gram matrix stay fixed (Gillis and Glineur's accelerated HALS; 1, the default, is
    /// scikit-learn's one sweep). Repeats stop early per tile of rows once a sweep moves the
    /// tile by less than [`super::hals::INNER_DELTA`] times its first sweep. `None`: 1.
    pub inner_sweeps: Option<usize>,
    /// `als` only: exact NNLS (the default) or the projected least-squares variant.
    pub als_variant: Option<AlsVariant>,
    /// `online` only: the mini-batch options (`None`: scikit-learn's defaults).
    pub online: Option<OnlineOptions>,
    /// `gnmf` only: the document graph (`None`: the cosine 5-nearest-neighbour graph with
    /// cosine weights, [`GraphSpec::default`]).
    pub graph: Option<GraphSpec>,
    /// `gnmf` only: λ, the weight of the graph term (`None`: [`DEFAULT_GRAPH_LAMBDA`]); the
    /// fit divides it by the mean degree of the graph's linked documents
    /// ([`DocGraph::scaled_lambda`]).
    pub graph_lambda: Option<f64>,
    /// `gnmf` only: the graph, built ahead (by [`super::graph::knn_graph`] or
    /// [`super::graph::read_links`]). Needed for a graph file, whose ids are matched to the
    /// documents; without it the fit builds the k-nearest-neighbour graph from X. Shared, not
    /// copied, by restarts and sweeps.
    pub doc_graph: Option<Arc<DocGraph>>,
    /// `nsnmf` only: the smoothness θ in [0, 1] (`None`: [`DEFAULT_THETA`]).
    pub theta: Option<f64>,
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
    /// Relative tolerance of the solver's stopping rule (≥ 0; 0 runs `max_iter` iterations).
    /// Its meaning is the solver's (see the table in [`crate::nmf`]): the relative error
    /// decrease over 10 iterations for `mu`, the projected-gradient ratio for `hals`, the
    /// relative objective change for `als`.
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
            solver: None,
            shuffle: false,
            inner_sweeps: None,
            als_variant: None,
            online: None,
            graph: None,
            graph_lambda: None,
            doc_graph: None,
            theta: None,
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
        self.solver = Some(solver);
        self
    }

    /// `hals`: shuffles the coordinate order of every update (seeded by [`NmfParams::seed`]).
    pub fn shuffle(mut self, shuffle: bool) -> Self {
        self.shuffle = shuffle;
        self
    }

    /// `hals`: the most sweeps per update (see [`NmfParams::inner_sweeps`]).
    pub fn inner_sweeps(mut self, n: usize) -> Self {
        self.inner_sweeps = Some(n);
        self
    }

    /// `als`: the variant.
    pub fn als_variant(mut self, variant: AlsVariant) -> Self {
        self.als_variant = Some(variant);
        self
    }

    /// `online`: the mini-batch options.
    pub fn online(mut self, opts: OnlineOptions) -> Self {
        self.online = Some(opts);
        self
    }

    /// `gnmf`: the document graph.
    pub fn graph(mut self, spec: GraphSpec) -> Self {
        self.graph = Some(spec);
        self
    }

    /// `gnmf`: λ, the weight of the graph term.
    pub fn graph_lambda(mut self, lambda: f64) -> Self {
        self.graph_lambda = Some(lambda);
        self
    }

    /// `gnmf`: a graph built ahead.
    pub fn doc_graph(mut self, graph: Arc<DocGraph>) -> Self {
        self.doc_graph = Some(graph);
        self
    }

    /// `nsnmf`: the smoothness θ.
    pub fn theta(mut self, theta: f64) -> Self {
        self.theta = Some(theta);
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
        let solver = self.solver.unwrap_or(Solver::default_for(self.loss));
        if !solver.supports(self.loss) {
            return bad(format!(
                "--solver {solver} does not work with --loss {}; the combinations that exist: {}",
                self.loss,
                Solver::combinations()
            ));
        }
        if self.shuffle && solver != Solver::Hals {
            return bad(format!(
                "--shuffle is an option of --solver hals, not of --solver {solver}"
            ));
        }
        if let Some(n) = self.inner_sweeps {
            if !(1..=MAX_INNER_SWEEPS).contains(&n) {
                return bad(format!(
                    "--inner-sweeps must be in 1..={MAX_INNER_SWEEPS} (got {n})"
                ));
            }
        }
        if self.inner_sweeps.is_some() && solver != Solver::Hals {
            return bad(format!(
                "--inner-sweeps is an option of --solver hals, not of --solver {solver}"
            ));
        }
        if self.als_variant.is_some() && solver != Solver::Als {
            return bad(format!(
                "--als-variant is an option of --solver als, not of --solver {solver}"
            ));
        }
        if self.online.is_some() && solver != Solver::Online {
            return bad(format!(
                "--batch-size, --forget-factor, --fresh-restarts and --max-no-improvement are \
                 options of --solver online, not of --solver {solver}"
            ));
        }
        if let Some(o) = &self.online {
            o.check()?;
        }
        if solver != Solver::Gnmf {
            let given = if self.graph.is_some() || self.doc_graph.is_some() {
                Some("--graph")
            } else if self.graph_lambda.is_some() {
                Some("--graph-lambda")
            } else {
                None
            };
            if let Some(opt) = given {
                return bad(format!(
                    "{opt} is an option of --solver gnmf, not of --solver {solver}"
                ));
            }
        }
        if self.theta.is_some() && solver != Solver::Nsnmf {
            return bad(format!(
                "--theta is an option of --solver nsnmf, not of --solver {solver}"
            ));
        }
        if let Some(l) = self.graph_lambda {
            if !(l >= 0.0 && l.is_finite()) {
                return bad(format!(
                    "--graph-lambda must be a non-negative number (got {l})"
                ));
            }
        }
        if let Some(spec) = &self.graph {
            spec.check()?;
        }
        if let Some(t) = self.theta {
            if !(0.0..=1.0).contains(&t) {
                return bad(format!("--theta must be in [0, 1] (got {t})"));
            }
        }
        let penalized = self.alpha_w != 0.0 || self.alpha_h.is_some_and(|a| a != 0.0);
        if penalized {
            let why = match solver {
                Solver::Gnmf => Some(
                    "its topics are rescaled to unit norm every iteration so that --graph-lambda \
                     keeps its meaning, which would change what the penalties weigh",
                ),
                Solver::Nsnmf => Some(
                    "--theta sets its sparseness, and its topics are rescaled to sum 1 every \
                     iteration",
                ),
                _ => None,
            };
            if let Some(why) = why {
                return bad(format!(
                    "--alpha-w and --alpha-h do not apply to --solver {solver}: {why}"
                ));
            }
        }
        let method = match solver {
            Solver::Mu => Method::Mu,
            Solver::Hals => Method::Hals {
                shuffle: self.shuffle,
                inner_sweeps: self.inner_sweeps.unwrap_or(1),
            },
            Solver::Als => Method::Als {
                variant: self.als_variant.unwrap_or_default(),
            },
            Solver::Online => Method::Online {
                opts: self.online.unwrap_or_default(),
            },
            Solver::Gnmf => Method::Gnmf {
                lambda: self.graph_lambda.unwrap_or(DEFAULT_GRAPH_LAMBDA),
            },
            Solver::Nsnmf => Method::Nsnmf {
                theta: self.theta.unwrap_or(DEFAULT_THETA),
            },
            Solver::Pg => Method::Pg,
        };
        if self.init == Init::Custom && (self.w0.is_none() || self.h0.is_none()) {
            return bad("--init custom needs both --w0 and --h0".into());
        }
        Ok(NmfValidParams {
            params: self,
            method,
        })
    }
}

/// The largest `--inner-sweeps`. The early stop usually ends the repeats after a few sweeps; the
/// cap bounds the work when the Gram matrix is so ill-conditioned that it does not.
pub const MAX_INNER_SWEEPS: usize = 100;

fn one() -> usize {
    1
}

/// The algorithm with its own parameters, as validated by [`NmfParams::check`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "solver", rename_all = "snake_case")]
pub enum Method {
    /// Multiplicative updates.
    #[default]
    Mu,
    /// Coordinate descent (HALS).
    Hals {
        /// Random coordinate order per update.
        shuffle: bool,
        /// The most sweeps per update (1: scikit-learn's HALS).
        #[serde(default = "one")]
        inner_sweeps: usize,
    },
    /// Alternating non-negative least squares.
    Als {
        /// Exact NNLS or projected least squares.
        variant: AlsVariant,
    },
    /// Online (mini-batch) multiplicative updates.
    Online {
        /// The mini-batch options.
        opts: OnlineOptions,
    },
    /// Graph-regularized multiplicative updates.
    Gnmf {
        /// λ as given (the fit divides it by the graph's mean degree).
        lambda: f64,
    },
    /// Non-smooth NMF.
    Nsnmf {
        /// The smoothness θ.
        theta: f64,
    },
    /// Projected gradient (Lin).
    Pg,
}

impl Method {
    /// Whether the updates (for the KL loss when `kl`) keep a zero column of W with the
    /// matching zero row of H at zero whatever the data, so that the method can run at a rank
    /// padded with zero columns: the multiplicative updates, coordinate descent, ALS, and the
    /// Frobenius form of gnmf (multiplicative, its topic normalization leaves a zero topic
    /// alone; its KL form too when λ = 0, where it is the multiplicative updates), and the
    /// online solver (multiplicative updates of W and H; new rows of W start from a constant
    /// in the rank-k columns only, `MiniBatch::with_rank`). nsnmf's smoothing matrix mixes all
    /// k topics, pg's and gnmf-KL's steps are not multiplicative: they run at k itself.
    pub(crate) fn keeps_zero_columns(&self, kl: bool) -> bool {
        match self {
            // (Online: the multiplicative updates of W and H from zero columns, new rows'
            // W started at zero in the padding, `MiniBatch::with_rank`.)
            Method::Mu | Method::Hals { .. } | Method::Als { .. } | Method::Online { .. } => true,
            // With λ = 0 gnmf's updates are the multiplicative updates for either loss.
            Method::Gnmf { lambda } => !kl || *lambda == 0.0,
            Method::Nsnmf { .. } | Method::Pg => false,
        }
    }

    /// The algorithm's name.
    pub fn solver(&self) -> Solver {
        match self {
            Method::Mu => Solver::Mu,
            Method::Hals { .. } => Solver::Hals,
            Method::Als { .. } => Solver::Als,
            Method::Online { .. } => Solver::Online,
            Method::Gnmf { .. } => Solver::Gnmf,
            Method::Nsnmf { .. } => Solver::Nsnmf,
            Method::Pg => Solver::Pg,
        }
    }
}

/// Validated parameters; the only way to fit.
#[derive(Debug, Clone)]
pub struct NmfValidParams {
    pub(crate) params: NmfParams,
    pub(crate) method: Method,
}

impl NmfValidParams {
    /// The parameters.
    pub fn params(&self) -> &NmfParams {
        &self.params
    }

    /// The algorithm (the default for the loss resolved) with its parameters.
    pub fn method(&self) -> Method {
        self.method
    }

    /// `gnmf`: uses `graph` (built ahead) for the fits of these parameters.
    pub fn set_doc_graph(&mut self, graph: Arc<DocGraph>) {
        self.params.doc_graph = Some(graph);
    }

    /// The penalty weights for a matrix with `n_samples` rows (documents) and `n_features`
    /// columns (terms), scaled as scikit-learn ≥ 1.0:
    /// `l1_W = α_W·ρ·n_features`, `l2_W = α_W·(1−ρ)·n_features`,
    /// `l1_H = α_H·ρ·n_samples`, `l2_H = α_H·(1−ρ)·n_samples`.
    pub fn regularization(&self, n_samples: usize, n_features: usize) -> Regularization {
        let p = &self.params;
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
    fn the_default_solver_depends_on_the_loss() {
        let p = NmfParams::new(3).check().unwrap();
        assert_eq!(
            p.method(),
            Method::Hals {
                shuffle: false,
                inner_sweeps: 1
            }
        );
        let p = NmfParams::new(3).loss(Loss::Kl).check().unwrap();
        assert_eq!(p.method(), Method::Mu);
        let p = NmfParams::new(3).solver(Solver::Als).check().unwrap();
        assert_eq!(
            p.method(),
            Method::Als {
                variant: AlsVariant::Exact
            }
        );
    }

    #[test]
    fn a_solver_without_the_loss_is_a_usage_error_naming_what_exists() {
        for s in [Solver::Hals, Solver::Als] {
            let m = err(NmfParams::new(3).loss(Loss::Kl).solver(s));
            assert!(
                m.starts_with(&format!("--solver {s} does not work with --loss kl")),
                "{m}"
            );
            assert!(
                m.contains("mu (frobenius, kl), hals (frobenius), als (frobenius)"),
                "{m}"
            );
        }
    }

    #[test]
    fn solver_options_belong_to_their_solver() {
        let m = err(NmfParams::new(3).solver(Solver::Mu).shuffle(true));
        assert_eq!(
            m,
            "--shuffle is an option of --solver hals, not of --solver mu"
        );
        let m = err(NmfParams::new(3).als_variant(AlsVariant::Projected));
        assert_eq!(
            m,
            "--als-variant is an option of --solver als, not of --solver hals"
        );
        assert!(NmfParams::new(3).shuffle(true).check().is_ok());
        let m = err(NmfParams::new(3).solver(Solver::Mu).inner_sweeps(4));
        assert_eq!(
            m,
            "--inner-sweeps is an option of --solver hals, not of --solver mu"
        );
        assert!(NmfParams::new(3).inner_sweeps(4).check().is_ok());
        // Given at all, even as 1, it belongs to hals.
        assert!(
            err(NmfParams::new(3).solver(Solver::Mu).inner_sweeps(1)).starts_with("--inner-sweeps")
        );
        assert!(NmfParams::new(3).solver(Solver::Mu).check().is_ok());
    }

    #[test]
    fn inner_sweeps_are_bounded() {
        for n in [0, MAX_INNER_SWEEPS + 1] {
            let m = err(NmfParams::new(3).inner_sweeps(n));
            assert_eq!(m, format!("--inner-sweeps must be in 1..=100 (got {n})"));
        }
        assert!(NmfParams::new(3)
            .inner_sweeps(MAX_INNER_SWEEPS)
            .check()
            .is_ok());
    }

    #[test]
    fn a_negative_graph_lambda_is_rejected() {
        for l in [-1.0, f64::NAN, f64::INFINITY] {
            let m = err(NmfParams::new(3).solver(Solver::Gnmf).graph_lambda(l));
            assert!(
                m.starts_with("--graph-lambda must be a non-negative number"),
                "{m}"
            );
        }
        let p = NmfParams::new(3).solver(Solver::Gnmf).graph_lambda(0.0);
        assert_eq!(p.check().unwrap().method(), Method::Gnmf { lambda: 0.0 });
        let p = NmfParams::new(3).solver(Solver::Gnmf).loss(Loss::Kl);
        assert_eq!(p.check().unwrap().method(), Method::Gnmf { lambda: 1.0 });
    }

    #[test]
    fn a_knn_graph_without_neighbours_is_rejected() {
        let spec = GraphSpec::Knn {
            neighbours: 0,
            weight: Default::default(),
        };
        let m = err(NmfParams::new(3).solver(Solver::Gnmf).graph(spec));
        assert!(m.starts_with("--graph knn:0:"), "{m}");
    }

    #[test]
    fn gnmf_and_nsnmf_options_belong_to_their_solver() {
        let m = err(NmfParams::new(3).graph_lambda(2.0));
        assert_eq!(
            m,
            "--graph-lambda is an option of --solver gnmf, not of --solver hals"
        );
        let m = err(NmfParams::new(3)
            .solver(Solver::Pg)
            .graph(GraphSpec::default()));
        assert_eq!(
            m,
            "--graph is an option of --solver gnmf, not of --solver pg"
        );
        let m = err(NmfParams::new(3).loss(Loss::Kl).theta(0.2));
        assert_eq!(
            m,
            "--theta is an option of --solver nsnmf, not of --solver mu"
        );
        assert_eq!(
            NmfParams::new(3)
                .solver(Solver::Nsnmf)
                .loss(Loss::Kl)
                .check()
                .unwrap()
                .method(),
            Method::Nsnmf { theta: 0.5 }
        );
        assert_eq!(
            NmfParams::new(3)
                .solver(Solver::Pg)
                .check()
                .unwrap()
                .method(),
            Method::Pg
        );
    }

    #[test]
    fn gnmf_and_nsnmf_take_no_penalties() {
        let m = err(NmfParams::new(3).solver(Solver::Gnmf).alpha_w(0.1));
        assert!(
            m.starts_with("--alpha-w and --alpha-h do not apply to --solver gnmf"),
            "{m}"
        );
        let m = err(NmfParams::new(3)
            .solver(Solver::Nsnmf)
            .loss(Loss::Kl)
            .alpha_h(Some(0.1)));
        assert!(
            m.starts_with("--alpha-w and --alpha-h do not apply to --solver nsnmf"),
            "{m}"
        );
        assert!(NmfParams::new(3)
            .solver(Solver::Pg)
            .alpha_w(0.1)
            .check()
            .is_ok());
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
