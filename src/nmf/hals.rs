//! Coordinate descent for the Frobenius loss (HALS; scikit-learn's `solver="cd"`), as a
//! solver of the driver (`nmf/driver.rs`).
//!
//! # The update
//! With H fixed, the rows of W are independent problems sharing the Gram matrix. Each
//! iteration computes X·Hᵀ and HHᵀ once, then sweeps the coordinates of every row of W in
//! turn, each an exact one-variable minimization clipped at 0:
//!
//! ```text
//! G = HHᵀ + l2_W·I,   b_i = (X·Hᵀ)_i − l1_W
//! for t in order:     g_it  = (w_i·G)_t − b_it                       (the gradient)
//!                     pg_it = g_it if w_it > 0 else min(g_it, 0)     (projected gradient)
//!                     w_it ← max(0, w_it − g_it / G_tt)              (skipped when G_tt = 0)
//! ```
//!
//! then H the same way with Xᵀ·W, WᵀW, l1_H and l2_H (H is kept transposed, so its columns are
//! rows here). This is scikit-learn's `_update_coordinate_descent`: the penalties enter as
//! it scales them (`l1_W = α_W·ρ·n_terms`, …), L2 on the Gram diagonal and L1 subtracted
//! from X·Hᵀ. The order is 0, 1, …, k−1 (scikit-learn's cyclic order), or with `shuffle` a
//! permutation drawn for every update from a `ChaCha8Rng` seeded with `seed` (scikit-learn's
//! `shuffle=True`; the draws cannot match numpy's).
//!
//! # Repeated sweeps (accelerated HALS)
//! With `inner` > 1 (`--inner-sweeps`) each update repeats the sweep over a tile of rows up to
//! `inner` times with the same numerators and Gram matrix (Gillis and Glineur, *Accelerated
//! multiplicative updates and hierarchical ALS algorithms for nonnegative matrix
//! factorization*, Neural Computation 24(4), 2012), stopping once a sweep moves the tile by
//! less than [`INNER_DELTA`] times what its first sweep moved it:
//!
//! ```text
//! stop after sweep s ≥ 1 when ‖A_tile⁽ˢ⁾ − A_tile⁽ˢ⁻¹⁾‖²_F ≤ δ²·‖A_tile⁽¹⁾ − A_tile⁽⁰⁾‖²_F
//! ```
//!
//! Each sweep is exact coordinate minimization, so the objective still never increases. The
//! rule is per tile (fixed by the row index), not global as in the paper, whose inner loop is
//! bounded by a budget relative to the cost of the products (1 + αρ with ρ from operation
//! counts; timed in the authors' code): the result does not depend on the threads or the
//! machine (it does on how rows are grouped into tiles, which is why `--distributed` refuses
//! it). The projected gradient of the stopping rule is the first sweep's.
//!
//! # Stopping and the objective
//! scikit-learn's rule (the driver's projected-gradient rule): Σ |pg| over all coordinates of
//! both updates, relative to the first iteration's, `≤ tol`. The objective after every
//! iteration comes from what the H update already has, without a pass over X:
//!
//! ```text
//! ½‖X − WH‖²_F = ½(‖X‖² − 2·⟨H, WᵀX⟩ + ⟨WᵀW, HHᵀ⟩)
//! ```
//!
//! with WᵀX the numerator of the H update and WᵀW, HHᵀ the Gram matrices of the new factors.
//!
//! # Implementation
//! The W update is one row pass over X: each block of rows computes its rows of X·Hᵀ into a
//! small buffer (register-resident sums for k = 4·C), then sweeps the coordinates of
//! [`TILE`] rows at a time with the rows in the lanes of a vector, so the k serial
//! coordinate updates of one row overlap with those of the other rows of the tile. Each
//! coordinate's gradient is computed afresh from the current row, as scikit-learn does
//! (k multiply-adds per row and coordinate, k² per row and sweep, all reading the transposed
//! tile from L1 and storing only the new coordinate); the step multiplies by 1/G_tt, computed
//! once per sweep, instead of dividing (a difference of at most one rounding). The
//! H update scatters Xᵀ·W from the rows of X (no
//! transposed copy of X) and runs the same sweep on the rows of Hᵀ. Rows are split into
//! fixed blocks ([`crate::kernels::ROW_BLOCK`]) and the sums reduced in block order: same bits with any number of threads.
//!
//! # References
//! - A. Cichocki, A.-H. Phan, *Fast local algorithms for large scale nonnegative matrix and
//!   tensor factorizations*, IEICE Trans. Fundamentals E92-A(3), 2009.
//! - C.-J. Hsieh, I. S. Dhillon, *Fast coordinate descent methods with variable selection for
//!   non-negative matrix factorization*, KDD 2011.

