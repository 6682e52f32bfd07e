//! The one loop every solver runs in: iterations, the stopping rule, the loss history,
//! progress, timing, the final evaluation and the metrics' inputs.
//!
//! A solver ([`Solver`]) knows only its own updates. Per iteration the driver calls
//! [`Solver::update_w`] and then, when H is being fitted, [`Solver::update_h`]; each returns a
//! [`Half`] with what the stopping rule and the history need. What a solver reports depends on
//! what its passes see for free:
//!
//! - a *lagged* solver (the multiplicative updates) learns the objective of the factors an
//!   iteration starts from during that iteration's W pass (it sees W·H at X's nonzeros, or
//!   X·Hᵀ); the driver records it as the objective after the previous iteration, and when the
//!   rule says stop, it asks the solver to drop the W it has just computed
//!   ([`Solver::end_tentative`]), so the result is the factors whose objective was judged;
//! - the others report the objective of the factors they produce (coordinate descent and
//!   ALS have XᵀW, WᵀW and HHᵀ at hand after the H update).
//!
//! Whatever the solver, the final factors are evaluated once more by the driver (one pass
//! over X) for the metrics, so every solver's metrics mean the same thing.

use std::time::Instant;

use super::data::Sparse;
use super::Regularization;
use crate::kernels::{eval_at_nonzeros_with, factor_stats, trace_product, CsrRef, EPSILON};

/// The rule that `tol` applies to. `tol = 0` disables every rule: the loop runs `max_iter`
/// iterations.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum StopRule {
    /// scikit-learn's rule for `solver="mu"`: with e = √(2·divergence), e₀ that of the start
    /// and e the error every `every` iterations, stop when `(e_prev − e) / e₀ < tol` (an
    /// exact start, e₀ = 0, stops at the first check).
    RelativeError {
        /// Iterations between checks (10 in scikit-learn).
        every: usize,
        /// Use the whole objective instead of the divergence in e (for methods whose
        /// objective has a term the divergence does not see, GNMF's graph term).
        on_objective: bool,
    },
    /// scikit-learn's rule for `solver="cd"`: the sum of |projected gradient| over the
    /// coordinates of both updates of an iteration, relative to that of the first iteration,
    /// `≤ tol` (a first iteration with no violation stops at once).
    ProjectedGradient,
    /// For methods without a cheaper measure: the objective L after every iteration against
    /// the one after the first, `|L_prev − L| ≤ tol · L₁` (relative to a fixed reference, as
    /// scikit-learn's MU rule, so that an exact fit, L → 0, stops too).
    RelativeChange,
    /// The solver's own rule (mini-batch NMF's smoothed-cost and H-change tests): the loop
    /// stops when a [`Half`] says `stop`.
    Own,
    /// Lin's rule for projected gradient: the norm of the projected gradient of the factors
    /// an iteration produces (reported as the [`Half::violation`]s of the iteration, summed)
    /// `≤ tol · initial`, with `initial` the norm of the gradient at the start.
    GradientNorm {
        /// ‖∇f(W₀, H₀)‖_F.
        initial: f64,
    },
}

/// What one half of an iteration (the W update or the H update) reports.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Half {
    /// The objective (divergence + penalties) of the factors the report is about: those the
    /// iteration started from for a lagged solver's W update, the updated ones otherwise.
    /// `None` when this half does not know it.
    pub objective: Option<f64>,
    /// The divergence alone, of the same factors.
    pub divergence: Option<f64>,
    /// Σ |projected gradient| over the coordinates this half updated (for
    /// [`StopRule::GradientNorm`]: the norm of the projected gradient).
    pub violation: f64,
    /// The update is the exact minimizer with the other factor fixed, and nothing else moves
    /// (an exact NNLS solve with H fixed): the loop can stop.
    pub exact: bool,
    /// The solver's own rule says stop ([`StopRule::Own`]).
    pub stop: bool,
}

