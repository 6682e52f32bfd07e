//! The NNLS solver (block principal pivoting) against `scipy.optimize.nnls` on the problems of
//! `tests/fixtures/nnls.json` (made by `tools/make_nnls_fixture.py`, scipy's version stored in
//! the file), in the Gram form min ½xᵀGx − bᵀx, x ≥ 0; k from 1 to 30.

use nmf_topics::nmf::nnls::nnls_rows;
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixture {
    scipy_version: String,
    problems: Vec<Problem>,
}

#[derive(Deserialize)]
struct Problem {
    k: usize,
    g: Vec<f64>,
    b: Vec<f64>,
    x: Vec<f64>,
}

#[test]
fn nnls_equals_scipy_and_meets_the_kkt_conditions() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/nnls.json");
    let fx: Fixture = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert!(!fx.scipy_version.is_empty());
    assert_eq!(fx.problems.len(), 48);
    for (n, p) in fx.problems.iter().enumerate() {
        let k = p.k;
        // Cold and warm starts (all positive, scipy's answer) give the same answer.
        for start in [vec![0.0; k], vec![1.0; k], p.x.clone()] {
            let mut x = start;
            let st = nnls_rows(&p.g, &p.b, &mut x, k);
            assert_eq!(st.unsettled, 0, "problem {n}");
            let scale = 1.0 + p.x.iter().fold(0.0f64, |a, v| a.max(v.abs()));
            for (l, (got, want)) in x.iter().zip(&p.x).enumerate() {
                assert!(
                    (got - want).abs() <= 1e-8 * scale,
                    "problem {n} (k = {k}), x_{l}: {got} vs scipy {want}"
                );
            }
            // KKT: x ≥ 0, y = Gx − b ≥ 0, x·y = 0.
            let bscale = 1.0 + p.b.iter().fold(0.0f64, |a, v| a.max(v.abs()));
            for l in 0..k {
                let y: f64 = (0..k).map(|q| p.g[l * k + q] * x[q]).sum::<f64>() - p.b[l];
                assert!(x[l] >= 0.0);
                assert!(y >= -1e-9 * bscale, "problem {n}: y_{l} = {y}");
                assert!(
                    (x[l] * y).abs() <= 1e-9 * bscale * scale,
                    "problem {n}: x·y at {l}"
                );
            }
        }
    }
}
