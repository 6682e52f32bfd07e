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

use multiversion::multiversion;

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

/// Words of a passive set held as a bit mask over the k variables.
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
/// row-major; the lower triangle is overwritten with L, the diagonal with 1/L_jj so that the
/// solves multiply instead of divide). False when a pivot is not positive.
///
/// Right-looking: once column j is known, the trailing lower triangle is updated by the
/// outer product of that column, independent multiply-adds rather than one long chain of
/// dependent ones (the factorizations are small, p ≤ k, and latency-bound otherwise).
fn cholesky(a: &mut [f64], p: usize) -> bool {
    for j in 0..p {
        let d = a[j * p + j];
        if d <= 0.0 || !d.is_finite() {
            return false;
        }
        let inv = 1.0 / d.sqrt();
        a[j * p + j] = inv;
        for i in j + 1..p {
            a[i * p + j] *= inv;
        }
        for i in j + 1..p {
            let lij = a[i * p + j];
            let (head, tail) = a.split_at_mut(i * p);
            let row_i = &mut tail[..=i];
            for c in j + 1..=i {
                row_i[c] -= lij * if c == i { lij } else { head[c * p + j] };
            }
        }
    }
    true
}

/// Solves L·Lᵀ·z = r in place (`l` from [`cholesky`], whose diagonal holds 1/L_jj), column
/// by column so that the updates of one step are independent.
fn cholesky_solve(l: &[f64], p: usize, r: &mut [f64]) {
    // L·u = r
    for q in 0..p {
        let u = r[q] * l[q * p + q];
        r[q] = u;
        for i in q + 1..p {
            r[i] -= l[i * p + q] * u;
        }
    }
    // Lᵀ·z = u
    for q in (0..p).rev() {
        let lq = &l[q * p..q * p + q + 1];
        let z = r[q] * lq[q];
        r[q] = z;
        for (ri, &lqi) in r[..q].iter_mut().zip(&lq[..q]) {
            *ri -= lqi * z;
        }
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

/// Unsettled rows per parallel task in a round (consecutive rows, so that the reads of B and
/// the writes of X stay local).
const CHUNK: usize = 256;

/// Per-row pivoting state: the smallest |V| seen, the exchanges of all of V still allowed,
/// and the exchanges made.
#[derive(Debug, Clone, Copy)]
struct Pivot {
    ninf: usize,
    p: u8,
    exchanges: usize,
}

/// Rows solved together in the lanes of one batch (see [`batch_solve`]).
const BATCH: usize = 64;

/// Runs of at least this many rows with the same passive set share one factorization of
/// G_FF; shorter runs go to the batched solver.
const SHARED_RUN: usize = 8;

/// Feasibility of one solved row: writes V (the variables that break the KKT conditions) to
/// `vi` and returns (|V|, the largest index of V).
#[inline(always)]
fn check_row(
    g: &[f64],
    k: usize,
    dead: &[bool],
    key: &[u64],
    xi: &[f64],
    bi: &[f64],
    tol: f64,
    vi: &mut [u64],
) -> (usize, usize) {
    vi.fill(0);
    let (mut count, mut largest) = (0, 0);
    for l in 0..k {
        if dead[l] {
            continue;
        }
        let bad = if has(key, l) {
            xi[l] < 0.0
        } else {
            // y_l = (G·x)_l − b_l on the variables outside F.
            let gl = &g[l * k..(l + 1) * k];
            let mut y = -bi[l];
            for (gv, xv) in gl.iter().zip(xi) {
                y += gv * xv;
            }
            y < -tol
        };
        if bad {
            flip(vi, l);
            count += 1;
            largest = l;
        }
    }
    (count, largest)
}

/// Solves, for up to [`BATCH`] rows at once (lane r is row `rows[r]`), the k × k systems
///
/// ```text
/// M_r·z_r = P_r·b_r,     M_r = P_r·G·P_r + (I − P_r),     P_r = diag(passive set of row r)
/// ```
///
/// whose solution is x_F = G_FF⁻¹·b_F and 0 outside F. Every lane runs the same branch-free
/// Cholesky factorization and solves (rows in the innermost loops, so they vectorize), each
/// on its own data: a row's result does not depend on its lane or on the other rows. `ok[r]`
/// is false for a lane whose M_r is not numerically positive definite (the caller solves that
/// row alone with a ridge, [`factor_sub`]); the other rows' x are written to `x_out`
/// (rows × k).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn batch_solve(
    g: &[f64],
    k: usize,
    passive: &[u64],
    rows: &[usize],
    b: &[f64],
    m: &mut Vec<f64>,
    z: &mut Vec<f64>,
    pm: &mut Vec<f64>,
    x_out: &mut [f64],
    ok: &mut [bool],
) {
    let nw = mask_words(k);
    let nr = rows.len();
    let lane = |a: usize, c: usize| (a * k + c) * BATCH;
    m.resize(k * k * BATCH, 0.0);
    z.resize(k * BATCH, 0.0);
    pm.resize(k * BATCH, 0.0);
    for (r, &i) in rows.iter().enumerate() {
        let key = &passive[i * nw..(i + 1) * nw];
        for l in 0..k {
            let on = has(key, l);
            pm[l * BATCH + r] = if on { 1.0 } else { 0.0 };
            z[l * BATCH + r] = if on { b[i * k + l] } else { 0.0 };
        }
    }
    // M (lower triangle).
    for a in 0..k {
        for c in 0..=a {
            let gac = g[a * k + c];
            let (pa, pc) = (&pm[a * BATCH..][..nr], &pm[c * BATCH..][..nr]);
            let mac = &mut m[lane(a, c)..][..nr];
            if a == c {
                for (v, &x) in mac.iter_mut().zip(pa) {
                    *v = gac * x + (1.0 - x);
                }
            } else {
                for ((v, &x), &y) in mac.iter_mut().zip(pa).zip(pc) {
                    *v = gac * (x * y);
                }
            }
        }
    }
    ok[..nr].fill(true);
    // Right-looking Cholesky, the diagonal replaced by 1/L_jj.
    for j in 0..k {
        for (v, okr) in m[lane(j, j)..][..nr].iter_mut().zip(ok.iter_mut()) {
            if !(*v > 0.0 && v.is_finite()) {
                *okr = false;
                *v = 1.0;
            }
            *v = 1.0 / v.sqrt();
        }
        for i in j + 1..k {
            let (head, tail) = m.split_at_mut(lane(i, j));
            let inv = &head[lane(j, j)..][..nr];
            for (v, s) in tail[..nr].iter_mut().zip(inv) {
                *v *= s;
            }
        }
        for i in j + 1..k {
            // m[i][c] −= L_ij·L_cj for c = j+1..=i; everything read lies before (i, j+1).
            let (head, tail) = m.split_at_mut(lane(i, j + 1));
            let lij = &head[lane(i, j)..][..nr];
            for c in j + 1..=i {
                let lcj = &head[lane(c, j)..][..nr];
                let dst = &mut tail[lane(i, c) - lane(i, j + 1)..][..nr];
                for ((d, &x), &y) in dst.iter_mut().zip(lij).zip(lcj) {
                    *d -= x * y;
                }
            }
        }
    }
    // L·u = P·b, then Lᵀ·z = u.
    for q in 0..k {
        let (head, tail) = z.split_at_mut((q + 1) * BATCH);
        let zq = &mut head[q * BATCH..][..nr];
        for (v, s) in zq.iter_mut().zip(&m[lane(q, q)..][..nr]) {
            *v *= s;
        }
        for i in q + 1..k {
            let zi = &mut tail[(i - q - 1) * BATCH..][..nr];
            for ((v, &l), &u) in zi.iter_mut().zip(&m[lane(i, q)..][..nr]).zip(&*zq) {
                *v -= l * u;
            }
        }
    }
    for q in (0..k).rev() {
        let (head, tail) = z.split_at_mut(q * BATCH);
        let zq = &mut tail[..nr];
        for (v, s) in zq.iter_mut().zip(&m[lane(q, q)..][..nr]) {
            *v *= s;
        }
        for i in 0..q {
            let zi = &mut head[i * BATCH..][..nr];
            for ((v, &l), &u) in zi.iter_mut().zip(&m[lane(q, i)..][..nr]).zip(&*zq) {
                *v -= l * u;
            }
        }
    }
    for r in 0..nr {
        let xi = &mut x_out[r * k..(r + 1) * k];
        for (l, v) in xi.iter_mut().enumerate() {
            *v = z[l * BATCH + r] * pm[l * BATCH + r];
        }
    }
}

/// Reusable buffers of one task.
#[derive(Default)]
struct Work {
    f: Vec<usize>,
    l_fac: Vec<f64>,
    rhs: Vec<f64>,
    m: Vec<f64>,
    z: Vec<f64>,
    pm: Vec<f64>,
    xb: Vec<f64>,
    ok: Vec<bool>,
}

impl Work {
    /// x of row `i` alone: G_FF factored (with a ridge if needed) for its passive set `key`.
    fn solve_alone(
        &mut self,
        g: &[f64],
        k: usize,
        key: &[u64],
        bi: &[f64],
        xi: &mut [f64],
    ) -> usize {
        self.f.clear();
        self.f.extend((0..k).filter(|&l| has(key, l)));
        xi.fill(0.0);
        if self.f.is_empty() {
            return 0;
        }
        factor_sub(g, k, &self.f, &mut self.l_fac);
        self.solve_factored(k, bi, xi);
        1
    }

    /// x of a row whose passive set `self.f` is factored in `self.l_fac`.
    fn solve_factored(&mut self, k: usize, bi: &[f64], xi: &mut [f64]) {
        let p = self.f.len();
        self.rhs.clear();
        self.rhs.extend(self.f.iter().map(|&l| bi[l]));
        if p > 0 {
            cholesky_solve(&self.l_fac, p, &mut self.rhs);
        }
        debug_assert_eq!(xi.len(), k);
        xi.fill(0.0);
        for (&l, &v) in self.f.iter().zip(&self.rhs) {
            xi[l] = v;
        }
    }
}

/// Solves the rows waiting in `pending` (positions in the chunk; `pending_rows` their rows)
/// as one batch, those whose lane failed alone; returns the rows solved.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn flush(
    g: &[f64],
    k: usize,
    passive: &[u64],
    b: &[f64],
    pending: &mut Vec<usize>,
    pending_rows: &mut Vec<usize>,
    w: &mut Work,
    x_out: &mut [f64],
) -> usize {
    if pending.is_empty() {
        return 0;
    }
    let nw = mask_words(k);
    w.xb.resize(BATCH * k, 0.0);
    let (mut m, mut z, mut pm, mut xb) = (
        std::mem::take(&mut w.m),
        std::mem::take(&mut w.z),
        std::mem::take(&mut w.pm),
        std::mem::take(&mut w.xb),
    );
    let mut ok = std::mem::take(&mut w.ok);
    ok.resize(BATCH, true);
    batch_solve(
        g,
        k,
        passive,
        pending_rows,
        b,
        &mut m,
        &mut z,
        &mut pm,
        &mut xb,
        &mut ok,
    );
    for (r, (&q, &i)) in pending.iter().zip(pending_rows.iter()).enumerate() {
        let xi = &mut x_out[q * k..(q + 1) * k];
        if ok[r] {
            xi.copy_from_slice(&xb[r * k..(r + 1) * k]);
        } else {
            w.solve_alone(
                g,
                k,
                &passive[i * nw..(i + 1) * nw],
                &b[i * k..(i + 1) * k],
                xi,
            );
        }
    }
    (w.m, w.z, w.pm, w.xb, w.ok) = (m, z, pm, xb, ok);
    let n = pending.len();
    pending.clear();
    pending_rows.clear();
    n
}

