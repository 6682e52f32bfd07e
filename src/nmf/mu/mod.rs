//! The multiplicative-update solver (scikit-learn's `solver="mu"`), for `fit` (W and H
//! updated) and `transform` (H fixed), as a solver of the driver (`nmf/driver.rs`).
//!
//! Lee & Seung's updates as scikit-learn writes them (ε = f32 machine epsilon; a zero
//! denominator is replaced by ε):
//!
//! ```text
//! Frobenius  W ← W ⊙ XHᵀ ⊘ (W·HHᵀ + l1_W + l2_W·W)      H ← H ⊙ WᵀX ⊘ (WᵀW·H + l1_H + l2_H·H)
//! KL         W ← W ⊙ (R·Hᵀ) ⊘ (𝟙(H𝟙)ᵀ + l1_W + l2_W·W)   R = X ⊘ max(WH, ε) at X's nonzeros
//!            H ← H ⊙ (Wᵀ·R) ⊘ ((Wᵀ𝟙)𝟙ᵀ + l1_H + l2_H·H)  (zero column sums of W → 1),
//!            then H entries below f64::EPSILON are set to 0
//! ```
//!
//! Each iteration is a row-parallel W pass over X (reads W_t, H_t, writes W_{t+1}), then the
//! H update from its numerator, an m × k matrix that is a sum over the rows of X: for
//! Frobenius Xᵀ·W_{t+1}, scattered by a second pass over X ([`crate::kernels::csr_transpose_mul_dense`]); for
//! KL Wᵀ·R with r_ij = x_ij / max(w_i·h_j, ε) for the new W, scattered by the W pass itself
//! as each new row w_i is computed ([`mu_kl_rows_scatter`]). No transposed copy of X is kept.
//!
//! The solver is *lagged* (see `nmf/driver.rs`): the W pass of iteration t+1 sees W_t·H_t
//! at every nonzero of X (KL) or X·H_tᵀ (Frobenius), so it also returns the divergence of
//! (W_t, H_t) almost for free. W is updated in place (a row is read before it is written),
//! except by a tentative W pass (a stopping check, every 10 iterations), which writes a
//! second buffer so that the driver can stop at (W_t, H_t) without undoing anything. The
//! statistics each update needs from the other factor (column sums for KL, the k×k Gram
//! matrix for Frobenius) come out of the pass that wrote it.

use super::driver::{fresh_stamp, Half, Own, Problem, Solver, StopRule};
use crate::kernels::{FactorStats, PassStats, EPSILON};

mod frobenius;
mod kl;

pub(crate) use frobenius::{frobenius_pass, GraphRows};
pub use frobenius::{mu_frobenius_from_numerator, mu_frobenius_rows, mu_frobenius_rows_in_place};
pub use kl::{
    kl_h_numerator, kl_numerator, kl_w_numerator, mu_kl_from_numerator, mu_kl_rows,
    mu_kl_rows_in_place, mu_kl_rows_scatter,
};
pub(crate) use kl::{kl_numerator_with, kl_scatter_block};

/// scikit-learn's rule for the denominators of the updates: a denominator that is exactly 0
/// becomes ε = [`EPSILON`] (so 0/0 gives 0 and nothing divides by zero).
#[inline(always)]
pub(crate) fn nonzero_den(d: f64) -> f64 {
    if d == 0.0 {
        EPSILON
    } else {
        d
    }
}

/// Row `i` of the old factor: from `a` when given, else the output row itself (an in-place
/// update, which reads the row before writing it).
#[inline(always)]
pub(crate) fn old_row<'s>(a: Option<&'s [f64]>, i: usize, k: usize, o: &'s [f64]) -> &'s [f64] {
    match a {
        Some(a) => &a[i * k..(i + 1) * k],
        None => o,
    }
}

