//! Initial factors W₀ (n × k) and H₀ (k × m) for the solvers, with scikit-learn's definitions
//! (`sklearn.decomposition._nmf._initialize_nmf`, eps = 1e-6).
//!
//! With μ = mean(X) = Σ x_ij / (n·m) (zeros included; μ = 0 when X has no entries):
//!
//! - **random**: a = √(μ/k); H₀ = a·|N(0,1)| (k × m, drawn first, row by row), then
//!   W₀ = a·|N(0,1)| (n × k), from `ChaCha8Rng::seed_from_u64(seed)` with
//!   `rand_distr::StandardNormal`. The distribution is scikit-learn's; the bits cannot match
//!   numpy's generator. E(W₀ᵢⱼ) = a·√(2/π). An all-zero X gives all-zero factors.
//! - **nndsvd** (Boutsidis & Gallopoulos 2008), from the rank-k truncated SVD
//!   X ≈ Σ_j s_j·u_j·v_jᵀ of [`super::svd::randomized_svd`] (same seed):
//!   W₀\[:,0\] = √s₀·|u₀|, H₀\[0,:\] = √s₀·|v₀|; for j ≥ 1 with the positive and negative parts
//!   u⁺ = max(u_j, 0), u⁻ = max(−u_j, 0) (likewise v), m⁺ = ‖u⁺‖‖v⁺‖, m⁻ = ‖u⁻‖‖v⁻‖: if m⁺ > m⁻,
//!   (x, y, σ) = (u⁺/‖u⁺‖, v⁺/‖v⁺‖, m⁺), else (u⁻/‖u⁻‖, v⁻/‖v⁻‖, m⁻); W₀\[:,j\] = √(s_j·σ)·x,
//!   H₀\[j,:\] = √(s_j·σ)·y. Finally entries < 1e-6 are set to 0.
//!   Flipping the signs of (u_j, v_j) together swaps the two parts, so the choice (and W₀, H₀) does
//!   not depend on the SVD's signs except on exact ties m⁺ = m⁻; the SVD still applies
//!   scikit-learn's `svd_flip` convention (the largest-magnitude entry of each u_j is positive),
//!   so ties are broken deterministically. Where scikit-learn would divide 0/0 (σ = 0, possible
//!   only for s_j = 0 when k exceeds the rank of X) the column and row are set to 0 instead of NaN.
//! - **nndsvda**: nndsvd, then zeros ← μ.
//! - **nndsvdar**: nndsvd, then zeros ← |N(0,1)|·μ/100, drawn for W₀'s zeros then H₀'s, each in
//!   row-major order, from `ChaCha8Rng::seed_from_u64(seed)` on stream 1 (independent of the SVD's
//!   draws).
//! - **custom**: the given W₀ and H₀, checked (shape, finite, non-negative, not all zero, as
//!   scikit-learn's `_check_init`) and cloned.
//!
//! X itself must be finite and non-negative.

use crate::matrix::Matrix;
use ndarray::Array2;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

use super::svd::{randomized_svd, TruncatedSvd};
use super::{Init, NmfError};

/// Entries of the NNDSVD factors below this are set to 0 (scikit-learn's `eps`).
pub const NNDSVD_EPS: f64 = 1e-6;

/// The option value of an initialization, as written on the command line.
pub fn init_name(init: Init) -> &'static str {
    match init {
        Init::Random => "random",
        Init::Nndsvd => "nndsvd",
        Init::Nndsvda => "nndsvda",
        Init::Nndsvdar => "nndsvdar",
        Init::Custom => "custom",
    }
}

/// Checks that every stored entry of X is finite and non-negative ([`NmfError::Data`] naming the
/// first offending entry otherwise).
pub fn check_matrix(x: &Matrix) -> Result<(), NmfError> {
    if x.data().iter().all(|v| v.is_finite() && *v >= 0.0) {
        return Ok(());
    }
    for (&v, (i, j)) in x.iter() {
        if !v.is_finite() {
            return Err(NmfError::Data(format!(
                "the matrix has a NaN or infinite entry at document {i}, term {j}"
            )));
        }
        if v < 0.0 {
            return Err(NmfError::Data(format!(
                "the matrix has a negative entry {v} at document {i}, term {j}; NMF needs X ≥ 0"
            )));
        }
    }
    Ok(())
}