/// An NMF algorithm, from the driver's side. The factors live inside the solver, W as
/// documents × k and H transposed (terms × k), both row-major.
pub(crate) trait Solver {
    /// The rule `tol` applies to.
    fn stop_rule(&self) -> StopRule;

    /// Whether the W update reports the objective of the factors the iteration started from
    /// (see the module docs).
    fn lagged(&self) -> bool {
        false
    }

    /// Updates W (iteration `t`, from 0). With `tentative` (asked only of lagged solvers),
    /// the starting W must be kept until [`Solver::end_tentative`].
    fn update_w(&mut self, t: usize, tentative: bool) -> Half;

    /// After a tentative [`Solver::update_w`]: keep the new W (`keep`), or return to the W
    /// the iteration started from.
    fn end_tentative(&mut self, _keep: bool) {}

    /// Updates H with the current W (iteration `t`).
    fn update_h(&mut self, t: usize) -> Half;

    /// The terms of the current factors' objective that the driver's evaluation (divergence
    /// and penalties, [`evaluate`]) does not see: GNMF's graph term. Asked once, after the
    /// last iteration.
    fn extra_objective(&self) -> f64 {
        0.0
    }

    /// The current factors: W (n × k) and Hᵀ (m × k), row-major.
    fn into_factors(self: Box<Self>) -> (Vec<f64>, Vec<f64>);
}

/// The data and the settings every solver sees.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Problem<'a> {
    /// X in CSR (documents × terms).
    pub x: CsrRef<'a>,
    /// Number of topics.
    pub k: usize,
    /// Whether the divergence is KL (else Frobenius).
    pub kl: bool,
    /// Scaled penalty weights.
    pub reg: Regularization,
    /// ‖X‖²_F.
    pub x_sq: f64,
    /// Σ x over the stored entries with x > ε (the KL divergence's constant part).
    pub x_sum: f64,
}

impl<'a> Problem<'a> {
    /// The problem for X at rank k.
    pub(crate) fn new(xs: &'a Sparse<'_>, k: usize, kl: bool, reg: Regularization) -> Self {
        let x = xs.x();
        Problem {
            x,
            k,
            kl,
            reg,
            x_sq: x.data.iter().map(|v| v * v).sum(),
            x_sum: x.data.iter().filter(|v| **v > EPSILON).sum(),
        }
    }

    /// Number of documents.
    pub(crate) fn n(&self) -> usize {
        self.x.nrows
    }

    /// Number of terms.
    pub(crate) fn m(&self) -> usize {
        self.x.ncols
    }

    /// The objective from the divergence and the factors' norms:
    /// `div + l1_w‖W‖₁ + ½l2_w‖W‖²_F + l1_h‖H‖₁ + ½l2_h‖H‖²_F` (summed in that order).
    pub(crate) fn objective(&self, div: f64, w_l1: f64, w_sq: f64, h_l1: f64, h_sq: f64) -> f64 {
        let r = &self.reg;
        div + r.l1_w * w_l1 + 0.5 * r.l2_w * w_sq + r.l1_h * h_l1 + 0.5 * r.l2_h * h_sq
    }

    /// ½‖X − WH‖²_F from the cross term tr(Wᵀ·X·Hᵀ) and the Gram matrices:
    /// `½(‖X‖² − 2·cross + tr(WᵀW·HHᵀ))`.
    pub(crate) fn frobenius(&self, cross: f64, gram_w: &[f64], gram_h: &[f64]) -> f64 {
        0.5 * (self.x_sq - 2.0 * cross + trace_product(gram_w, gram_h, self.k))
    }
}

/// Limits of the loop.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Maximum number of iterations (≥ 1).
    pub max_iter: usize,
    /// Tolerance of the stopping rule (0: run `max_iter`).
    pub tol: f64,
    /// Whether H is fitted (false: W is solved with H fixed).
    pub update_h: bool,
}

