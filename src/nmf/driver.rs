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
//!
//! # The reduce step: one code path for threads and processes
//! Every sum a solver needs across the rows of X or of a factor goes through the [`Comm`] of
//! its [`Problem`]: the factors' statistics (norms, column sums, the k × k Gram matrices), the
//! scalars of the objective ([`Problem::sum_pass`]), and the numerators of the updates, sums
//! over the rows or the columns of X ([`Problem::x_times`], [`Problem::xt_times`] and their
//! KL forms). The kernels return partial sums (reduced over fixed blocks and parts inside the
//! process); the comm finishes them:
//!
//! - [`Local`] (one process holding all of X, W and H): nothing more to add — the block and
//!   part reductions of [`crate::kernels`] are the whole sum, so a local fit's bits are those
//!   of the kernels alone. Here a W update may also fuse its numerator into its row pass
//!   ([`Comm::whole`]), which needs whole rows of X.
//! - the distributed comm (`crate::dist`, with the `mpi` feature; the MPI-FAUN layout):
//!   statistics and scalars are all-reduced, a numerator is the local product of X's block
//!   with the gathered block of the other factor, reduce-scattered over the grid, all in a
//!   fixed rank order.
//!
//! A solver's W and H updates are written once against these calls.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use super::data::Sparse;
use super::mu::{kl_h_numerator, kl_w_numerator};
use super::Regularization;
use crate::kernels::{
    csr_mul_dense, csr_transpose_mul_dense, eval_at_nonzeros_with, factor_stats, trace_product,
    CsrRef, FactorStats, PassStats, EPSILON,
};

/// The rows of a factor this process holds (all of them locally), with a stamp that changes
/// whenever they do, so that a comm may keep a gathered copy while the stamp is unchanged.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Own<'s> {
    /// The rows, row-major, k values each.
    pub rows: &'s [f64],
    /// Unique to this content ([`fresh_stamp`]); read by the distributed comm only.
    #[cfg_attr(not(feature = "mpi"), allow(dead_code))]
    pub stamp: u64,
}

impl<'s> Own<'s> {
    /// Rows with a new stamp (no gathered copy of them is reused).
    pub(crate) fn fresh(rows: &'s [f64]) -> Self {
        Own {
            rows,
            stamp: fresh_stamp(),
        }
    }
}

/// A stamp no factor has had before.
pub(crate) fn fresh_stamp() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// All of Hᵀ as a process holding whole rows of X sees it ([`Comm::whole_rows`]): its own
/// rows (one process), or a copy gathered from the processes.
pub(crate) enum WholeH<'s> {
    /// The process's own rows are all of Hᵀ.
    Own(&'s [f64]),
    /// Gathered into the comm (borrowed while the W update runs).
    #[cfg_attr(not(feature = "mpi"), allow(dead_code))]
    Gathered(std::cell::Ref<'s, [f64]>),
}

impl std::ops::Deref for WholeH<'_> {
    type Target = [f64];
    fn deref(&self) -> &[f64] {
        match self {
            WholeH::Own(s) => s,
            WholeH::Gathered(r) => r,
        }
    }
}

/// The processes a fit runs on: the sums across them and the products with X, whose parts
/// they hold (see the module docs). W's rows and Hᵀ's rows are each held by exactly one
/// process ("own rows"); `x` is this process's part of X.
pub(crate) trait Comm {
    /// Whether this process holds all of X, W and H (then a W update may fuse its numerator
    /// into its pass over the rows of X).
    fn whole(&self) -> bool;

    /// v ← Σ over the processes of v, elementwise, every process getting the same bits.
    fn sum(&self, v: &mut [f64]);

    /// When this process's part of X holds whole rows (every column of its documents) and its
    /// own rows of W are exactly those rows: all of Hᵀ in the column order of the part (given
    /// by its own rows `ht`), so that the W update can fuse its numerator into its pass over
    /// X as a local fit does. `None` otherwise.
    fn whole_rows<'s>(&'s self, ht: Own<'s>, k: usize) -> Option<WholeH<'s>>;

    /// out (W's own rows × c) = the own rows of X·B, for B (terms × c) given by its own rows.
    fn x_times(&self, x: CsrRef<'_>, b: Own<'_>, c: usize, out: &mut [f64]);

    /// out (Hᵀ's own rows × c) = the own rows of Xᵀ·A, for A (documents × c) given by its own
    /// rows; `parts` holds the scatter's part buffers between calls.
    fn xt_times(&self, x: CsrRef<'_>, a: Own<'_>, c: usize, out: &mut [f64], parts: &mut Vec<f64>);

    /// KL: out (W's own rows × k) = the own rows of R·Hᵀ with R = X ⊘ max(W·H, ε) at X's
    /// nonzeros; returns this process's partial sums of the log term and the cross term
    /// ([`kl_w_numerator`]), to be summed with [`Problem::sum_pass`].
    fn kl_w_numerator(
        &self,
        x: CsrRef<'_>,
        w: Own<'_>,
        ht: Own<'_>,
        k: usize,
        out: &mut [f64],
    ) -> (f64, f64);

