//! Alternating projected gradient for the Frobenius loss (Lin 2007, "alternating
//! non-negative least squares using projected gradient"; the seed's "gradient descent"), as a
//! solver of the driver (`nmf/driver.rs`).
//!
//! # The method
//! Each half-iteration solves its factor's subproblem, a bound-constrained quadratic, with
//! the other factor fixed — for W (and H the same way with Xᵀ·W, WᵀW, l1_H, l2_H):
//!
//! ```text
//! f(W) = ½‖X − WH‖²_F + l1_W‖W‖₁ + ½·l2_W‖W‖²_F,   ∇f(W) = W·Q − (X·Hᵀ − l1_W),  Q = HHᵀ + l2_W·I
//! ```
//!
//! by projected gradient steps W ← P[W − α∇f(W)] (P sets negative entries to 0), one step
//! size α for the whole matrix, chosen by Lin's "improved" Armijo search:
//!
//! ```text
//! accept W⁺ = P[W − α∇f]  when  f(W⁺) − f(W) ≤ σ·⟨∇f, W⁺ − W⟩,   σ = 0.01,
//!   computed exactly for the quadratic:  (1 − σ)·⟨∇f, d⟩ + ½·⟨d, d·Q⟩ ≤ 0,  d = W⁺ − W
//! α starts at 1 for each subproblem and carries over between its steps; if the first trial
//! is accepted α grows by 1/β (β = 0.1) while trials stay accepted and W⁺ still changes (the
//! last accepted one is taken), else it shrinks by β until one is accepted (at most 20 trials)
//! ```
//!
//! A subproblem stops when the norm of its projected gradient
//! (∇^P f)_ij = ∇f_ij if w_ij > 0, min(0, ∇f_ij) if w_ij = 0 is below its tolerance, or after
//! [`MAX_INNER_ITER`] steps. The tolerances start at `max(0.001, tol)·‖∇f(W₀, H₀)‖_F` (the
//! norm of the full gradient of both factors at the start) and each is divided by 10 when its
//! subproblem stops at its first check (the factor is already solved to that accuracy), so
//! they tighten as the iterations converge (Lin's rule).
//!
//! Stopping (the driver's `GradientNorm` rule): after every iteration the norm of the
//! projected gradient of both factors at the new (W, H), `‖[∇^P_W f, ∇^P_H f]‖_F ≤ tol ·
//! ‖∇f(W₀, H₀)‖_F` — the KKT residual relative to the start, as in the paper (which uses the
//! W gradient of the end of its subproblem, before H moved; here it is recomputed at the new
//! H, for free: the next W subproblem needs X·Hᵀ anyway).
//!
//! Each accepted step lowers its subproblem's objective (by at least σ times the decrease
//! predicted by the gradient), so the objective never increases. Departures from Lin's code:
//! when all 20 trials of a growing step are accepted, the last accepted point is taken (his
//! code keeps the subproblem's starting point); a subproblem also stops when no step size is
//! accepted (no progress is possible at that precision); the tolerances are kept above
//! ε·‖∇f(W₀, H₀)‖; and the rows of W of documents without terms (columns of H of terms in no
//! document) start at 0, their exact solution, so that they come out as exact zeros.
//!
//! # Implementation
//! Per iteration one X·Hᵀ (row pass) and one Xᵀ·W (scatter into fixed parts), as ALS and
//! HALS; every inner step and trial is dense (rows·k² for the gradient and for ⟨d, d·Q⟩),
//! row-parallel over fixed blocks with the sums reduced in block order, and the step-size
//! decisions depend only on those sums: the same bits with any number of threads.
//!
//! # Reference
//! - C.-J. Lin, *Projected gradient methods for nonnegative matrix factorization*, Neural
//!   Computation 19(10), 2756-2779, 2007.

use multiversion::multiversion;
use multiversion::target::target_cfg_f;
use rayon::prelude::*;

