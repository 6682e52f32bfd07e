//! Graph-regularized NMF (GNMF, Cai, He, Han and Huang 2011) as a solver of the driver
//! (`nmf/driver.rs`): multiplicative updates for an objective with a term that pulls the
//! topic weights of linked documents together, for the Frobenius and the KL loss.
//!
//! # The objective
//! With S the symmetric affinity matrix of a document graph ([`super::graph`]), D its degrees
//! and L = D − S its Laplacian (rows of W are documents):
//!
//! ```text
//! Frobenius:  ½‖X − WH‖²_F + (λ'/2)·Tr(WᵀLW),   Tr(WᵀLW) = ½ Σ_ij S_ij ‖w_i − w_j‖²
//! KL:         D_KL(X ‖ WH) + λ'·Tr(Wᵀ L ln W),   Tr(Wᵀ L ln W) = ½ Σ_ij S_ij Σ_l (w_il − w_jl)·ln(w_il / w_jl)
//! ```
//!
//! the KL graph term being Cai et al.'s symmetric KL divergence between the topic weights of
//! linked documents (their equation 14), ln taken of max(w, `f64::MIN_POSITIVE`). The weight
//! is `λ' = λ / d̄` with λ = `--graph-lambda` (default 1) and d̄ = Σ_ij S_ij / |{i : d_i > 0}|
//! the mean degree of the documents that have links ([`DocGraph::scaled_lambda`]). Each
//! linked document then carries λ times the weighted mean disagreement with its neighbours
//! (for Frobenius `(λ/4)·(d_i/d̄)·mean_j ‖w_i − w_j‖²`, against its data term
//! `½‖x_i − w_i·H‖²`), so λ = 1 weighs the two alike whatever the number of neighbours, the
//! weighting, the size of the corpus or the share of documents a graph file links; and both
//! terms scale alike with X (W scales with X once the topics are normalized, below). Cai et
//! al.'s λ = 100 with 0-1 weights on the 5-nearest-neighbour graph corresponds to λ ≈ 100·d̄
//! here (d̄ is 5 to 10 for that graph).
//!
//! # The updates (Cai et al., equations 12-13 and 17-18)
//! ```text
//! Frobenius  W ← W ⊙ (X·Hᵀ + λ'·S·W) ⊘ (W·HHᵀ + λ'·D·W)
//!            H ← H ⊙ (WᵀX) ⊘ (WᵀW·H + λ'·diag(g)·H),    g_l = w_lᵀ L w_l
//! KL         w_l ← (c_l·I + λ'·L)⁻¹ · (w_l ⊙ (R·Hᵀ)_l)  for every topic l,
//!                  R = X ⊘ WH at X's nonzeros,  c_l = Σ_j h_lj
//!            H ← H ⊙ (Wᵀ·R) ⊘ ((Wᵀ𝟙)𝟙ᵀ + λ'·g𝟙ᵀ),       g_l = w_lᵀ L ln w_l
//! ```
//!
//! then the topics are normalized, h_l ← h_l / ‖h_l‖ and w_l ← w_l·‖h_l‖ (W·H unchanged),
//! with the Euclidean norm for Frobenius (Cai et al.'s `NormalizeUV`) and the sum for KL.
//!
//! *Why the normalization, and the g term in the H update.* The data term does not change
//! when a topic is scaled up and its column of W down, but the graph term does (quadratically
//! for Frobenius, linearly for KL), so without a fixed scale the updates could lower the
//! objective by shrinking W and growing H, and λ would lose its meaning. Cai et al. normalize
//! the topics at the start and at the end; here they are normalized after every iteration, and
//! the objective is the one of the normalized factors, J(W, H) with ‖h_l‖ = 1. Written for any
//! scale, that objective is
//!
//! ```text
//! J̃(W, H) = data(W, H) + (λ'/2)·Σ_l ‖h_l‖₂²·w_lᵀLw_l      (Frobenius)
//! J̃(W, H) = data(W, H) + λ'·Σ_l ‖h_l‖₁·w_lᵀL ln w_l        (KL; the term is 1-homogeneous)
//! ```
//!
//! which rescaling does not change. With H normalized, J̃'s W update is GNMF's; with W fixed,
//! J̃ is the data term plus a penalty λ'g_l‖h_l‖₂²/2 (Frobenius) or λ'g_l‖h_l‖₁ (KL) on each
//! topic, whose multiplicative update is the H update above (the usual auxiliary function of
//! an L2 or L1 penalty). Each update can only lower J̃ (Cai et al.'s theorems for the W
//! updates) and the normalization does not change it, so the objective recorded after every
//! iteration never increases. The KL normalization uses the sum, not Cai's Euclidean norm, so
//! that the penalty is linear and c_l = 1.
//!
//! With λ = 0 (or a graph without links) nothing of this happens: the updates, the ε rule for
//! zero denominators and the stopping rule are those of `--solver mu` (`nmf/mu`), and a fit
//! gives the same bits.
//!
//! # Implementation
//! - Frobenius: the W update is the multiplicative-update row pass with the graph terms added
//!   per row (`GraphRows` in `nmf/mu`); S·W (n × k) is computed once per iteration, after the W update
//!   (it gives g for the H update and, scaled by the normalization, the graph terms of the next
//!   W update), so an iteration costs one sparse product with S (2·edges·k multiply-adds)
//!   more than MU's; the H update is MU's with λ'·g on the diagonal of WᵀW.
//! - KL: the W pass computes w_i ⊙ (r_i·Hᵀ) and the divergence of the old factors; the k
//!   systems (c_l·I + λ'·L) w_l = b_l (symmetric, diagonally dominant, their inverses
//!   non-negative) are solved together by conjugate gradients preconditioned with the diagonal
//!   c_l + λ'·d_i, warm-started from the current W, to a relative residual of [`CG_TOL`]
//!   (at most [`CG_MAX_ITER`] steps; the rare negative rounding results are set to 0); the H
//!   numerator is then scattered from the rows of X with the new W.
//! - The stopping rule is MU's (every 10 iterations, the relative decrease of
//!   e = √(2·objective), the graph term included); the objective is reported one pass late,
//!   as for MU.
//! - Every sum is over fixed blocks of rows, reduced in order: the same bits with any number
//!   of threads.
//!
//! `transform` (W for new documents with H fixed) has no graph for the new documents and
//! solves the data term alone, as for every solver (exact NNLS for Frobenius, MU for KL).
//!
//! # References
//! - D. Cai, X. He, J. Han, T. S. Huang, *Graph regularized nonnegative matrix factorization
//!   for data representation*, IEEE TPAMI 33(8), 1548-1560, 2011.
//! - D. Cai, X. He, X. Wang, H. Bao, J. Han, *Locality preserving nonnegative matrix
//!   factorization*, IJCAI 2009 (the divergence form).

