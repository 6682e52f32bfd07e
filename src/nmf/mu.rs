//! The multiplicative-update solver (scikit-learn's `solver="mu"`), shared by `fit` (W and H
//! updated) and `transform` (H fixed).
//!
//! Each iteration is a row-parallel W pass over X (reads W_t, H_t, writes W_{t+1}), then the
//! H update from its numerator, an m × k matrix that is a sum over the rows of X: for
//! Frobenius Xᵀ·W_{t+1}, scattered by a second pass over X ([`csr_transpose_mul_dense`]); for
//! KL Wᵀ·R with r_ij = x_ij / max(w_i·h_j, ε) for the new W, scattered by the W pass itself
//! as each new row w_i is computed ([`mu_kl_rows_scatter`]). No transposed copy of X is kept.
//!
//! W is updated in place (a row is read before it is written), except by the W pass at a
//! stopping check (tol > 0, every 10 iterations), which writes a second buffer: the W pass of
//! iteration t+1 reports the divergence of (W_t, H_t), and if the check says stop, the solver
//! returns (W_t, H_t) without undoing anything. The statistics each update needs from the
//! other factor (column sums for KL, the k×k Gram matrix for Frobenius) come out of the pass
//! that wrote it.

use std::borrow::Cow;
use std::time::Instant;

use ndarray::Array2;

use super::data::Sparse;
use super::{Loss, NmfParams, Regularization};
use crate::kernels::{
    csr_transpose_mul_dense, eval_at_nonzeros, factor_stats, mu_frobenius_from_numerator,
    mu_frobenius_rows, mu_frobenius_rows_in_place, mu_kl_from_numerator, mu_kl_rows,
    mu_kl_rows_in_place, mu_kl_rows_scatter, trace_product, EPSILON,
};

/// What the solver hands back.
#[derive(Debug)]
pub(crate) struct SolveOut {
    pub w: Array2<f64>,
    pub h: Array2<f64>,
    pub history: Vec<f64>,
    pub iterations: usize,
    pub converged: bool,
    pub loop_seconds: f64,
    /// Objective of the final factors.
    pub loss: f64,
    /// Divergence of the final factors.
    pub divergence: f64,
    /// ‖X − WH‖²_F of the final factors (via traces, clamped at 0).
    pub resid_sq: f64,
    /// ‖X‖²_F.
    pub x_sq: f64,
}

/// scikit-learn's stopping test `(e_prev − e)/e_0 < tol`; an exact start (e_0 = 0) stops.
fn should_stop(prev: f64, e: f64, e0: f64, tol: f64) -> bool {
    if e0 == 0.0 {
        return true;
    }
    (prev - e) / e0 < tol
}

fn err_of(div: f64) -> f64 {
    (2.0 * div.max(0.0)).sqrt()
}