    /// KL: out (Hᵀ's own rows × k) = the own rows of Rᵀ·W ([`kl_h_numerator`]).
    fn kl_h_numerator(
        &self,
        x: CsrRef<'_>,
        w: Own<'_>,
        ht: Own<'_>,
        k: usize,
        out: &mut [f64],
        parts: &mut Vec<f64>,
    );

    /// The evaluation pass at X's nonzeros: this process's partial sums of the KL log term
    /// (when `with_log`) and the cross term Σ x·(W·H) ([`eval_at_nonzeros_with`]).
    fn eval(&self, x: CsrRef<'_>, w: Own<'_>, ht: Own<'_>, k: usize, with_log: bool) -> (f64, f64);
}

/// One process holding all of X, W and H: the kernels' own reductions are the whole sums.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Local;

/// The comm of every local fit.
pub(crate) static LOCAL: Local = Local;

impl Comm for Local {
    fn whole(&self) -> bool {
        true
    }

    fn sum(&self, _v: &mut [f64]) {}

    fn whole_rows<'s>(&'s self, ht: Own<'s>, _k: usize) -> Option<WholeH<'s>> {
        Some(WholeH::Own(ht.rows))
    }

    fn x_times(&self, x: CsrRef<'_>, b: Own<'_>, c: usize, out: &mut [f64]) {
        csr_mul_dense(x, b.rows, c, out);
    }

    fn xt_times(&self, x: CsrRef<'_>, a: Own<'_>, c: usize, out: &mut [f64], parts: &mut Vec<f64>) {
        csr_transpose_mul_dense(x, a.rows, c, out, parts);
    }

    fn kl_w_numerator(
        &self,
        x: CsrRef<'_>,
        w: Own<'_>,
        ht: Own<'_>,
        k: usize,
        out: &mut [f64],
    ) -> (f64, f64) {
        kl_w_numerator(x, w.rows, ht.rows, k, true, out)
    }

    fn kl_h_numerator(
        &self,
        x: CsrRef<'_>,
        w: Own<'_>,
        ht: Own<'_>,
        k: usize,
        out: &mut [f64],
        parts: &mut Vec<f64>,
    ) {
        kl_h_numerator(x, w.rows, ht.rows, k, out, parts);
    }

