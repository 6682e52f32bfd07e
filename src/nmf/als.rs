//! Alternating non-negative least squares for the Frobenius loss (the seed's ALS), as a
//! solver of the driver (`nmf/driver.rs`).
//!
//! Each half-iteration solves its factor exactly with the other one fixed:
//!
//! ```text
//! W ← argmin_{W≥0} ½‖X − WH‖²_F + l1_W‖W‖₁ + ½l2_W‖W‖²_F
//!   = per row i: argmin_{w≥0} ½·wᵀ(HHᵀ + l2_W·I)w − ((X·Hᵀ)_i − l1_W)ᵀw
//! ```
//!
//! by block principal pivoting ([`super::nnls`]), warm-started from the previous iteration's
//! passive sets, rows grouped by passive set so that one Cholesky factorization serves a group;
//! then H the same way with Xᵀ·W, WᵀW, l1_H and l2_H. Each half can only lower the objective,
//! so the exact variant is monotone. [`AlsVariant::Projected`] is the classic cheap variant:
//! the unconstrained least-squares solution with negative entries set to 0, which is not
//! monotone (it can raise the objective) and is kept for comparison.
//!
//! Stopping: the driver's relative-change rule on the objective after every iteration. The
//! objective comes, as for coordinate descent, from the H update's XᵀW and the Gram matrices.
//! With H fixed (`transform`) one W update is the exact answer.
//!
//! Each row's solution depends only on its own data and the sums are reduced over fixed
//! chunks: the same bits with any number of threads.

use rayon::prelude::*;

use super::driver::{fresh_stamp, Half, Own, Problem, Solver, StopRule};
use super::nnls::{nnls_rows_in, projected_ls_rows, NnlsWork};
use super::AlsVariant;
use crate::kernels::{csr_mul_dense, factor_stats, CsrRef, FactorStats, PassStats, ROW_BLOCK};

/// Solves A (rows × k, row-major; the current A is the warm start) exactly (`exact`) or by
/// projected least squares, for ½‖X − A·Bᵀ‖²_F + l1‖A‖₁ + ½l2‖A‖²_F with B fixed; the
/// numerator X·B comes from the rows of `x` (A = W, B = Hᵀ) or is given as `num` (A = Hᵀ,
/// num = Xᵀ·W). `g` = BᵀB. Returns Σ_i ⟨a_i, num_i⟩ for the new A in [`PassStats::cross`],
/// the number of factorizations in [`PassStats::extra`], and A's statistics with its Gram.
///
/// # Panics
/// If the shapes do not agree.
#[track_caller]
#[allow(clippy::too_many_arguments)]
pub fn ls_update(
    a: &mut [f64],
    x: Option<CsrRef<'_>>,
    b: &[f64],
    num: Option<&[f64]>,
    k: usize,
    g: &[f64],
    l1: f64,
    l2: f64,
    exact: bool,
    work: &mut LsWork,
) -> PassStats {
    assert!(
        k >= 1 && a.len().is_multiple_of(k),
        "ls_update: A must be rows × k"
    );
    assert_eq!(g.len(), k * k, "ls_update: G must be k×k");
    let rows = a.len() / k;
    let mut gp = g.to_vec();
    for t in 0..k {
        gp[t * k + t] += l2;
    }
    let num = match (x, num) {
        (_, Some(num)) => {
            assert_eq!(num.len(), a.len(), "ls_update: num must have A's shape");
            num
        }
        (Some(x), None) => {
            assert_eq!(x.nrows, rows, "ls_update: X must have A's rows");
            work.num.resize(a.len(), 0.0);
            csr_mul_dense(x, b, k, &mut work.num);
            &work.num[..]
        }
        (None, None) => panic!("ls_update: a numerator or X"),
    };
    let rhs = &mut work.rhs;
    rhs.resize(num.len(), 0.0);
    rhs.par_iter_mut()
        .zip(num.par_iter())
        .for_each(|(r, v)| *r = v - l1);
    let mut factorizations = 0.0;
    if exact {
        factorizations = nnls_rows_in(&gp, rhs, a, k, &mut work.nnls).factorizations as f64;
    } else {
        a.par_chunks_mut(ROW_BLOCK * k)
            .zip(rhs.par_chunks(ROW_BLOCK * k))
            .for_each(|(ab, rb)| projected_ls_rows(&gp, rb, ab, k));
    }
    let mut st = PassStats {
        cross: dot_blocks(a, num),
        extra: factorizations,
        new: factor_stats(a, k, true),
        ..PassStats::default()
    };
    st.new.gram.shrink_to_fit();
    st
}