use super::driver::{Half, Problem, Solver, StopRule};
use crate::kernels::simd::{by_lanes, lanes_load, lanes_store, lanes_vec_mat, madd, vec_mat};
use crate::kernels::{
    csr_mul_dense, csr_transpose_mul_dense, factor_stats, FactorStats, ROW_BLOCK,
};

/// σ of the sufficient-decrease test (Lin's 0.01).
pub const SIGMA: f64 = 0.01;

/// β, the step-size factor (Lin's 0.1).
pub const BETA: f64 = 0.1;

/// Most projected-gradient steps of one subproblem (Lin's 1000).
pub const MAX_INNER_ITER: usize = 1000;

/// Most step sizes tried per step (Lin's 20).
pub const MAX_STEP_TRIALS: usize = 20;

/// The factor of the initial subproblem tolerances, `max(INNER_TOL_FLOOR, tol)·‖∇f(W₀, H₀)‖`
/// (Lin's 0.001).
pub const INNER_TOL_FLOOR: f64 = 1e-3;

/// The buffers of one factor's subproblem (each rows × k): the gradient, the current trial
/// point and the previous accepted one, with d·Q for each (the gradient after a step is
/// ∇f + d·Q, so an accepted trial gives the next gradient without a product).
#[derive(Debug, Default)]
struct Bufs {
    grad: Vec<f64>,
    trial: Vec<f64>,
    trial_dq: Vec<f64>,
    prev: Vec<f64>,
    prev_dq: Vec<f64>,
}

impl Bufs {
    fn new(len: usize) -> Self {
        Bufs {
            grad: vec![0.0; len],
            trial: vec![0.0; len],
            trial_dq: vec![0.0; len],
            prev: vec![0.0; len],
            prev_dq: vec![0.0; len],
        }
    }
}

/// The projected-gradient solver's state.
pub(crate) struct Pg<'a> {
    pb: Problem<'a>,
    w: Vec<f64>,
    ht: Vec<f64>,
    /// X·Hᵀ (n × k) for the current H and Xᵀ·W (m × k) for the current W.
    xht: Vec<f64>,
    xtw: Vec<f64>,
    hparts: Vec<f64>,
    /// Statistics (with Gram matrices) of the current W and H.
    ws: FactorStats,
    hs: FactorStats,
    /// The subproblems' tolerances (absolute), never below ε·`initial`.
    tol_w: f64,
    tol_h: f64,
    /// ‖∇f(W₀, H₀)‖_F.
    initial: f64,
    wb: Bufs,
    hb: Bufs,
}

/// Q = G + l2·I.
fn ridge(g: &[f64], k: usize, l2: f64) -> Vec<f64> {
    let mut q = g.to_vec();
    for l in 0..k {
        q[l * k + l] += l2;
    }
    q
}

impl<'a> Pg<'a> {
    /// The solver at W0 (n × k) and Hᵀ0 (m × k), row-major; `tol` sets the initial
    /// subproblem tolerances.
    pub(crate) fn new(pb: Problem<'a>, mut w: Vec<f64>, mut ht: Vec<f64>, tol: f64) -> Self {
        let (x, n, m, k, reg) = (pb.x, pb.n(), pb.m(), pb.k, pb.reg);
        // The rows of W of documents without terms and the columns of H of terms in no
        // document have the exact solution 0; start them there (projected gradient steps
        // would only approach it).
        let mut used = vec![false; m];
        for &j in x.indices {
            used[j as usize] = true;
        }
        for (i, row) in w.chunks_exact_mut(k).enumerate() {
            if x.indptr[i] == x.indptr[i + 1] {
                row.fill(0.0);
            }
        }
        for (row, &u) in ht.chunks_exact_mut(k).zip(&used) {
            if !u {
                row.fill(0.0);
            }
        }
        let ws = factor_stats(&w, k, true);
        let hs = factor_stats(&ht, k, true);
        let mut xht = vec![0.0; n * k];
        csr_mul_dense(x, &ht, k, &mut xht);
        let mut xtw = vec![0.0; m * k];
        let mut hparts = Vec::new();
        csr_transpose_mul_dense(x, &w, k, &mut xtw, &mut hparts);
        let mut wb = Bufs::new(n * k);
        let mut hb = Bufs::new(m * k);
        let qw = ridge(&hs.gram, k, reg.l2_w);
        let gw = gradient(&w, &xht, &qw, reg.l1_w, k, &mut wb.grad);
        let qh = ridge(&ws.gram, k, reg.l2_h);
        let gh = gradient(&ht, &xtw, &qh, reg.l1_h, k, &mut hb.grad);
        let initial = (gw.full_sq + gh.full_sq).sqrt();
        let t = tol.max(INNER_TOL_FLOOR) * initial;
        Pg {
            pb,
            w,
            ht,
            xht,
            xtw,
            hparts,
            ws,
            hs,
            tol_w: t,
            tol_h: t,
            initial,
            wb,
            hb,
        }
    }

