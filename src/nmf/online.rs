//! Online (mini-batch) NMF with scikit-learn's `MiniBatchNMF` semantics, for the Frobenius
//! and KL losses: a [`MiniBatch`] state that [`MiniBatch::partial_fit`] updates from one block
//! of rows at a time (so a corpus can be streamed without building X whole), and the
//! `Online` solver of the driver, which runs epochs over the rows of X in fixed batches.
//!
//! # One step (a batch X_b of rows, scikit-learn's `_minibatch_step`)
//! With the penalties scaled for the batch (`l1_W = α_W·ρ·m`, `l1_H = α_H·ρ·|b|`, …):
//!
//! 1. W_b: one multiplicative update from the current rows (or, with `fresh_restarts`, a
//!    solve from W_b = √(mean(X_b)/k) by multiplicative updates until
//!    ‖W_b − W_b'‖/‖W_b‖ ≤ tol or `fresh_restarts_max_iter` updates), with H fixed;
//! 2. the batch cost `(D(X_b, W_b·H) + l1_W‖W_b‖₁ + l1_H‖H‖₁ + l2_W‖W_b‖² + l2_H‖H‖²) / |b|`
//!    (scikit-learn writes the L2 terms without ½ here);
//! 3. H: with the numerator N and denominator D of the batch's multiplicative H update
//!    (Frobenius N = W_bᵀX_b, D = W_bᵀW_b·H; KL N = W_bᵀ(X_b ⊘ W_bH), D = (W_bᵀ𝟙)𝟙ᵀ with zero
//!    sums replaced by 1; both D + l1_H + l2_H·H, zeros → ε) and the sufficient statistics A, B
//!    (A₀ = H₀, B₀ = 𝟙):
//!
//!    ```text
//!    A ← ρ·A + H ⊙ N,    B ← ρ·B + D,    H ← A ⊘ B,    ρ = forget_factor^(|b| / n)
//!    ```
//!
//!    (then, for KL, entries below f64::EPSILON set to 0).
//!
//! # Stopping (scikit-learn's `_minibatch_convergence`, from the second step on)
//! The cost is smoothed, `ewa ← ewa·(1 − a) + cost·a` with `a = min(|b| / (n + 1), 1)`; stop
//! when `‖H − H_prev‖ / ‖H‖ ≤ tol` (tol > 0), or when the smoothed cost has not reached a new
//! minimum for `max_no_improvement` steps. At most `max_iter` epochs of ⌈n / batch_size⌉
//! steps; with `fresh_restarts` the final W is solved for all of X with H fixed.
//!
//! The objective recorded for an epoch (the loss history) is Σ_b |b|·cost_b over its batches,
//! the objective as the batches saw it, as a streamed fit records it
//! ([`super::stream`]): no full evaluation per epoch (scikit-learn's `MiniBatchNMF` makes none
//! either); the final evaluation gives the loss, the history's last entry.
//!
//! Batches are the consecutive rows 0..b, b..2b, … (scikit-learn's `gen_batches`, cycled), so
//! results equal scikit-learn's for the same start (`tests/nmf_parity.rs`). Each step's passes
//! are the multiplicative updates' kernels (fixed blocks and parts): the same bits with any
//! number of threads.

use multiversion::multiversion;
use multiversion::target::target_cfg_f;
use rayon::prelude::*;

use super::driver::{Half, Problem, Solver, StopRule};
use super::mu::{kl_numerator_with, mu_frobenius_rows_in_place, mu_kl_rows_in_place, nonzero_den};
use super::{NmfError, Regularization};
use crate::kernels::reduce::{add_block_stats, split_stats, SCALARS};
use crate::kernels::simd::{by_lanes, lanes_load, lanes_vec_mat, vec_mat};
use crate::kernels::{
    csr_transpose_add_dense_one_part, eval_at_nonzeros_with, factor_stats, trace_product, CsrRef,
    FactorStats, EPSILON, ROW_BLOCK,
};

