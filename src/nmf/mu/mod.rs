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
    csr_transpose_mul_dense, eval_at_nonzeros, factor_stats, trace_product, EPSILON,
};

mod frobenius;
mod kl;

pub use frobenius::{mu_frobenius_from_numerator, mu_frobenius_rows, mu_frobenius_rows_in_place};
pub use kl::{mu_kl_from_numerator, mu_kl_rows, mu_kl_rows_in_place, mu_kl_rows_scatter};

/// Row `i` of the old factor: from `a` when given, else the output row itself (an in-place
/// update, which reads the row before writing it).
#[inline(always)]
pub(crate) fn old_row<'s>(a: Option<&'s [f64]>, i: usize, k: usize, o: &'s [f64]) -> &'s [f64] {
    match a {
        Some(a) => &a[i * k..(i + 1) * k],
        None => o,
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::testutil::*;
    use crate::kernels::{csr_transpose, scatter_parts};

    /// k = 5 and 7 run the generic loops; 8 and 20 the register-resident fast paths.
    #[test]
    fn kl_pass_matches_dense_formula() {
        for k in [5, 8, 20] {
            kl_pass_check(k);
        }
    }

    fn kl_pass_check(k: usize) {
        let (n, m) = (260, 19);
        let x = sample(n, m, 4);
        let (a, b) = (factor(n, k, 5), factor(m, k, 6));
        let den_base: Vec<f64> = (0..k).map(|l| (0..m).map(|j| b[j * k + l]).sum()).collect();
        let mut out = vec![0.0; n * k];
        let st = mu_kl_rows(
            x.view(),
            &a,
            &b,
            k,
            &den_base,
            0.5,
            false,
            true,
            true,
            &mut out,
        );
        let d = dense(x.view());
        let mut logsum = 0.0;
        for i in 0..n {
            let mut num = vec![0.0; k];
            for j in 0..m {
                let xv = d[i * m + j];
                if xv == 0.0 {
                    continue;
                }
                let wh: f64 = (0..k).map(|l| a[i * k + l] * b[j * k + l]).sum();
                for l in 0..k {
                    num[l] += xv / wh.max(EPSILON) * b[j * k + l];
                }
                logsum += xv * (xv / wh.max(EPSILON)).ln();
            }
            for l in 0..k {
                let want = a[i * k + l] * num[l] / (den_base[l] + 0.5 * a[i * k + l]);
                assert!((out[i * k + l] - want).abs() <= 1e-12 * want.max(1.0));
            }
        }
        assert!((st.logsum - logsum).abs() <= 1e-10 * logsum.abs().max(1.0));
        let ns = factor_stats(&out, k, true);
        assert!((ns.l1 - st.new.l1).abs() <= 1e-10 * ns.l1);
        assert_eq!(st.new.gram.len(), k * k);
        for (p, q) in ns.gram.iter().zip(&st.new.gram) {
            assert!((p - q).abs() <= 1e-10 * p.abs().max(1.0));
        }
        let sa = factor_stats(&a, k, false);
        assert!((sa.sq - st.old_sq).abs() <= 1e-10 * sa.sq);
    }

    #[test]
    fn frobenius_pass_matches_dense_formula() {
        for k in [4, 7, 20] {
            frobenius_pass_check(k);
        }
    }

    fn frobenius_pass_check(k: usize) {
        let (n, m) = (150, 31);
        let x = sample(n, m, 8);
        let (a, b) = (factor(n, k, 9), factor(m, k, 10));
        let g = factor_stats(&b, k, true).gram;
        let mut out = vec![0.0; n * k];
        let st = mu_frobenius_rows(x.view(), &a, &b, k, &g, 0.1, 0.2, true, &mut out);
        let d = dense(x.view());
        let mut cross = 0.0;
        for i in 0..n {
            for l in 0..k {
                let num: f64 = (0..m).map(|j| d[i * m + j] * b[j * k + l]).sum();
                let den: f64 = (0..k).map(|q| a[i * k + q] * g[q * k + l]).sum::<f64>()
                    + 0.1
                    + 0.2 * a[i * k + l];
                cross += a[i * k + l] * num;
                let want = a[i * k + l] * num / den;
                assert!((out[i * k + l] - want).abs() <= 1e-12 * want.max(1.0));
            }
        }
        assert!((st.cross - cross).abs() <= 1e-10 * cross);
        let ns = factor_stats(&out, k, true);
        assert!((ns.sq - st.new.sq).abs() <= 1e-10 * ns.sq);
        for (p, q) in ns.colsum.iter().zip(&st.new.colsum) {
            assert!((p - q).abs() <= 1e-10 * p.abs().max(1.0));
        }
        for (p, q) in ns.gram.iter().zip(&st.new.gram) {
            assert!((p - q).abs() <= 1e-10 * p.abs().max(1.0));
        }
        let (_, c2) = eval_at_nonzeros(x.view(), &a, &b, k);
        assert!((c2 - cross).abs() <= 1e-10 * cross);
    }

    #[test]
    fn update_from_numerator_equals_the_sparse_pass() {
        let (n, m, k) = (200, 29, 20);
        let x = sample(n, m, 17);
        let (ht, w) = (factor(m, k, 18), factor(n, k, 19));
        let g = factor_stats(&w, k, true).gram;
        let xt = csr_transpose(x.view());
        let mut want = vec![0.0; m * k];
        let sw = mu_frobenius_rows(xt.view(), &ht, &w, k, &g, 0.1, 0.2, true, &mut want);
        let mut num = vec![0.0; m * k];
        csr_transpose_mul_dense(x.view(), &w, k, &mut num, &mut Vec::new());
        let mut got = ht.clone();
        let sg = mu_frobenius_from_numerator(&mut got, &num, k, &g, 0.1, 0.2, true);
        for (p, q) in got.iter().zip(&want) {
            assert!((p - q).abs() <= 1e-12 * q.abs().max(1.0));
        }
        assert!((sw.old_sq - sg.old_sq).abs() <= 1e-12 * sw.old_sq);
        for (p, q) in sw.new.gram.iter().zip(&sg.new.gram) {
            assert!((p - q).abs() <= 1e-10 * p.abs().max(1.0));
        }
    }

    /// The fused KL pass on an n × m sample: its W equals [`mu_kl_rows`]'s bit for bit (same
    /// block kernel), in place or not; its numerator equals the dense formula with the new W;
    /// and everything is bit-identical with 1 and 2 threads.
    fn kl_scatter_check(n: usize, m: usize, k: usize) {
        let x = sample(n, m, 21);
        let (a, b) = (factor(n, k, 22), factor(m, k, 23));
        let den: Vec<f64> = (0..k).map(|l| 0.3 + l as f64).collect();
        let mut want = vec![0.0; n * k];
        let sw = mu_kl_rows(
            x.view(),
            &a,
            &b,
            k,
            &den,
            0.2,
            false,
            true,
            false,
            &mut want,
        );
        let run = |threads: usize, in_place: bool| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let mut out = if in_place {
                    a.clone()
                } else {
                    vec![f64::NAN; n * k]
                };
                let mut num = vec![f64::NAN; m * k];
                let mut extra = vec![f64::NAN; 3];
                let src = (!in_place).then_some(&a[..]);
                let st = mu_kl_rows_scatter(
                    x.view(),
                    src,
                    &b,
                    k,
                    &den,
                    0.2,
                    true,
                    &mut out,
                    &mut num,
                    &mut extra,
                );
                (out, num, st)
            })
        };
        let (out, num, st) = run(2, false);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&out), bits(&want), "n={n} m={m} k={k}");
        assert_eq!(st, sw);
        for (threads, in_place) in [(1, false), (1, true), (2, true)] {
            let (o, nu, s) = run(threads, in_place);
            assert_eq!(bits(&o), bits(&out));
            assert_eq!(bits(&nu), bits(&num), "numerator with {threads} threads");
            assert_eq!(s, st);
        }
        let d = dense(x.view());
        let mut expect = vec![0.0; m * k];
        for i in 0..n {
            for j in 0..m {
                let xv = d[i * m + j];
                if xv == 0.0 {
                    continue;
                }
                let wh: f64 = (0..k).map(|l| out[i * k + l] * b[j * k + l]).sum();
                for l in 0..k {
                    expect[j * k + l] += xv / wh.max(EPSILON) * out[i * k + l];
                }
            }
        }
        for (g, e) in num.iter().zip(&expect) {
            assert!((g - e).abs() <= 1e-12 * e.abs().max(1.0), "{g} vs {e}");
        }
    }

    #[test]
    fn fused_kl_pass_matches_the_row_pass_and_the_dense_numerator() {
        // (260, 19, 4) has more parts than blocks (some parts are empty), (3, 50, 4) a
        // single block, k = 7 takes the generic loops, k = 20 the register path.
        assert!(scatter_parts(sample(260, 19, 21).view().nnz(), 19, 4) > 2);
        for (n, m, k) in [
            (260, 19, 4),
            (260, 19, 7),
            (300, 41, 20),
            (3, 50, 4),
            (129, 5, 8),
        ] {
            kl_scatter_check(n, m, k);
        }
    }

    #[test]
    fn kl_update_from_numerator_equals_the_sparse_pass() {
        // The H update from the fused numerator equals the KL row pass over Xᵀ with the
        // floor, for both the values and the statistics.
        let (n, m, k) = (200, 29, 20);
        let x = sample(n, m, 24);
        let (w, mut ht) = (factor(n, k, 25), factor(m, k, 26));
        ht[3] = 1e-300; // floored to 0 by both
        let den: Vec<f64> = (0..k).map(|l| 1.0 + 0.1 * l as f64).collect();
        let xt = csr_transpose(x.view());
        let mut want = vec![0.0; m * k];
        let sw = mu_kl_rows(
            xt.view(),
            &ht,
            &w,
            k,
            &den,
            0.3,
            true,
            false,
            false,
            &mut want,
        );
        // The numerator Wᵀ·R, summed densely.
        let d = dense(x.view());
        let mut num = vec![0.0; m * k];
        for i in 0..n {
            for j in 0..m {
                let xv = d[i * m + j];
                if xv != 0.0 {
                    let wh: f64 = (0..k).map(|l| w[i * k + l] * ht[j * k + l]).sum();
                    for l in 0..k {
                        num[j * k + l] += xv / wh.max(EPSILON) * w[i * k + l];
                    }
                }
            }
        }
        let mut got = ht.clone();
        let sg = mu_kl_from_numerator(&mut got, &num, k, &den, 0.3, true);
        assert_eq!(got[3], 0.0);
        for (p, q) in got.iter().zip(&want) {
            assert!((p - q).abs() <= 1e-12 * q.abs().max(1.0), "{p} vs {q}");
        }
        assert!((sw.old_l1 - sg.old_l1).abs() <= 1e-12 * sw.old_l1);
        assert!((sw.new.l1 - sg.new.l1).abs() <= 1e-12 * sw.new.l1);
        for (p, q) in sw.new.colsum.iter().zip(&sg.new.colsum) {
            assert!((p - q).abs() <= 1e-12 * p.abs().max(1.0));
        }
    }

    #[test]
    fn in_place_passes_equal_the_out_of_place_ones() {
        for k in [3, 20] {
            let (n, m) = (300, 23);
            let x = sample(n, m, 12);
            let (a, b) = (factor(n, k, 13), factor(m, k, 14));
            let g = factor_stats(&b, k, true).gram;
            let den: Vec<f64> = (0..k).map(|l| 1.0 + l as f64).collect();
            let mut out = vec![0.0; n * k];
            let st = mu_kl_rows(x.view(), &a, &b, k, &den, 0.1, true, true, true, &mut out);
            let mut ip = a.clone();
            let st2 = mu_kl_rows_in_place(x.view(), &mut ip, &b, k, &den, 0.1, true, true, true);
            assert_eq!((out, st), (ip, st2));
            let mut out = vec![0.0; n * k];
            let st = mu_frobenius_rows(x.view(), &a, &b, k, &g, 0.1, 0.2, true, &mut out);
            let mut ip = a.clone();
            let st2 = mu_frobenius_rows_in_place(x.view(), &mut ip, &b, k, &g, 0.1, 0.2, true);
            assert_eq!((out, st), (ip, st2));
        }
    }

    #[test]
    fn zero_denominators_become_epsilon_and_give_no_nan() {
        let x = sample(10, 6, 11);
        let k = 3;
        let a = vec![0.0; 10 * k];
        let b = vec![0.0; 6 * k];
        let mut out = vec![f64::NAN; 10 * k];
        mu_kl_rows(
            x.view(),
            &a,
            &b,
            k,
            &[0.0; 3],
            0.0,
            true,
            true,
            false,
            &mut out,
        );
        assert!(out.iter().all(|v| *v == 0.0));
        let mut out = vec![f64::NAN; 10 * k];
        mu_frobenius_rows(x.view(), &a, &b, k, &[0.0; 9], 0.0, 0.0, false, &mut out);
        assert!(out.iter().all(|v| *v == 0.0));
    }
}