    /// The tolerance after a subproblem that took `steps` steps (Lin: ÷10 after none).
    fn next_tol(&self, tol: f64, steps: usize) -> f64 {
        if steps == 0 {
            (0.1 * tol).max(f64::EPSILON * self.initial)
        } else {
            tol
        }
    }
}

impl Solver for Pg<'_> {
    fn stop_rule(&self) -> StopRule {
        StopRule::GradientNorm {
            initial: self.initial,
        }
    }

    fn update_w(&mut self, _t: usize, _tentative: bool) -> Half {
        let pb = &self.pb;
        let (x, k, reg) = (pb.x, pb.k, pb.reg);
        let q = ridge(&self.hs.gram, k, reg.l2_w);
        let (steps, _) = subproblem(
            &mut self.w,
            &self.xht,
            &q,
            reg.l1_w,
            k,
            self.tol_w,
            &mut self.wb,
        );
        self.tol_w = self.next_tol(self.tol_w, steps);
        self.ws = factor_stats(&self.w, k, true);
        csr_transpose_mul_dense(x, &self.w, k, &mut self.xtw, &mut self.hparts);
        Half::default()
    }

    fn update_h(&mut self, _t: usize) -> Half {
        let pb = &self.pb;
        let (x, k, reg) = (pb.x, pb.k, pb.reg);
        let q = ridge(&self.ws.gram, k, reg.l2_h);
        let (steps, gh) = subproblem(
            &mut self.ht,
            &self.xtw,
            &q,
            reg.l1_h,
            k,
            self.tol_h,
            &mut self.hb,
        );
        self.tol_h = self.next_tol(self.tol_h, steps);
        self.hs = factor_stats(&self.ht, k, true);
        // X·Hᵀ for the next W subproblem gives W's gradient at the new H and the objective.
        csr_mul_dense(x, &self.ht, k, &mut self.xht);
        let qw = ridge(&self.hs.gram, k, reg.l2_w);
        let gw = gradient(&self.w, &self.xht, &qw, reg.l1_w, k, &mut self.wb.grad);
        let div = pb.frobenius(gw.cross, &self.ws.gram, &self.hs.gram);
        let (ws, hs) = (&self.ws, &self.hs);
        Half {
            objective: Some(pb.objective(div, ws.l1, ws.sq, hs.l1, hs.sq)),
            divergence: Some(div.max(0.0)),
            violation: (gw.proj_sq + gh.proj_sq).sqrt(),
            ..Half::default()
        }
    }

    fn into_factors(self: Box<Self>) -> (Vec<f64>, Vec<f64>) {
        (self.w, self.ht)
    }
}

/// Sums of a gradient pass.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct GradSums {
    /// ‖∇f‖²_F.
    pub full_sq: f64,
    /// ‖∇^P f‖²_F (the projected gradient).
    pub proj_sq: f64,
    /// Σ a·b (⟨W, X·Hᵀ⟩ for W: the Frobenius cross term).
    pub cross: f64,
}