use std::sync::Arc;

use rayon::prelude::*;

use super::driver::{Half, Problem, Solver, StopRule};
use super::graph::DocGraph;
use super::mu::{
    frobenius_pass, mu_frobenius_from_numerator, mu_frobenius_rows, mu_frobenius_rows_in_place,
    mu_kl_from_numerator, mu_kl_rows, mu_kl_rows_scatter, nonzero_den, GraphRows,
};
use crate::kernels::{
    block_cuts, csr_mul_dense, csr_transpose_mul_dense, factor_stats, split_scatter, FactorStats,
    ROW_BLOCK,
};

/// Relative residual ‖b − A·w‖ / ‖b‖ at which the conjugate gradients of the KL W update stop.
pub const CG_TOL: f64 = 1e-8;

/// Most conjugate-gradient steps of one KL W update.
pub const CG_MAX_ITER: usize = 500;

/// The GNMF solver's state.
pub(crate) struct Gnmf<'a> {
    pb: Problem<'a>,
    graph: Arc<DocGraph>,
    /// λ' (0: plain multiplicative updates).
    lam: f64,
    w: Vec<f64>,
    ht: Vec<f64>,
    /// The W of tentative passes.
    wn: Vec<f64>,
    hnum: Vec<f64>,
    hparts: Vec<f64>,
    ws: FactorStats,
    hs: FactorStats,
    pending: Option<FactorStats>,
    /// Frobenius, λ' > 0: S·W for the current W.
    sw: Vec<f64>,
    /// KL, λ' > 0: Tr(Wᵀ L ln W) of the current W.
    r2: f64,
    /// KL, λ' > 0: the right-hand sides of the W solves and the conjugate-gradient buffers.
    cg: Cg,
}