/// The parameters of mini-batch NMF (scikit-learn's `MiniBatchNMF`; defaults as there).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct OnlineOptions {
    /// Rows per batch (≥ 1; at most the number of rows).
    pub batch_size: usize,
    /// Weight of the past in the sufficient statistics, in [0, 1]; the per-step factor is
    /// ρ = forget_factor^(batch_size / n).
    pub forget_factor: f64,
    /// Solve each batch's W from scratch (instead of one update from its last value).
    pub fresh_restarts: bool,
    /// Updates of a fresh restart's solve.
    pub fresh_restarts_max_iter: usize,
    /// Steps without a new minimum of the smoothed cost before stopping (`None`: never).
    pub max_no_improvement: Option<usize>,
    /// Whether the rows were streamed from the inputs for every epoch instead of held
    /// ([`super::stream::fit_streamed`]; `fit --stream`). Recorded in the outputs; the
    /// in-memory solver does not read it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub stream: bool,
}

impl Default for OnlineOptions {
    fn default() -> Self {
        OnlineOptions {
            batch_size: 1024,
            forget_factor: 0.7,
            fresh_restarts: false,
            fresh_restarts_max_iter: 30,
            max_no_improvement: Some(10),
            stream: false,
        }
    }
}

impl OnlineOptions {
    /// Checks the options; errors name the command-line option.
    pub fn check(&self) -> Result<(), NmfError> {
        let bad = |m: String| Err(NmfError::Params(m));
        if self.batch_size == 0 {
            return bad("--batch-size must be at least 1".into());
        }
        if !(0.0..=1.0).contains(&self.forget_factor) {
            return bad(format!(
                "--forget-factor must be in [0, 1] (got {})",
                self.forget_factor
            ));
        }
        if self.fresh_restarts_max_iter == 0 {
            return bad("--fresh-restarts-max-iter must be at least 1".into());
        }
        if self.max_no_improvement == Some(0) {
            return bad("--max-no-improvement must be at least 1".into());
        }
        Ok(())
    }
}

/// The rows `r0..r1` of `x` as a CSR matrix of their own (the row pointers rebased into
/// `indptr`, the indices and values borrowed).
pub fn row_block<'a>(
    x: CsrRef<'a>,
    r0: usize,
    r1: usize,
    indptr: &'a mut Vec<usize>,
) -> CsrRef<'a> {
    let (s, e) = (x.indptr[r0], x.indptr[r1]);
    indptr.clear();
    indptr.extend(x.indptr[r0..=r1].iter().map(|p| p - s));
    CsrRef {
        nrows: r1 - r0,
        ncols: x.ncols,
        indptr,
        indices: &x.indices[s..e],
        data: &x.data[s..e],
    }
}

/// The state of mini-batch NMF: H (kept transposed, m × k), the sufficient statistics A and B
/// of its update, and the smoothed cost of the stopping rule.
#[derive(Debug, Clone)]
pub struct MiniBatch {
    k: usize,
    /// The rank of the factorization: columns `rank..k` of W and H are zero padding (k is a
    /// rank of the register kernels, [`crate::kernels::register_rank`]), and stay zero.
    rank: usize,
    kl: bool,
    opts: OnlineOptions,
    /// The penalty weights α_W, α_H and the L1 share (scaled per batch).
    alpha_w: f64,
    alpha_h: f64,
    l1_ratio: f64,
    tol: f64,
    /// ρ of the full-size batches (a shorter last batch has its own).
    n_total: usize,
    ht: Vec<f64>,
    a: Vec<f64>,
    b: Vec<f64>,
    hs: FactorStats,
    ewa: Option<f64>,
    ewa_min: Option<f64>,
    no_improvement: usize,
    steps: usize,
    /// The numerator buffer of the H update (m × k), kept between steps.
    num: Vec<f64>,
}

/// What one step did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepReport {
    /// The batch cost (see the module docs).
    pub cost: f64,
    /// ‖H − H_prev‖ / ‖H‖ (0 when H was not updated).
    pub h_change: f64,
    /// The smoothed cost after this step (`None` on the first step).
    pub smoothed: Option<f64>,
    /// Whether the stopping rule says stop.
    pub stop: bool,
}

