//! The Frobenius multiplicative updates: the W row pass over X and the update from a
//! precomputed numerator (the H update).

use multiversion::multiversion;
use multiversion::target::target_cfg_f;

use super::{nonzero_den, old_row};

/// The Frobenius multiplicative update of one entry a with numerator `num`:
/// `a · (num / d)`, d = den + l1 + l2·a (0 → ε).
#[inline(always)]
pub(crate) fn frobenius_update(a: f64, num: f64, den: f64, l1: f64, l2: f64) -> f64 {
    a * (num / nonzero_den(den + l1 + l2 * a))
}
use crate::kernels::reduce::*;
use crate::kernels::simd::*;
use crate::kernels::CsrRef;

/// The graph terms of graph-regularized NMF's W update (see `nmf/gnmf.rs`), added to a
/// Frobenius row pass: for row i, λ·(S·W)_i joins the numerator and λ·d_i·w_i the
/// denominator, and the pass sums the graph term Σ_i d_i‖w_i‖² − w_i·(S·W)_i = Tr(WᵀLW) of
/// the old W into [`PassStats::extra`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct GraphRows<'a> {
    /// S·W for the old W (n × k, row-major).
    pub sw: &'a [f64],
    /// The degrees d_i.
    pub degree: &'a [f64],
    /// The scaled weight λ of the graph term.
    pub lambda: f64,
}

impl GraphRows<'_> {
    /// Adds the graph terms of row `i` (old values `a`) to its numerator and denominator and
    /// returns its part of Tr(WᵀLW). The data part of the numerator is used before this.
    #[inline(always)]
    fn add_row<const FMA: bool>(
        &self,
        i: usize,
        a: &[f64],
        num: &mut [f64],
        den: &mut [f64],
    ) -> f64 {
        let k = a.len();
        let sw = &self.sw[i * k..(i + 1) * k];
        let d = self.degree[i];
        let (lam, lam_d) = (self.lambda, self.lambda * d);
        let mut tr = 0.0;
        for l in 0..k {
            num[l] = madd::<FMA>(lam, sw[l], num[l]);
            den[l] = madd::<FMA>(lam_d, a[l], den[l]);
            tr = madd::<FMA>(a[l], madd::<FMA>(d, a[l], -sw[l]), tr);
        }
        tr
    }
}

/// [`frobenius_rows_inner`] for k = 4·C.
#[inline(always)]
pub(crate) fn frobenius_rows_lanes<const C: usize, const FMA: bool>(
    x: CsrRef<'_>,
    row0: usize,
    a: Option<&[f64]>,
    b: &[f64],
    g: &[f64],
    l1: f64,
    l2: f64,
    gram: bool,
    graph: Option<GraphRows<'_>>,
    out: &mut [f64],
    part: &mut [f64],
) {
    let k = 4 * C;
    let mut cross = 0.0;
    let mut trace = 0.0;
    for (r, o) in out.chunks_exact_mut(k).enumerate() {
        let i = row0 + r;
        let ai = lanes_load::<C>(old_row(a, i, k, o));
        let vals = x.row(i).1;
        let ahead = x.row_ahead(i);
        #[allow(unused_mut)]
        let mut num = lanes_row_sum::<C, FMA>(ahead, vals, b, true);
        cross += lanes_dot_lanes::<C, FMA>(&ai, &num);
        #[allow(unused_mut)]
        let mut den = lanes_vec_mat::<C, FMA>(&ai, g);
        if let Some(gr) = &graph {
            let (mut nf, mut df, mut af) = ([0.0; 32], [0.0; 32], [0.0; 32]);
            lanes_store::<C>(&num, &mut nf);
            lanes_store::<C>(&den, &mut df);
            lanes_store::<C>(&ai, &mut af);
            trace += gr.add_row::<FMA>(i, &af[..k], &mut nf[..k], &mut df[..k]);
            num = lanes_load::<C>(&nf);
            den = lanes_load::<C>(&df);
        }
        for c in 0..C {
            for l in 0..4 {
                o[4 * c + l] = frobenius_update(ai[c][l], num[c][l], den[c][l], l1, l2);
            }
        }
        if graph.is_none() {
            trace += lanes_dot_lanes::<C, FMA>(&lanes_load::<C>(o), &num);
        }
        lanes_old_stats::<C, FMA>(&ai, part);
    }
    lanes_block_stats::<C, FMA>(out, part, gram);
    part[S_CROSS] += cross;
    part[S_EXTRA] += trace;
}