/// The multiplicative-update solver's state.
pub(crate) struct Mu<'a> {
    pb: Problem<'a>,
    w: Vec<f64>,
    ht: Vec<f64>,
    /// The second W buffer of tentative passes (allocated only when there are checks).
    wn: Vec<f64>,
    /// The numerator of the H update (m × k) — scattered by the fused W pass for KL, by
    /// [`crate::kernels::csr_transpose_mul_dense`] for Frobenius — and the other part buffers of the scatter.
    hnum: Vec<f64>,
    hparts: Vec<f64>,
    /// Statistics of the current W and H (the Gram matrices for Frobenius).
    ws: FactorStats,
    hs: FactorStats,
    /// Statistics of a tentative W.
    pending: Option<FactorStats>,
    /// Whether H is fitted.
    update_h: bool,
    /// The numerator of the W update when it is not fused into the W pass (this process
    /// holds only part of each row of X: the distributed fit).
    wnum: Vec<f64>,
    /// Stamps of the current W and H ([`Own`]).
    w_stamp: u64,
    h_stamp: u64,
}

impl<'a> Mu<'a> {
    /// The solver at W0 (n × k) and Hᵀ0 (m × k), row-major. `checks`: whether there will be
    /// tentative passes (tol > 0); `update_h`: whether H is fitted.
    pub(crate) fn new(
        pb: Problem<'a>,
        w: Vec<f64>,
        ht: Vec<f64>,
        update_h: bool,
        checks: bool,
    ) -> Self {
        let (n, m, k) = (pb.n(), pb.m(), pb.k);
        debug_assert_eq!((w.len(), ht.len()), (n * k, m * k));
        let gram = !pb.kl;
        let ws = pb.stats(&w, gram);
        let hs = pb.stats(&ht, gram);
        Mu {
            pb,
            w,
            ht,
            wn: if checks { vec![0.0; n * k] } else { Vec::new() },
            hnum: if update_h {
                vec![0.0; m * k]
            } else {
                Vec::new()
            },
            hparts: Vec::new(),
            ws,
            hs,
            pending: None,
            update_h,
            wnum: Vec::new(),
            w_stamp: fresh_stamp(),
            h_stamp: fresh_stamp(),
        }
    }

    /// The W pass when the numerator cannot be fused into it (this process holds part of
    /// each row of X): the numerator's own rows from the comm, then the update from it, into
    /// `wn` when `tentative`. The statistics are this process's partial sums.
    fn w_pass_split(&mut self, tentative: bool) -> PassStats {
        let pb = self.pb;
        let (k, reg) = (pb.k, pb.reg);
        self.wnum.resize(self.w.len(), 0.0);
        let (w, ht) = (
            Own {
                rows: &self.w,
                stamp: self.w_stamp,
            },
            Own {
                rows: &self.ht,
                stamp: self.h_stamp,
            },
        );
        let (logsum, cross) = if pb.kl {
            pb.comm.kl_w_numerator(pb.x, w, ht, k, &mut self.wnum)
        } else {
            pb.x_times(ht, &mut self.wnum);
            (0.0, super::als::dot_blocks(&self.w, &self.wnum))
        };
        let out = if tentative {
            self.wn.resize(self.w.len(), 0.0);
            self.wn.copy_from_slice(&self.w);
            &mut self.wn
        } else {
            &mut self.w
        };
        let mut st = if pb.kl {
            let den: Vec<f64> = self.hs.colsum.iter().map(|s| s + reg.l1_w).collect();
            mu_kl_from_numerator(out, &self.wnum, k, &den, reg.l2_w, false)
        } else {
            let g = &self.hs.gram;
            mu_frobenius_from_numerator(out, &self.wnum, k, g, reg.l1_w, reg.l2_w, true)
        };
        st.logsum = logsum;
        st.cross = cross;
        st
    }
}