impl MiniBatch {
    /// The state at the start H0 (k × m given as Hᵀ, m × k row-major), for a corpus of
    /// `n_total` rows (ρ depends on it), with the penalties α_W, α_H, the L1 share and `tol`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        ht0: Vec<f64>,
        k: usize,
        kl: bool,
        opts: OnlineOptions,
        n_total: usize,
        alpha_w: f64,
        alpha_h: f64,
        l1_ratio: f64,
        tol: f64,
    ) -> Self {
        let hs = factor_stats(&ht0, k, true);
        MiniBatch {
            k,
            rank: k,
            kl,
            opts,
            alpha_w,
            alpha_h,
            l1_ratio,
            tol,
            n_total: n_total.max(1),
            a: ht0.clone(),
            b: vec![1.0; ht0.len()],
            ht: ht0,
            hs,
            ewa: None,
            ewa_min: None,
            no_improvement: 0,
            steps: 0,
            num: Vec::new(),
        }
    }

    /// The state for a rank-`rank` factorization run at the wider k of `self` (H0's columns
    /// `rank..k` zero): the padding columns stay zero, and new rows' W starts from
    /// √(mean(X)/rank) in the first `rank` columns (see [`MiniBatch::solve_w`]), so the factors
    /// are the rank-`rank` ones, up to the order of floating-point sums.
    pub fn with_rank(mut self, rank: usize) -> Self {
        self.rank = rank.clamp(1, self.k);
        self
    }

    /// Hᵀ (m × k, row-major).
    pub fn ht(&self) -> &[f64] {
        &self.ht
    }

    /// The penalty weights for a batch of `rows` rows of `m` columns (scikit-learn scales
    /// them by the batch's shape).
    fn reg(&self, rows: usize, m: usize) -> Regularization {
        let (nf, ns) = (m as f64, rows as f64);
        Regularization {
            l1_w: nf * self.alpha_w * self.l1_ratio,
            l2_w: nf * self.alpha_w * (1.0 - self.l1_ratio),
            l1_h: ns * self.alpha_h * self.l1_ratio,
            l2_h: ns * self.alpha_h * (1.0 - self.l1_ratio),
        }
    }

    /// One multiplicative update of the batch's W (rows × k) with H fixed; returns its stats
    /// and, for the Frobenius loss, the cross term Σ x_ij (w_i·h_j) of the new W, which the
    /// pass sums as Σ_i w_i·(x_i·Hᵀ) from the numerator rows it computes anyway.
    fn update_w(
        &self,
        x: CsrRef<'_>,
        w: &mut [f64],
        reg: Regularization,
    ) -> (FactorStats, Option<f64>) {
        let k = self.k;
        if self.kl {
            let den: Vec<f64> = self.hs.colsum.iter().map(|s| s + reg.l1_w).collect();
            let st = mu_kl_rows_in_place(x, w, &self.ht, k, &den, reg.l2_w, false, false, true);
            (st.new, None)
        } else {
            let g = &self.hs.gram;
            let st = mu_frobenius_rows_in_place(x, w, &self.ht, k, g, reg.l1_w, reg.l2_w, true);
            (st.new, Some(st.extra))
        }
    }

    /// W for the rows of `x` with H fixed, from √(mean(X)/k) by multiplicative updates until
    /// ‖W − W_prev‖/‖W‖ ≤ tol or `max_iter` updates (scikit-learn's `_solve_W`). With a
    /// padded rank ([`MiniBatch::with_rank`]) k is the factorization's rank and the padding
    /// columns start (and stay) at zero.
    pub fn solve_w(&self, x: CsrRef<'_>, max_iter: usize) -> Vec<f64> {
        let (rows, k) = (x.nrows, self.k);
        let mean = x.data.iter().sum::<f64>() / (rows as f64 * x.ncols as f64).max(1.0);
        let start = (mean / self.rank as f64).sqrt();
        let mut w = vec![0.0; rows * k];
        for row in w.chunks_exact_mut(k) {
            row[..self.rank].fill(start);
        }
        let reg = self.reg(rows, x.ncols);
        let mut prev = w.clone();
        for _ in 0..max_iter {
            let _ = self.update_w(x, &mut w, reg);
            let (d, nrm) = diff_norms(&w, &prev);
            if self.tol > 0.0 && d <= self.tol * nrm {
                break;
            }
            prev.copy_from_slice(&w);
        }
        w
    }

    /// One step on the batch `x` (its rows' W in `w`, rows × k, updated in place; with
    /// `fresh_restarts` overwritten by a fresh solve). With `update_h` false only W changes
    /// and the stopping rule is not consulted.
    pub fn step(&mut self, x: CsrRef<'_>, w: &mut [f64], update_h: bool) -> StepReport {
        let (rows, m, k) = (x.nrows, x.ncols, self.k);
        debug_assert_eq!(w.len(), rows * k);
        let reg = self.reg(rows, m);
        let (ws, new_cross) = if self.opts.fresh_restarts {
            let fresh = self.solve_w(x, self.opts.fresh_restarts_max_iter);
            w.copy_from_slice(&fresh);
            (factor_stats(w, k, true), None)
        } else {
            let (mut s, cross) = self.update_w(x, w, reg);
            if s.gram.is_empty() {
                s = factor_stats(w, k, true);
            }
            (s, cross)
        };
        // The batch cost with the new W and the current H; the Frobenius cross term comes
        // from the W update when it ran, else from a pass over the batch.
        let (logsum, cross) = match new_cross {
            Some(c) => (0.0, c),
            None => eval_at_nonzeros_with(x, w, &self.ht, k, self.kl),
        };
        let div = if self.kl {
            let x_sum: f64 = x.data.iter().filter(|v| **v > EPSILON).sum();
            let dot: f64 = ws
                .colsum
                .iter()
                .zip(&self.hs.colsum)
                .map(|(a, b)| a * b)
                .sum();
            logsum + dot - x_sum
        } else {
            let x_sq: f64 = x.data.iter().map(|v| v * v).sum();
            0.5 * (x_sq - 2.0 * cross + trace_product(&ws.gram, &self.hs.gram, k))
        };
        let (hl1, hsq) = (self.hs.l1, self.hs.sq);
        let cost = (div + reg.l1_w * ws.l1 + reg.l1_h * hl1 + reg.l2_w * ws.sq + reg.l2_h * hsq)
            / rows.max(1) as f64;
        if !update_h {
            return StepReport {
                cost,
                h_change: 0.0,
                smoothed: self.ewa,
                stop: false,
            };
        }
        // The H update from the batch's numerator, added onto `num`, which every H update
        // leaves at zero (it clears each block of rows as it consumes it): no pass that zeroes
        // all m × k values per batch.
        let mut num = std::mem::take(&mut self.num);
        num.resize(m * k, 0.0);
        if self.kl {
            kl_numerator_with(x, w, &self.ht, k, &mut num, false);
        } else {
            csr_transpose_add_dense_one_part(x, w, k, &mut num);
        }
        let rho = self
            .opts
            .forget_factor
            .powf(self.opts.batch_size.min(self.n_total) as f64 / self.n_total as f64);
        let den_base: Vec<f64> = if self.kl {
            ws.colsum
                .iter()
                .map(|&s| if s == 0.0 { 1.0 } else { s })
                .collect()
        } else {
            Vec::new()
        };
        let (d2, n2, hs) = online_h_update(
            &mut self.ht,
            &mut self.a,
            &mut self.b,
            &mut num,
            k,
            if self.kl { &den_base } else { &ws.gram },
            self.kl,
            reg.l1_h,
            reg.l2_h,
            rho,
        );
        self.num = num;
        self.hs = hs;
        let h_change = if n2 > 0.0 { (d2 / n2).sqrt() } else { 0.0 };
        let stop = self.converged(rows, cost, h_change);
        StepReport {
            cost,
            h_change,
            smoothed: self.ewa,
            stop,
        }
    }

    /// scikit-learn's `_minibatch_convergence` after a step of `rows` rows.
    fn converged(&mut self, rows: usize, cost: f64, h_change: f64) -> bool {
        self.steps += 1;
        if self.steps == 1 {
            return false;
        }
        self.ewa = Some(match self.ewa {
            None => cost,
            Some(e) => {
                let a = (rows as f64 / (self.n_total as f64 + 1.0)).min(1.0);
                e * (1.0 - a) + cost * a
            }
        });
        if self.tol > 0.0 && h_change <= self.tol {
            return true;
        }
        let e = self.ewa.unwrap_or(cost);
        if self.ewa_min.is_none_or(|m| e < m) {
            self.no_improvement = 0;
            self.ewa_min = Some(e);
        } else {
            self.no_improvement += 1;
        }
        self.opts
            .max_no_improvement
            .is_some_and(|n| self.no_improvement >= n)
    }

    /// `partial_fit`: one step on a new block of rows (their W solved or updated from `w`, or
    /// from the fresh start when `w` is `None`), H and the statistics updated. Returns the
    /// block's W (rows × k) and the step's report.
    pub fn partial_fit(&mut self, x: CsrRef<'_>, w: Option<Vec<f64>>) -> (Vec<f64>, StepReport) {
        let mut w = match w {
            Some(w) => w,
            None => self.solve_w(x, self.opts.fresh_restarts_max_iter),
        };
        let r = self.step(x, &mut w, true);
        (w, r)
    }
}