use multiversion::multiversion;
use multiversion::target::target_cfg_f;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::driver::{fresh_stamp, Half, Own, Problem, Solver, StopRule};
use crate::kernels::reduce::{
    add_block_stats, blocks, split_stats, FactorStats, PassStats, SCALARS, S_CROSS, S_EXTRA,
};
use crate::kernels::simd::madd;
use crate::kernels::{csr_dense_block, CsrRef};

/// Rows swept together. The sweep runs over the rows of a tile in its innermost loops (unit
/// stride, vectorized), so the serial chain of one row's k coordinate updates is spread over
/// the tile's rows.
pub const TILE: usize = 64;

/// Repeated sweeps (`inner` > 1) stop once a sweep moves a tile by less than this share of
/// what its first sweep moved it (in Frobenius norm): Gillis and Glineur's δ = 0.1.
pub const INNER_DELTA: f64 = 0.1;

/// The Gram matrix with the L2 weight on its diagonal, `G + l2·I`.
fn with_ridge(g: &[f64], k: usize, l2: f64) -> Vec<f64> {
    let mut gp = g.to_vec();
    for t in 0..k {
        gp[t * k + t] += l2;
    }
    gp
}

/// One coordinate-descent sweep over the rows of `a` (rows × k, row-major) with the
/// numerators `num` (rows × k: (X·Hᵀ)_i for W), the ridged Gram matrix `gp` = G + l2·I
/// (k × k, symmetric) and the L1 weight `l1`, in the coordinate `order` (see the module
/// docs). Adds Σ |projected gradient| to `part[S_EXTRA]` and Σ_i ⟨a_i(new), num_i⟩ to
/// `part[S_CROSS]`.
///
/// A tile of up to [`TILE`] rows is held transposed (coordinate-major: `at[l·TILE + r]` is
/// coordinate l of the tile's row r), so every inner loop runs over the tile's rows.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn cd_sweep<const FMA: bool>(
    a: &mut [f64],
    num: &[f64],
    k: usize,
    gp: &[f64],
    l1: f64,
    order: &[usize],
    inner: usize,
    part: &mut [f64],
) {
    let rows = a.len() / k;
    // 1 / G_tt, or 0 where G_tt = 0 (the coordinate is then left as it is).
    let inv: Vec<f64> = (0..k)
        .map(|t| {
            let h = gp[t * k + t];
            if h == 0.0 {
                0.0
            } else {
                1.0 / h
            }
        })
        .collect();
    let mut t = Tile {
        at: vec![0.0; k * TILE],
        nt: vec![0.0; k * TILE],
        viol: [0.0; TILE],
        cross: 0.0,
    };
    for r0 in (0..rows).step_by(TILE) {
        let nr = TILE.min(rows - r0);
        let (ab, nb) = (&mut a[r0 * k..(r0 + nr) * k], &num[r0 * k..(r0 + nr) * k]);
        // A full tile has a trip count known at compile time (the inner loops unroll).
        match (nr == TILE, inner > 1) {
            (true, false) => t.sweep::<FMA, true, false>(ab, nb, k, gp, &inv, l1, order, 1, TILE),
            (false, false) => t.sweep::<FMA, false, false>(ab, nb, k, gp, &inv, l1, order, 1, nr),
            (true, true) => t.sweep::<FMA, true, true>(ab, nb, k, gp, &inv, l1, order, inner, TILE),
            (false, true) => t.sweep::<FMA, false, true>(ab, nb, k, gp, &inv, l1, order, inner, nr),
        }
    }
    part[S_EXTRA] += t.viol.iter().sum::<f64>();
    part[S_CROSS] += t.cross;
}

/// The state of a sweep over tiles: the tile transposed (`at[l·TILE + r]` is coordinate l of
/// the tile's row r), its numerators likewise, and the sums over the rows
/// swept so far.
struct Tile {
    at: Vec<f64>,
    nt: Vec<f64>,
    viol: [f64; TILE],
    cross: f64,
}