/// What the driver hands back.
#[derive(Debug)]
pub(crate) struct Run {
    /// W, documents × k, row-major.
    pub w: Vec<f64>,
    /// Hᵀ, terms × k, row-major.
    pub ht: Vec<f64>,
    /// Objective after each iteration.
    pub history: Vec<f64>,
    /// Iterations run.
    pub iterations: usize,
    /// Whether the stopping rule was met.
    pub converged: bool,
    /// Seconds of the loop (the final evaluation excluded).
    pub loop_seconds: f64,
    /// The final factors' objective, divergence, ‖X − WH‖²_F and ‖X‖²_F.
    pub eval: Evaluation,
}

/// The objective of a pair of factors, evaluated in one pass over X.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Evaluation {
    /// Divergence + penalties (+ the solver's [`Solver::extra_objective`] in [`run`]'s
    /// result).
    pub loss: f64,
    /// The divergence (clamped at 0).
    pub divergence: f64,
    /// ‖X − WH‖²_F (via traces, clamped at 0), for either loss.
    pub resid_sq: f64,
    /// ‖X‖²_F.
    pub x_sq: f64,
}

/// √(2·divergence), scikit-learn's reconstruction error.
fn err_of(div: f64) -> f64 {
    (2.0 * div.max(0.0)).sqrt()
}

/// scikit-learn's test `(e_prev − e)/e₀ < tol`; an exact start (e₀ = 0) stops.
fn error_stalled(prev: f64, e: f64, e0: f64, tol: f64) -> bool {
    if e0 == 0.0 {
        return true;
    }
    (prev - e) / e0 < tol
}

/// Evaluates W (n × k) and Hᵀ (m × k) on the problem: the divergence from one pass over X at
/// its nonzeros (the KL data term Σ x·ln(x/wh), the cross term Σ x·wh) and the factors'
/// statistics.
pub(crate) fn evaluate(pb: &Problem<'_>, w: &[f64], ht: &[f64]) -> Evaluation {
    let k = pb.k;
    let (logsum, cross) = eval_at_nonzeros_with(pb.x, w, ht, k, pb.kl);
    let fw = factor_stats(w, k, true);
    let fh = factor_stats(ht, k, true);
    let resid = pb.x_sq - 2.0 * cross + trace_product(&fw.gram, &fh.gram, k);
    let divergence = if pb.kl {
        let dot: f64 = fw.colsum.iter().zip(&fh.colsum).map(|(a, b)| a * b).sum();
        (logsum + dot - pb.x_sum).max(0.0)
    } else {
        (0.5 * resid).max(0.0)
    };
    Evaluation {
        loss: pb.objective(divergence, fw.l1, fw.sq, fh.l1, fh.sq),
        divergence,
        resid_sq: resid.max(0.0),
        x_sq: pb.x_sq,
    }
}

