//! Parity with scikit-learn's `NMF(solver="mu")` and `NMF(solver="cd", shuffle=False)`, with
//! `init="custom"`.
//!
//! Expected factors come from scikit-learn 1.9.1 (the version is stored in the fixtures),
//! produced by `tools/make_nmf_fixture.py` (mu) and `tools/make_cd_fixture.py` (cd): a fixed
//! 30×20 sparse matrix with an all-zero row and column, fixed W0/H0 (k = 4), `tol = 0`,
//! without and with L1/L2 penalties; mu for 10 and 50 iterations with Frobenius and KL, cd for
//! 1, 10 and 50 iterations.

use ndarray::Array2;
use nmf_topics::matrix::Triplets;
use nmf_topics::nmf::online::OnlineOptions;
use nmf_topics::nmf::{Loss, NmfParams, Solver};
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixture {
    sklearn_version: String,
    shape: [usize; 2],
    k: usize,
    x_rows: Vec<usize>,
    x_cols: Vec<usize>,
    x_vals: Vec<f64>,
    w0: Vec<Vec<f64>>,
    h0: Vec<Vec<f64>>,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    #[serde(default)]
    loss: String,
    #[serde(default)]
    fresh_restarts: bool,
    alpha_w: f64,
    alpha_h: Option<f64>,
    l1_ratio: f64,
    max_iter: usize,
    n_iter: usize,
    w: Vec<Vec<f64>>,
    h: Vec<Vec<f64>>,
    #[serde(default)]
    reconstruction_err: f64,
}

fn array(rows: &[Vec<f64>]) -> Array2<f64> {
    let (r, c) = (rows.len(), rows[0].len());
    Array2::from_shape_fn((r, c), |(i, j)| rows[i][j])
}

/// max |a − b| / max |b|.
fn rel_diff(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
    assert_eq!(a.dim(), b.dim());
    let scale = b.iter().fold(0.0f64, |s, v| s.max(v.abs()));
    let diff = a
        .iter()
        .zip(b.iter())
        .fold(0.0f64, |s, (p, q)| s.max((p - q).abs()));
    diff / scale
}

fn load(name: &str) -> Fixture {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).expect("fixture present");
    serde_json::from_str(&text).expect("fixture parses")
}

fn matrix(fx: &Fixture) -> nmf_topics::matrix::Matrix {
    let [n, m] = fx.shape;
    let mut t = Triplets::new((n, m));
    for ((&i, &j), &v) in fx.x_rows.iter().zip(&fx.x_cols).zip(&fx.x_vals) {
        t.add_triplet(i, j, v);
    }
    t.to_csr()
}

#[test]
fn mu_matches_scikit_learn_to_1e_6() {
    let fx = load("nmf_mu.json");
    assert!(fx.sklearn_version.starts_with("1."));
    let x = matrix(&fx);
    let (w0, h0) = (array(&fx.w0), array(&fx.h0));
    assert_eq!(fx.cases.len(), 16);
    for c in &fx.cases {
        let loss = if c.loss == "kl" {
            Loss::Kl
        } else {
            Loss::Frobenius
        };
        let model = NmfParams::new(fx.k)
            .solver(Solver::Mu)
            .loss(loss)
            .custom_init(w0.clone(), h0.clone())
            .alpha_w(c.alpha_w)
            .alpha_h(c.alpha_h)
            .l1_ratio(c.l1_ratio)
            .tol(0.0)
            .max_iter(c.max_iter)
            .check()
            .unwrap()
            .fit(&x, &mut |_, _| {})
            .unwrap();
        let what = format!(
            "{} alpha_w={} alpha_h={:?} l1_ratio={} iters={}",
            c.loss, c.alpha_w, c.alpha_h, c.l1_ratio, c.max_iter
        );
        assert_eq!(model.iterations, c.n_iter, "{what}");
        assert_eq!(model.history.len(), c.n_iter, "{what}");
        let dw = rel_diff(&model.w, &array(&c.w));
        let dh = rel_diff(&model.h, &array(&c.h));
        eprintln!("{what}: dW {dw:.1e} dH {dh:.1e}");
        assert!(dw < 1e-6, "{what}: W differs by {dw:e}");
        assert!(dh < 1e-6, "{what}: H differs by {dh:e}");
        let de = (model.metrics.reconstruction_error - c.reconstruction_err).abs()
            / c.reconstruction_err;
        assert!(de < 1e-6, "{what}: reconstruction error differs by {de:e}");
    }
}