/// Lin's subproblem for A (rows × k, updated in place) with Q (k × k) and the numerator B
/// (rows × k): projected-gradient steps with the Armijo search of the module docs until the
/// projected gradient's norm is below `tol`, [`MAX_INNER_ITER`] steps, or no step size is
/// accepted. Returns the steps taken and the sums of the gradient at the final A.
fn subproblem(
    a: &mut Vec<f64>,
    b: &[f64],
    q: &[f64],
    l1: f64,
    k: usize,
    tol: f64,
    bufs: &mut Bufs,
) -> (usize, GradSums) {
    let mut gs = gradient(a, b, q, l1, k, &mut bufs.grad);
    let mut alpha = 1.0;
    let mut steps = 0;
    while gs.proj_sq.sqrt() >= tol && steps < MAX_INNER_ITER {
        // The accepted trial (its d·Q is in the paired buffer), if any.
        let mut accepted: Option<bool> = None; // Some(true): `trial`, Some(false): `prev`
        let mut decrease = false;
        for inner in 0..MAX_STEP_TRIALS {
            let (gd, dqd) = trial(
                a,
                &bufs.grad,
                alpha,
                q,
                k,
                &mut bufs.trial,
                &mut bufs.trial_dq,
            );
            let sufficient = (1.0 - SIGMA) * gd + 0.5 * dqd < 0.0;
            if inner == 0 {
                decrease = !sufficient;
            }
            if decrease {
                if sufficient {
                    accepted = Some(true);
                    break;
                }
                alpha *= BETA;
            } else {
                if !sufficient || (inner > 0 && bufs.prev == bufs.trial) {
                    accepted = (inner > 0).then_some(false);
                    break;
                }
                alpha /= BETA;
                std::mem::swap(&mut bufs.prev, &mut bufs.trial);
                std::mem::swap(&mut bufs.prev_dq, &mut bufs.trial_dq);
                if inner + 1 == MAX_STEP_TRIALS {
                    accepted = Some(false);
                }
            }
        }
        let (point, dq) = match accepted {
            Some(true) => (&mut bufs.trial, &bufs.trial_dq),
            Some(false) => (&mut bufs.prev, &bufs.prev_dq),
            None => break,
        };
        std::mem::swap(a, point);
        steps += 1;
        gs = step_gradient(a, b, &mut bufs.grad, dq, k);
    }
    (steps, gs)
}

/// Sums per-block partials in block order.
fn sum_parts<const N: usize>(parts: Vec<[f64; N]>) -> [f64; N] {
    let mut total = [0.0; N];
    for p in parts {
        for (t, v) in total.iter_mut().zip(p) {
            *t += v;
        }
    }
    total
}

/// g ← A·Q − B + l1 (row by row); returns ‖g‖², ‖∇^P‖² and Σ a·b. Row-parallel over fixed
/// blocks, the sums reduced in block order.
pub fn gradient(a: &[f64], b: &[f64], q: &[f64], l1: f64, k: usize, g: &mut [f64]) -> GradSums {
    let chunk = ROW_BLOCK * k;
    let parts: Vec<[f64; 3]> = g
        .par_chunks_mut(chunk)
        .enumerate()
        .map(|(blk, gb)| {
            let s = blk * chunk;
            grad_block(&a[s..s + gb.len()], &b[s..s + gb.len()], q, l1, k, gb)
        })
        .collect();
    let [full_sq, proj_sq, cross] = sum_parts(parts);
    GradSums {
        full_sq,
        proj_sq,
        cross,
    }
}