/// Solves the rows `rows` of `b` (sorted by passive set; `passive` holds the sets), writing
/// each row's x to `x_out` (k per row), its infeasible set V to `v_out` (a mask), and |V| and
/// the largest index of V to `nv`. Runs of [`SHARED_RUN`] or more rows with one passive set
/// share one factorization of G_FF; the other rows are solved [`BATCH`] at a time by
/// [`batch_solve`]. Returns the number of factorizations (a batch counts one per row).
#[multiversion(targets(
    "x86_64+avx512f+avx512vl+avx2+avx+fma",
    "x86_64+avx2+avx+fma",
    "x86_64+avx",
    "aarch64+neon"
))]
#[allow(clippy::too_many_arguments)]
fn solve_chunk(
    g: &[f64],
    k: usize,
    dead: &[bool],
    passive: &[u64],
    rows: &[usize],
    b: &[f64],
    tol: &[f64],
    x_out: &mut [f64],
    v_out: &mut [u64],
    nv: &mut [(usize, usize)],
    shared_run: usize,
) -> usize {
    let nw = mask_words(k);
    let key = |i: usize| &passive[i * nw..(i + 1) * nw];
    let mut w = Work::default();
    let mut factorizations = 0;
    // Positions (in `rows`) waiting for a batch.
    let mut pending: Vec<usize> = Vec::with_capacity(BATCH);
    let mut pending_rows: Vec<usize> = Vec::with_capacity(BATCH);
    // The chunk's rows by passive set (ties in row order), so that equal sets form runs.
    let mut ord: Vec<usize> = (0..rows.len()).collect();
    ord.sort_by(|&a, &c| key(rows[a]).cmp(key(rows[c])).then(a.cmp(&c)));
    let mut s = 0;
    while s < ord.len() {
        let ks = key(rows[ord[s]]);
        let mut e = s + 1;
        while e < ord.len() && key(rows[ord[e]]) == ks {
            e += 1;
        }
        if e - s >= shared_run {
            w.f.clear();
            w.f.extend((0..k).filter(|&l| has(ks, l)));
            if !w.f.is_empty() {
                factor_sub(g, k, &w.f, &mut w.l_fac);
                factorizations += 1;
            }
            for &q in &ord[s..e] {
                let i = rows[q];
                w.solve_factored(k, &b[i * k..(i + 1) * k], &mut x_out[q * k..(q + 1) * k]);
            }
        } else {
            for &q in &ord[s..e] {
                pending.push(q);
                pending_rows.push(rows[q]);
                if pending.len() == BATCH {
                    factorizations += flush(
                        g,
                        k,
                        passive,
                        b,
                        &mut pending,
                        &mut pending_rows,
                        &mut w,
                        x_out,
                    );
                }
            }
        }
        s = e;
    }
    factorizations += flush(
        g,
        k,
        passive,
        b,
        &mut pending,
        &mut pending_rows,
        &mut w,
        x_out,
    );
    for (q, &i) in rows.iter().enumerate() {
        nv[q] = check_row(
            g,
            k,
            dead,
            key(i),
            &x_out[q * k..(q + 1) * k],
            &b[i * k..(i + 1) * k],
            tol[i],
            &mut v_out[q * nw..(q + 1) * nw],
        );
    }
    factorizations
}