#[multiversion(targets(
    "x86_64+avx512f+avx512vl+avx2+avx+fma",
    "x86_64+avx2+avx+fma",
    "x86_64+avx",
    "aarch64+neon"
))]
pub(crate) fn frobenius_num_block(
    a: &mut [f64],
    num: &[f64],
    k: usize,
    g: &[f64],
    l1: f64,
    l2: f64,
    gram: bool,
    part: &mut [f64],
) {
    let fma = target_cfg_f!(target_feature = "fma");
    const WITH_FMA: bool = true;
    if fma && by_lanes!(k, WITH_FMA, num_rows_lanes(a, num, g, l1, l2, gram, part)) {
        return;
    }
    let mut den = vec![0.0; k];
    for (o, nr) in a.chunks_exact_mut(k).zip(num.chunks_exact(k)) {
        if fma {
            vec_mat::<true>(o, g, &mut den);
            add_old_row::<true>(o, part);
        } else {
            vec_mat::<false>(o, g, &mut den);
            add_old_row::<false>(o, part);
        }
        for l in 0..k {
            o[l] = frobenius_update(o[l], nr[l], den[l], l1, l2);
        }
        if fma {
            add_new_row::<true>(o, part, gram);
        } else {
            add_new_row::<false>(o, part, gram);
        }
    }
}

/// [`frobenius_num_block`] for k = 4·C.
#[inline(always)]
pub(crate) fn num_rows_lanes<const C: usize, const FMA: bool>(
    a: &mut [f64],
    num: &[f64],
    g: &[f64],
    l1: f64,
    l2: f64,
    gram: bool,
    part: &mut [f64],
) {
    let k = 4 * C;
    for (o, nr) in a.chunks_exact_mut(k).zip(num.chunks_exact(k)) {
        let ai = lanes_load::<C>(o);
        let den = lanes_vec_mat::<C, FMA>(&ai, g);
        for c in 0..C {
            for l in 0..4 {
                o[4 * c + l] = frobenius_update(ai[c][l], nr[4 * c + l], den[c][l], l1, l2);
            }
        }
        lanes_old_stats::<C, FMA>(&ai, part);
    }
    lanes_block_stats::<C, FMA>(a, part, gram);
}

/// The Frobenius multiplicative update of A in place from a precomputed numerator `num`
/// (row-major like A, e.g. Xᵀ·W from [`crate::kernels::csr_transpose_mul_dense`]):
///
/// ```text
/// a_il ← a_il · num_il / d_il,     d_il = (a_i·G)_l + l1 + l2·a_il   (0 → ε)
/// ```
///
/// Returns ‖A_old‖₁, ‖A_old‖²_F and the new A's statistics (its Gram matrix when `gram`);
/// the cross term is 0.
///
/// # Panics
/// If the shapes do not agree.
#[track_caller]
pub fn mu_frobenius_from_numerator(
    a: &mut [f64],
    num: &[f64],
    k: usize,
    g: &[f64],
    l1: f64,
    l2: f64,
    gram: bool,
) -> PassStats {
    let rows = check_numerator("mu_frobenius_from_numerator", a, num, k);
    assert_eq!(g.len(), k * k, "mu_frobenius_from_numerator: G must be k×k");
    let stride = SCALARS + k + if gram { k * k } else { 0 };
    let total = blocks(rows, k, stride, a, |row0, ob, pb| {
        let s = row0 * k;
        frobenius_num_block(ob, &num[s..s + ob.len()], k, g, l1, l2, gram, pb)
    });
    split_stats(&total, k, gram)
}

#[multiversion(targets(
    "x86_64+avx512f+avx512vl+avx2+avx+fma",
    "x86_64+avx2+avx+fma",
    "x86_64+avx",
    "aarch64+neon"
))]
pub(crate) fn frobenius_block<'x, 'g>(
    x: CsrRef<'x>,
    row0: usize,
    a: Option<&[f64]>,
    b: &[f64],
    k: usize,
    g: &[f64],
    l1: f64,
    l2: f64,
    gram: bool,
    graph: Option<GraphRows<'g>>,
    out: &mut [f64],
    part: &mut [f64],
) {
    if target_cfg_f!(target_feature = "fma") {
        frobenius_rows_inner::<true>(x, row0, a, b, k, g, l1, l2, gram, graph, out, part);
    } else {
        frobenius_rows_inner::<false>(x, row0, a, b, k, g, l1, l2, gram, graph, out, part);
    }
}