/// g ← g + d·Q after a step to A (d·Q given), returning the sums of the new gradient.
fn step_gradient(a: &[f64], b: &[f64], g: &mut [f64], dq: &[f64], k: usize) -> GradSums {
    let chunk = ROW_BLOCK * k;
    let parts: Vec<[f64; 3]> = g
        .par_chunks_mut(chunk)
        .enumerate()
        .map(|(blk, gb)| {
            let s = blk * chunk;
            let (mut full, mut proj, mut cross) = (0.0, 0.0, 0.0);
            for (t, gv) in gb.iter_mut().enumerate() {
                let v = *gv + dq[s + t];
                *gv = v;
                full += v * v;
                let pv = if a[s + t] > 0.0 { v } else { v.min(0.0) };
                proj += pv * pv;
                cross += a[s + t] * b[s + t];
            }
            [full, proj, cross]
        })
        .collect();
    let [full_sq, proj_sq, cross] = sum_parts(parts);
    GradSums {
        full_sq,
        proj_sq,
        cross,
    }
}

/// The trial point T = max(A − α·G, 0) and d·Q for d = T − A; returns (⟨G, d⟩, ⟨d, d·Q⟩).
fn trial(
    a: &[f64],
    g: &[f64],
    alpha: f64,
    q: &[f64],
    k: usize,
    t: &mut [f64],
    dq: &mut [f64],
) -> (f64, f64) {
    let chunk = ROW_BLOCK * k;
    let parts: Vec<[f64; 2]> = t
        .par_chunks_mut(chunk)
        .zip(dq.par_chunks_mut(chunk))
        .enumerate()
        .map(|(blk, (tb, db))| {
            let s = blk * chunk;
            let e = s + tb.len();
            trial_block(&a[s..e], &g[s..e], alpha, q, k, tb, db)
        })
        .collect();
    let [gd, dqd] = sum_parts(parts);
    (gd, dqd)
}

#[multiversion(targets(
    "x86_64+avx512f+avx512vl+avx2+avx+fma",
    "x86_64+avx2+avx+fma",
    "x86_64+avx",
    "aarch64+neon"
))]
fn grad_block(a: &[f64], b: &[f64], q: &[f64], l1: f64, k: usize, g: &mut [f64]) -> [f64; 3] {
    if target_cfg_f!(target_feature = "fma") {
        grad_rows::<true>(a, b, q, l1, k, g)
    } else {
        grad_rows::<false>(a, b, q, l1, k, g)
    }
}

#[inline(always)]
fn grad_rows<const FMA: bool>(
    a: &[f64],
    b: &[f64],
    q: &[f64],
    l1: f64,
    k: usize,
    g: &mut [f64],
) -> [f64; 3] {
    let mut sums = [0.0; 3];
    if FMA && by_lanes!(k, FMA, grad_rows_lanes(a, b, q, l1, g, &mut sums)) {
        return sums;
    }
    let (mut full, mut proj, mut cross) = (0.0, 0.0, 0.0);
    for ((ar, br), gr) in a
        .chunks_exact(k)
        .zip(b.chunks_exact(k))
        .zip(g.chunks_exact_mut(k))
    {
        vec_mat::<FMA>(ar, q, gr);
        for l in 0..k {
            let v = gr[l] - br[l] + l1;
            gr[l] = v;
            full = madd::<FMA>(v, v, full);
            let pv = if ar[l] > 0.0 { v } else { v.min(0.0) };
            proj = madd::<FMA>(pv, pv, proj);
            cross = madd::<FMA>(ar[l], br[l], cross);
        }
    }
    [full, proj, cross]
}