impl Tile {
    /// Sweeps the `nr` rows of `a` (with their numerators `num`); `FULL` when nr = [`TILE`].
    /// `inv` holds 1 / G_tt (0 where G_tt = 0).
    ///
    /// Each coordinate's gradient is computed afresh from the current row, as scikit-learn
    /// does, `g_it = Σ_s G_ts·a_is − (num_it − l1)`: k multiply-adds per row and coordinate
    /// reading the tile from L1, with nothing stored but the new coordinate.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    fn sweep<const FMA: bool, const FULL: bool, const REPEAT: bool>(
        &mut self,
        a: &mut [f64],
        num: &[f64],
        k: usize,
        gp: &[f64],
        inv: &[f64],
        l1: f64,
        order: &[usize],
        inner: usize,
        nr: usize,
    ) {
        let nr = if FULL { TILE } else { nr };
        // Slices, not the Vecs: their pointers then stay in registers across the stores.
        let (at, nt) = (&mut self.at[..], &mut self.nt[..]);
        for (r, (ar, nrow)) in a
            .chunks_exact(k)
            .zip(num.chunks_exact(k))
            .enumerate()
            .take(nr)
        {
            for (l, (&va, &vn)) in ar.iter().zip(nrow).enumerate() {
                at[l * TILE + r] = va;
                nt[l * TILE + r] = vn;
            }
        }
        // Rows past `nr` in a partial tile: zeros, so the loops below always run over the
        // whole tile (a zero row stays zero and adds nothing to the sums).
        if !FULL {
            for l in 0..k {
                at[l * TILE + nr..(l + 1) * TILE].fill(0.0);
                nt[l * TILE + nr..(l + 1) * TILE].fill(0.0);
            }
        }
        let viol = &mut self.viol;
        // With REPEAT, up to `inner` sweeps over the tile (Gillis and Glineur's accelerated
        // HALS): the numerators and the Gram matrix stay, so a repeated sweep costs no pass
        // over X. The sweeps stop early once one moves the tile by less than
        // INNER_DELTA times what the first moved it (squared Frobenius norms of the changes).
        // The projected gradient is the first sweep's, as without repeats.
        let mut first = 0.0;
        for sweep in 0..if REPEAT { inner } else { 1 } {
            let mut moved = [0.0; TILE];
            for &t in order {
                let (gt, it) = (&gp[t * k..(t + 1) * k], inv[t]);
                // The gradients of coordinate t for the whole tile: one chain of k multiply-adds
                // per row, [`TILE`] independent chains vectorized across the rows (the compiler
                // keeps the tile's gradients in vector registers).
                let mut g = [0.0; TILE];
                for (gv, &nv) in g.iter_mut().zip(&nt[t * TILE..][..TILE]) {
                    *gv = l1 - nv;
                }
                for (s, &coef) in gt.iter().enumerate() {
                    for (gv, &av) in g.iter_mut().zip(&at[s * TILE..][..TILE]) {
                        *gv = madd::<FMA>(coef, av, *gv);
                    }
                }
                let col = &mut at[t * TILE..][..TILE];
                if REPEAT && sweep > 0 {
                    for ((mv, gv), av) in moved.iter_mut().zip(&g).zip(col) {
                        let old = *av;
                        let new = if it == 0.0 {
                            old
                        } else {
                            (old - gv * it).max(0.0)
                        };
                        *mv += (new - old) * (new - old);
                        *av = new;
                    }
                    continue;
                }
                for (((v, mv), gv), av) in viol.iter_mut().zip(&mut moved).zip(&g).zip(col) {
                    let old = *av;
                    let pg = if old == 0.0 { gv.min(0.0) } else { *gv };
                    *v += pg.abs();
                    // it = 0 (G_tt = 0): the coordinate stays.
                    let new = if it == 0.0 {
                        old
                    } else {
                        (old - gv * it).max(0.0)
                    };
                    if REPEAT {
                        *mv += (new - old) * (new - old);
                    }
                    *av = new;
                }
            }
            if REPEAT {
                let m: f64 = moved.iter().sum();
                if sweep == 0 {
                    first = m;
                }
                if m <= INNER_DELTA * INNER_DELTA * first || m == 0.0 {
                    break;
                }
            }
        }
        // Σ ⟨a_i(new), num_i⟩ over the tile, lane by lane, then the rows back in place.
        let mut cross = [0.0; TILE];
        for (al, nl) in at.chunks_exact(TILE).zip(nt.chunks_exact(TILE)) {
            for ((c, &x), &y) in cross[..nr].iter_mut().zip(&al[..nr]).zip(&nl[..nr]) {
                *c = madd::<FMA>(x, y, *c);
            }
        }
        self.cross += cross.iter().sum::<f64>();
        for (r, ar) in a.chunks_exact_mut(k).enumerate().take(nr) {
            for (l, v) in ar.iter_mut().enumerate() {
                *v = at[l * TILE + r];
            }
        }
    }
}