/// mean(X) = Σ x_ij / (n·m), zeros included; 0 for a matrix without entries.
pub fn matrix_mean(x: &Matrix) -> f64 {
    let (n, m) = x.shape();
    if n == 0 || m == 0 {
        return 0.0;
    }
    x.data().iter().sum::<f64>() / (n as f64 * m as f64)
}

/// Initial W (n × k) and H (k × m) for X (n × m) by `init` (see the module documentation for
/// the formulas). `w0`, `h0` are used only by [`Init::Custom`], which requires both.
///
/// Errors: [`NmfError::Params`] for k = 0, k > min(n, m) with an NNDSVD initialization, or a
/// missing `--w0`/`--h0`; [`NmfError::Data`] for a negative or non-finite X, and for custom
/// factors of the wrong shape, with NaN/Inf or negative entries, or all zero.
pub fn initialize(
    x: &Matrix,
    k: usize,
    init: Init,
    seed: u64,
    w0: Option<&Array2<f64>>,
    h0: Option<&Array2<f64>>,
) -> Result<(Array2<f64>, Array2<f64>), NmfError> {
    if k == 0 {
        return Err(NmfError::Params("-k must be at least 1".into()));
    }
    let (n, m) = x.shape();
    if matches!(init, Init::Nndsvd | Init::Nndsvda | Init::Nndsvdar) && k > n.min(m) {
        return Err(NmfError::Params(format!(
            "-k {k} is larger than min(documents, terms) = {}, which --init {} requires",
            n.min(m),
            init_name(init)
        )));
    }
    check_matrix(x)?;
    match init {
        Init::Custom => {
            let (Some(w0), Some(h0)) = (w0, h0) else {
                return Err(NmfError::Params("--init custom needs --w0 and --h0".into()));
            };
            check_custom_factors(n, m, k, w0, h0)?;
            Ok((w0.clone(), h0.clone()))
        }
        Init::Random => Ok(random_init(x, k, seed)),
        Init::Nndsvd | Init::Nndsvda | Init::Nndsvdar => nndsvd_init(x, k, init, seed),
    }
}

/// The checks [`initialize`] makes for `--init custom`, without copying the factors: k ≥ 1,
/// X valid, W0 n × k and H0 k × m, finite, non-negative, not all zero.
pub(crate) fn check_custom(
    x: &Matrix,
    k: usize,
    w0: &Array2<f64>,
    h0: &Array2<f64>,
) -> Result<(), NmfError> {
    if k == 0 {
        return Err(NmfError::Params("-k must be at least 1".into()));
    }
    check_matrix(x)?;
    let (n, m) = x.shape();
    check_custom_factors(n, m, k, w0, h0)
}

pub(crate) fn check_custom_factors(
    n: usize,
    m: usize,
    k: usize,
    w0: &Array2<f64>,
    h0: &Array2<f64>,
) -> Result<(), NmfError> {
    check_factor(w0, "--w0", (n, k), "documents × k")?;
    check_factor(h0, "--h0", (k, m), "k × terms")
}

/// Checks a user-supplied factor: shape, finite, non-negative, not all zero.
fn check_factor(
    a: &Array2<f64>,
    name: &str,
    expected: (usize, usize),
    what: &str,
) -> Result<(), NmfError> {
    if a.dim() != expected {
        return Err(NmfError::Data(format!(
            "{name} has shape {}×{}, expected {}×{} ({what})",
            a.nrows(),
            a.ncols(),
            expected.0,
            expected.1
        )));
    }
    for ((i, j), &v) in a.indexed_iter() {
        if !v.is_finite() {
            return Err(NmfError::Data(format!(
                "{name} has a NaN or infinite entry at row {i}, column {j}"
            )));
        }
        if v < 0.0 {
            return Err(NmfError::Data(format!(
                "{name} has a negative entry {v} at row {i}, column {j}"
            )));
        }
    }
    if a.iter().all(|&v| v == 0.0) {
        return Err(NmfError::Data(format!("{name} is all zeros")));
    }
    Ok(())
}