impl Solver for Mu<'_> {
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
        let pb = self.pb;
        let (x, k, reg) = (pb.x, pb.k, pb.reg);
        let den: Vec<f64> = self.hs.colsum.iter().map(|s| s + reg.l1_w).collect();
        // Whole rows of X here (always locally; a grid of one column): the numerator is fused
        // into the W pass. Otherwise its own rows come from the comm.
        let whole_h = pb.comm.whole_rows(
            Own {
                rows: &self.ht,
                stamp: self.h_stamp,
            },
            k,
        );
        let fused = whole_h.map(|full| {
            let ht: &[f64] = &full;
            let (w, wn) = (&mut self.w, &mut self.wn);
            match (pb.kl, tentative) {
                // KL with H fitted, all of X here: the fused pass computes W_{t+1} and the
                // numerator of the H update in one pass over X.
                (true, _) if self.update_h && pb.comm.whole() => {
                    let (a, out): (Option<&[f64]>, &mut [f64]) =
                        if tentative { (Some(w), wn) } else { (None, w) };
                    let (num, parts) = (&mut self.hnum, &mut self.hparts);
                    mu_kl_rows_scatter(x, a, ht, k, &den, reg.l2_w, true, out, num, parts)
                }
                (true, true) => mu_kl_rows(x, w, ht, k, &den, reg.l2_w, false, true, false, wn),
                (true, false) => {
                    mu_kl_rows_in_place(x, w, ht, k, &den, reg.l2_w, false, true, false)
                }
                (false, true) => {
                    let g = &self.hs.gram;
                    mu_frobenius_rows(x, w, ht, k, g, reg.l1_w, reg.l2_w, true, wn)
                }
                (false, false) => {
                    let g = &self.hs.gram;
                    mu_frobenius_rows_in_place(x, w, ht, k, g, reg.l1_w, reg.l2_w, true)
                }
            }
        });
        let mut st = match fused {
            Some(st) => st,
            None => self.w_pass_split(tentative),
        };
        // The reduce step (nothing to add locally).
        pb.sum_pass(&mut st);
        // The divergence and objective of the factors the pass started from.
        let div = if pb.kl {
            let dot: f64 = (self.ws.colsum.iter().zip(&self.hs.colsum))
                .map(|(p, q)| p * q)
                .sum();
            st.logsum + dot - pb.x_sum
        } else {
            pb.frobenius(st.cross, &self.ws.gram, &self.hs.gram)
        };
        let objective = pb.objective(div, st.old_l1, st.old_sq, self.hs.l1, self.hs.sq);
        if tentative {
            self.pending = Some(st.new);
        } else {
            self.ws = st.new;
            self.w_stamp = fresh_stamp();
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
                self.w_stamp = fresh_stamp();
            }
        }
    }

    fn update_h(&mut self, _t: usize) -> Half {
        let pb = self.pb;
        let (k, reg) = (pb.k, pb.reg);
        let w = Own {
            rows: &self.w,
            stamp: self.w_stamp,
        };
        let mut st = if pb.kl {
            if !pb.comm.whole() {
                // Not fused into the W pass: Rᵀ·W for the new W from the comm.
                let ht = Own {
                    rows: &self.ht,
                    stamp: self.h_stamp,
                };
                let (num, parts) = (&mut self.hnum, &mut self.hparts);
                pb.comm.kl_h_numerator(pb.x, w, ht, k, num, parts);
            }
            // scikit-learn replaces zero column sums of W by 1 in the H update.
            let den: Vec<f64> = (self.ws.colsum.iter())
                .map(|&s| if s == 0.0 { 1.0 } else { s } + reg.l1_h)
                .collect();
            mu_kl_from_numerator(&mut self.ht, &self.hnum, k, &den, reg.l2_h, true)
        } else {
            pb.xt_times(w, &mut self.hnum, &mut self.hparts);
            let g = &self.ws.gram;
            mu_frobenius_from_numerator(&mut self.ht, &self.hnum, k, g, reg.l1_h, reg.l2_h, true)
        };
        pb.sum_pass(&mut st);
        self.hs = st.new;
        self.h_stamp = fresh_stamp();
        Half::default()
    }

    fn into_factors(self: Box<Self>) -> (Vec<f64>, Vec<f64>) {
        (self.w, self.ht)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::testutil::*;
    use crate::kernels::{
        csr_transpose, csr_transpose_mul_dense, eval_at_nonzeros, factor_stats, scatter_parts,
    };

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
        // 3 and 5 threads take the unfused path (the W pass, then the scatter split into
        // column ranges).
        for (threads, in_place) in [
            (1, false),
            (1, true),
            (2, true),
            (3, false),
            (3, true),
            (5, true),
        ] {
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
        // (260, 19, 1) has more parts than blocks (some parts are empty), (3, 50, 4) a
        // single block, k = 1 and 7 take the generic loops, k = 20 the register path.
        assert!(scatter_parts(sample(260, 19, 21).view().nnz(), 19, 1) > 3);
        for (n, m, k) in [
            (260, 19, 1),
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