/// The W update of a block of rows: X·Hᵀ for the block, the sweep, the new rows' statistics.
#[multiversion(targets(
    "x86_64+avx512f+avx512vl+avx2+avx+fma",
    "x86_64+avx2+avx+fma",
    "x86_64+avx",
    "aarch64+neon"
))]
#[allow(clippy::too_many_arguments)]
fn cd_rows_block<'x>(
    x: Option<CsrRef<'x>>,
    row0: usize,
    b: &[f64],
    num: Option<&[f64]>,
    k: usize,
    gp: &[f64],
    l1: f64,
    order: &[usize],
    inner: usize,
    out: &mut [f64],
    part: &mut [f64],
) {
    let mut buf;
    let num = match (x, num) {
        (_, Some(num)) => num,
        (Some(x), None) => {
            buf = vec![0.0; out.len()];
            csr_dense_block(x, row0, b, k, &mut buf);
            &buf[..]
        }
        (None, None) => unreachable!("a numerator or X"),
    };
    if target_cfg_f!(target_feature = "fma") {
        cd_sweep::<true>(out, num, k, gp, l1, order, inner, part);
        add_block_stats::<true>(out, k, part, true);
    } else {
        cd_sweep::<false>(out, num, k, gp, l1, order, inner, part);
        add_block_stats::<false>(out, k, part, true);
    }
}

/// One coordinate-descent update of A (rows × k, row-major) for ½‖X − A·Bᵀ‖²_F + penalties
/// with B fixed, where the numerator is X·B computed from the rows of `x` (A = W, B = Hᵀ)
/// or given as `num` (A = Hᵀ, num = Xᵀ·W). `g` is BᵀB (k × k). Returns Σ |projected
/// gradient| in [`PassStats::extra`], Σ_i ⟨a_i, num_i⟩ for the new A in
/// [`PassStats::cross`], and the new A's statistics with its Gram matrix.
///
/// # Panics
/// If the shapes do not agree.
#[track_caller]
#[allow(clippy::too_many_arguments)]
pub fn cd_update(
    a: &mut [f64],
    x: Option<CsrRef<'_>>,
    b: &[f64],
    num: Option<&[f64]>,
    k: usize,
    g: &[f64],
    l1: f64,
    l2: f64,
    order: &[usize],
    inner: usize,
) -> PassStats {
    assert!(
        k >= 1 && a.len().is_multiple_of(k),
        "cd_update: A must be rows × k"
    );
    let rows = a.len() / k;
    assert_eq!(g.len(), k * k, "cd_update: G must be k×k");
    assert_eq!(
        order.len(),
        k,
        "cd_update: the order must list k coordinates"
    );
    if let Some(x) = x {
        assert_eq!(x.nrows, rows, "cd_update: X must have A's rows");
        assert_eq!(b.len(), x.ncols * k, "cd_update: B must be X's columns × k");
    }
    if let Some(num) = num {
        assert_eq!(num.len(), a.len(), "cd_update: num must have A's shape");
    }
    let gp = with_ridge(g, k, l2);
    let stride = SCALARS + k + k * k;
    let total = blocks(rows, k, stride, a, |row0, ob, pb| {
        let nb = num.map(|n| &n[row0 * k..row0 * k + ob.len()]);
        cd_rows_block(x, row0, b, nb, k, &gp, l1, order, inner, ob, pb)
    });
    split_stats(&total, k, true)
}

