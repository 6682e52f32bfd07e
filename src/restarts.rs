//! Several fits of the same model from different starts, keeping the best.
//!
//! NMF is non-convex: each start converges to its own local minimum. [`fit_restarts`] runs R
//! fits with seeds `seed, seed+1, …, seed+R−1` ([`restart_params`]): the first with the given
//! initialization, every later one with `--init random` when the given one is deterministic
//! (nndsvd, nndsvda and custom give the same start whatever the seed, so only a random start
//! explores another minimum; nndsvdar and random keep their kind with the new seed). The fit with
//! the lowest objective wins (the lowest restart on ties; a non-finite objective never wins
//! over a finite one).
//!
//! The runs are then compared ([`mod@crate::topics::quality::stability`]): the stability of the
//! topics (Hungarian matching on the cosine similarity of the rows of H; per topic of the
//! winner) and Brunet's cophenetic correlation of the consensus of the documents' dominant
//! topics. Only the winner's W is kept; of the other runs the H and the dominant topics.
//!
//! ```
//! use nmf_topics::nmf::NmfParams;
//! use nmf_topics::restarts::fit_restarts;
//! use nmf_topics::matrix::Triplets;
//!
//! let mut t = Triplets::new((6, 4));
//! for (i, j, v) in [(0, 0, 1.0), (1, 0, 2.0), (2, 1, 1.0), (3, 2, 3.0), (4, 3, 1.0), (5, 2, 1.0)] {
//!     t.add_triplet(i, j, v);
//! }
//! let params = NmfParams::new(2).seed(3).check().unwrap();
//! let fits = fit_restarts(&t.to_csr(), &params, 3, &mut |_, _, _| {}).unwrap();
//! assert_eq!(fits.runs.len(), 3);
//! assert_eq!(fits.runs[1].seed, 4);
//! assert!(fits.runs.iter().all(|r| r.objective >= fits.best.metrics.loss));
//! ```

use crate::matrix::Matrix;
use ndarray::Array2;
use serde::Serialize;

use crate::nmf::{Init, Metrics, NmfModel, NmfParams, NmfValidParams};
use crate::topics::dominant_topic;
use crate::topics::quality::{consensus_cophenetic, stability, Stability};
use crate::{Error, Result};

/// The parameters of restart `r` (0-based) of a fit with `base`: seed `base.seed + r`, and
/// for r ≥ 1 a random start when `base.init` is deterministic (nndsvd, nndsvda, custom; the
/// custom factors are dropped).
pub fn restart_params(base: &NmfParams, r: usize) -> NmfParams {
    let mut p = base.clone();
    p.seed = base.seed.wrapping_add(r as u64);
    if r > 0 && matches!(base.init, Init::Nndsvd | Init::Nndsvda | Init::Custom) {
        p.init = Init::Random;
        p.w0 = None;
        p.h0 = None;
    }
    p
}

/// Checks a number of restarts ([`Error::Input`] naming `--restarts` for 0).
pub fn check_restarts(restarts: usize) -> Result<()> {
    if restarts == 0 {
        return Err(Error::input("--restarts must be at least 1"));
    }
    Ok(())
}

/// One restart.
#[derive(Debug, Clone)]
pub struct RestartRun {
    /// Its index r (0-based).
    pub index: usize,
    /// Its seed.
    pub seed: u64,
    /// Its initialization.
    pub init: Init,
    /// The objective it reached.
    pub objective: f64,
    /// Its metrics.
    pub metrics: Metrics,
    /// Its topics × terms matrix.
    pub h: Array2<f64>,
    /// Each document's dominant topic (`None` for a document without terms).
    pub dominant: Vec<Option<usize>>,
}

impl RestartRun {
    /// The run's record of a fitted model.
    pub fn from_model(index: usize, params: &NmfParams, model: &NmfModel) -> Self {
        RestartRun {
            index,
            seed: params.seed,
            init: params.init,
            objective: model.metrics.loss,
            metrics: model.metrics.clone(),
            h: model.h.clone(),
            dominant: model.w.outer_iter().map(dominant_topic).collect(),
        }
    }
}

