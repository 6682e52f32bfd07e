//! Non-negative least squares for many right-hand sides that share one Gram matrix, by block
//! principal pivoting (Kim & Park 2011), with the right-hand sides grouped by passive set so
//! that one Cholesky factorization serves every row of a group (Van Benthem & Keenan 2004).
//!
//! # The problem
//! For each row b of B (rows × k) and a symmetric positive semi-definite G (k × k):
//!
//! ```text
//! min_{x ≥ 0} ½·xᵀGx − bᵀx          (for ALS: G = HHᵀ + l2·I, b = (X·Hᵀ)_i − l1)
//! ```
//!
//! whose solution is characterized by the KKT conditions x ≥ 0, y = Gx − b ≥ 0, x_l·y_l = 0.
//!
//! # Block principal pivoting
//! A partition of the variables into a passive set F and its complement defines
//! x_F = G_FF⁻¹·b_F, x_rest = 0, y_F = 0, y_rest = G_rest,F·x_F − b_rest. The variables that
//! break the KKT conditions, V = {l ∈ F : x_l < 0} ∪ {l ∉ F : y_l < 0}, all change sides at
//! once while |V| keeps decreasing, with up to three exchanges of all of V allowed when it
//! does not; after that only the largest index of V changes sides (the backup rule, which
//! terminates). A row starts from the passive set of its warm start (its positive entries),
//! which after the first iterations of ALS is usually the answer, so one factorization and
//! one check per row suffice.
//!
//! Rows whose G_ll = 0 variables are held at 0 (their objective does not depend on them).
//! A variable counts as infeasible only when its y is below `−1e-12·(1 + ‖b‖_∞)`, so that
//! rounding at a degenerate solution (x_l = y_l = 0) cannot make the pivoting cycle; and a row
//! that has not settled after `5·k + 10` exchanges (not seen in practice) keeps its last x
//! with negative entries set to 0 and is counted in [`NnlsStats::unsettled`].
//!
//! # Determinism
//! Each row's result depends only on its own b, its warm start and G (the factorization of
//! G_FF is a function of F), so grouping and the thread count do not change any bit.
//!
//! # References
//! - J. Kim, H. Park, *Fast nonnegative matrix factorization: an active-set-like method and
//!   comparisons*, SIAM J. Sci. Comput. 33(6), 2011.
//! - M. H. Van Benthem, M. R. Keenan, *Fast algorithm for the solution of large-scale
//!   non-negativity-constrained least squares problems*, J. Chemometrics 18, 2004.

/// What a batch of solves did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NnlsStats {
    /// Cholesky factorizations made (one per group of rows with the same passive set, per
    /// round of exchanges).
    pub factorizations: usize,
    /// Rows solved.
    pub rows: usize,
    /// Rows that hit the exchange limit (see the module docs).
    pub unsettled: usize,
}

impl NnlsStats {
    /// Adds another batch's counts.
    pub fn add(&mut self, o: NnlsStats) {
        self.factorizations += o.factorizations;
        self.rows += o.rows;
        self.unsettled += o.unsettled;
    }
}

/// A passive set as a bit mask over the k variables.
type Mask = Vec<u64>;

fn mask_words(k: usize) -> usize {
    k.div_ceil(64)
}

fn has(mask: &[u64], l: usize) -> bool {
    mask[l / 64] >> (l % 64) & 1 == 1
}

fn flip(mask: &mut [u64], l: usize) {
    mask[l / 64] ^= 1 << (l % 64);
}

/// In-place Cholesky factorization L·Lᵀ of the symmetric positive definite `a` (p × p,
/// row-major; the lower triangle is overwritten with L). False when a pivot is not positive.
fn cholesky(a: &mut [f64], p: usize) -> bool {
    for j in 0..p {
        let mut d = a[j * p + j];
        for q in 0..j {
            d -= a[j * p + q] * a[j * p + q];
        }
        if d <= 0.0 || !d.is_finite() {
            return false;
        }
        let d = d.sqrt();
        a[j * p + j] = d;
        for i in j + 1..p {
            let mut s = a[i * p + j];
            for q in 0..j {
                s -= a[i * p + q] * a[j * p + q];
            }
            a[i * p + j] = s / d;
        }
    }
    true
}

/// Solves L·Lᵀ·z = r in place (`l` from [`cholesky`]).
fn cholesky_solve(l: &[f64], p: usize, r: &mut [f64]) {
    for i in 0..p {
        let mut s = r[i];
        for q in 0..i {
            s -= l[i * p + q] * r[q];
        }
        r[i] = s / l[i * p + i];
    }
    for i in (0..p).rev() {
        let mut s = r[i];
        for q in i + 1..p {
            s -= l[q * p + i] * r[q];
        }
        r[i] = s / l[i * p + i];
    }
}