/// Runs `solver` until its stopping rule or `max_iter`, then evaluates the final factors.
/// `progress(t, objective)` is called with the objective after iteration t as soon as it is
/// known (one pass late for a lagged solver).
pub(crate) fn run(
    pb: &Problem<'_>,
    mut solver: Box<dyn Solver + '_>,
    lim: Limits,
    progress: &mut dyn FnMut(usize, f64),
) -> Run {
    let t0 = Instant::now();
    let rule = solver.stop_rule();
    let checks = lim.tol > 0.0;
    let lagged = solver.lagged();
    let mut history = Vec::with_capacity(lim.max_iter);
    let mut converged = false;
    // The reference values of the rules: e₀ and the previous error (relative error), the
    // first iteration's violation (projected gradient), the previous objective.
    let (mut e0, mut e_prev) = (0.0, 0.0);
    let mut violation0 = 0.0;
    let (mut obj_first, mut obj_prev) = (f64::NAN, f64::NAN);
    let mut t = 0;
    while t < lim.max_iter {
        if lagged {
            // The W pass of iteration t sees the factors after iteration t − 1.
            let (every, on_objective) = match rule {
                StopRule::RelativeError {
                    every,
                    on_objective,
                } => (every.max(1), on_objective),
                _ => (1, false),
            };
            let check_now = checks && t > 0 && t % every == 0;
            let hw = solver.update_w(t, check_now);
            let div = if on_objective {
                hw.objective
            } else {
                hw.divergence
            }
            .unwrap_or(f64::NAN);
            if t == 0 {
                e0 = err_of(div);
                e_prev = e0;
            } else {
                let obj = hw.objective.unwrap_or(f64::NAN);
                history.push(obj);
                progress(t, obj);
                if check_now {
                    let e = err_of(div);
                    let stop = match rule {
                        StopRule::RelativeError { .. } => error_stalled(e_prev, e, e0, lim.tol),
                        StopRule::RelativeChange => {
                            relative_change(obj_prev, obj, obj_first, lim.tol)
                        }
                        StopRule::ProjectedGradient
                        | StopRule::Own
                        | StopRule::GradientNorm { .. } => false,
                    };
                    solver.end_tentative(!stop);
                    if stop {
                        converged = true;
                        break;
                    }
                    e_prev = e;
                }
                if t == 1 {
                    obj_first = obj;
                }
                obj_prev = obj;
            }
            if lim.update_h {
                solver.update_h(t);
            }
        } else {
            let hw = solver.update_w(t, false);
            let hh = if lim.update_h {
                solver.update_h(t)
            } else {
                Half::default()
            };
            let obj = hh.objective.or(hw.objective).unwrap_or(f64::NAN);
            history.push(obj);
            progress(t + 1, obj);
            let violation = hw.violation + hh.violation;
            let exact = hw.exact && !lim.update_h;
            let stop = exact
                || hw.stop
                || hh.stop
                || (checks
                    && match rule {
                        StopRule::ProjectedGradient => {
                            if t == 0 {
                                violation0 = violation;
                            }
                            violation0 == 0.0 || violation / violation0 <= lim.tol
                        }
                        StopRule::RelativeChange => {
                            relative_change(obj_prev, obj, obj_first, lim.tol)
                        }
                        StopRule::Own => false,
                        StopRule::GradientNorm { initial } => violation <= lim.tol * initial,
                        StopRule::RelativeError {
                            every,
                            on_objective,
                        } => {
                            let div = if on_objective {
                                hh.objective.or(hw.objective)
                            } else {
                                hh.divergence.or(hw.divergence)
                            };
                            let e = err_of(div.unwrap_or(f64::NAN));
                            if t == 0 {
                                (e0, e_prev) = (e, e);
                                false
                            } else if (t + 1) % every.max(1) == 0 {
                                let s = error_stalled(e_prev, e, e0, lim.tol);
                                e_prev = e;
                                s
                            } else {
                                false
                            }
                        }
                    });
            if t == 0 {
                obj_first = obj;
            }
            obj_prev = obj;
            if stop {
                converged = true;
                t += 1;
                break;
            }
        }
        t += 1;
    }
    let loop_seconds = t0.elapsed().as_secs_f64();
    let extra = solver.extra_objective();
    let (w, ht) = solver.into_factors();
    let mut eval = evaluate(pb, &w, &ht);
    eval.loss += extra;
    if !lagged {
        // The solver's own figure for the last iteration and the evaluation agree to
        // rounding; keep one number.
        if let Some(last) = history.last_mut() {
            *last = eval.loss;
        }
    } else if !converged {
        // The objective after the last iteration, and the rule's last check on it.
        history.push(eval.loss);
        progress(t, eval.loss);
        if let StopRule::RelativeError {
            every,
            on_objective,
        } = rule
        {
            let last = if on_objective {
                eval.loss
            } else {
                eval.divergence
            };
            if checks && t % every.max(1) == 0 && error_stalled(e_prev, err_of(last), e0, lim.tol) {
                converged = true;
            }
        }
    }
    Run {
        w,
        ht,
        history,
        iterations: t,
        converged,
        loop_seconds,
        eval,
    }
}

/// `|L_prev − L| ≤ tol·L₁` (false while there is no previous objective).
fn relative_change(prev: f64, obj: f64, first: f64, tol: f64) -> bool {
    prev.is_finite() && (prev - obj).abs() <= tol * first.abs()
}