/// Whether an objective `a` of restart `ia` beats `b` of restart `ib`: lower wins, ties and
/// non-finite values go to the lower restart (a finite value beats a non-finite one).
pub fn better(a: f64, ia: usize, b: f64, ib: usize) -> bool {
    match (a.is_finite(), b.is_finite()) {
        (true, false) => true,
        (false, true) => false,
        (false, false) => ia < ib,
        (true, true) => a < b || (a == b && ia < ib),
    }
}

/// The result of [`fit_restarts`].
#[derive(Debug, Clone)]
pub struct Restarts {
    /// The winning model.
    pub best: NmfModel,
    /// The winning restart.
    pub best_index: usize,
    /// Every restart, in order.
    pub runs: Vec<RestartRun>,
    /// Stability of the topics across the runs (per topic of the winner); `None` for one run.
    pub stability: Option<Stability>,
    /// Cophenetic correlation of the consensus; `None` for one run.
    pub cophenetic: Option<f64>,
}

impl Restarts {
    /// Compares finished runs; `best` is the model of run `best_index`. `seed` draws the
    /// consensus sample.
    pub fn assemble(runs: Vec<RestartRun>, best: NmfModel, best_index: usize, seed: u64) -> Self {
        let hs: Vec<_> = runs.iter().map(|r| r.h.view()).collect();
        let reference = runs.iter().position(|r| r.index == best_index).unwrap_or(0);
        let stability = stability(&hs, reference);
        let dominants: Vec<Vec<Option<usize>>> = runs.iter().map(|r| r.dominant.clone()).collect();
        let cophenetic = consensus_cophenetic(&dominants, seed);
        Restarts {
            best,
            best_index,
            runs,
            stability,
            cophenetic,
        }
    }

    /// The serializable summary for topics.json and the report.
    pub fn summary(&self) -> RestartSummary {
        let objectives: Vec<f64> = self.runs.iter().map(|r| r.objective).collect();
        let finite: Vec<f64> = objectives
            .iter()
            .copied()
            .filter(|v| v.is_finite())
            .collect();
        let (min, max) = finite
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                (a.min(v), b.max(v))
            });
        let mean = if finite.is_empty() {
            0.0
        } else {
            finite.iter().sum::<f64>() / finite.len() as f64
        };
        RestartSummary {
            restarts: self.runs.len(),
            best: self.best_index,
            runs: self
                .runs
                .iter()
                .map(|r| RestartRecord {
                    restart: r.index,
                    seed: r.seed,
                    init: r.init,
                    objective: r.objective,
                    iterations: r.metrics.iterations,
                    converged: r.metrics.converged,
                    seconds: r.metrics.seconds,
                })
                .collect(),
            objective_min: if finite.is_empty() { 0.0 } else { min },
            objective_max: if finite.is_empty() { 0.0 } else { max },
            objective_mean: mean,
            stability: self.stability.as_ref().map(|s| s.mean),
            topic_stability: self.stability.as_ref().map(|s| s.per_topic.clone()),
            cophenetic: self.cophenetic,
        }
    }
}

/// One restart in [`RestartSummary`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RestartRecord {
    /// Index r.
    pub restart: usize,
    /// Seed.
    pub seed: u64,
    /// Initialization.
    pub init: Init,
    /// Objective reached.
    pub objective: f64,
    /// Iterations run.
    pub iterations: usize,
    /// Whether it converged.
    pub converged: bool,
    /// Seconds.
    pub seconds: f64,
}

/// What the outputs show of the restarts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RestartSummary {
    /// Number of restarts R.
    pub restarts: usize,
    /// The winning restart.
    pub best: usize,
    /// Every restart.
    pub runs: Vec<RestartRecord>,
    /// Lowest objective (the winner's).
    pub objective_min: f64,
    /// Highest objective.
    pub objective_max: f64,
    /// Mean objective.
    pub objective_mean: f64,
    /// Stability (mean matched cosine over all pairs of runs); `None` for one run.
    pub stability: Option<f64>,
    /// Per topic of the winner: mean matched cosine to the other runs.
    pub topic_stability: Option<Vec<f64>>,
    /// Cophenetic correlation of the consensus.
    pub cophenetic: Option<f64>,
}