/// The coordinate-descent solver's state.
pub(crate) struct Hals<'a> {
    pb: Problem<'a>,
    w: Vec<f64>,
    ht: Vec<f64>,
    /// Xᵀ·W (m × k) and the other part buffers of its scatter.
    hnum: Vec<f64>,
    hparts: Vec<f64>,
    /// Statistics (with Gram matrices) of the current W and H.
    ws: FactorStats,
    hs: FactorStats,
    /// The coordinate order; reshuffled for every update when `rng` is set.
    order: Vec<usize>,
    rng: Option<ChaCha8Rng>,
    /// X·Hᵀ's own rows when the numerator is not fused into the W pass (the distributed fit).
    wnum: Vec<f64>,
    /// Stamps of the current W and H ([`Own`]).
    w_stamp: u64,
    h_stamp: u64,
    /// The most sweeps per update of W or H (1: scikit-learn's HALS).
    inner: usize,
}

impl<'a> Hals<'a> {
    /// The solver at W0 (n × k) and Hᵀ0 (m × k), row-major; `shuffle` with `seed` draws a
    /// coordinate order for every update; up to `inner_sweeps` sweeps per update.
    pub(crate) fn new(
        pb: Problem<'a>,
        w: Vec<f64>,
        ht: Vec<f64>,
        shuffle: bool,
        inner_sweeps: usize,
        seed: u64,
    ) -> Self {
        let k = pb.k;
        let ws = pb.stats(&w, true);
        let hs = pb.stats(&ht, true);
        Hals {
            inner: inner_sweeps,
            wnum: Vec::new(),
            w_stamp: fresh_stamp(),
            h_stamp: fresh_stamp(),
            hnum: Vec::new(),
            hparts: Vec::new(),
            ws,
            hs,
            order: (0..k).collect(),
            rng: shuffle.then(|| {
                let mut r = ChaCha8Rng::seed_from_u64(seed);
                r.set_stream(2);
                r
            }),
            pb,
            w,
            ht,
        }
    }

    fn next_order(&mut self) {
        if let Some(rng) = &mut self.rng {
            self.order.sort_unstable();
            self.order.shuffle(rng);
        }
    }

    /// The objective of the current factors from the cross term ⟨W, X·Hᵀ⟩ = ⟨H, WᵀX⟩.
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

impl Solver for Hals<'_> {
    fn stop_rule(&self) -> StopRule {
        StopRule::ProjectedGradient
    }

    fn update_w(&mut self, _t: usize, _tentative: bool) -> Half {
        self.next_order();
        let pb = self.pb;
        let (k, reg) = (pb.k, pb.reg);
        let g = &self.hs.gram;
        let (l1, l2) = (reg.l1_w, reg.l2_w);
        // Whole rows of X here (always locally; a grid of one column): the numerator X·Hᵀ is
        // computed block by block inside the update; otherwise its own rows come from the comm.
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
        let inner = self.inner;
        let mut st = cd_update(&mut self.w, x, b, num, k, g, l1, l2, &self.order, inner);
        pb.sum_pass(&mut st);
        self.ws = st.new;
        self.w_stamp = fresh_stamp();
        Half {
            violation: st.extra,
            ..self.objective(st.cross)
        }
    }

    fn update_h(&mut self, _t: usize) -> Half {
        self.next_order();
        let pb = self.pb;
        let (k, reg) = (pb.k, pb.reg);
        self.hnum.resize(pb.m() * k, 0.0);
        let w = Own {
            rows: &self.w,
            stamp: self.w_stamp,
        };
        pb.xt_times(w, &mut self.hnum, &mut self.hparts);
        let g = &self.ws.gram;
        let (l1, l2) = (reg.l1_h, reg.l2_h);
        let mut st = cd_update(
            &mut self.ht,
            None,
            &[],
            Some(&self.hnum),
            k,
            g,
            l1,
            l2,
            &self.order,
            self.inner,
        );
        pb.sum_pass(&mut st);
        self.hs = st.new;
        self.h_stamp = fresh_stamp();
        Half {
            violation: st.extra,
            ..self.objective(st.cross)
        }
    }