impl<'a> Gnmf<'a> {
    /// The solver at W0 (n × k) and Hᵀ0 (m × k), row-major, with the graph and λ' (scaled).
    /// `checks`: whether there will be tentative passes (tol > 0). With λ' > 0 the start is
    /// normalized (W·H unchanged).
    pub(crate) fn new(
        pb: Problem<'a>,
        w: Vec<f64>,
        ht: Vec<f64>,
        graph: Arc<DocGraph>,
        lam: f64,
        checks: bool,
    ) -> Self {
        let (n, m, k) = (pb.n(), pb.m(), pb.k);
        let gram = !pb.kl;
        let ws = factor_stats(&w, k, gram);
        let hs = factor_stats(&ht, k, gram);
        let mut s = Gnmf {
            pb,
            graph,
            lam,
            w,
            ht,
            wn: if checks { vec![0.0; n * k] } else { Vec::new() },
            hnum: vec![0.0; m * k],
            hparts: Vec::new(),
            ws,
            hs,
            pending: None,
            sw: Vec::new(),
            r2: 0.0,
            cg: Cg::default(),
        };
        if lam > 0.0 {
            if pb.kl {
                let g = kl_graph_terms(&s.graph, &s.w, k, &mut s.cg);
                let c = s.normalize();
                s.r2 = c.iter().zip(&g).map(|(c, g)| c * g).sum();
            } else {
                s.normalize();
                s.sw = vec![0.0; n * k];
                csr_mul_dense(s.graph.s(), &s.w, k, &mut s.sw);
            }
        }
        s
    }

    /// Normalizes the topics (rows of H: the Euclidean norm for Frobenius, the sum for KL; a
    /// zero topic is left alone), scaling the columns of W (and S·W) by the same factors, and
    /// updates the statistics. Returns the factors.
    fn normalize(&mut self) -> Vec<f64> {
        let k = self.pb.k;
        let c: Vec<f64> = (0..k)
            .map(|l| {
                let v = if self.pb.kl {
                    self.hs.colsum[l]
                } else {
                    self.hs.gram[l * k + l].sqrt()
                };
                if v > 0.0 && v.is_finite() {
                    v
                } else {
                    1.0
                }
            })
            .collect();
        let scale = |a: &mut [f64], up: bool| {
            a.par_chunks_mut(ROW_BLOCK * k).for_each(|blk| {
                for row in blk.chunks_exact_mut(k) {
                    for (v, f) in row.iter_mut().zip(&c) {
                        if up {
                            *v *= f;
                        } else {
                            *v /= f;
                        }
                    }
                }
            })
        };
        scale(&mut self.ht, false);
        scale(&mut self.w, true);
        if !self.sw.is_empty() {
            scale(&mut self.sw, true);
        }
        if self.pb.kl {
            self.ws = factor_stats(&self.w, k, false);
            self.hs = factor_stats(&self.ht, k, false);
        } else {
            // The Gram matrices scale with the factors: no pass over W or H.
            rescale_stats(&mut self.ws, &c, true);
            rescale_stats(&mut self.hs, &c, false);
        }
        c
    }