#[inline(always)]
pub(crate) fn frobenius_rows_inner<const FMA: bool>(
    x: CsrRef<'_>,
    row0: usize,
    a: Option<&[f64]>,
    b: &[f64],
    k: usize,
    g: &[f64],
    l1: f64,
    l2: f64,
    gram: bool,
    graph: Option<GraphRows<'_>>,
    out: &mut [f64],
    part: &mut [f64],
) {
    if FMA
        && by_lanes!(
            k,
            FMA,
            frobenius_rows_lanes(x, row0, a, b, g, l1, l2, gram, graph, out, part)
        )
    {
        return;
    }
    let mut num = vec![0.0; k];
    let mut den = vec![0.0; k];
    let mut old = vec![0.0; k];
    let mut cross = 0.0;
    let mut trace = 0.0;
    for (r, o) in out.chunks_exact_mut(k).enumerate() {
        let i = row0 + r;
        old.copy_from_slice(old_row(a, i, k, o));
        let ai = &old[..];
        num.fill(0.0);
        let (cols, vals) = x.row(i);
        let ahead = x.row_ahead(i);
        for (t, (&j, &v)) in cols.iter().zip(vals).enumerate() {
            prefetch_ahead(ahead, t, b, k);
            axpy::<FMA>(v, &b[j as usize * k..(j as usize + 1) * k], &mut num);
        }
        cross += dot::<FMA>(ai, &num);
        vec_mat::<FMA>(ai, g, &mut den);
        if let Some(gr) = &graph {
            trace += gr.add_row::<FMA>(i, ai, &mut num, &mut den);
        }
        for l in 0..k {
            o[l] = frobenius_update(ai[l], num[l], den[l], l1, l2);
        }
        if graph.is_none() {
            trace += dot::<FMA>(o, &num);
        }
        add_old_row::<FMA>(ai, part);
        add_new_row::<FMA>(o, part, gram);
    }
    part[S_CROSS] += cross;
    part[S_EXTRA] += trace;
}

/// One multiplicative update of A for the Frobenius objective ½‖X − A·Bᵀ‖²_F, written to
/// `out` (row-major like `a`):
///
/// ```text
/// out_il = a_il · (x_i·B)_l / d_il,     d_il = (a_i·G)_l + l1 + l2·a_il   (0 → ε)
/// ```
///
/// where `G = BᵀB` (row-major k×k, symmetric). With A = W, B = Ht, G = HHᵀ it is
/// scikit-learn's W update `W ⊙ XHᵀ ⊘ (W·HHᵀ + l1 + l2·W)`; with Xᵀ, A = Ht, B = W, G = WᵀW it
/// is the H update. The numerator row x_i·B is accumulated in a k-vector and used at once.
///
/// Also returns tr(Aᵀ·X·B) = Σ_i a_i·(x_i·B) for the old A (the Frobenius cross term), the
/// same sum for the new A in [`PassStats::extra`] (the cross term of the updated factor, which
/// the online solver's batch cost needs), ‖A‖₁, ‖A‖²_F, and the new A's statistics (its Gram
/// matrix when `gram`).
///
/// # Panics
/// If the shapes do not agree.
#[track_caller]
pub fn mu_frobenius_rows(
    x: CsrRef<'_>,
    a: &[f64],
    b: &[f64],
    k: usize,
    g: &[f64],
    l1: f64,
    l2: f64,
    gram: bool,
    out: &mut [f64],
) -> PassStats {
    check_factor("mu_frobenius_rows: A", a, x.nrows, k);
    frobenius_pass(x, Some(a), b, k, g, l1, l2, gram, None, out)
}

/// [`mu_frobenius_rows`] with the result written over `a` itself (each row is read before
/// it is written; no second factor buffer). Same values and statistics.
///
/// # Panics
/// If the shapes do not agree.
#[track_caller]
pub fn mu_frobenius_rows_in_place(
    x: CsrRef<'_>,
    a: &mut [f64],
    b: &[f64],
    k: usize,
    g: &[f64],
    l1: f64,
    l2: f64,
    gram: bool,
) -> PassStats {
    frobenius_pass(x, None, b, k, g, l1, l2, gram, None, a)
}

#[track_caller]
pub(crate) fn frobenius_pass(
    x: CsrRef<'_>,
    a: Option<&[f64]>,
    b: &[f64],
    k: usize,
    g: &[f64],
    l1: f64,
    l2: f64,
    gram: bool,
    graph: Option<GraphRows<'_>>,
    out: &mut [f64],
) -> PassStats {
    assert!(k >= 1, "mu_frobenius_rows: k must be at least 1");
    check_factor("mu_frobenius_rows: B", b, x.ncols, k);
    check_factor("mu_frobenius_rows: out", out, x.nrows, k);
    assert_eq!(g.len(), k * k, "mu_frobenius_rows: G must be k×k");
    if let Some(gr) = &graph {
        check_factor("mu_frobenius_rows: S·W", gr.sw, x.nrows, k);
        assert_eq!(
            gr.degree.len(),
            x.nrows,
            "mu_frobenius_rows: one degree per row"
        );
    }
    let stride = SCALARS + k + if gram { k * k } else { 0 };
    let total = blocks(x.nrows, k, stride, out, |row0, ob, pb| {
        frobenius_block(x, row0, a, b, k, g, l1, l2, gram, graph, ob, pb)
    });
    split_stats(&total, k, gram)
}