/// Factors G_FF (the rows and columns `f` of G), adding a growing ridge
/// δ = 1e-12·tr(G_FF)/|F|·100ʲ when rounding makes it not positive definite.
fn factor_sub(g: &[f64], k: usize, f: &[usize], out: &mut Vec<f64>) {
    let p = f.len();
    let trace: f64 = f.iter().map(|&l| g[l * k + l]).sum();
    let mut ridge = 0.0;
    for attempt in 0..12 {
        out.clear();
        for &a in f {
            for &b in f {
                out.push(g[a * k + b]);
            }
        }
        for d in 0..p {
            out[d * p + d] += ridge;
        }
        if cholesky(out, p) {
            return;
        }
        ridge = 1e-12 * trace.max(f64::MIN_POSITIVE) / p as f64 * 100f64.powi(attempt);
    }
    // Unreachable for a finite G with a positive diagonal; keep a usable identity.
    out.clear();
    out.resize(p * p, 0.0);
    for d in 0..p {
        out[d * p + d] = 1.0;
    }
}

/// Per-row pivoting state.
struct Row {
    passive: Mask,
    /// Smallest |V| seen so far, and the exchanges of all of V still allowed.
    ninf: usize,
    p: u8,
    exchanges: usize,
    done: bool,
}

/// Solves the NNLS problem of every row of `b` (rows × k, row-major) with the Gram matrix
/// `g` (k × k, symmetric positive semi-definite). On entry `x` (rows × k) is the warm start,
/// whose positive entries form each row's first passive set; on exit it is the solution.
/// Sequential over the rows given (callers run blocks of rows in parallel).
///
/// # Panics
/// If the shapes do not agree.
#[track_caller]
pub fn nnls_rows(g: &[f64], b: &[f64], x: &mut [f64], k: usize) -> NnlsStats {
    assert!(
        k >= 1 && b.len().is_multiple_of(k),
        "nnls_rows: B must be rows × k"
    );
    assert_eq!(x.len(), b.len(), "nnls_rows: X must have B's shape");
    assert_eq!(g.len(), k * k, "nnls_rows: G must be k×k");
    let rows = b.len() / k;
    let nw = mask_words(k);
    let dead: Vec<bool> = (0..k)
        .map(|l| g[l * k + l].is_nan() || g[l * k + l] <= 0.0)
        .collect();
    let limit = 5 * k + 10;
    let mut state: Vec<Row> = (0..rows)
        .map(|i| {
            let mut passive = vec![0u64; nw];
            for l in 0..k {
                if x[i * k + l] > 0.0 && !dead[l] {
                    flip(&mut passive, l);
                }
            }
            Row {
                passive,
                ninf: k + 1,
                p: 3,
                exchanges: 0,
                done: false,
            }
        })
        .collect();
    let tol: Vec<f64> = (0..rows)
        .map(|i| {
            let bi = &b[i * k..(i + 1) * k];
            1e-12 * (1.0 + bi.iter().fold(0.0f64, |a, v| a.max(v.abs())))
        })
        .collect();
    let mut stats = NnlsStats {
        rows,
        ..NnlsStats::default()
    };
    let mut order: Vec<usize> = Vec::with_capacity(rows);
    let (mut f, mut l_fac, mut rhs) = (Vec::new(), Vec::new(), Vec::new());
    let mut y = vec![0.0; k];
    loop {
        order.clear();
        order.extend((0..rows).filter(|&i| !state[i].done));
        if order.is_empty() {
            break;
        }
        order.sort_by(|&a, &c| state[a].passive.cmp(&state[c].passive));
        let mut s = 0;
        while s < order.len() {
            let key = state[order[s]].passive.clone();
            let mut e = s;
            while e < order.len() && state[order[e]].passive == key {
                e += 1;
            }
            f.clear();
            f.extend((0..k).filter(|&l| has(&key, l)));
            let p = f.len();
            if p > 0 {
                factor_sub(g, k, &f, &mut l_fac);
                stats.factorizations += 1;
            }
            for &i in &order[s..e] {
                let bi = &b[i * k..(i + 1) * k];
                rhs.clear();
                rhs.extend(f.iter().map(|&l| bi[l]));
                if p > 0 {
                    cholesky_solve(&l_fac, p, &mut rhs);
                }
                let xi = &mut x[i * k..(i + 1) * k];
                xi.fill(0.0);
                for (&l, &v) in f.iter().zip(&rhs) {
                    xi[l] = v;
                }
                // y = G·x − b on the variables outside F (0 inside).
                let mut infeasible = 0;
                let mut largest = None;
                for l in 0..k {
                    if dead[l] {
                        continue;
                    }
                    let bad = if has(&key, l) {
                        y[l] = 0.0;
                        xi[l] < 0.0
                    } else {
                        let gl = &g[l * k..(l + 1) * k];
                        let v: f64 = f.iter().zip(&rhs).map(|(&q, &xq)| gl[q] * xq).sum();
                        y[l] = v - bi[l];
                        y[l] < -tol[i]
                    };
                    if bad {
                        infeasible += 1;
                        largest = Some(l);
                    }
                }
                let st = &mut state[i];
                if infeasible == 0 {
                    st.done = true;
                    continue;
                }
                st.exchanges += 1;
                if st.exchanges > limit {
                    for v in xi.iter_mut() {
                        *v = v.max(0.0);
                    }
                    st.done = true;
                    stats.unsettled += 1;
                    continue;
                }
                let all = if infeasible < st.ninf {
                    st.ninf = infeasible;
                    st.p = 3;
                    true
                } else if st.p >= 1 {
                    st.p -= 1;
                    true
                } else {
                    false
                };
                if all {
                    for l in 0..k {
                        if dead[l] {
                            continue;
                        }
                        let bad = if has(&key, l) {
                            xi[l] < 0.0
                        } else {
                            y[l] < -tol[i]
                        };
                        if bad {
                            flip(&mut st.passive, l);
                        }
                    }
                } else if let Some(l) = largest {
                    flip(&mut st.passive, l);
                }
            }
            s = e;
        }
    }
    // Solutions are ≥ 0 by construction; make exact zeros out of −0.0.
    for v in x.iter_mut() {
        if *v <= 0.0 {
            *v = 0.0;
        }
    }
    stats
}

