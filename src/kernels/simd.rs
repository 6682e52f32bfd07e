//! Inner loops and SIMD lanes: fused multiply-adds where the target has them, dot and axpy
//! over 4-lane chunks, prefetching of gathered rows, a branch-free logarithm, and the
//! register-resident k-vectors (`Lanes`) of the fast paths for k = 4·C, with the
//! [`by_lanes!`] dispatch on k.
//!
//! Everything here is `#[inline(always)]`, so it is compiled inside each multiversioned
//! clone with that clone's target features; `FMA` selects fused multiply-adds (only where the
//! target has them: without hardware FMA, `mul_add` is a slow library call).

pub(crate) use crate::matrix::Idx;

#[inline(always)]
pub(crate) fn madd<const FMA: bool>(a: f64, b: f64, c: f64) -> f64 {
    if FMA {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

/// Σ a_l·b_l over chunks of 4 lanes with two independent 4-lane accumulators (a fixed
/// summation order), then a scalar tail.
#[inline(always)]
pub(crate) fn dot<const FMA: bool>(a: &[f64], b: &[f64]) -> f64 {
    let b = &b[..a.len()];
    let mut s0 = [0.0f64; 4];
    let mut s1 = [0.0f64; 4];
    let mut ca = a.chunks_exact(8);
    let mut cb = b.chunks_exact(8);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for l in 0..4 {
            s0[l] = madd::<FMA>(x[l], y[l], s0[l]);
            s1[l] = madd::<FMA>(x[4 + l], y[4 + l], s1[l]);
        }
    }
    let (ra, rb) = (ca.remainder(), cb.remainder());
    let mut ca = ra.chunks_exact(4);
    let mut cb = rb.chunks_exact(4);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for l in 0..4 {
            s0[l] = madd::<FMA>(x[l], y[l], s0[l]);
        }
    }
    let mut tail = 0.0;
    for (x, y) in ca.remainder().iter().zip(cb.remainder()) {
        tail = madd::<FMA>(*x, *y, tail);
    }
    for l in 0..4 {
        s0[l] += s1[l];
    }
    ((s0[0] + s0[2]) + (s0[1] + s0[3])) + tail
}

/// y ← y + α·x, in chunks of 4 lanes.
#[inline(always)]
pub(crate) fn axpy<const FMA: bool>(alpha: f64, x: &[f64], y: &mut [f64]) {
    let x = &x[..y.len()];
    let mut cy = y.chunks_exact_mut(4);
    let mut cx = x.chunks_exact(4);
    for (yy, xx) in (&mut cy).zip(&mut cx) {
        for l in 0..4 {
            yy[l] = madd::<FMA>(alpha, xx[l], yy[l]);
        }
    }
    for (yy, xx) in cy.into_remainder().iter_mut().zip(cx.remainder()) {
        *yy = madd::<FMA>(alpha, *xx, *yy);
    }
}

/// How many stored entries ahead the rows of the dense factor are prefetched. The gathers
/// B[j] at the column indices of a CSR row are the latency-bound part of the sparse passes.
pub(crate) const PREFETCH_AHEAD: usize = 8;