    fn eval(&self, x: CsrRef<'_>, w: Own<'_>, ht: Own<'_>, k: usize, with_log: bool) -> (f64, f64) {
        eval_at_nonzeros_with(x, w.rows, ht.rows, k, with_log)
    }
}

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
#[derive(Clone, Copy)]
pub(crate) struct Problem<'a> {
    /// This process's part of X in CSR (all of X, documents × terms, locally).
    pub x: CsrRef<'a>,
    /// The processes and the sums across them ([`LOCAL`] for a local fit).
    pub comm: &'a dyn Comm,
    /// W's rows this process holds (all documents locally).
    pub n_own: usize,
    /// Hᵀ's rows this process holds (all terms locally).
    pub m_own: usize,
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
        Problem::with_comm(x, &LOCAL, x.nrows, x.ncols, k, kl, reg)
    }

    /// The problem for this process's part `x` of X on `comm`, holding `n_own` rows of W and
    /// `m_own` rows of Hᵀ. ‖X‖²_F and the KL constant are summed over the processes.
    pub(crate) fn with_comm(
        x: CsrRef<'a>,
        comm: &'a dyn Comm,
        n_own: usize,
        m_own: usize,
        k: usize,
        kl: bool,
        reg: Regularization,
    ) -> Self {
        let mut sums = [
            x.data.iter().map(|v| v * v).sum(),
            x.data.iter().filter(|v| **v > EPSILON).sum(),
        ];
        comm.sum(&mut sums);
        Problem {
            x,
            comm,
            n_own,
            m_own,
            k,
            kl,
            reg,
            x_sq: sums[0],
            x_sum: sums[1],
        }
    }

    /// W's rows this process holds (the number of documents locally).
    pub(crate) fn n(&self) -> usize {
        self.n_own
    }

    /// Hᵀ's rows this process holds (the number of terms locally).
    pub(crate) fn m(&self) -> usize {
        self.m_own
    }

    /// The statistics of a factor from its own rows ([`factor_stats`]), summed over the
    /// processes.
    pub(crate) fn stats(&self, a: &[f64], gram: bool) -> FactorStats {
        let mut s = factor_stats(a, self.k, gram);
        if !self.comm.whole() {
            let mut v = vec![s.l1, s.sq];
            v.extend_from_slice(&s.colsum);
            v.extend_from_slice(&s.gram);
            self.comm.sum(&mut v);
            let (k, g) = (self.k, s.gram.len());
            s.l1 = v[0];
            s.sq = v[1];
            s.colsum.copy_from_slice(&v[2..2 + k]);
            s.gram.copy_from_slice(&v[2 + k..2 + k + g]);
        }
        s
    }

    /// The sums of a pass over this process's rows (scalars, the new factor's column sums and
    /// Gram matrix), summed over the processes in one reduce step. Nothing to do locally.
    pub(crate) fn sum_pass(&self, st: &mut PassStats) {
        if self.comm.whole() {
            return;
        }
        let (k, g) = (st.new.colsum.len(), st.new.gram.len());
        let mut v = vec![
            st.logsum, st.cross, st.old_l1, st.old_sq, st.extra, st.new.l1, st.new.sq,
        ];
        v.extend_from_slice(&st.new.colsum);
        v.extend_from_slice(&st.new.gram);
        self.comm.sum(&mut v);
        st.logsum = v[0];
        st.cross = v[1];
        st.old_l1 = v[2];
        st.old_sq = v[3];
        st.extra = v[4];
        st.new.l1 = v[5];
        st.new.sq = v[6];
        st.new.colsum.copy_from_slice(&v[7..7 + k]);
        st.new.gram.copy_from_slice(&v[7 + k..7 + k + g]);
    }

    /// out = own rows of X·B ([`Comm::x_times`]).
    pub(crate) fn x_times(&self, b: Own<'_>, out: &mut [f64]) {
        self.comm.x_times(self.x, b, self.k, out);
    }

    /// out = own rows of Xᵀ·A ([`Comm::xt_times`]).
    pub(crate) fn xt_times(&self, a: Own<'_>, out: &mut [f64], parts: &mut Vec<f64>) {
        self.comm.xt_times(self.x, a, self.k, out, parts);
    }

    /// The objective from the divergence and the factors' norms:
    /// `div + l1_w‖W‖₁ + ½l2_w‖W‖²_F + l1_h‖H‖₁ + ½l2_h‖H‖²_F` (summed in that order).
    pub(crate) fn objective(&self, div: f64, w_l1: f64, w_sq: f64, h_l1: f64, h_sq: f64) -> f64 {
        penalized(&self.reg, div, w_l1, w_sq, h_l1, h_sq)
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
    let (w_own, h_own) = (Own::fresh(w), Own::fresh(ht));
    let mut at = [0.0; 2];
    (at[0], at[1]) = pb.comm.eval(pb.x, w_own, h_own, k, pb.kl);
    pb.comm.sum(&mut at);
    let [logsum, cross] = at;
    let fw = pb.stats(w, true);
    let fh = pb.stats(ht, true);
    Evaluation::of_sums([logsum, cross, pb.x_sq, pb.x_sum], &fw, &fh, pb.kl, &pb.reg)
}

/// The objective from the divergence and the factors' norms:
/// `div + l1_w‖W‖₁ + ½l2_w‖W‖²_F + l1_h‖H‖₁ + ½l2_h‖H‖²_F` (summed in that order).
pub(crate) fn penalized(
    r: &Regularization,
    div: f64,
    w_l1: f64,
    w_sq: f64,
    h_l1: f64,
    h_sq: f64,
) -> f64 {
    div + r.l1_w * w_l1 + 0.5 * r.l2_w * w_sq + r.l1_h * h_l1 + 0.5 * r.l2_h * h_sq
}

impl Evaluation {
    /// The evaluation from the sums of a pass over X, `[Σ x·ln(x/wh), Σ x·wh, ‖X‖²_F, Σ_{x>ε} x]`,
    /// and the statistics of W and Hᵀ (with their Gram matrices):
    ///
    /// ```text
    /// ‖X − WH‖²_F = ‖X‖² − 2·Σ x·wh + tr(WᵀW·HHᵀ)
    /// divergence  = ½‖X − WH‖²_F                                  (Frobenius)
    ///               Σ x·ln(x/wh) + Σ_l colsum(W)_l·colsum(Hᵀ)_l − Σ_{x>ε} x   (KL)
    /// ```
    ///
    /// both clamped at 0, and the loss [`penalized`].
    pub(crate) fn of_sums(
        [logsum, cross, x_sq, x_sum]: [f64; 4],
        fw: &FactorStats,
        fh: &FactorStats,
        kl: bool,
        reg: &Regularization,
    ) -> Evaluation {
        let k = fw.colsum.len();
        let resid = x_sq - 2.0 * cross + trace_product(&fw.gram, &fh.gram, k);
        let divergence = if kl {
            let dot: f64 = fw.colsum.iter().zip(&fh.colsum).map(|(a, b)| a * b).sum();
            (logsum + dot - x_sum).max(0.0)
        } else {
            (0.5 * resid).max(0.0)
        };
        Evaluation {
            loss: penalized(reg, divergence, fw.l1, fw.sq, fh.l1, fh.sq),
            divergence,
            resid_sq: resid.max(0.0),
            x_sq,
        }
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