/// ‖a − b‖ and ‖a‖, summed over fixed chunks in order.
fn diff_norms(a: &[f64], b: &[f64]) -> (f64, f64) {
    let parts: Vec<(f64, f64)> = a
        .par_chunks(4096)
        .zip(b.par_chunks(4096))
        .map(|(x, y)| {
            x.iter().zip(y).fold((0.0, 0.0), |(d, n), (p, q)| {
                (d + (p - q) * (p - q), n + p * p)
            })
        })
        .collect();
    let (d, n) = parts
        .iter()
        .fold((0.0, 0.0), |(d, n), p| (d + p.0, n + p.1));
    (d.sqrt(), n.sqrt())
}

/// The online H update of every row j of Hᵀ (m × k) from the batch numerator `num` (m × k):
///
/// ```text
/// d_jl = (h_j·G)_l + l1 + l2·h_jl   (Frobenius; G = W_bᵀW_b)
///        s_l + l1 + l2·h_jl         (KL; s = the batch's column sums of W, zeros → 1)
/// d_jl = ε if d_jl = 0
/// A_jl ← ρ·A_jl + h_jl·num_jl;  B_jl ← ρ·B_jl + d_jl;  h_jl ← A_jl / B_jl
/// ```
///
/// then, for KL, new values below f64::EPSILON are set to 0; `num` is left all zeros. Returns ‖H_new − H_old‖²,
/// ‖H_new‖² and the new H's statistics (with its Gram matrix), from the same pass, all summed
/// over fixed blocks of rows in order.
#[allow(clippy::too_many_arguments)]
fn online_h_update(
    ht: &mut [f64],
    a: &mut [f64],
    b: &mut [f64],
    num: &mut [f64],
    k: usize,
    g_or_sums: &[f64],
    kl: bool,
    l1: f64,
    l2: f64,
    rho: f64,
) -> (f64, f64, FactorStats) {
    let stride = SCALARS + k + k * k;
    let chunk = ROW_BLOCK * k;
    let parts: Vec<(f64, f64, Vec<f64>)> = ht
        .par_chunks_mut(chunk)
        .zip(a.par_chunks_mut(chunk))
        .zip(b.par_chunks_mut(chunk))
        .zip(num.par_chunks_mut(chunk))
        .map(|(((hb, ab), bb), nb)| {
            let mut part = vec![0.0; stride];
            let (d2, n2) = online_h_block(hb, ab, bb, nb, k, g_or_sums, kl, l1, l2, rho, &mut part);
            nb.fill(0.0);
            (d2, n2, part)
        })
        .collect();
    let mut total = vec![0.0; stride];
    let (mut d2, mut n2) = (0.0, 0.0);
    for (d, n, p) in &parts {
        d2 += d;
        n2 += n;
        for (t, v) in total.iter_mut().zip(p) {
            *t += v;
        }
    }
    (d2, n2, split_stats(&total, k, true).new)
}