/// The unconstrained least-squares rows z_i = G⁻¹·b_i with negative entries set to 0 (the
/// projected variant of ALS). `x` receives the result.
///
/// # Panics
/// If the shapes do not agree.
#[track_caller]
pub fn projected_ls_rows(g: &[f64], b: &[f64], x: &mut [f64], k: usize) {
    assert!(
        k >= 1 && b.len().is_multiple_of(k),
        "projected_ls_rows: B must be rows × k"
    );
    assert_eq!(x.len(), b.len(), "projected_ls_rows: X must have B's shape");
    let all: Vec<usize> = (0..k).filter(|&l| g[l * k + l] > 0.0).collect();
    let mut l_fac = Vec::new();
    if !all.is_empty() {
        factor_sub(g, k, &all, &mut l_fac);
    }
    let mut rhs = Vec::with_capacity(k);
    for (bi, xi) in b.chunks_exact(k).zip(x.chunks_exact_mut(k)) {
        rhs.clear();
        rhs.extend(all.iter().map(|&l| bi[l]));
        if !all.is_empty() {
            cholesky_solve(&l_fac, all.len(), &mut rhs);
        }
        xi.fill(0.0);
        for (&l, &v) in all.iter().zip(&rhs) {
            xi[l] = v.max(0.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// G = AᵀA + small ridge and b = Aᵀc for a random p × k A.
    fn problem(k: usize, p: usize, seed: u64) -> (Vec<f64>, Vec<f64>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let a: Vec<f64> = (0..p * k).map(|_| rng.random::<f64>() - 0.3).collect();
        let c: Vec<f64> = (0..p).map(|_| 2.0 * rng.random::<f64>() - 1.0).collect();
        let mut g = vec![0.0; k * k];
        let mut b = vec![0.0; k];
        for r in 0..p {
            for i in 0..k {
                b[i] += a[r * k + i] * c[r];
                for j in 0..k {
                    g[i * k + j] += a[r * k + i] * a[r * k + j];
                }
            }
        }
        (g, b)
    }

    fn objective(g: &[f64], b: &[f64], x: &[f64], k: usize) -> f64 {
        let mut v = 0.0;
        for i in 0..k {
            for j in 0..k {
                v += 0.5 * x[i] * g[i * k + j] * x[j];
            }
            v -= b[i] * x[i];
        }
        v
    }

    /// The exact solution by enumerating every passive set (k ≤ 10): the feasible
    /// unconstrained solutions on each subset, the best objective.
    fn brute_force(g: &[f64], b: &[f64], k: usize) -> Vec<f64> {
        let mut best = (f64::INFINITY, vec![0.0; k]);
        for set in 0u32..(1 << k) {
            let f: Vec<usize> = (0..k).filter(|&l| set >> l & 1 == 1).collect();
            let mut x = vec![0.0; k];
            if !f.is_empty() {
                let mut l_fac = Vec::new();
                factor_sub(g, k, &f, &mut l_fac);
                let mut r: Vec<f64> = f.iter().map(|&l| b[l]).collect();
                cholesky_solve(&l_fac, f.len(), &mut r);
                if r.iter().any(|v| *v < 0.0) {
                    continue;
                }
                for (&l, &v) in f.iter().zip(&r) {
                    x[l] = v;
                }
            }
            let o = objective(g, b, &x, k);
            if o < best.0 {
                best = (o, x);
            }
        }
        best.1
    }

    /// x ≥ 0, y = Gx − b ≥ −tol, |x_l·y_l| ≤ tol (scaled by the problem).
    pub(crate) fn assert_kkt(g: &[f64], b: &[f64], x: &[f64], k: usize) {
        let scale = 1.0 + b.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        for l in 0..k {
            let y: f64 = (0..k).map(|q| g[l * k + q] * x[q]).sum::<f64>() - b[l];
            assert!(x[l] >= 0.0, "x_{l} = {} < 0", x[l]);
            assert!(y >= -1e-9 * scale, "y_{l} = {y} < 0 (x = {x:?})");
            assert!(
                (x[l] * y).abs() <= 1e-9 * scale * scale.max(x[l]),
                "x·y ≠ 0 at {l}"
            );
        }
    }

    #[test]
    fn solutions_meet_the_kkt_conditions_and_equal_brute_force() {
        for k in 1..=8 {
            for seed in 0..25 {
                let (g, b) = problem(k, k + 3, seed * 31 + k as u64);
                let mut x = vec![0.0; k];
                let st = nnls_rows(&g, &b, &mut x, k);
                assert_eq!(st.unsettled, 0);
                assert_kkt(&g, &b, &x, k);
                let want = brute_force(&g, &b, k);
                for (p, q) in x.iter().zip(&want) {
                    assert!(
                        (p - q).abs() <= 1e-8 * (1.0 + q.abs()),
                        "k {k} seed {seed}: {x:?} vs {want:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_warm_start_does_not_change_the_answer() {
        let k = 6;
        let (g, b) = problem(k, 9, 5);
        let mut cold = vec![0.0; k];
        nnls_rows(&g, &b, &mut cold, k);
        for start in [
            vec![1.0; k],
            vec![0.0, 1.0, 0.0, 1.0, 0.0, 1.0],
            cold.clone(),
        ] {
            let mut x = start.clone();
            nnls_rows(&g, &b, &mut x, k);
            for (p, q) in x.iter().zip(&cold) {
                assert!((p - q).abs() <= 1e-10 * (1.0 + q.abs()));
            }
        }
        // Started at the answer: one factorization, no exchange.
        let mut x = cold.clone();
        let st = nnls_rows(&g, &b, &mut x, k);
        assert!(st.factorizations <= 1);
    }

    #[test]
    fn rows_are_independent_and_grouping_changes_no_bit() {
        let k = 5;
        let rows = 40;
        let mut g = vec![0.0; k * k];
        let mut bs = Vec::new();
        let (g0, _) = problem(k, 8, 77);
        g.copy_from_slice(&g0);
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for _ in 0..rows * k {
            bs.push(rng.random::<f64>() - 0.4);
        }
        let mut all = vec![0.0; rows * k];
        nnls_rows(&g, &bs, &mut all, k);
        for i in 0..rows {
            let mut one = vec![0.0; k];
            nnls_rows(&g, &bs[i * k..(i + 1) * k], &mut one, k);
            assert_eq!(&all[i * k..(i + 1) * k], &one[..]);
        }
    }

    #[test]
    fn a_zero_variable_of_g_is_held_at_zero() {
        // Variable 1 does not enter the objective (zero row and column of G).
        let g = vec![2.0, 0.0, 0.0, 0.0];
        let b = vec![1.0, 5.0];
        let mut x = vec![0.0, 3.0];
        nnls_rows(&g, &b, &mut x, 2);
        assert!((x[0] - 0.5).abs() < 1e-15 && x[1] == 0.0, "{x:?}");
    }

    #[test]
    fn the_projected_variant_clips_the_unconstrained_solution() {
        let g = vec![2.0, 1.0, 1.0, 2.0];
        let b = vec![1.0, -4.0];
        let mut x = vec![0.0; 2];
        projected_ls_rows(&g, &b, &mut x, 2);
        // z = G⁻¹b = (2, −3) → (2, 0)
        assert!((x[0] - 2.0).abs() < 1e-12 && x[1] == 0.0, "{x:?}");
    }
}