/// Buffers of [`nnls_rows_in`], kept between calls so that repeated solves (one per ALS
/// update) allocate nothing: the passive sets, tolerances and pivoting states of the rows, and
/// each round's solutions and infeasible sets.
#[derive(Debug, Default)]
pub struct NnlsWork {
    passive: Vec<u64>,
    tol: Vec<f64>,
    piv: Vec<Pivot>,
    x_out: Vec<f64>,
    v_out: Vec<u64>,
    nv: Vec<(usize, usize)>,
    active: Vec<usize>,
    next: Vec<usize>,
}

/// Solves the NNLS problem of every row of `b` (rows × k, row-major) with the Gram matrix
/// `g` (k × k, symmetric positive semi-definite). On entry `x` (rows × k) is the warm start,
/// whose positive entries form each row's first passive set; on exit it is the solution.
///
/// Each round solves the rows still unsettled in parallel chunks of 256 consecutive rows
/// with rayon: a chunk sorts its rows by passive set, factors G_FF once for each run of
/// 8 or more equal sets and solves the other rows 64 at a time in the
/// lanes of one vectorized factorization; then every row applies the pivoting rule. Rows are independent, so the bits do not depend on the grouping
/// or on the thread count.
///
/// # Panics
/// If the shapes do not agree.
#[track_caller]
pub fn nnls_rows(g: &[f64], b: &[f64], x: &mut [f64], k: usize) -> NnlsStats {
    nnls_rows_in(g, b, x, k, &mut NnlsWork::default())
}