/// [`online_h_update`] for one block of rows, compiled for the running CPU.
#[multiversion(targets(
    "x86_64+avx512f+avx512vl+avx2+avx+fma",
    "x86_64+avx2+avx+fma",
    "x86_64+avx",
    "aarch64+neon"
))]
#[allow(clippy::too_many_arguments)]
fn online_h_block(
    hb: &mut [f64],
    ab: &mut [f64],
    bb: &mut [f64],
    nb: &[f64],
    k: usize,
    g_or_sums: &[f64],
    kl: bool,
    l1: f64,
    l2: f64,
    rho: f64,
    part: &mut [f64],
) -> (f64, f64) {
    if target_cfg_f!(target_feature = "fma") {
        const WITH_FMA: bool = true;
        let mut out = (0.0, 0.0);
        let lanes = !kl
            && by_lanes!(
                k,
                WITH_FMA,
                online_h_rows_lanes(hb, ab, bb, nb, g_or_sums, l1, l2, rho, part, &mut out)
            );
        if lanes {
            return out;
        }
        online_h_rows::<true>(hb, ab, bb, nb, k, g_or_sums, kl, l1, l2, rho, part)
    } else {
        online_h_rows::<false>(hb, ab, bb, nb, k, g_or_sums, kl, l1, l2, rho, part)
    }
}