/// a = √(mean(X)/k); H = a·|N(0,1)| (k × m) then W = a·|N(0,1)| (n × k).
fn random_init(x: &Matrix, k: usize, seed: u64) -> (Array2<f64>, Array2<f64>) {
    let (n, m) = x.shape();
    let avg = (matrix_mean(x) / k as f64).sqrt();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut draw = |_| {
        let z: f64 = StandardNormal.sample(&mut rng);
        avg * z.abs()
    };
    // row-major fill order: H first, then W (as scikit-learn)
    let h = Array2::from_shape_fn((k, m), &mut draw);
    let w = Array2::from_shape_fn((n, k), &mut draw);
    (w, h)
}

/// NNDSVD and its variants; see the module documentation.
fn nndsvd_init(
    x: &Matrix,
    k: usize,
    init: Init,
    seed: u64,
) -> Result<(Array2<f64>, Array2<f64>), NmfError> {
    let svd = randomized_svd(x, k, seed)?;
    let (mut w, mut h) = nndsvd_factors(svd);
    match init {
        Init::Nndsvda => {
            let mean = matrix_mean(x);
            for a in w.iter_mut().chain(h.iter_mut()) {
                if *a == 0.0 {
                    *a = mean;
                }
            }
        }
        Init::Nndsvdar => {
            let mean = matrix_mean(x);
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(1);
            for a in w.iter_mut().chain(h.iter_mut()) {
                if *a == 0.0 {
                    let z: f64 = StandardNormal.sample(&mut rng);
                    *a = (mean * z / 100.0).abs();
                }
            }
        }
        _ => {}
    }
    Ok((w, h))
}

/// The NNDSVD start (nndsvd, nndsvda or nndsvdar, as [`initialize`] defines them) for k topics
/// from a precomputed truncated SVD of X with at least k triplets: only its first k singular
/// triplets are used. This lets a sweep over k compute one SVD at the largest k and start
/// every smaller k from it (the leading triplets of a randomized SVD of larger rank are at least
/// as accurate as those of a rank-k one). With the SVD that [`initialize`] would compute
/// (`randomized_svd(x, k, seed)`), the result is the same bits. `seed` is used by nndsvdar's
/// random fill only.
///
/// Errors: [`NmfError::Params`] for k = 0, an `init` that is not an NNDSVD variant, or an SVD
/// with fewer than k triplets; [`NmfError::Data`] for an SVD whose shape does not match X, or a
/// negative or non-finite X.
pub fn nndsvd_from_svd(
    x: &Matrix,
    svd: &TruncatedSvd,
    k: usize,
    init: Init,
    seed: u64,
) -> Result<(Array2<f64>, Array2<f64>), NmfError> {
    if k == 0 {
        return Err(NmfError::Params("-k must be at least 1".into()));
    }
    if !matches!(init, Init::Nndsvd | Init::Nndsvda | Init::Nndsvdar) {
        return Err(NmfError::Params(format!(
            "--init {} does not start from an SVD",
            init_name(init)
        )));
    }
    let (n, m) = x.shape();
    if svd.u.nrows() != n || svd.vt.ncols() != m || svd.u.ncols() != svd.s.len() {
        return Err(NmfError::Data(format!(
            "the SVD is of a {}×{} matrix, X is {n}×{m}",
            svd.u.nrows(),
            svd.vt.ncols()
        )));
    }
    if svd.s.len() < k || svd.vt.nrows() < k {
        return Err(NmfError::Params(format!(
            "-k {k} needs an SVD with at least {k} triplets (it has {})",
            svd.s.len()
        )));
    }
    check_matrix(x)?;
    let head = TruncatedSvd {
        u: svd.u.slice(ndarray::s![.., ..k]).to_owned(),
        s: svd.s.slice(ndarray::s![..k]).to_owned(),
        vt: svd.vt.slice(ndarray::s![..k, ..]).to_owned(),
    };
    let (mut w, mut h) = nndsvd_factors(head);
    let mean = matrix_mean(x);
    match init {
        Init::Nndsvda => {
            for a in w.iter_mut().chain(h.iter_mut()) {
                if *a == 0.0 {
                    *a = mean;
                }
            }
        }
        Init::Nndsvdar => {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(1);
            for a in w.iter_mut().chain(h.iter_mut()) {
                if *a == 0.0 {
                    let z: f64 = StandardNormal.sample(&mut rng);
                    *a = (mean * z / 100.0).abs();
                }
            }
        }
        _ => {}
    }
    Ok((w, h))
}