    fn update_w_frobenius(&mut self, tentative: bool) -> Half {
        let pb = &self.pb;
        let (x, k, reg) = (pb.x, pb.k, pb.reg);
        let (w, ht, wn) = (&mut self.w, &self.ht, &mut self.wn);
        let st = if self.lam == 0.0 {
            // `--solver mu`'s pass.
            if tentative {
                mu_frobenius_rows(x, w, ht, k, &self.hs.gram, reg.l1_w, reg.l2_w, true, wn)
            } else {
                mu_frobenius_rows_in_place(x, w, ht, k, &self.hs.gram, reg.l1_w, reg.l2_w, true)
            }
        } else {
            let graph = GraphRows {
                sw: &self.sw,
                degree: self.graph.degree(),
                lambda: self.lam,
            };
            let g = &self.hs.gram;
            if tentative {
                frobenius_pass(
                    x,
                    Some(w),
                    ht,
                    k,
                    g,
                    reg.l1_w,
                    reg.l2_w,
                    true,
                    Some(graph),
                    wn,
                )
            } else {
                frobenius_pass(x, None, ht, k, g, reg.l1_w, reg.l2_w, true, Some(graph), w)
            }
        };
        let div = pb.frobenius(st.cross, &self.ws.gram, &self.hs.gram);
        let objective = pb.objective(div, st.old_l1, st.old_sq, self.hs.l1, self.hs.sq)
            + if self.lam > 0.0 {
                0.5 * self.lam * st.extra
            } else {
                0.0
            };
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

    fn update_w_kl(&mut self, tentative: bool) -> Half {
        let pb = &self.pb;
        let (x, k, reg) = (pb.x, pb.k, pb.reg);
        let den: Vec<f64> = self.hs.colsum.iter().map(|s| s + reg.l1_w).collect();
        let (w, ht, wn) = (&mut self.w, &self.ht, &mut self.wn);
        let (st, extra) = if self.lam == 0.0 {
            // `--solver mu`'s fused pass.
            let (a, out): (Option<&[f64]>, &mut [f64]) =
                if tentative { (Some(w), wn) } else { (None, w) };
            let (num, parts) = (&mut self.hnum, &mut self.hparts);
            let st = mu_kl_rows_scatter(x, a, ht, k, &den, reg.l2_w, true, out, num, parts);
            (st, 0.0)
        } else {
            // b = W ⊙ (R·Hᵀ): the pass with a denominator of 1, then the k solves.
            let n = pb.n();
            let mut b = std::mem::take(&mut self.cg.b);
            b.resize(n * k, 0.0);
            let ones = vec![1.0; k];
            let st = mu_kl_rows(x, w, ht, k, &ones, 0.0, false, true, false, &mut b);
            let target: &mut [f64] = if tentative {
                wn.copy_from_slice(w);
                wn
            } else {
                w
            };
            let c: Vec<f64> = den.iter().map(|&d| nonzero_den(d)).collect();
            solve_columns(&self.graph, self.lam, &c, &b, target, k, &mut self.cg);
            self.cg.b = b;
            let mut st = st;
            st.new = factor_stats(target, k, false);
            (st, self.lam * self.r2)
        };
        let dot: f64 = (self.ws.colsum.iter().zip(&self.hs.colsum))
            .map(|(p, q)| p * q)
            .sum();
        let div = st.logsum + dot - pb.x_sum;
        let objective = pb.objective(div, st.old_l1, st.old_sq, self.hs.l1, self.hs.sq) + extra;
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

    fn update_h_frobenius(&mut self) {
        let pb = &self.pb;
        let (x, k, reg) = (pb.x, pb.k, pb.reg);
        csr_transpose_mul_dense(x, &self.w, k, &mut self.hnum, &mut self.hparts);
        if self.lam == 0.0 {
            let g = &self.ws.gram;
            let st = mu_frobenius_from_numerator(
                &mut self.ht,
                &self.hnum,
                k,
                g,
                reg.l1_h,
                reg.l2_h,
                true,
            );
            self.hs = st.new;
            return;
        }
        csr_mul_dense(self.graph.s(), &self.w, k, &mut self.sw);
        let gl = frobenius_graph_terms(&self.w, &self.sw, self.graph.degree(), k);
        let mut g = self.ws.gram.clone();
        for l in 0..k {
            g[l * k + l] += self.lam * gl[l];
        }
        let st =
            mu_frobenius_from_numerator(&mut self.ht, &self.hnum, k, &g, reg.l1_h, reg.l2_h, true);
        self.hs = st.new;
        self.normalize();
    }

    fn update_h_kl(&mut self) {
        let pb = &self.pb;
        let (x, k, reg) = (pb.x, pb.k, pb.reg);
        // scikit-learn replaces zero column sums of W by 1 in the H update.
        let mut den: Vec<f64> = (self.ws.colsum.iter())
            .map(|&s| if s == 0.0 { 1.0 } else { s } + reg.l1_h)
            .collect();
        if self.lam == 0.0 {
            let st = mu_kl_from_numerator(&mut self.ht, &self.hnum, k, &den, reg.l2_h, true);
            self.hs = st.new;
            return;
        }
        // The numerator Wᵀ·R for the new W (the W update could not scatter it: the new rows
        // come out of the solves).
        let (w, ht) = (&self.w, &self.ht);
        split_scatter(
            x,
            k,
            &block_cuts(x, k),
            &mut self.hnum,
            &mut self.hparts,
            |rows, cols, buf| {
                super::mu::kl_scatter_block(
                    x,
                    rows.start,
                    &w[rows.start * k..rows.end * k],
                    ht,
                    k,
                    buf,
                    cols,
                )
            },
        );
        let g = kl_graph_terms(&self.graph, &self.w, k, &mut self.cg);
        for (d, gl) in den.iter_mut().zip(&g) {
            *d += self.lam * gl;
        }
        let st = mu_kl_from_numerator(&mut self.ht, &self.hnum, k, &den, reg.l2_h, true);
        self.hs = st.new;
        let c = self.normalize();
        self.r2 = c.iter().zip(&g).map(|(c, g)| c * g).sum();
    }
}

impl Solver for Gnmf<'_> {
    fn stop_rule(&self) -> StopRule {
        StopRule::RelativeError {
            every: 10,
            on_objective: self.lam > 0.0,
        }
    }

    fn lagged(&self) -> bool {
        true
    }

    fn update_w(&mut self, _t: usize, tentative: bool) -> Half {
        if self.pb.kl {
            self.update_w_kl(tentative)
        } else {
            self.update_w_frobenius(tentative)
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
        if self.pb.kl {
            self.update_h_kl();
        } else {
            self.update_h_frobenius();
        }
        Half::default()
    }

    fn extra_objective(&self) -> f64 {
        if self.lam == 0.0 {
            0.0
        } else if self.pb.kl {
            self.lam * self.r2
        } else {
            let k = self.pb.k;
            let g = frobenius_graph_terms(&self.w, &self.sw, self.graph.degree(), k);
            0.5 * self.lam * g.iter().sum::<f64>()
        }
    }

    fn into_factors(self: Box<Self>) -> (Vec<f64>, Vec<f64>) {
        (self.w, self.ht)
    }
}

/// Scales a factor's statistics (with its Gram matrix) as its columns are multiplied
/// (`up`) or divided by `c`.
fn rescale_stats(s: &mut FactorStats, c: &[f64], up: bool) {
    let k = c.len();
    let f = |l: usize| if up { c[l] } else { 1.0 / c[l] };
    for l in 0..k {
        s.colsum[l] *= f(l);
    }
    for a in 0..k {
        for b in 0..k {
            s.gram[a * k + b] *= f(a) * f(b);
        }
    }
    s.l1 = s.colsum.iter().sum();
    s.sq = (0..k).map(|l| s.gram[l * k + l]).sum();
}

/// Per-column sums Σ_i f(i, row_i of each input) over fixed blocks of rows, reduced in block
/// order (the same bits with any number of threads).
fn column_sums<F>(n: usize, k: usize, body: F) -> Vec<f64>
where
    F: Fn(usize, &mut [f64]) + Sync,
{
    let parts: Vec<Vec<f64>> = (0..n.div_ceil(ROW_BLOCK))
        .into_par_iter()
        .map(|blk| {
            let mut acc = vec![0.0; k];
            for i in blk * ROW_BLOCK..((blk + 1) * ROW_BLOCK).min(n) {
                body(i, &mut acc);
            }
            acc
        })
        .collect();
    let mut total = vec![0.0; k];
    for p in parts {
        for (t, v) in total.iter_mut().zip(p) {
            *t += v;
        }
    }
    total
}

/// g_l = w_lᵀ L w_l = Σ_i d_i·w_il² − w_il·(S·W)_il for every topic (Tr(WᵀLW) = Σ_l g_l).
pub fn frobenius_graph_terms(w: &[f64], sw: &[f64], degree: &[f64], k: usize) -> Vec<f64> {
    column_sums(degree.len(), k, |i, acc| {
        let (wi, si, d) = (&w[i * k..(i + 1) * k], &sw[i * k..(i + 1) * k], degree[i]);
        for l in 0..k {
            acc[l] += wi[l] * (d * wi[l] - si[l]);
        }
    })
}

/// g_l = w_lᵀ L ln w_l = Σ_i w_il·(d_i·ln w_il − (S·ln W)_il) for every topic, with
/// ln w = ln max(w, `f64::MIN_POSITIVE`) (Tr(Wᵀ L ln W) = Σ_l g_l).
fn kl_graph_terms(graph: &DocGraph, w: &[f64], k: usize, cg: &mut Cg) -> Vec<f64> {
    let n = graph.n();
    cg.p.resize(n * k, 0.0);
    cg.q.resize(n * k, 0.0);
    cg.p.par_iter_mut()
        .zip(w.par_iter())
        .for_each(|(l, &v)| *l = v.max(f64::MIN_POSITIVE).ln());
    csr_mul_dense(graph.s(), &cg.p, k, &mut cg.q);
    let (lw, slw, degree) = (&cg.p, &cg.q, graph.degree());
    column_sums(n, k, |i, acc| {
        let r = i * k..(i + 1) * k;
        let (wi, li, si, d) = (&w[r.clone()], &lw[r.clone()], &slw[r], degree[i]);
        for l in 0..k {
            acc[l] += wi[l] * (d * li[l] - si[l]);
        }
    })
}

/// The buffers of the KL W update: the right-hand sides and the conjugate-gradient vectors.
#[derive(Debug, Default)]
struct Cg {
    b: Vec<f64>,
    r: Vec<f64>,
    z: Vec<f64>,
    p: Vec<f64>,
    q: Vec<f64>,
    sp: Vec<f64>,
}

/// Sums per-block partial vectors in block order.
fn sum_in_order(parts: Vec<Vec<f64>>, width: usize) -> Vec<f64> {
    let mut total = vec![0.0; width];
    for part in parts {
        for (t, v) in total.iter_mut().zip(part) {
            *t += v;
        }
    }
    total
}

/// Solves (c_l·I + λ·L)·x_l = b_l for every column l of the n × k row-major `b` and `x`
/// (x holds the starting guess and receives the solution), L = D − S the graph's Laplacian,
/// by conjugate gradients with the Jacobi preconditioner c_l + λ·d_i, all columns at once
/// (one product with S per step for all of them), each column stopping when its residual is
/// below [`CG_TOL`]·‖b_l‖. Rows without links are solved exactly (b_il / c_l), negative
/// results (rounding; the exact solution is non-negative) are set to 0. Returns the steps
/// taken. Each step is the product with S and three row-parallel passes, the column sums
/// reduced over fixed blocks in order.
fn solve_columns(
    graph: &DocGraph,
    lam: f64,
    c: &[f64],
    b: &[f64],
    x: &mut [f64],
    k: usize,
    cg: &mut Cg,
) -> usize {
    let n = graph.n();
    let (s, degree) = (graph.s(), graph.degree());
    for v in [&mut cg.r, &mut cg.z, &mut cg.p, &mut cg.q, &mut cg.sp] {
        v.resize(n * k, 0.0);
    }
    let chunk = ROW_BLOCK * k;
    // r = b − A·x, z = r / diag, p = z; the column sums r·r, r·z, b·b.
    csr_mul_dense(s, x, k, &mut cg.sp);
    let parts: Vec<Vec<f64>> = {
        let (xs, sx) = (&*x, &cg.sp);
        cg.r.par_chunks_mut(chunk)
            .zip(cg.z.par_chunks_mut(chunk))
            .zip(cg.p.par_chunks_mut(chunk))
            .enumerate()
            .map(|(blk, ((rb, zb), pb))| {
                let mut acc = vec![0.0; 3 * k];
                let o = blk * chunk;
                for (t0, ((rr, zr), pr)) in (rb.chunks_exact_mut(k))
                    .zip(zb.chunks_exact_mut(k))
                    .zip(pb.chunks_exact_mut(k))
                    .enumerate()
                {
                    let d = degree[blk * ROW_BLOCK + t0];
                    for l in 0..k {
                        let t = o + t0 * k + l;
                        let r = b[t] - (c[l] * xs[t] + lam * (d * xs[t] - sx[t]));
                        let z = r / (c[l] + lam * d);
                        (rr[l], zr[l], pr[l]) = (r, z, z);
                        acc[l] += r * r;
                        acc[k + l] += r * z;
                        acc[2 * k + l] += b[t] * b[t];
                    }
                }
                acc
            })
            .collect()
    };
    let sums = sum_in_order(parts, 3 * k);
    let (rr0, mut rz, bb) = (&sums[..k], sums[k..2 * k].to_vec(), &sums[2 * k..]);
    let limit: Vec<f64> = bb
        .iter()
        .map(|v| (CG_TOL * CG_TOL * v).max(f64::MIN_POSITIVE))
        .collect();
    let mut active: Vec<bool> = rr0.iter().zip(&limit).map(|(r, lim)| r > lim).collect();
    let mut steps = 0;
    while steps < CG_MAX_ITER && active.iter().any(|a| *a) {
        steps += 1;
        // q = A·p and p·q.
        csr_mul_dense(s, &cg.p, k, &mut cg.sp);
        let parts: Vec<Vec<f64>> = {
            let (p, sp) = (&cg.p, &cg.sp);
            cg.q.par_chunks_mut(chunk)
                .enumerate()
                .map(|(blk, qb)| {
                    let mut acc = vec![0.0; k];
                    let o = blk * chunk;
                    for (t0, qr) in qb.chunks_exact_mut(k).enumerate() {
                        let d = degree[blk * ROW_BLOCK + t0];
                        for l in 0..k {
                            let t = o + t0 * k + l;
                            let q = c[l] * p[t] + lam * (d * p[t] - sp[t]);
                            qr[l] = q;
                            acc[l] += p[t] * q;
                        }
                    }
                    acc
                })
                .collect()
        };
        let pq = sum_in_order(parts, k);
        let alpha: Vec<f64> = (0..k)
            .map(|l| {
                if active[l] && pq[l] > 0.0 {
                    rz[l] / pq[l]
                } else {
                    0.0
                }
            })
            .collect();
        // x += α·p, r −= α·q, z = r / diag; r·r and r·z.
        let parts: Vec<Vec<f64>> = {
            let (p, q) = (&cg.p, &cg.q);
            x.par_chunks_mut(chunk)
                .zip(cg.r.par_chunks_mut(chunk))
                .zip(cg.z.par_chunks_mut(chunk))
                .enumerate()
                .map(|(blk, ((xb, rb), zb))| {
                    let mut acc = vec![0.0; 2 * k];
                    let o = blk * chunk;
                    for (t0, ((xr, rr), zr)) in (xb.chunks_exact_mut(k))
                        .zip(rb.chunks_exact_mut(k))
                        .zip(zb.chunks_exact_mut(k))
                        .enumerate()
                    {
                        let d = degree[blk * ROW_BLOCK + t0];
                        for l in 0..k {
                            let t = o + t0 * k + l;
                            xr[l] += alpha[l] * p[t];
                            let r = rr[l] - alpha[l] * q[t];
                            let z = r / (c[l] + lam * d);
                            (rr[l], zr[l]) = (r, z);
                            acc[l] += r * r;
                            acc[k + l] += r * z;
                        }
                    }
                    acc
                })
                .collect()
        };
        let sums = sum_in_order(parts, 2 * k);
        let (rr, rz_new) = (&sums[..k], &sums[k..]);
        for l in 0..k {
            if active[l] && (rr[l] <= limit[l] || pq[l] <= 0.0) {
                active[l] = false;
            }
        }
        let beta: Vec<f64> = (0..k)
            .map(|l| if rz[l] > 0.0 { rz_new[l] / rz[l] } else { 0.0 })
            .collect();
        rz.copy_from_slice(rz_new);
        let z = &cg.z;
        cg.p.par_chunks_mut(chunk)
            .enumerate()
            .for_each(|(blk, pb)| {
                let o = blk * chunk;
                for (t0, pr) in pb.chunks_exact_mut(k).enumerate() {
                    for l in 0..k {
                        if active[l] {
                            pr[l] = z[o + t0 * k + l] + beta[l] * pr[l];
                        }
                    }
                }
            });
    }
    // Documents without links: their equations are x_il = b_il / c_l exactly (and no other
    // equation involves them), so a document without terms and links keeps exact zeros.
    x.par_chunks_mut(k)
        .zip(b.par_chunks(k))
        .zip(degree.par_iter())
        .for_each(|((xr, br), &d)| {
            if d == 0.0 {
                for l in 0..k {
                    xr[l] = br[l] / c[l];
                }
            }
            for v in xr.iter_mut() {
                if *v < 0.0 {
                    *v = 0.0;
                }
            }
        });
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::testutil::factor;

    /// A ring of n documents with a few chords, weights 1..3.
    fn ring(n: usize) -> DocGraph {
        let mut links: Vec<(usize, usize, f64)> = (0..n)
            .map(|i| (i, (i + 1) % n, 1.0 + (i % 3) as f64))
            .collect();
        links.extend((0..n).step_by(7).map(|i| (i, (i + n / 2) % n, 0.5)));
        DocGraph::from_links(n, &links).unwrap()
    }

    #[test]
    fn the_column_solves_match_a_dense_solve() {
        let (n, k) = (300, 5);
        let g = ring(n);
        let lam = 0.7;
        let c: Vec<f64> = (0..k).map(|l| 0.2 + 0.3 * l as f64).collect();
        let b = factor(n, k, 4);
        let mut x = factor(n, k, 9); // any start
        let mut cg = Cg::default();
        let steps = solve_columns(&g, lam, &c, &b, &mut x, k, &mut cg);
        assert!(steps > 0 && steps < CG_MAX_ITER, "{steps} steps");
        // The residual of every column, densely, within the tolerance.
        for l in 0..k {
            let (mut rr, mut bb) = (0.0, 0.0);
            for i in 0..n {
                let (cols, ws) = g.neighbours(i);
                let sx: f64 = cols
                    .iter()
                    .zip(ws)
                    .map(|(&j, &w)| w * x[j as usize * k + l])
                    .sum();
                let ax = c[l] * x[i * k + l] + lam * (g.degree()[i] * x[i * k + l] - sx);
                rr += (ax - b[i * k + l]).powi(2);
                bb += b[i * k + l].powi(2);
                assert!(x[i * k + l] >= 0.0);
            }
            assert!(rr.sqrt() <= CG_TOL * bb.sqrt(), "topic {l}: {rr:e} {bb:e}");
        }
    }

    #[test]
    fn graph_terms_equal_the_pairwise_sums() {
        let (n, k) = (120, 4);
        let g = ring(n);
        let w = factor(n, k, 3);
        let mut sw = vec![0.0; n * k];
        csr_mul_dense(g.s(), &w, k, &mut sw);
        let got = frobenius_graph_terms(&w, &sw, g.degree(), k);
        let mut cg = Cg::default();
        let got_kl = kl_graph_terms(&g, &w, k, &mut cg);
        for l in 0..k {
            let (mut want, mut want_kl) = (0.0, 0.0);
            for i in 0..n {
                let (cols, ws) = g.neighbours(i);
                for (&j, &s) in cols.iter().zip(ws) {
                    let (a, b) = (w[i * k + l], w[j as usize * k + l]);
                    want += 0.5 * s * (a - b).powi(2);
                    want_kl += 0.5 * s * (a - b) * (a.ln() - b.ln());
                }
            }
            assert!(
                (got[l] - want).abs() <= 1e-10 * want,
                "{} vs {want}",
                got[l]
            );
            assert!((got_kl[l] - want_kl).abs() <= 1e-10 * want_kl);
        }
    }
}