/// Hints the CPU to fetch the `k` values at `base` (a row of a dense factor) into the cache.
/// A no-op off x86-64. Never faults: a prefetch of any address is allowed.
#[inline(always)]
pub(crate) fn prefetch_row(base: *const f64, k: usize) {
    #[cfg(target_arch = "x86_64")]
    {
        use core::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let mut o = 0;
        while o < k {
            // SAFETY: prefetching has no architectural effect and never faults; the pointer
            // is only formed with wrapping arithmetic and never dereferenced.
            #[allow(unused_unsafe)]
            unsafe {
                _mm_prefetch::<_MM_HINT_T0>(base.wrapping_add(o) as *const i8)
            };
            o += 8;
        }
        #[allow(unused_unsafe)]
        // SAFETY: as above.
        unsafe {
            _mm_prefetch::<_MM_HINT_T0>(base.wrapping_add(k - 1) as *const i8)
        };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (base, k);
}

/// Prefetches the row of `b` for the stored entry `PREFETCH_AHEAD` places after `t`.
#[inline(always)]
pub(crate) fn prefetch_ahead(cols: &[Idx], t: usize, b: &[f64], k: usize) {
    if let Some(&jn) = cols.get(t + PREFETCH_AHEAD) {
        prefetch_row(b.as_ptr().wrapping_add(jn as usize * k), k);
    }
}

/// out ← a·G for a k-vector `a` and a symmetric row-major k×k `G`.
#[inline(always)]
pub(crate) fn vec_mat<const FMA: bool>(a: &[f64], g: &[f64], out: &mut [f64]) {
    let k = a.len();
    out.fill(0.0);
    for (m, &am) in a.iter().enumerate() {
        if am != 0.0 {
            axpy::<FMA>(am, &g[m * k..(m + 1) * k], out);
        }
    }
}

/// ln(y) for a positive, finite, normal `y`, branch-free so that loops over it vectorize.
///
/// y = 2^e·μ with μ ∈ [√½, √2); ln μ = 2·atanh(s) with s = (μ−1)/(μ+1), |s| ≤ 0.172, summed
/// as 2s·Σ_{i<12} s^{2i}/(2i+1) (truncation < 1e-18 relative), plus e·ln 2 (ln 2 split in a
/// high and a low part). Agrees with `f64::ln` to a few ulp; callers only pass ratios
/// x/max(wh, ε) of normal numbers.
#[inline(always)]
pub fn ln_fast(y: f64) -> f64 {
    const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000); // 6.9314718036912382e-1
    const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76); // 1.9082149292705877e-10
    let bits = y.to_bits();
    let mut e = ((bits >> 52) & 0x7ff) as i64 - 1023;
    let mut mu = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    let big = mu > std::f64::consts::SQRT_2;
    mu = if big { mu * 0.5 } else { mu };
    e += big as i64;
    let f = mu - 1.0;
    let s = f / (2.0 + f);
    let z = s * s;
    let mut p = 1.0 / 23.0;
    p = p * z + 1.0 / 21.0;
    p = p * z + 1.0 / 19.0;
    p = p * z + 1.0 / 17.0;
    p = p * z + 1.0 / 15.0;
    p = p * z + 1.0 / 13.0;
    p = p * z + 1.0 / 11.0;
    p = p * z + 1.0 / 9.0;
    p = p * z + 1.0 / 7.0;
    p = p * z + 1.0 / 5.0;
    p = p * z + 1.0 / 3.0;
    let ef = e as f64;
    // ln μ = f − (f − 2s·(1 + z·p')) keeps the leading term exact: 2s = f − s·f.
    let r = s * z * p; // Σ_{i≥1} s^{2i+1}/(2i+1)
    ef * LN2_HI + ((f - s * f) + (2.0 * r + ef * LN2_LO))
}

/// Σ_t x_t·ln(x_t / d_t) over paired slices, with [`ln_fast`] and four accumulators.
#[inline(always)]
pub(crate) fn xlogx_ratio_sum(x: &[f64], d: &[f64]) -> f64 {
    let d = &d[..x.len()];
    let mut acc = [0.0f64; 4];
    let cx = x.chunks_exact(4);
    let cd = d.chunks_exact(4);
    let (rx, rd) = (cx.remainder(), cd.remainder());
    for (xx, dd) in cx.zip(cd) {
        for l in 0..4 {
            acc[l] += xx[l] * ln_fast(xx[l] / dd[l]);
        }
    }
    let mut tail = 0.0;
    for (xx, dd) in rx.iter().zip(rd) {
        tail += xx * ln_fast(xx / dd);
    }
    ((acc[0] + acc[2]) + (acc[1] + acc[3])) + tail
}

// ---------------------------------------------------------------------------------------------
// Register-resident fast paths for k = 4·C (C = 1..=8, i.e. k ∈ {4, 8, …, 32}).
//
// With k known at compile time the k-vector accumulators live in vector registers for the
// whole sparse row instead of being loaded and stored for every stored entry (a
// store-to-load chain per entry), and every k-loop unrolls. The arithmetic is the same as in
// the generic path; only the grouping of the lanes in the sums differs (still a fixed order,
// so results stay independent of the thread count).

/// A k-vector held as `C` chunks of 4 lanes.
pub(crate) type Lanes<const C: usize> = [[f64; 4]; C];

#[inline(always)]
pub(crate) fn lanes_load<const C: usize>(s: &[f64]) -> Lanes<C> {
    let s = &s[..4 * C];
    let mut v = [[0.0; 4]; C];
    for (c, vc) in v.iter_mut().enumerate() {
        vc.copy_from_slice(&s[4 * c..4 * c + 4]);
    }
    v
}

/// Writes a k-vector held as lanes to a slice of (at least) k = 4·C values.
#[inline(always)]
pub(crate) fn lanes_store<const C: usize>(v: &Lanes<C>, s: &mut [f64]) {
    let s = &mut s[..4 * C];
    for (c, vc) in v.iter().enumerate() {
        s[4 * c..4 * c + 4].copy_from_slice(vc);
    }
}