/// [`grad_rows`] for k = 4·C, the rows held in registers (sums in the same order per row,
/// accumulated lane by lane: a fixed order).
#[inline(always)]
fn grad_rows_lanes<const C: usize, const FMA: bool>(
    a: &[f64],
    b: &[f64],
    q: &[f64],
    l1: f64,
    g: &mut [f64],
    sums: &mut [f64; 3],
) {
    let k = 4 * C;
    let (mut full, mut proj, mut cross) = ([0.0f64; 4], [0.0f64; 4], [0.0f64; 4]);
    for ((ar, br), gr) in a
        .chunks_exact(k)
        .zip(b.chunks_exact(k))
        .zip(g.chunks_exact_mut(k))
    {
        let av = lanes_load::<C>(ar);
        let bv = lanes_load::<C>(br);
        let mut gv = lanes_vec_mat::<C, FMA>(&av, q);
        for c in 0..C {
            for l in 0..4 {
                let v = gv[c][l] - bv[c][l] + l1;
                gv[c][l] = v;
                full[l] = madd::<FMA>(v, v, full[l]);
                let pv = if av[c][l] > 0.0 { v } else { v.min(0.0) };
                proj[l] = madd::<FMA>(pv, pv, proj[l]);
                cross[l] = madd::<FMA>(av[c][l], bv[c][l], cross[l]);
            }
        }
        lanes_store::<C>(&gv, gr);
    }
    let fold = |v: [f64; 4]| (v[0] + v[2]) + (v[1] + v[3]);
    *sums = [fold(full), fold(proj), fold(cross)];
}

#[multiversion(targets(
    "x86_64+avx512f+avx512vl+avx2+avx+fma",
    "x86_64+avx2+avx+fma",
    "x86_64+avx",
    "aarch64+neon"
))]
fn trial_block(
    a: &[f64],
    g: &[f64],
    alpha: f64,
    q: &[f64],
    k: usize,
    t: &mut [f64],
    dq: &mut [f64],
) -> [f64; 2] {
    if target_cfg_f!(target_feature = "fma") {
        trial_rows::<true>(a, g, alpha, q, k, t, dq)
    } else {
        trial_rows::<false>(a, g, alpha, q, k, t, dq)
    }
}

#[inline(always)]
fn trial_rows<const FMA: bool>(
    a: &[f64],
    g: &[f64],
    alpha: f64,
    q: &[f64],
    k: usize,
    t: &mut [f64],
    dq: &mut [f64],
) -> [f64; 2] {
    let mut sums = [0.0; 2];
    if FMA && by_lanes!(k, FMA, trial_rows_lanes(a, g, alpha, q, t, dq, &mut sums)) {
        return sums;
    }
    let (mut gd, mut dqd) = (0.0, 0.0);
    let mut d = vec![0.0; k];
    for (((ar, gr), tr), qr) in a
        .chunks_exact(k)
        .zip(g.chunks_exact(k))
        .zip(t.chunks_exact_mut(k))
        .zip(dq.chunks_exact_mut(k))
    {
        let mut any = false;
        for l in 0..k {
            let v = (ar[l] - alpha * gr[l]).max(0.0);
            tr[l] = v;
            d[l] = v - ar[l];
            any |= d[l] != 0.0;
            gd = madd::<FMA>(gr[l], d[l], gd);
        }
        if any {
            vec_mat::<FMA>(&d, q, qr);
            for l in 0..k {
                dqd = madd::<FMA>(d[l], qr[l], dqd);
            }
        } else {
            qr.fill(0.0);
        }
    }
    [gd, dqd]
}