/// Fits `restarts` times (see the module documentation) and keeps the best fit.
/// `progress(restart, iteration, objective)` is called after every iteration of every fit.
///
/// Errors: `restarts = 0` ([`Error::Input`] naming `--restarts`); any fit's error.
pub fn fit_restarts(
    x: &Matrix,
    params: &NmfValidParams,
    restarts: usize,
    progress: &mut dyn FnMut(usize, usize, f64),
) -> Result<Restarts> {
    check_restarts(restarts)?;
    let base = params.params();
    let mut runs = Vec::with_capacity(restarts);
    let mut best: Option<NmfModel> = None;
    let mut best_index = 0;
    for r in 0..restarts {
        let p = restart_params(base, r);
        let valid = if r == 0 {
            params.clone()
        } else {
            p.clone().check()?
        };
        let model = valid.into_fit(x, &mut |it, obj| progress(r, it, obj))?;
        runs.push(RestartRun::from_model(r, &p, &model));
        let wins = match &best {
            None => true,
            Some(b) => better(model.metrics.loss, r, b.metrics.loss, best_index),
        };
        if wins {
            best = Some(model);
            best_index = r;
        }
    }
    let best = best.expect("at least one restart");
    Ok(Restarts::assemble(runs, best, best_index, base.seed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::Triplets;

    fn planted() -> Matrix {
        // three blocks of documents over three blocks of terms
        let mut t = Triplets::new((30, 15));
        for i in 0..30 {
            let b = i % 3;
            for j in 0..5 {
                t.add_triplet(i, b * 5 + j, 1.0 + ((i * 7 + j * 3) % 4) as f64);
            }
        }
        t.to_csr()
    }

    #[test]
    fn restart_parameters() {
        let base = NmfParams::new(4).seed(10);
        assert_eq!(restart_params(&base, 0).init, Init::Nndsvda);
        let p = restart_params(&base, 2);
        assert_eq!((p.seed, p.init), (12, Init::Random));
        let ar = NmfParams::new(4).init(Init::Nndsvdar);
        assert_eq!(restart_params(&ar, 1).init, Init::Nndsvdar);
        let custom = NmfParams::new(1).custom_init(Array2::ones((2, 1)), Array2::ones((1, 2)));
        let p = restart_params(&custom, 1);
        assert!(p.w0.is_none() && p.init == Init::Random);
        assert_eq!(p.seed, 1);
        assert!(check_restarts(0)
            .unwrap_err()
            .to_string()
            .contains("--restarts"));
    }

    #[test]
    fn best_of_restarts_and_stability() {
        let x = planted();
        let params = NmfParams::new(3).max_iter(300).check().unwrap();
        let mut calls = [0usize; 3];
        let fits = fit_restarts(&x, &params, 3, &mut |r, _, _| calls[r] += 1).unwrap();
        assert!(calls.iter().all(|&c| c > 0));
        assert_eq!(fits.runs.len(), 3);
        assert_eq!(fits.runs[0].init, Init::Nndsvda);
        assert_eq!(fits.runs[2].init, Init::Random);
        let best = fits.runs[fits.best_index].objective;
        assert_eq!(best, fits.best.metrics.loss);
        assert!(fits.runs.iter().all(|r| r.objective >= best));
        // planted blocks: every restart finds them
        let s = fits.stability.as_ref().unwrap();
        assert!(s.mean > 0.99, "{s:?}");
        assert_eq!(s.per_topic.len(), 3);
        assert!((fits.cophenetic.unwrap() - 1.0).abs() < 1e-9);
        let summary = fits.summary();
        assert_eq!(summary.restarts, 3);
        assert_eq!(summary.objective_min, best);
        assert!(summary.objective_max >= summary.objective_min);
        let one = fit_restarts(&x, &params, 1, &mut |_, _, _| {}).unwrap();
        assert!(one.stability.is_none() && one.cophenetic.is_none());
        assert!(fit_restarts(&x, &params, 0, &mut |_, _, _| {}).is_err());
    }

    #[test]
    fn better_orders_objectives() {
        assert!(better(1.0, 3, 2.0, 0));
        assert!(!better(2.0, 0, 1.0, 3));
        assert!(better(1.0, 0, 1.0, 1) && !better(1.0, 1, 1.0, 0));
        assert!(better(5.0, 2, f64::NAN, 0) && !better(f64::NAN, 0, 5.0, 2));
    }
}