/// A row-major `rows × 4C` factor seen as a slice of rows of lanes, so that row `j` is one
/// bounds-checked index (`rows[j]`) instead of a sub-slice with an overflow check and two bound
/// checks per stored entry in the hot loops.
#[inline(always)]
pub(crate) fn lane_rows<const C: usize>(b: &[f64]) -> &[Lanes<C>] {
    b.as_chunks::<4>().0.as_chunks::<C>().0
}

/// [`lane_rows`] for a factor that is written to.
#[inline(always)]
pub(crate) fn lane_rows_mut<const C: usize>(b: &mut [f64]) -> &mut [Lanes<C>] {
    b.as_chunks_mut::<4>().0.as_chunks_mut::<C>().0
}

/// Prefetches row `j` of a lane-row factor (see [`prefetch_row`]).
#[inline(always)]
pub(crate) fn prefetch_lanes<const C: usize>(rows: &[Lanes<C>], j: usize) {
    prefetch_row(rows.as_ptr().wrapping_add(j) as *const f64, 4 * C);
}

/// The prefetch targets of a row's stored entries: `ahead` is the row's column indices
/// followed by those of the next rows ([`CsrRef::row_ahead`]); entry `t` prefetches the row
/// for entry `t + PREFETCH_AHEAD`, which exists for the first `min(n, len)` entries.
#[inline(always)]
pub(crate) fn prefetch_targets(ahead: &[Idx], n: usize) -> &[Idx] {
    let pf = ahead.get(PREFETCH_AHEAD..).unwrap_or(&[]);
    &pf[..pf.len().min(n)]
}

/// out_t = a·b[j_t] for the stored entries t of one CSR row (columns `cols`; k = 4·C), with
/// the rows of b prefetched ahead through `ahead` ([`CsrRef::row_ahead`]).
#[inline(always)]
pub(crate) fn lanes_dots<const C: usize, const FMA: bool>(
    cols: &[Idx],
    ahead: &[Idx],
    a: &Lanes<C>,
    b: &[f64],
    out: &mut [f64],
) {
    let rows = lane_rows::<C>(b);
    let n = out.len().min(cols.len());
    let (cols, out) = (&cols[..n], &mut out[..n]);
    let pf = prefetch_targets(ahead, n);
    let np = pf.len();
    let (head, tail) = out.split_at_mut(np);
    for ((&j, w), &p) in cols[..np].iter().zip(head).zip(pf) {
        prefetch_lanes(rows, p as usize);
        *w = lanes_dot_lanes::<C, FMA>(a, &rows[j as usize]);
    }
    for (&j, w) in cols[np..].iter().zip(tail) {
        *w = lanes_dot_lanes::<C, FMA>(a, &rows[j as usize]);
    }
}

/// s ← s + α·r for two k-vectors held as lanes (k = 4·C).
#[inline(always)]
pub(crate) fn lanes_add_scaled<const C: usize, const FMA: bool>(
    alpha: f64,
    r: &Lanes<C>,
    s: &mut Lanes<C>,
) {
    for c in 0..C {
        for l in 0..4 {
            s[c][l] = madd::<FMA>(alpha, r[c][l], s[c][l]);
        }
    }
}

/// Σ_l a_l·r_l for two k-vectors held as lanes: lane-wise products summed over the chunks,
/// then the 4 lanes pairwise.
#[inline(always)]
pub(crate) fn lanes_dot_lanes<const C: usize, const FMA: bool>(a: &Lanes<C>, r: &Lanes<C>) -> f64 {
    let mut s = [0.0f64; 4];
    for c in 0..C {
        for l in 0..4 {
            s[l] = madd::<FMA>(a[c][l], r[c][l], s[l]);
        }
    }
    (s[0] + s[2]) + (s[1] + s[3])
}

/// y ← y + α·x for a k-vector slice `x` (k = 4·C).
#[inline(always)]
pub(crate) fn lanes_axpy<const C: usize, const FMA: bool>(alpha: f64, x: &[f64], y: &mut Lanes<C>) {
    let x = &x[..4 * C];
    for (c, yc) in y.iter_mut().enumerate() {
        for l in 0..4 {
            yc[l] = madd::<FMA>(alpha, x[4 * c + l], yc[l]);
        }
    }
}

/// a·G for a k-vector `a` (k = 4·C) and a row-major k×k `G`: the rows of G weighted by the
/// even entries of `a` and by the odd ones are summed into two accumulators (two independent
/// chains of fused multiply-adds), added at the end.
#[inline(always)]
pub(crate) fn lanes_vec_mat<const C: usize, const FMA: bool>(a: &Lanes<C>, g: &[f64]) -> Lanes<C> {
    let k = 4 * C;
    let mut even: Lanes<C> = [[0.0; 4]; C];
    let mut odd: Lanes<C> = [[0.0; 4]; C];
    for (c, ac) in a.iter().enumerate() {
        for l in (0..4).step_by(2) {
            let m = 4 * c + l;
            lanes_axpy::<C, FMA>(ac[l], &g[m * k..(m + 1) * k], &mut even);
            lanes_axpy::<C, FMA>(ac[l + 1], &g[(m + 1) * k..(m + 2) * k], &mut odd);
        }
    }
    for c in 0..C {
        for l in 0..4 {
            even[c][l] += odd[c][l];
        }
    }
    even
}