/// Buffers of [`ls_update`], kept between its calls: the numerator X·B when it is computed
/// from X, the right-hand sides, and the NNLS solver's state.
#[derive(Debug, Default)]
pub struct LsWork {
    num: Vec<f64>,
    rhs: Vec<f64>,
    nnls: NnlsWork,
}

/// Σ a_i·b_i over two equal slices, summed over fixed chunks in order (deterministic).
pub(crate) fn dot_blocks(a: &[f64], b: &[f64]) -> f64 {
    let parts: Vec<f64> = a
        .par_chunks(4096)
        .zip(b.par_chunks(4096))
        .map(|(x, y)| x.iter().zip(y).map(|(p, q)| p * q).sum())
        .collect();
    parts.iter().sum()
}

/// The ALS solver's state.
pub(crate) struct Als<'a> {
    pb: Problem<'a>,
    w: Vec<f64>,
    ht: Vec<f64>,
    hnum: Vec<f64>,
    hparts: Vec<f64>,
    ws: FactorStats,
    hs: FactorStats,
    exact: bool,
    /// Buffers of the W and H updates.
    work: LsWork,
    /// X·Hᵀ's own rows when this process holds part of each row of X (the distributed fit).
    wnum: Vec<f64>,
    /// Stamps of the current W and H ([`Own`]).
    w_stamp: u64,
    h_stamp: u64,
}

impl<'a> Als<'a> {
    /// The solver at W0 (n × k) and Hᵀ0 (m × k), row-major.
    pub(crate) fn new(pb: Problem<'a>, w: Vec<f64>, ht: Vec<f64>, variant: AlsVariant) -> Self {
        Als {
            ws: pb.stats(&w, true),
            hs: pb.stats(&ht, true),
            wnum: Vec::new(),
            w_stamp: fresh_stamp(),
            h_stamp: fresh_stamp(),
            hnum: Vec::new(),
            hparts: Vec::new(),
            exact: variant == AlsVariant::Exact,
            work: LsWork::default(),
            pb,
            w,
            ht,
        }
    }

    fn objective(&self, cross: f64) -> Half {
        let pb = &self.pb;
        let div = pb.frobenius(cross, &self.ws.gram, &self.hs.gram);
        let (ws, hs) = (&self.ws, &self.hs);
        Half {
            objective: Some(pb.objective(div, ws.l1, ws.sq, hs.l1, hs.sq)),
            divergence: Some(div.max(0.0)),
            ..Half::default()
        }
    }
}

impl Solver for Als<'_> {
    fn stop_rule(&self) -> StopRule {
        StopRule::RelativeChange
    }

    fn update_w(&mut self, _t: usize, _tentative: bool) -> Half {
        let pb = self.pb;
        let (k, reg) = (pb.k, pb.reg);
        let g = &self.hs.gram;
        // Whole rows of X here (always locally; a grid of one column): X·Hᵀ from them;
        // otherwise its own rows come from the comm.
        let ht = Own {
            rows: &self.ht,
            stamp: self.h_stamp,
        };
        let whole_h = pb.comm.whole_rows(ht, k);
        let (x, b, num) = match &whole_h {
            Some(full) => (Some(pb.x), &full[..], None),
            None => {
                self.wnum.resize(self.w.len(), 0.0);
                pb.x_times(ht, &mut self.wnum);
                (None, &[][..], Some(&self.wnum[..]))
            }
        };
        let mut st = ls_update(
            &mut self.w,
            x,
            b,
            num,
            k,
            g,
            reg.l1_w,
            reg.l2_w,
            self.exact,
            &mut self.work,
        );
        pb.sum_pass(&mut st);
        self.ws = st.new;
        self.w_stamp = fresh_stamp();
        Half {
            exact: self.exact,
            ..self.objective(st.cross)
        }
    }

    fn update_h(&mut self, _t: usize) -> Half {
        let pb = self.pb;
        let (k, reg) = (pb.k, pb.reg);
        self.hnum.resize(pb.m() * k, 0.0);
        let w = Own {
            rows: &self.w,
            stamp: self.w_stamp,
        };
        pb.xt_times(w, &mut self.hnum, &mut self.hparts);
        let g = &self.ws.gram;
        let mut st = ls_update(
            &mut self.ht,
            None,
            &[],
            Some(&self.hnum),
            k,
            g,
            reg.l1_h,
            reg.l2_h,
            self.exact,
            &mut self.work,
        );
        pb.sum_pass(&mut st);
        self.hs = st.new;
        self.h_stamp = fresh_stamp();
        self.objective(st.cross)
    }

    fn into_factors(self: Box<Self>) -> (Vec<f64>, Vec<f64>) {
        (self.w, self.ht)
    }
}