    fn into_factors(self: Box<Self>) -> (Vec<f64>, Vec<f64>) {
        (self.w, self.ht)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::factor_stats;
    use crate::kernels::testutil::*;

    /// scikit-learn's `_update_cdnmf_fast` written out directly (dot products recomputed for
    /// every coordinate, rows outer in sklearn's loop order t, i).
    fn reference(a: &mut [f64], num: &[f64], k: usize, g: &[f64], l1: f64, l2: f64) -> f64 {
        let rows = a.len() / k;
        let mut viol = 0.0;
        for t in 0..k {
            for i in 0..rows {
                let mut grad = -(num[i * k + t] - l1);
                for r in 0..k {
                    let gtr = g[t * k + r] + if r == t { l2 } else { 0.0 };
                    grad += gtr * a[i * k + r];
                }
                let pg = if a[i * k + t] == 0.0 {
                    grad.min(0.0)
                } else {
                    grad
                };
                viol += pg.abs();
                let hess = g[t * k + t] + l2;
                if hess != 0.0 {
                    a[i * k + t] = (a[i * k + t] - grad / hess).max(0.0);
                }
            }
        }
        viol
    }

    #[test]
    fn the_tiled_sweep_equals_the_reference_loop() {
        for (rows, k) in [(1, 3), (13, 5), (37, 8), (130, 20), (9, 7)] {
            let mut a = factor(rows, k, 3);
            // some exact zeros, so the projected gradient's both branches run
            for v in a.iter_mut().step_by(3) {
                *v = 0.0;
            }
            let num = factor(rows, k, 4);
            let b = factor(11, k, 5);
            let g = factor_stats(&b, k, true).gram;
            for (l1, l2) in [(0.0, 0.0), (0.3, 0.7)] {
                let mut want = a.clone();
                let v = reference(&mut want, &num, k, &g, l1, l2);
                let mut got = a.clone();
                let order: Vec<usize> = (0..k).collect();
                let st = cd_update(&mut got, None, &[], Some(&num), k, &g, l1, l2, &order, 1);
                for (p, q) in got.iter().zip(&want) {
                    assert!((p - q).abs() <= 1e-12 * q.abs().max(1.0), "{p} vs {q}");
                }
                assert!(
                    (st.extra - v).abs() <= 1e-10 * v.max(1.0),
                    "{} vs {v}",
                    st.extra
                );
                let cross: f64 = got.iter().zip(&num).map(|(p, q)| p * q).sum();
                assert!((st.cross - cross).abs() <= 1e-10 * cross.abs().max(1.0));
                let want_gram = factor_stats(&got, k, true).gram;
                for (p, q) in st.new.gram.iter().zip(&want_gram) {
                    assert!((p - q).abs() <= 1e-10 * q.abs().max(1.0));
                }
            }
        }
    }

    /// Repeated sweeps written out: every tile of [`TILE`] rows swept with [`reference`]
    /// until a sweep moves it by at most δ times its first sweep, or `inner` sweeps. Returns
    /// the first sweeps' Σ |projected gradient|.
    fn reference_repeated(
        a: &mut [f64],
        num: &[f64],
        k: usize,
        g: &[f64],
        (l1, l2): (f64, f64),
        inner: usize,
    ) -> f64 {
        let mut viol = 0.0;
        for (at, nt) in a.chunks_mut(TILE * k).zip(num.chunks(TILE * k)) {
            let mut first = 0.0;
            for s in 0..inner {
                let before = at.to_vec();
                let v = reference(at, nt, k, g, l1, l2);
                let moved: f64 = at.iter().zip(&before).map(|(p, q)| (p - q).powi(2)).sum();
                if s == 0 {
                    viol += v;
                    first = moved;
                }
                if moved <= INNER_DELTA * INNER_DELTA * first || moved == 0.0 {
                    break;
                }
            }
        }
        viol
    }

    #[test]
    fn repeated_sweeps_equal_the_reference_and_stop_early() {
        // 150 rows: two full tiles and a partial one.
        let (rows, k) = (150, 8);
        let mut a0 = factor(rows, k, 13);
        for v in a0.iter_mut().step_by(4) {
            *v = 0.0;
        }
        let num = factor(rows, k, 14);
        let g = factor_stats(&factor(30, k, 15), k, true).gram;
        let order: Vec<usize> = (0..k).collect();
        let mut runs = Vec::new();
        for inner in [1, 2, 5, MAX_SWEEPS_IN_TEST] {
            for pen in [(0.0, 0.0), (0.2, 0.5)] {
                let mut want = a0.clone();
                let v = reference_repeated(&mut want, &num, k, &g, pen, inner);
                let mut got = a0.clone();
                let st = cd_update(
                    &mut got,
                    None,
                    &[],
                    Some(&num),
                    k,
                    &g,
                    pen.0,
                    pen.1,
                    &order,
                    inner,
                );
                for (p, q) in got.iter().zip(&want) {
                    assert!(
                        (p - q).abs() <= 1e-12 * q.abs().max(1.0),
                        "inner {inner}: {p} vs {q}"
                    );
                }
                assert!((st.extra - v).abs() <= 1e-10 * v.max(1.0));
                let cross: f64 = got.iter().zip(&num).map(|(p, q)| p * q).sum();
                assert!((st.cross - cross).abs() <= 1e-10 * cross.abs().max(1.0));
                if pen == (0.0, 0.0) {
                    runs.push(got);
                }
            }
        }
        // More sweeps move further; the early stop ends them long before 100.
        assert_ne!(runs[0], runs[1]);
        let sweep = |inner: usize| {
            let mut a = a0.clone();
            cd_update(
                &mut a,
                None,
                &[],
                Some(&num),
                k,
                &g,
                0.0,
                0.0,
                &order,
                inner,
            );
            a
        };
        let (capped, more) = (sweep(50), sweep(MAX_SWEEPS_IN_TEST));
        assert_eq!(capped, more, "the δ rule, not the cap, ends the repeats");
    }

    const MAX_SWEEPS_IN_TEST: usize = 100;

    #[test]
    fn the_numerator_from_x_equals_the_given_one() {
        let (n, m, k) = (300, 40, 12);
        let x = sample(n, m, 7);
        let (w, ht) = (factor(n, k, 8), factor(m, k, 9));
        let g = factor_stats(&ht, k, true).gram;
        let mut num = vec![0.0; n * k];
        crate::kernels::csr_mul_dense(x.view(), &ht, k, &mut num);
        let order: Vec<usize> = (0..k).rev().collect();
        let mut a = w.clone();
        let s1 = cd_update(
            &mut a,
            Some(x.view()),
            &ht,
            None,
            k,
            &g,
            0.1,
            0.2,
            &order,
            1,
        );
        let mut b = w.clone();
        let s2 = cd_update(&mut b, None, &[], Some(&num), k, &g, 0.1, 0.2, &order, 1);
        assert_eq!(a, b);
        assert_eq!(s1, s2);
    }

    #[test]
    fn a_zero_hessian_leaves_the_coordinate_but_counts_its_gradient() {
        let k = 2;
        let mut a = vec![1.0, 2.0];
        let g = vec![0.0, 0.0, 0.0, 4.0];
        let st = cd_update(
            &mut a,
            None,
            &[],
            Some(&[3.0, 4.0]),
            k,
            &g,
            0.0,
            0.0,
            &[0, 1],
            1,
        );
        assert_eq!(a[0], 1.0);
        assert_eq!(a[1], 1.0); // 2 − (2·4 − 4)/4
        assert_eq!(st.extra, 3.0 + 4.0);
    }
}

#[cfg(test)]
mod speed {
    use super::*;
    use crate::kernels::factor_stats;
    use crate::kernels::testutil::factor;

    #[test]
    #[ignore]
    fn cd_speed() {
        let (rows, k) = (63_000, 20);
        let mut a = factor(rows, k, 3);
        for (i, v) in a.iter_mut().enumerate() {
            if i % 3 != 0 {
                *v = 0.0;
            }
        }
        let num = factor(rows, k, 4);
        let b = factor(500, k, 5);
        let g = factor_stats(&b, k, true).gram;
        let order: Vec<usize> = (0..k).collect();
        let mut t = Vec::new();
        for _ in 0..15 {
            let mut x = a.clone();
            let s = std::time::Instant::now();
            let st = cd_update(&mut x, None, &[], Some(&num), k, &g, 0.0, 0.0, &order, 1);
            t.push(s.elapsed().as_secs_f64());
            std::hint::black_box(st);
        }
        t.sort_by(f64::total_cmp);
        eprintln!(
            "cd_update {rows}x{k}: median {:.2} ms",
            1e3 * t[t.len() / 2]
        );
    }
}