/// Σ_t v_t·b[j_t] over one CSR row (k = 4·C), with two independent accumulator sets (even
/// and odd entries, added at the end) to halve the fused-multiply-add dependency chain.
/// `cols` may run past the row (see [`CsrRef::row_ahead`]); the row has `vals.len()` entries.
/// With `prefetch`, entry t prefetches the row of b for entry t + [`PREFETCH_AHEAD`].
#[inline(always)]
pub(crate) fn lanes_row_sum<const C: usize, const FMA: bool>(
    cols: &[Idx],
    vals: &[f64],
    b: &[f64],
    prefetch: bool,
) -> Lanes<C> {
    let rows = lane_rows::<C>(b);
    let n = vals.len();
    let (ahead, cols) = (cols, &cols[..n]);
    let mut s0: Lanes<C> = [[0.0; 4]; C];
    let mut s1: Lanes<C> = [[0.0; 4]; C];
    // Pairs of entries with prefetch targets first (an even count), then the other pairs.
    let pf = if prefetch {
        prefetch_targets(ahead, n)
    } else {
        &[]
    };
    let np = pf.len() & !1;
    for ((jj, vv), pp) in cols[..np]
        .chunks_exact(2)
        .zip(vals[..np].chunks_exact(2))
        .zip(pf[..np].chunks_exact(2))
    {
        prefetch_lanes(rows, pp[0] as usize);
        prefetch_lanes(rows, pp[1] as usize);
        lanes_add_scaled::<C, FMA>(vv[0], &rows[jj[0] as usize], &mut s0);
        lanes_add_scaled::<C, FMA>(vv[1], &rows[jj[1] as usize], &mut s1);
    }
    let (ct, vt) = (&cols[np..], &vals[np..]);
    for (jj, vv) in ct.chunks_exact(2).zip(vt.chunks_exact(2)) {
        lanes_add_scaled::<C, FMA>(vv[0], &rows[jj[0] as usize], &mut s0);
        lanes_add_scaled::<C, FMA>(vv[1], &rows[jj[1] as usize], &mut s1);
    }
    if ct.len() % 2 == 1 {
        let last = ct.len() - 1;
        lanes_add_scaled::<C, FMA>(vt[last], &rows[ct[last] as usize], &mut s0);
    }
    for c in 0..C {
        for l in 0..4 {
            s0[c][l] += s1[c][l];
        }
    }
    s0
}

/// Calls `$f::<C, FMA>(args…)` when k = 4·C with C ≤ 8, or k = 40, 48, 52 or 64, and evaluates to
/// `true`; `false` otherwise (the caller then runs the generic path). The ranks in between are
/// padded up to one of these by the solvers that allow it ([`register_rank`]).
macro_rules! by_lanes {
    ($k:expr, $fma:ident, $f:ident($($arg:expr),* $(,)?)) => {
        match $k {
            4 => { $f::<1, $fma>($($arg),*); true }
            8 => { $f::<2, $fma>($($arg),*); true }
            12 => { $f::<3, $fma>($($arg),*); true }
            16 => { $f::<4, $fma>($($arg),*); true }
            20 => { $f::<5, $fma>($($arg),*); true }
            24 => { $f::<6, $fma>($($arg),*); true }
            28 => { $f::<7, $fma>($($arg),*); true }
            32 => { $f::<8, $fma>($($arg),*); true }
            40 => { $f::<10, $fma>($($arg),*); true }
            48 => { $f::<12, $fma>($($arg),*); true }
            52 => { $f::<13, $fma>($($arg),*); true }
            64 => { $f::<16, $fma>($($arg),*); true }
            _ => false,
        }
    };
}

pub(crate) use by_lanes;

/// The smallest rank ≥ `k` whose kernels hold the k-vectors in registers (k rounded up to a
/// multiple of 4 up to 32, then 40, 48, 52 or 64); `k` itself above 64.
pub fn register_rank(k: usize) -> usize {
    match k {
        0..=32 => k.div_ceil(4) * 4,
        33..=40 => 40,
        41..=48 => 48,
        49..=52 => 52,
        53..=64 => 64,
        _ => k,
    }
}