/// Plain NNDSVD factors (entries below [`NNDSVD_EPS`] zeroed) from a truncated SVD. W is built
/// in U's own storage (column j of W from column j of U alone), so that the two are not held at
/// once.
fn nndsvd_factors(svd: TruncatedSvd) -> (Array2<f64>, Array2<f64>) {
    let TruncatedSvd { u, s, vt } = svd;
    let k = u.ncols();
    let m = vt.ncols();
    let mut w = u;
    let mut h = Array2::<f64>::zeros((k, m));
    let s0 = s[0].max(0.0).sqrt();
    w.column_mut(0).mapv_inplace(|v| s0 * v.abs());
    h.row_mut(0).assign(&vt.row(0).mapv(|v| s0 * v.abs()));
    let norm = |it: &mut dyn Iterator<Item = f64>| it.map(|v| v * v).sum::<f64>().sqrt();
    for j in 1..k {
        let u = w.column(j);
        let v = vt.row(j);
        let up = norm(&mut u.iter().map(|&a| a.max(0.0)));
        let un = norm(&mut u.iter().map(|&a| (-a).max(0.0)));
        let vp = norm(&mut v.iter().map(|&a| a.max(0.0)));
        let vn = norm(&mut v.iter().map(|&a| (-a).max(0.0)));
        let (mp, mn) = (up * vp, un * vn);
        // sign = +1 takes the positive parts, −1 the negative parts
        let (sign, sigma, un_, vn_) = if mp > mn {
            (1.0, mp, up, vp)
        } else {
            (-1.0, mn, un, vn)
        };
        if sigma <= 0.0 {
            // σ = 0: scikit-learn would produce 0/0; leave zeros
            w.column_mut(j).fill(0.0);
            continue;
        }
        let lambda = (s[j].max(0.0) * sigma).sqrt();
        w.column_mut(j)
            .mapv_inplace(|a| lambda * (sign * a).max(0.0) / un_);
        for (o, &a) in h.row_mut(j).iter_mut().zip(v.iter()) {
            *o = lambda * (sign * a).max(0.0) / vn_;
        }
    }
    for a in w.iter_mut().chain(h.iter_mut()) {
        if *a < NNDSVD_EPS {
            *a = 0.0;
        }
    }
    (w, h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::Triplets;

    #[test]
    fn nndsvd_from_a_precomputed_svd() {
        // a rank-3 matrix: the randomized SVD is exact, so the leading triplets of a rank-5
        // SVD give the rank-2 start up to rounding
        let a = Array2::from_shape_fn((12, 3), |(i, j)| ((i * 7 + j * 3) % 5) as f64 + 0.5);
        let b = Array2::from_shape_fn((3, 9), |(i, j)| ((i * 5 + j * 2) % 4) as f64 + 0.25);
        let x = dense_to_csr(&a.dot(&b));
        for init in [Init::Nndsvd, Init::Nndsvda, Init::Nndsvdar] {
            let same = randomized_svd(&x, 2, 3).unwrap();
            let (w, h) = nndsvd_from_svd(&x, &same, 2, init, 3).unwrap();
            let (w0, h0) = initialize(&x, 2, init, 3, None, None).unwrap();
            assert_eq!((&w, &h), (&w0, &h0), "{init}: the same bits as initialize");
            let big = randomized_svd(&x, 5, 11).unwrap();
            let (w5, h5) = nndsvd_from_svd(&x, &big, 2, init, 3).unwrap();
            assert_eq!((w5.dim(), h5.dim()), ((12, 2), (2, 9)));
            if init != Init::Nndsvdar {
                let close = |p: &Array2<f64>, q: &Array2<f64>| {
                    p.iter().zip(q.iter()).all(|(u, v)| (u - v).abs() < 1e-8)
                };
                assert!(close(&w5, &w0) && close(&h5, &h0), "{init}");
            }
        }
        let svd = randomized_svd(&x, 2, 0).unwrap();
        assert!(nndsvd_from_svd(&x, &svd, 3, Init::Nndsvda, 0).is_err());
        assert!(nndsvd_from_svd(&x, &svd, 0, Init::Nndsvda, 0).is_err());
        assert!(nndsvd_from_svd(&x, &svd, 2, Init::Random, 0).is_err());
        let other = dense_to_csr(&Array2::ones((4, 9)));
        assert!(nndsvd_from_svd(&other, &svd, 2, Init::Nndsvd, 0).is_err());
    }

    fn dense_to_csr(d: &Array2<f64>) -> Matrix {
        let mut t = Triplets::new(d.dim());
        for ((i, j), &v) in d.indexed_iter() {
            if v != 0.0 {
                t.add_triplet(i, j, v);
            }
        }
        t.to_csr()
    }

    fn rows_to_array(v: &serde_json::Value) -> Array2<f64> {
        let rows = v.as_array().expect("rows");
        let m = rows[0].as_array().expect("row").len();
        let flat: Vec<f64> = rows
            .iter()
            .flat_map(|r| {
                r.as_array()
                    .expect("row")
                    .iter()
                    .map(|a| a.as_f64().expect("number"))
            })
            .collect();
        Array2::from_shape_vec((rows.len(), m), flat).expect("shape")
    }

    fn assert_close(got: &Array2<f64>, want: &Array2<f64>, what: &str) {
        assert_eq!(got.dim(), want.dim(), "{what}: shape");
        for ((i, j), w) in want.indexed_iter() {
            let g = got[(i, j)];
            assert!(
                (g - w).abs() <= 1e-6 * w.abs() + 1e-12,
                "{what}[{i},{j}]: {g} vs scikit-learn's {w}"
            );
        }
    }

    /// Reference values from scikit-learn 1.9.1 (`_initialize_nmf`), written by
    /// tools/make_init_fixture.py.
    #[test]
    fn nndsvd_and_nndsvda_match_scikit_learn() {
        let text = include_str!("../../tests/fixtures/init_nndsvd.json");
        let fixture: serde_json::Value = serde_json::from_str(text).expect("fixture");
        assert_eq!(fixture["sklearn_version"], "1.9.1");
        let x = dense_to_csr(&rows_to_array(&fixture["x"]));
        let cases = fixture["cases"].as_array().expect("cases");
        assert_eq!(cases.len(), 4);
        for case in cases {
            let k = case["k"].as_u64().expect("k") as usize;
            let init = match case["init"].as_str().expect("init") {
                "nndsvd" => Init::Nndsvd,
                "nndsvda" => Init::Nndsvda,
                other => panic!("unexpected init {other}"),
            };
            for seed in [0, 1] {
                let (w, h) = initialize(&x, k, init, seed, None, None).expect("init");
                let what = format!("{} k={k} seed={seed}", init_name(init));
                assert_close(&w, &rows_to_array(&case["w"]), &format!("W {what}"));
                assert_close(&h, &rows_to_array(&case["h"]), &format!("H {what}"));
            }
        }
    }

    fn random_sparse(n: usize, m: usize, density: f64, seed: u64) -> Matrix {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut t = Triplets::new((n, m));
        for i in 0..n {
            for j in 0..m {
                let p: f64 = rand::Rng::random(&mut rng);
                if p < density {
                    let v: f64 = rand::Rng::random(&mut rng);
                    t.add_triplet(i, j, 1.0 + v);
                }
            }
        }
        t.to_csr()
    }

    #[test]
    fn nndsvd_does_not_depend_on_the_signs_of_singular_pairs() {
        let x = random_sparse(50, 40, 0.15, 8);
        let svd = randomized_svd(&x, 5, 0).expect("svd");
        let (w, h) = nndsvd_factors(svd.clone());
        let mut flipped = svd.clone();
        for j in [0, 2, 3] {
            flipped.u.column_mut(j).mapv_inplace(|a| -a);
            flipped.vt.row_mut(j).mapv_inplace(|a| -a);
        }
        assert_ne!(flipped, svd);
        assert_eq!(nndsvd_factors(flipped), (w, h));
    }

    #[test]
    fn random_init_scale_determinism_and_seeds() {
        let x = random_sparse(300, 200, 0.05, 1);
        let k = 5;
        let (w, h) = initialize(&x, k, Init::Random, 7, None, None).expect("init");
        assert_eq!(w.dim(), (300, k));
        assert_eq!(h.dim(), (k, 200));
        assert!(w.iter().chain(h.iter()).all(|&v| v >= 0.0 && v.is_finite()));
        let avg = (matrix_mean(&x) / k as f64).sqrt();
        let expected = avg * (2.0 / std::f64::consts::PI).sqrt();
        let all: Vec<f64> = w.iter().chain(h.iter()).copied().collect();
        let mean = all.iter().sum::<f64>() / all.len() as f64;
        // 2500 draws of a half-normal: standard error ≈ 0.6·avg/50
        assert!(
            (mean - expected).abs() < 0.05 * expected,
            "{mean} vs {expected}"
        );
        let (w2, h2) = initialize(&x, k, Init::Random, 7, None, None).expect("init");
        assert_eq!((&w, &h), (&w2, &h2));
        let (w3, h3) = initialize(&x, k, Init::Random, 8, None, None).expect("init");
        assert_ne!(w, w3);
        assert_ne!(h, h3);
        // k larger than min(n, m) is allowed for random
        let (w4, _) = initialize(&x, 250, Init::Random, 0, None, None).expect("large k");
        assert_eq!(w4.ncols(), 250);
    }

    #[test]
    fn zero_matrix_gives_zero_factors_without_nan() {
        let x: Matrix = Matrix::zero((6, 4));
        for init in [Init::Random, Init::Nndsvd, Init::Nndsvda, Init::Nndsvdar] {
            let (w, h) = initialize(&x, 3, init, 0, None, None).expect("init");
            assert!(
                w.iter().chain(h.iter()).all(|&v| v == 0.0),
                "{}",
                init_name(init)
            );
        }
    }

    #[test]
    fn nndsvd_variants_fill_zeros() {
        let x = random_sparse(80, 60, 0.1, 3);
        let mean = matrix_mean(&x);
        let (w, h) = initialize(&x, 6, Init::Nndsvd, 0, None, None).expect("nndsvd");
        let zeros = w.iter().chain(h.iter()).filter(|&&v| v == 0.0).count();
        assert!(zeros > 0, "NNDSVD of a sparse matrix has zeros");
        assert!(w
            .iter()
            .chain(h.iter())
            .all(|&v| v == 0.0 || v >= NNDSVD_EPS));
        // the leading pair is √s₀·|u₀|, √s₀·|v₀|: W[:,0]·H[0,:] sums to s₀·‖u₀‖₁‖v₀‖₁ > 0
        assert!(w.column(0).sum() > 0.0 && h.row(0).sum() > 0.0);

        let (wa, ha) = initialize(&x, 6, Init::Nndsvda, 0, None, None).expect("nndsvda");
        for (a, b) in w.iter().chain(h.iter()).zip(wa.iter().chain(ha.iter())) {
            if *a == 0.0 {
                assert_eq!(*b, mean);
            } else {
                assert_eq!(a, b);
            }
        }

        let (wr, hr) = initialize(&x, 6, Init::Nndsvdar, 0, None, None).expect("nndsvdar");
        let mut filled = Vec::new();
        for (a, b) in w.iter().chain(h.iter()).zip(wr.iter().chain(hr.iter())) {
            if *a == 0.0 {
                assert!(
                    *b > 0.0 && *b < mean,
                    "{b} should be a small positive value"
                );
                filled.push(*b);
            } else {
                assert_eq!(a, b);
            }
        }
        // |N(0,1)|·mean/100 has mean mean·√(2/π)/100
        let avg = filled.iter().sum::<f64>() / filled.len() as f64;
        let expected = mean * (2.0 / std::f64::consts::PI).sqrt() / 100.0;
        assert!(
            (avg - expected).abs() < 0.2 * expected,
            "{avg} vs {expected}"
        );
        let (wr2, _) = initialize(&x, 6, Init::Nndsvdar, 1, None, None).expect("nndsvdar");
        assert_ne!(wr, wr2);
    }

    #[test]
    fn identical_bits_with_one_or_two_threads() {
        let x = random_sparse(2500, 300, 0.03, 5);
        for init in [Init::Random, Init::Nndsvda, Init::Nndsvdar] {
            let run = |threads: usize| {
                rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .expect("pool")
                    .install(|| initialize(&x, 8, init, 3, None, None).expect("init"))
            };
            assert_eq!(run(1), run(2), "{}", init_name(init));
        }
    }

    #[test]
    fn custom_init_is_checked_and_cloned() {
        let x = random_sparse(5, 4, 0.5, 2);
        let w0 = Array2::from_elem((5, 2), 0.5);
        let h0 = Array2::from_elem((2, 4), 0.25);
        let (w, h) = initialize(&x, 2, Init::Custom, 0, Some(&w0), Some(&h0)).expect("custom");
        assert_eq!((w, h), (w0.clone(), h0.clone()));

        let err = initialize(&x, 2, Init::Custom, 0, Some(&w0), None).unwrap_err();
        assert!(matches!(&err, NmfError::Params(s) if s == "--init custom needs --w0 and --h0"));
        assert!(matches!(
            initialize(&x, 2, Init::Custom, 0, None, Some(&h0)),
            Err(NmfError::Params(_))
        ));

        let bad_w = Array2::from_elem((4, 2), 0.5);
        let err = initialize(&x, 2, Init::Custom, 0, Some(&bad_w), Some(&h0)).unwrap_err();
        assert!(
            matches!(&err, NmfError::Data(s) if s.contains("--w0") && s.contains("4×2") && s.contains("5×2"))
        );
        let bad_h = Array2::from_elem((2, 5), 0.5);
        let err = initialize(&x, 2, Init::Custom, 0, Some(&w0), Some(&bad_h)).unwrap_err();
        assert!(matches!(&err, NmfError::Data(s) if s.contains("--h0") && s.contains("2×4")));

        let mut nan_w = w0.clone();
        nan_w[(1, 1)] = f64::NAN;
        let err = initialize(&x, 2, Init::Custom, 0, Some(&nan_w), Some(&h0)).unwrap_err();
        assert!(matches!(&err, NmfError::Data(s) if s.contains("--w0") && s.contains("NaN")));
        let mut inf_h = h0.clone();
        inf_h[(0, 3)] = f64::INFINITY;
        let err = initialize(&x, 2, Init::Custom, 0, Some(&w0), Some(&inf_h)).unwrap_err();
        assert!(matches!(&err, NmfError::Data(s) if s.contains("--h0")));

        let mut neg_h = h0.clone();
        neg_h[(1, 0)] = -1.0;
        let err = initialize(&x, 2, Init::Custom, 0, Some(&w0), Some(&neg_h)).unwrap_err();
        assert!(matches!(&err, NmfError::Data(s) if s.contains("--h0") && s.contains("negative")));

        let zero_w = Array2::zeros((5, 2));
        let err = initialize(&x, 2, Init::Custom, 0, Some(&zero_w), Some(&h0)).unwrap_err();
        assert!(matches!(&err, NmfError::Data(s) if s.contains("all zeros")));
    }

    #[test]
    fn parameter_and_data_errors() {
        let x = random_sparse(40, 30, 0.2, 4);
        let err = initialize(&x, 50, Init::Nndsvda, 0, None, None).unwrap_err();
        assert!(matches!(&err, NmfError::Params(s)
            if s == "-k 50 is larger than min(documents, terms) = 30, which --init nndsvda requires"));
        for init in [Init::Nndsvd, Init::Nndsvdar] {
            assert!(matches!(
                initialize(&x, 31, init, 0, None, None),
                Err(NmfError::Params(_))
            ));
        }
        for init in [Init::Random, Init::Nndsvd, Init::Custom] {
            let err = initialize(&x, 0, init, 0, None, None).unwrap_err();
            assert!(matches!(&err, NmfError::Params(s) if s.contains("-k")));
        }

        let mut t = Triplets::new((3, 3));
        t.add_triplet(0, 0, 1.0);
        t.add_triplet(2, 1, -0.5);
        let neg: Matrix = t.to_csr();
        let err = initialize(&neg, 2, Init::Random, 0, None, None).unwrap_err();
        assert!(
            matches!(&err, NmfError::Data(s) if s.contains("negative") && s.contains("document 2"))
        );

        let mut t = Triplets::new((3, 3));
        t.add_triplet(1, 2, f64::NAN);
        let nan: Matrix = t.to_csr();
        assert!(matches!(
            initialize(&nan, 2, Init::Nndsvda, 0, None, None),
            Err(NmfError::Data(_))
        ));
    }
}