#[test]
fn hals_matches_scikit_learn_coordinate_descent_to_1e_6() {
    let fx = load("nmf_cd.json");
    assert!(fx.sklearn_version.starts_with("1."));
    let x = matrix(&fx);
    let (w0, h0) = (array(&fx.w0), array(&fx.h0));
    assert_eq!(fx.cases.len(), 12);
    for c in &fx.cases {
        let model = NmfParams::new(fx.k)
            .solver(Solver::Hals)
            .custom_init(w0.clone(), h0.clone())
            .alpha_w(c.alpha_w)
            .alpha_h(c.alpha_h)
            .l1_ratio(c.l1_ratio)
            .tol(0.0)
            .max_iter(c.max_iter)
            .check()
            .unwrap()
            .fit(&x, &mut |_, _| {})
            .unwrap();
        let what = format!(
            "cd alpha_w={} alpha_h={:?} l1_ratio={} iters={}",
            c.alpha_w, c.alpha_h, c.l1_ratio, c.max_iter
        );
        assert_eq!(model.iterations, c.n_iter, "{what}");
        let dw = rel_diff(&model.w, &array(&c.w));
        let dh = rel_diff(&model.h, &array(&c.h));
        eprintln!("{what}: dW {dw:.1e} dH {dh:.1e}");
        assert!(dw < 1e-6, "{what}: W differs by {dw:e}");
        assert!(dh < 1e-6, "{what}: H differs by {dh:e}");
        let de = (model.metrics.reconstruction_error - c.reconstruction_err).abs()
            / c.reconstruction_err;
        assert!(de < 1e-6, "{what}: reconstruction error differs by {de:e}");
    }
}

#[test]
fn online_matches_scikit_learn_minibatch_nmf_to_1e_6() {
    let fx = load("nmf_online.json");
    assert!(fx.sklearn_version.starts_with("1."));
    let x = matrix(&fx);
    let (w0, h0) = (array(&fx.w0), array(&fx.h0));
    assert_eq!(fx.cases.len(), 16);
    for c in &fx.cases {
        let loss = if c.loss == "kl" {
            Loss::Kl
        } else {
            Loss::Frobenius
        };
        let opts = OnlineOptions {
            batch_size: 7,
            forget_factor: 0.7,
            fresh_restarts: c.fresh_restarts,
            max_no_improvement: None,
            ..OnlineOptions::default()
        };
        let model = NmfParams::new(fx.k)
            .solver(Solver::Online)
            .online(opts)
            .loss(loss)
            .custom_init(w0.clone(), h0.clone())
            .alpha_w(c.alpha_w)
            .alpha_h(c.alpha_h)
            .l1_ratio(c.l1_ratio)
            .tol(0.0)
            .max_iter(c.max_iter)
            .check()
            .unwrap()
            .fit(&x, &mut |_, _| {})
            .unwrap();
        let what = format!(
            "online {} fresh={} alpha_w={} alpha_h={:?} l1_ratio={} epochs={}",
            c.loss, c.fresh_restarts, c.alpha_w, c.alpha_h, c.l1_ratio, c.max_iter
        );
        assert_eq!(model.iterations, c.n_iter, "{what}");
        let dw = rel_diff(&model.w, &array(&c.w));
        let dh = rel_diff(&model.h, &array(&c.h));
        eprintln!("{what}: dW {dw:.1e} dH {dh:.1e}");
        assert!(dw < 1e-6, "{what}: W differs by {dw:e}");
        assert!(dh < 1e-6, "{what}: H differs by {dh:e}");
    }
}