/// [`trial_rows`] for k = 4·C, the rows held in registers.
#[inline(always)]
fn trial_rows_lanes<const C: usize, const FMA: bool>(
    a: &[f64],
    g: &[f64],
    alpha: f64,
    q: &[f64],
    t: &mut [f64],
    dq: &mut [f64],
    sums: &mut [f64; 2],
) {
    let k = 4 * C;
    let (mut gd, mut dqd) = ([0.0f64; 4], [0.0f64; 4]);
    for (((ar, gr), tr), qr) in a
        .chunks_exact(k)
        .zip(g.chunks_exact(k))
        .zip(t.chunks_exact_mut(k))
        .zip(dq.chunks_exact_mut(k))
    {
        let av = lanes_load::<C>(ar);
        let gv = lanes_load::<C>(gr);
        let mut tv = [[0.0; 4]; C];
        let mut d = [[0.0; 4]; C];
        let mut any = false;
        for c in 0..C {
            for l in 0..4 {
                let v = (av[c][l] - alpha * gv[c][l]).max(0.0);
                tv[c][l] = v;
                d[c][l] = v - av[c][l];
                any |= d[c][l] != 0.0;
                gd[l] = madd::<FMA>(gv[c][l], d[c][l], gd[l]);
            }
        }
        lanes_store::<C>(&tv, tr);
        if any {
            let dv = lanes_vec_mat::<C, FMA>(&d, q);
            for c in 0..C {
                for l in 0..4 {
                    dqd[l] = madd::<FMA>(d[c][l], dv[c][l], dqd[l]);
                }
            }
            lanes_store::<C>(&dv, qr);
        } else {
            qr.fill(0.0);
        }
    }
    let fold = |v: [f64; 4]| (v[0] + v[2]) + (v[1] + v[3]);
    *sums = [fold(gd), fold(dqd)];
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::testutil::factor;

    /// Lin's subproblem on a small dense problem ends at a KKT point: its projected gradient
    /// is below the tolerance, and the objective went down.
    #[test]
    fn a_subproblem_reaches_its_tolerance() {
        let (rows, k) = (300, 6);
        let a0 = factor(rows, k, 2);
        let h = factor(40, k, 3);
        let mut q = vec![0.0; k * k];
        for j in 0..40 {
            for s in 0..k {
                for t in 0..k {
                    q[s * k + t] += h[j * k + s] * h[j * k + t];
                }
            }
        }
        // A ridge keeps the problem reasonably conditioned (κ ≈ 50): the factors of
        // `factor` are nearly collinear.
        for l in 0..k {
            q[l * k + l] += 5.0;
        }
        // B = A*·Q for a target A* with zeros, so the solution sits on the boundary.
        let mut target = factor(rows, k, 7);
        for (i, v) in target.iter_mut().enumerate() {
            if i % 5 == 0 {
                *v = 0.0;
            }
        }
        let mut b = vec![0.0; rows * k];
        for r in 0..rows {
            for t in 0..k {
                b[r * k + t] = (0..k)
                    .map(|s| target[r * k + s] * q[s * k + t])
                    .sum::<f64>()
                    - if (r + t) % 7 == 0 { 3.0 } else { 0.0 };
            }
        }
        let f = |a: &[f64]| -> f64 {
            let mut v = 0.0;
            for r in 0..rows {
                for s in 0..k {
                    for t in 0..k {
                        v += 0.5 * a[r * k + s] * q[s * k + t] * a[r * k + t];
                    }
                    v -= a[r * k + s] * b[r * k + s];
                }
            }
            v
        };
        let mut a = a0.clone();
        let mut bufs = Bufs::new(rows * k);
        let start = gradient(&a, &b, &q, 0.0, k, &mut bufs.grad);
        // Projected gradient converges linearly, and β = 0.1 picks step sizes coarsely: a
        // relative 1e-6 takes about 480 steps here (as Lin's Matlab code).
        let tol = 1e-6 * start.full_sq.sqrt();
        let (steps, gs) = subproblem(&mut a, &b, &q, 0.0, k, tol, &mut bufs);
        assert!(steps > 0 && steps < MAX_INNER_ITER, "{steps} steps");
        assert!(gs.proj_sq.sqrt() < tol);
        // The incrementally updated gradient agrees with a fresh one.
        let mut g = vec![0.0; rows * k];
        let fresh = gradient(&a, &b, &q, 0.0, k, &mut g);
        assert!((fresh.proj_sq.sqrt() - gs.proj_sq.sqrt()).abs() < 1e-3 * tol);
        assert!(f(&a) < f(&a0));
        assert!(a.iter().all(|v| *v >= 0.0));
    }
}