/// Runs multiplicative updates from `w0` (n × k) and `h` (k × m). With `update_h` false, H
/// stays fixed (transform). Parameters are assumed validated and shapes consistent.
pub(crate) fn solve(
    xs: &Sparse<'_>,
    w0: Cow<'_, Array2<f64>>,
    h: &Array2<f64>,
    update_h: bool,
    p: &NmfParams,
    reg: Regularization,
    progress: &mut dyn FnMut(usize, f64),
) -> SolveOut {
    let t0 = Instant::now();
    let k = h.nrows();
    let (n, m) = (xs.nrows(), xs.ncols());
    assert_eq!(w0.dim(), (n, k), "W0 has the shape n × k");
    assert_eq!(h.ncols(), m, "H has the shape k × m");
    let kl = p.loss == Loss::Kl;
    let x = xs.x();
    let gram = !kl;

    // An owned, standard-layout W0 becomes W without a copy.
    let mut w: Vec<f64> = match w0 {
        Cow::Owned(a) if a.is_standard_layout() => {
            // Contiguous in row-major order: the values are v[offset..offset + n·k].
            let (mut v, offset) = a.into_raw_vec_and_offset();
            v.drain(..offset.unwrap_or(0));
            v.truncate(n * k);
            v
        }
        other => other.iter().copied().collect(),
    };
    let mut ht: Vec<f64> = h.t().iter().copied().collect();
    // W needs a second buffer only at iterations with a stopping check (the solver may stop
    // at the W it started the iteration with); H is always updated in place.
    let checks = p.tol > 0.0;
    let mut wn = if checks { vec![0.0; n * k] } else { Vec::new() };
    // The numerator of the H update (m × k) — scattered by the fused W pass for KL, by
    // `csr_transpose_mul_dense` for Frobenius — and the other part buffers of the scatter.
    let mut hnum = if update_h {
        vec![0.0; m * k]
    } else {
        Vec::new()
    };
    let mut hparts = Vec::new();
    let mut ws = factor_stats(&w, k, gram);
    let mut hs = factor_stats(&ht, k, gram);

    let x_sq: f64 = x.data.iter().map(|v| v * v).sum();
    let x_sum: f64 = x.data.iter().filter(|v| **v > EPSILON).sum();
    let objective = |div: f64, wl1: f64, wsq: f64, hl1: f64, hsq: f64| {
        div + reg.l1_w * wl1 + 0.5 * reg.l2_w * wsq + reg.l1_h * hl1 + 0.5 * reg.l2_h * hsq
    };
    let dotk = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(p, q)| p * q).sum::<f64>();

    let mut history = Vec::with_capacity(p.max_iter);
    let (mut err0, mut prev) = (0.0, 0.0);
    let mut converged = false;
    let mut t = 0;
    while t < p.max_iter {
        // W pass: W_{t+1} into `wn`, and the divergence of (W_t, H_t) on the side.
        let check_now = checks && t > 0 && t % 10 == 0;
        let den: Vec<f64> = hs.colsum.iter().map(|s| s + reg.l1_w).collect();
        let st = match (kl, check_now) {
            // KL with H updated: the fused pass computes W_{t+1} and the numerator of the H
            // update in one pass over X.
            (true, _) if update_h => {
                let (a, out): (Option<&[f64]>, &mut [f64]) = if check_now {
                    (Some(&w), &mut wn)
                } else {
                    (None, &mut w)
                };
                let (num, parts) = (&mut hnum, &mut hparts);
                mu_kl_rows_scatter(x, a, &ht, k, &den, reg.l2_w, true, out, num, parts)
            }
            (true, true) => mu_kl_rows(x, &w, &ht, k, &den, reg.l2_w, false, true, false, &mut wn),
            (true, false) => {
                mu_kl_rows_in_place(x, &mut w, &ht, k, &den, reg.l2_w, false, true, false)
            }
            (false, true) => {
                mu_frobenius_rows(x, &w, &ht, k, &hs.gram, reg.l1_w, reg.l2_w, true, &mut wn)
            }
            (false, false) => {
                mu_frobenius_rows_in_place(x, &mut w, &ht, k, &hs.gram, reg.l1_w, reg.l2_w, true)
            }
        };
        let div = if kl {
            st.logsum + dotk(&ws.colsum, &hs.colsum) - x_sum
        } else {
            0.5 * (x_sq - 2.0 * st.cross + trace_product(&ws.gram, &hs.gram, k))
        };
        if t == 0 {
            err0 = err_of(div);
            prev = err0;
        } else {
            let obj = objective(div, st.old_l1, st.old_sq, hs.l1, hs.sq);
            history.push(obj);
            progress(t, obj);
            if p.tol > 0.0 && t % 10 == 0 {
                let e = err_of(div);
                if should_stop(prev, e, err0, p.tol) {
                    converged = true;
                    break;
                }
                prev = e;
            }
        }
        if check_now {
            std::mem::swap(&mut w, &mut wn);
        }
        ws = st.new;

        if update_h {
            let st = if kl {
                // scikit-learn replaces zero column sums of W by 1 in the H update.
                let den: Vec<f64> = ws
                    .colsum
                    .iter()
                    .map(|&s| if s == 0.0 { 1.0 } else { s } + reg.l1_h)
                    .collect();
                mu_kl_from_numerator(&mut ht, &hnum, k, &den, reg.l2_h, true)
            } else {
                csr_transpose_mul_dense(x, &w, k, &mut hnum, &mut hparts);
                mu_frobenius_from_numerator(&mut ht, &hnum, k, &ws.gram, reg.l1_h, reg.l2_h, true)
            };
            hs = st.new;
        }
        t += 1;
    }
    let loop_seconds = t0.elapsed().as_secs_f64();

    // The final factors: one evaluation pass and fresh statistics.
    let (logsum, cross) = eval_at_nonzeros(x, &w, &ht, k);
    let fw = factor_stats(&w, k, true);
    let fh = factor_stats(&ht, k, true);
    let resid = x_sq - 2.0 * cross + trace_product(&fw.gram, &fh.gram, k);
    let divergence = if kl {
        (logsum + dotk(&fw.colsum, &fh.colsum) - x_sum).max(0.0)
    } else {
        (0.5 * resid).max(0.0)
    };
    let loss = objective(divergence, fw.l1, fw.sq, fh.l1, fh.sq);
    if !converged {
        history.push(loss);
        progress(t, loss);
        if p.tol > 0.0 && t % 10 == 0 && should_stop(prev, err_of(divergence), err0, p.tol) {
            converged = true;
        }
    }
    drop((wn, hnum, hparts));
    let w = Array2::from_shape_vec((n, k), w).expect("n × k values");
    let h = Array2::from_shape_vec((m, k), ht)
        .expect("m × k values")
        .reversed_axes()
        .as_standard_layout()
        .into_owned();
    SolveOut {
        w,
        h,
        history,
        iterations: t,
        converged,
        loop_seconds,
        loss,
        divergence,
        resid_sq: resid.max(0.0),
        x_sq,
    }
}