/// [`nnls_rows`] with its buffers in `work` (reused between calls).
///
/// # Panics
/// If the shapes do not agree.
#[track_caller]
pub fn nnls_rows_in(
    g: &[f64],
    b: &[f64],
    x: &mut [f64],
    k: usize,
    work: &mut NnlsWork,
) -> NnlsStats {
    nnls_rows_with(g, b, x, k, SHARED_RUN, work)
}

/// [`nnls_rows`] with runs of `shared_run` rows or more sharing a factorization.
fn nnls_rows_with(
    g: &[f64],
    b: &[f64],
    x: &mut [f64],
    k: usize,
    shared_run: usize,
    work: &mut NnlsWork,
) -> NnlsStats {
    use rayon::prelude::*;
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
    let NnlsWork {
        passive,
        tol,
        piv,
        x_out,
        v_out,
        nv,
        active,
        next,
    } = work;
    passive.clear();
    passive.resize(rows * nw, 0);
    for (i, pi) in passive.chunks_exact_mut(nw).enumerate() {
        for l in 0..k {
            if x[i * k + l] > 0.0 && !dead[l] {
                flip(pi, l);
            }
        }
    }
    tol.clear();
    tol.extend(
        b.chunks_exact(k)
            .map(|bi| 1e-12 * (1.0 + bi.iter().fold(0.0f64, |a, v| a.max(v.abs())))),
    );
    piv.clear();
    piv.resize(
        rows,
        Pivot {
            ninf: k + 1,
            p: 3,
            exchanges: 0,
        },
    );
    let mut stats = NnlsStats {
        rows,
        ..NnlsStats::default()
    };
    active.clear();
    active.extend(0..rows);
    while !active.is_empty() {
        let n_act = active.len();
        x_out.resize(n_act * k, 0.0);
        v_out.resize(n_act * nw, 0);
        nv.resize(n_act, (0, 0));
        let (passive_ref, tol_ref, dead_ref) = (&*passive, &*tol, &dead);
        stats.factorizations += active
            .par_chunks(CHUNK)
            .zip(x_out[..n_act * k].par_chunks_mut(CHUNK * k))
            .zip(v_out[..n_act * nw].par_chunks_mut(CHUNK * nw))
            .zip(nv[..n_act].par_chunks_mut(CHUNK))
            .map(|(((rs, xo), vo), nvo)| {
                solve_chunk(
                    g,
                    k,
                    dead_ref,
                    passive_ref,
                    rs,
                    b,
                    tol_ref,
                    xo,
                    vo,
                    nvo,
                    shared_run,
                )
            })
            .sum::<usize>();
        next.clear();
        for (q, &i) in active.iter().enumerate() {
            let xi = &mut x[i * k..(i + 1) * k];
            xi.copy_from_slice(&x_out[q * k..(q + 1) * k]);
            let (count, largest) = nv[q];
            if count == 0 {
                continue;
            }
            let st = &mut piv[i];
            st.exchanges += 1;
            if st.exchanges > limit {
                for v in xi.iter_mut() {
                    *v = v.max(0.0);
                }
                stats.unsettled += 1;
                continue;
            }
            let all = if count < st.ninf {
                st.ninf = count;
                st.p = 3;
                true
            } else if st.p >= 1 {
                st.p -= 1;
                true
            } else {
                false
            };
            let pi = &mut passive[i * nw..(i + 1) * nw];
            if all {
                for (w, v) in pi.iter_mut().zip(&v_out[q * nw..(q + 1) * nw]) {
                    *w ^= v;
                }
            } else {
                flip(pi, largest);
            }
            next.push(i);
        }
        std::mem::swap(active, next);
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

#[cfg(test)]
mod speed {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    #[test]
    #[ignore]
    fn nnls_speed() {
        let k = 20;
        let rows = 60_000;
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        // G = HHᵀ of a random sparse-ish H (k × 200)
        let m = 200;
        let h: Vec<f64> = (0..k * m)
            .map(|_| {
                if rng.random::<f64>() < 0.3 {
                    rng.random::<f64>()
                } else {
                    0.0
                }
            })
            .collect();
        let mut g = vec![0.0; k * k];
        for a in 0..k {
            for b in 0..k {
                g[a * k + b] = (0..m).map(|j| h[a * m + j] * h[b * m + j]).sum();
            }
        }
        // b = G·w* + noise for sparse w*
        let mut b = vec![0.0; rows * k];
        for i in 0..rows {
            let w: Vec<f64> = (0..k)
                .map(|_| {
                    if rng.random::<f64>() < 0.4 {
                        rng.random::<f64>()
                    } else {
                        0.0
                    }
                })
                .collect();
            for a in 0..k {
                b[i * k + a] = (0..k).map(|q| g[a * k + q] * w[q]).sum::<f64>()
                    + 0.3 * (rng.random::<f64>() - 0.5);
            }
        }
        let mut x0 = vec![0.0; rows * k];
        nnls_rows(&g, &b, &mut x0, k);
        let nz = x0.iter().filter(|v| **v > 0.0).count() as f64 / rows as f64;
        let mut times = [Vec::new(), Vec::new()];
        for _ in 0..7 {
            for (v, run) in [1, usize::MAX].into_iter().enumerate() {
                for warm in [false, true] {
                    let mut x = if warm {
                        x0.clone()
                    } else {
                        vec![0.0; rows * k]
                    };
                    let t = std::time::Instant::now();
                    nnls_rows_with(&g, &b, &mut x, k, run, &mut NnlsWork::default());
                    times[v].push((warm, t.elapsed().as_secs_f64()));
                }
            }
        }
        for (v, name) in ["shared factorizations", "batches"].iter().enumerate() {
            for warm in [false, true] {
                let mut t: Vec<f64> = times[v]
                    .iter()
                    .filter(|p| p.0 == warm)
                    .map(|p| p.1)
                    .collect();
                t.sort_by(f64::total_cmp);
                eprintln!("{name} warm={warm}: median {:.1} ms", 1e3 * t[t.len() / 2]);
            }
        }
        eprintln!("mean support {nz:.1}");
    }
}