/// [`online_h_rows`] for the Frobenius loss and k = 4·C: the denominator row h_j·G in
/// registers.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn online_h_rows_lanes<const C: usize, const FMA: bool>(
    hb: &mut [f64],
    ab: &mut [f64],
    bb: &mut [f64],
    nb: &[f64],
    g: &[f64],
    l1: f64,
    l2: f64,
    rho: f64,
    part: &mut [f64],
    out: &mut (f64, f64),
) {
    let k = 4 * C;
    // Four partial sums each, one per lane, so that no row waits on the previous one's sum.
    let (mut d2, mut n2) = ([0.0; 4], [0.0; 4]);
    for (((h, av), bv), nv) in hb
        .chunks_exact_mut(k)
        .zip(ab.chunks_exact_mut(k))
        .zip(bb.chunks_exact_mut(k))
        .zip(nb.chunks_exact(k))
    {
        let den = lanes_vec_mat::<C, FMA>(&lanes_load::<C>(h), g);
        for c in 0..C {
            for q in 0..4 {
                let l = 4 * c + q;
                let old = h[l];
                let d = nonzero_den(den[c][q] + l1 + l2 * old);
                av[l] = rho * av[l] + old * nv[l];
                bv[l] = rho * bv[l] + d;
                let new = av[l] / bv[l];
                h[l] = new;
                d2[q] += (new - old) * (new - old);
                n2[q] += new * new;
            }
        }
    }
    add_block_stats::<FMA>(hb, k, part, true);
    let sum4 = |v: [f64; 4]| (v[0] + v[1]) + (v[2] + v[3]);
    *out = (sum4(d2), sum4(n2));
}

#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn online_h_rows<const FMA: bool>(
    hb: &mut [f64],
    ab: &mut [f64],
    bb: &mut [f64],
    nb: &[f64],
    k: usize,
    g_or_sums: &[f64],
    kl: bool,
    l1: f64,
    l2: f64,
    rho: f64,
    part: &mut [f64],
) -> (f64, f64) {
    let (mut d2, mut n2) = (0.0, 0.0);
    let mut den = vec![0.0; k];
    for (((h, av), bv), nv) in hb
        .chunks_exact_mut(k)
        .zip(ab.chunks_exact_mut(k))
        .zip(bb.chunks_exact_mut(k))
        .zip(nb.chunks_exact(k))
    {
        if kl {
            den.copy_from_slice(g_or_sums);
        } else {
            vec_mat::<FMA>(h, g_or_sums, &mut den);
        }
        for l in 0..k {
            let old = h[l];
            let d = nonzero_den(den[l] + l1 + l2 * old);
            av[l] = rho * av[l] + old * nv[l];
            bv[l] = rho * bv[l] + d;
            let mut new = av[l] / bv[l];
            if kl && new < f64::EPSILON {
                new = 0.0;
            }
            h[l] = new;
            d2 += (new - old) * (new - old);
            n2 += new * new;
        }
    }
    add_block_stats::<FMA>(hb, k, part, true);
    (d2, n2)
}

/// The online solver of the driver: one driver iteration is one epoch over the rows of X in
/// batches of `batch_size`.
pub(crate) struct Online<'a> {
    pb: Problem<'a>,
    w: Vec<f64>,
    state: MiniBatch,
    opts: OnlineOptions,
    /// The next batch's first row.
    next: usize,
    indptr: Vec<usize>,
    stopped: bool,
    /// Updates of the final solve for W with `fresh_restarts` (scikit-learn's
    /// `transform_max_iter`, which defaults to `max_iter`).
    final_max_iter: usize,
}

impl<'a> Online<'a> {
    /// The solver at W0 (n × k) and Hᵀ0 (m × k), with α_W, α_H, the L1 share, tol and
    /// max_iter, for a factorization of rank `rank` ≤ k (the other columns zero padding).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        pb: Problem<'a>,
        w: Vec<f64>,
        ht: Vec<f64>,
        opts: OnlineOptions,
        alpha_w: f64,
        alpha_h: f64,
        l1_ratio: f64,
        tol: f64,
        max_iter: usize,
        rank: usize,
    ) -> Self {
        let n = pb.n();
        let state = MiniBatch::new(ht, pb.k, pb.kl, opts, n, alpha_w, alpha_h, l1_ratio, tol)
            .with_rank(rank);
        Online {
            pb,
            w,
            state,
            opts,
            next: 0,
            indptr: Vec::new(),
            stopped: false,
            final_max_iter: max_iter,
        }
    }
}

impl Solver for Online<'_> {
    fn stop_rule(&self) -> StopRule {
        StopRule::Own
    }

    fn update_w(&mut self, _t: usize, _tentative: bool) -> Half {
        let (n, k) = (self.pb.n(), self.pb.k);
        let bs = self.opts.batch_size.min(n).max(1);
        let steps = n.div_ceil(bs);
        // The epoch's objective as its batches saw it, Σ_b |b|·cost_b, as the streamed fit
        // records it (scikit-learn evaluates no objective per epoch; a full evaluation here
        // cost a tenth of the fit). The driver's final evaluation gives the loss.
        let mut objective = 0.0;
        for _ in 0..steps {
            let r0 = self.next;
            let r1 = (r0 + bs).min(n);
            self.next = if r1 == n { 0 } else { r1 };
            let xb = row_block(self.pb.x, r0, r1, &mut self.indptr);
            let report = self.state.step(xb, &mut self.w[r0 * k..r1 * k], true);
            objective += report.cost * xb.nrows as f64;
            if report.stop {
                self.stopped = true;
                break;
            }
        }
        Half {
            objective: Some(objective),
            stop: self.stopped,
            ..Half::default()
        }
    }

    fn update_h(&mut self, _t: usize) -> Half {
        Half::default()
    }

    fn into_factors(self: Box<Self>) -> (Vec<f64>, Vec<f64>) {
        let mut w = self.w;
        if self.opts.fresh_restarts {
            w = self.state.solve_w(self.pb.x, self.final_max_iter);
        }
        (w, self.state.ht)
    }
}
