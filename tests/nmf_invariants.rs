//! Invariants of every solver (multiplicative updates for both losses, coordinate descent,
//! exact ALS, graph-regularized NMF for both losses with its default k-nearest-neighbour
//! graph, non-smooth NMF, projected gradient): monotone objective, non-negativity, recovery
//! of planted factors, sparse = dense losses, zero rows/columns, determinism across thread
//! counts, the stopping rules, data validation and `transform`; then the properties of each
//! of the last three methods.

use std::sync::Arc;

use ndarray::{Array1, Array2, Axis};
use nmf_topics::nmf::graph::{DocGraph, GraphSpec, GraphWeight};
use nmf_topics::nmf::online::OnlineOptions;
use nmf_topics::nmf::{
    hoyer_sparsity, transform, AlsVariant, Init, Loss, Method, NmfError, NmfModel, NmfParams,
    Solver,
};

/// Every solver with every loss it supports (online has its own tests below).
const COMBOS: [(Solver, Loss); 8] = [
    (Solver::Mu, Loss::Frobenius),
    (Solver::Mu, Loss::Kl),
    (Solver::Hals, Loss::Frobenius),
    (Solver::Als, Loss::Frobenius),
    (Solver::Gnmf, Loss::Frobenius),
    (Solver::Gnmf, Loss::Kl),
    (Solver::Nsnmf, Loss::Kl),
    (Solver::Pg, Loss::Frobenius),
];

/// The combinations that take L1/L2 penalties (gnmf and nsnmf refuse them).
fn penalized() -> impl Iterator<Item = (Solver, Loss)> {
    COMBOS
        .into_iter()
        .filter(|(s, _)| !matches!(s, Solver::Gnmf | Solver::Nsnmf))
}
use nmf_topics::matrix::{Matrix, Triplets};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A random sparse n×m matrix with about `density` of its entries stored, values in (0, 3].
fn random_sparse(n: usize, m: usize, density: f64, seed: u64) -> Matrix {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut t = Triplets::new((n, m));
    for i in 0..n {
        for j in 0..m {
            if rng.random::<f64>() < density {
                t.add_triplet(i, j, 3.0 * (1.0 - rng.random::<f64>()));
            }
        }
    }
    t.to_csr()
}

fn random_factor(r: usize, c: usize, zeros: f64, seed: u64) -> Array2<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Array2::from_shape_fn((r, c), |_| {
        if rng.random::<f64>() < zeros {
            0.0
        } else {
            0.1 + rng.random::<f64>()
        }
    })
}

fn fit(x: &Matrix, params: NmfParams) -> NmfModel {
    params.check().unwrap().fit(x, &mut |_, _| {}).unwrap()
}

fn custom(x: &Matrix, k: usize, seed: u64) -> NmfParams {
    let (n, m) = x.shape();
    NmfParams::new(k).custom_init(
        random_factor(n, k, 0.0, seed),
        random_factor(k, m, 0.0, seed + 1000),
    )
}

fn dense(x: &Matrix) -> Array2<f64> {
    x.to_dense()
}

/// The planted exact rank-k matrix X = W*·H* (factors with about 30% zeros), stored sparse.
fn planted(n: usize, m: usize, k: usize, seed: u64) -> (Matrix, Array2<f64>) {
    let w = random_factor(n, k, 0.3, seed);
    let h = random_factor(k, m, 0.3, seed + 1);
    let prod = w.dot(&h);
    let mut t = Triplets::new((n, m));
    for ((i, j), &v) in prod.indexed_iter() {
        if v > 0.0 {
            t.add_triplet(i, j, v);
        }
    }
    (t.to_csr(), w)
}

#[test]
fn objective_never_increases_without_penalties() {
    for seed in 0..4 {
        for (solver, loss) in COMBOS {
            let x = random_sparse(70, 45, 0.15 + 0.05 * seed as f64, seed);
            let model = fit(
                &x,
                custom(&x, 5, seed)
                    .solver(solver)
                    .loss(loss)
                    .tol(0.0)
                    .max_iter(120),
            );
            assert_eq!(model.history.len(), 120);
            for (t, pair) in model.history.windows(2).enumerate() {
                assert!(
                    pair[1] <= pair[0] * (1.0 + 1e-6),
                    "seed {seed} {solver}/{loss}: objective rose at iteration {}: {} -> {}",
                    t + 2,
                    pair[0],
                    pair[1]
                );
            }
            assert!(model.history[119] < model.history[0]);
            assert!(model
                .w
                .iter()
                .chain(model.h.iter())
                .all(|v| *v >= 0.0 && v.is_finite()));
        }
    }
}

#[test]
fn repeated_hals_sweeps_never_raise_the_objective() {
    for seed in 0..4 {
        let (x, _) = planted(120, 60, 6, seed);
        let run = |inner: usize, alpha: f64| {
            fit(
                &x,
                custom(&x, 6, seed)
                    .solver(Solver::Hals)
                    .inner_sweeps(inner)
                    .alpha_w(alpha)
                    .l1_ratio(0.5)
                    .tol(0.0)
                    .max_iter(40),
            )
        };
        for alpha in [0.0, 0.01] {
            let one = run(1, alpha);
            let more = run(6, alpha);
            for (t, pair) in more.history.windows(2).enumerate() {
                assert!(
                    pair[1] <= pair[0] * (1.0 + 1e-9),
                    "seed {seed} α {alpha}: objective rose at iteration {}: {} -> {}",
                    t + 2,
                    pair[0],
                    pair[1]
                );
            }
            assert_ne!(bits(&one), bits(&more), "the repeats must change something");
            assert!(more.w.iter().chain(more.h.iter()).all(|v| *v >= 0.0));
        }
    }
}

#[test]
fn factors_stay_non_negative_and_finite_with_penalties() {
    let x = random_sparse(50, 40, 0.2, 9);
    for (solver, loss) in penalized() {
        let model = fit(
            &x,
            custom(&x, 6, 3)
                .solver(solver)
                .loss(loss)
                .alpha_w(0.01)
                .l1_ratio(0.3)
                .max_iter(60),
        );
        assert!(model
            .w
            .iter()
            .chain(model.h.iter())
            .all(|v| *v >= 0.0 && v.is_finite()));
        assert!(model.history.iter().all(|v| v.is_finite()));
        let m = &model.metrics;
        for v in [
            m.loss,
            m.divergence,
            m.reconstruction_error,
            m.explained_variance,
        ] {
            assert!(v.is_finite());
        }
        assert!(m.loss >= m.divergence);
    }
}

#[test]
fn planted_rank_k_matrix_is_recovered() {
    let (x, _) = planted(40, 30, 3, 5);
    let model = fit(&x, custom(&x, 3, 11).tol(0.0).max_iter(3000));
    let xd = dense(&x);
    let resid = (&xd - &model.w.dot(&model.h)).mapv(|v| v * v).sum().sqrt();
    let rel = resid / xd.mapv(|v| v * v).sum().sqrt();
    assert!(rel < 1e-3, "relative error {rel:e}");
    assert!(model.metrics.explained_variance > 1.0 - 1e-6);
}

#[test]
fn sparse_losses_equal_dense_computations() {
    let x = random_sparse(25, 18, 0.3, 21);
    let xd = dense(&x);
    for (solver, loss) in COMBOS {
        let model = fit(
            &x,
            custom(&x, 4, 2)
                .solver(solver)
                .loss(loss)
                .max_iter(15)
                .tol(0.0),
        );
        let wh = model.w.dot(&model.h);
        let frob: f64 = (&xd - &wh).mapv(|v| v * v).sum();
        let want = match loss {
            Loss::Frobenius => 0.5 * frob,
            Loss::Kl => {
                let mut s = 0.0;
                for ((i, j), &v) in xd.indexed_iter() {
                    if v > 0.0 {
                        s += v * (v / wh[[i, j]]).ln() - v;
                    }
                    s += wh[[i, j]];
                }
                s
            }
        };
        let got = model.metrics.divergence;
        assert!(
            (got - want).abs() <= 1e-9 * want,
            "{solver}/{loss}: {got} vs dense {want}"
        );
        // gnmf's objective adds the graph term (checked in its own test below).
        if solver != Solver::Gnmf {
            assert!((model.metrics.loss - want).abs() <= 1e-9 * want);
        }
        assert_eq!(*model.history.last().unwrap(), model.metrics.loss);
        let ev = 1.0 - frob / xd.mapv(|v| v * v).sum();
        assert!((model.metrics.explained_variance - ev).abs() < 1e-9);
    }
}

#[test]
fn zero_rows_and_columns_get_zero_weights() {
    let mut t = Triplets::new((12, 9));
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    for i in 0..12 {
        for j in 0..9 {
            if i % 4 != 1 && j != 5 && rng.random::<f64>() < 0.5 {
                t.add_triplet(i, j, rng.random::<f64>() + 0.1);
            }
        }
    }
    let x: Matrix = t.to_csr();
    for (solver, loss) in COMBOS {
        let model = fit(&x, custom(&x, 3, 8).solver(solver).loss(loss).max_iter(30));
        for i in [1, 5, 9] {
            assert!(model.w.row(i).iter().all(|v| *v == 0.0), "{loss}: row {i}");
        }
        assert!(
            model.h.column(5).iter().all(|v| *v == 0.0),
            "{loss}: column 5"
        );
        assert!(model.w.iter().chain(model.h.iter()).all(|v| v.is_finite()));
    }
}

#[test]
fn an_all_zero_matrix_gives_zeros_and_no_nan() {
    let x: Matrix = Triplets::new((6, 4)).to_csr();
    for (solver, loss) in COMBOS {
        let model = fit(
            &x,
            NmfParams::new(2)
                .init(Init::Random)
                .solver(solver)
                .loss(loss)
                .max_iter(25),
        );
        assert!(model.w.iter().chain(model.h.iter()).all(|v| *v == 0.0));
        let m = &model.metrics;
        for v in [m.loss, m.explained_variance, m.sparsity_w, m.sparsity_h] {
            assert!(v.is_finite());
        }
    }
}

#[test]
fn same_bits_with_one_two_and_three_threads() {
    // 3 and 5 threads split each of the scatters' 2 parts into column ranges; k = 7 runs the
    // generic loops, k = 8 the register-resident ones.
    let x = random_sparse(700, 300, 0.05, 31);
    let mut cases: Vec<(String, NmfParams)> = Vec::new();
    for k in [7, 8] {
        for (solver, loss) in COMBOS {
            let p = custom(&x, k, 5).solver(solver).loss(loss);
            cases.push((format!("{solver}/{loss} k={k}"), p));
        }
        let p = custom(&x, k, 5).solver(Solver::Hals).shuffle(true);
        cases.push((format!("hals shuffled k={k}"), p));
        let p = custom(&x, k, 5).solver(Solver::Hals).inner_sweeps(5);
        cases.push((format!("hals 5 inner sweeps k={k}"), p));
        let p = custom(&x, k, 5)
            .als_variant(AlsVariant::Projected)
            .solver(Solver::Als);
        cases.push((format!("als projected k={k}"), p));
        for loss in [Loss::Frobenius, Loss::Kl] {
            let p = custom(&x, k, 5)
                .solver(Solver::Gnmf)
                .loss(loss)
                .graph(GraphSpec::Knn {
                    neighbours: 4,
                    weight: GraphWeight::Binary,
                })
                .graph_lambda(3.0);
            cases.push((format!("gnmf binary λ=3 {loss} k={k}"), p));
        }
        let p = custom(&x, k, 5)
            .solver(Solver::Nsnmf)
            .loss(Loss::Kl)
            .theta(0.8);
        cases.push((format!("nsnmf θ=0.8 k={k}"), p));
    }
    for (what, params) in cases {
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| fit(&x, params.clone().max_iter(20).tol(0.0)))
        };
        let bits = |m: &NmfModel| {
            m.w.iter()
                .chain(m.h.iter())
                .chain(m.history.iter())
                .map(|v| v.to_bits())
                .collect::<Vec<_>>()
        };
        let one = run(1);
        for threads in [2, 3, 5] {
            let other = run(threads);
            assert_eq!(bits(&one), bits(&other), "{what}, 1 vs {threads} threads");
            assert_eq!(one.metrics.loss.to_bits(), other.metrics.loss.to_bits());
        }
    }
}

#[test]
fn tol_zero_runs_exactly_max_iter() {
    let x = random_sparse(30, 20, 0.3, 2);
    for (solver, loss) in COMBOS {
        let model = fit(
            &x,
            custom(&x, 3, 1)
                .solver(solver)
                .loss(loss)
                .tol(0.0)
                .max_iter(37),
        );
        assert_eq!(model.iterations, 37);
        assert_eq!(model.history.len(), 37);
        assert!(!model.converged);
    }
}

#[test]
fn the_stopping_rule_stops_early_on_an_easy_problem() {
    let (x, _) = planted(30, 20, 2, 8);
    for (solver, loss) in COMBOS {
        let model = fit(
            &x,
            custom(&x, 2, 4)
                .solver(solver)
                .loss(loss)
                .tol(1e-3)
                .max_iter(2000),
        );
        let what = format!("{solver}/{loss}: {} iterations", model.iterations);
        assert!(model.converged, "{what}");
        assert!(model.iterations < 2000, "{what}");
        // The multiplicative updates check every 10 iterations, the others every iteration.
        if matches!(solver, Solver::Mu | Solver::Gnmf | Solver::Nsnmf) {
            assert!(model.iterations.is_multiple_of(10), "{what}");
        }
        assert_eq!(model.history.len(), model.iterations);
    }
}

#[test]
fn csc_input_gives_the_same_factors_as_csr() {
    let x = random_sparse(40, 25, 0.2, 12);
    let xc = x.to_csc();
    for (solver, loss) in COMBOS {
        let a = fit(&x, custom(&x, 3, 6).solver(solver).loss(loss).max_iter(20));
        let b = fit(&xc, custom(&x, 3, 6).solver(solver).loss(loss).max_iter(20));
        assert_eq!(a.w, b.w);
        assert_eq!(a.h, b.h);
    }
}

fn data_err(x: &Matrix) -> String {
    match NmfParams::new(2)
        .init(Init::Random)
        .check()
        .unwrap()
        .fit(x, &mut |_, _| {})
    {
        Err(NmfError::Data(m)) => m,
        other => panic!(
            "expected a data error, got {:?}",
            other.map(|m| m.iterations)
        ),
    }
}

#[test]
fn a_negative_entry_is_rejected_with_its_position() {
    let mut t = Triplets::new((5, 8));
    t.add_triplet(0, 0, 1.0);
    t.add_triplet(2, 6, -2.5);
    assert_eq!(
        data_err(&t.to_csr()),
        "X has a negative entry (-2.5) at row 3, column 7"
    );
}

#[test]
fn a_nan_or_infinite_entry_is_rejected() {
    let mut t = Triplets::new((5, 8));
    t.add_triplet(4, 1, f64::NAN);
    assert!(data_err(&t.to_csr()).starts_with("X has a NaN or infinite entry"));
    let mut t = Triplets::new((5, 8));
    t.add_triplet(1, 1, f64::INFINITY);
    assert!(data_err(&t.to_csr()).contains("at row 2, column 2"));
}

#[test]
fn an_empty_matrix_is_rejected() {
    let x: Matrix = Triplets::new((0, 8)).to_csr();
    assert!(data_err(&x).starts_with("X is empty"));
}

#[test]
fn custom_factors_of_the_wrong_shape_are_rejected() {
    let x = random_sparse(6, 5, 0.5, 1);
    let p = NmfParams::new(2).custom_init(Array2::ones((6, 3)), Array2::ones((2, 5)));
    assert!(matches!(
        p.check().unwrap().fit(&x, &mut |_, _| {}),
        Err(NmfError::Data(_))
    ));
}

#[test]
fn progress_sees_every_iteration_in_order() {
    let x = random_sparse(20, 15, 0.3, 3);
    for (solver, loss) in COMBOS {
        let mut seen = Vec::new();
        let model = custom(&x, 2, 2)
            .solver(solver)
            .loss(loss)
            .max_iter(13)
            .tol(0.0)
            .check()
            .unwrap()
            .fit(&x, &mut |t, obj| seen.push((t, obj)))
            .unwrap();
        assert_eq!(
            seen.iter().map(|s| s.0).collect::<Vec<_>>(),
            (1..=13).collect::<Vec<_>>()
        );
        // The last entry of the history is the final evaluation's, which for the solvers that
        // report their own objective agrees with what progress saw to rounding.
        let (last, head) = model.history.split_last().unwrap();
        let seen: Vec<f64> = seen.iter().map(|s| s.1).collect();
        assert_eq!(&seen[..12], head, "{solver}/{loss}");
        assert!((seen[12] - last).abs() <= 1e-12 * last, "{solver}/{loss}");
    }
}

fn dominant(w: &Array2<f64>) -> Vec<Option<usize>> {
    w.rows()
        .into_iter()
        .map(|r| {
            let (l, v) = r
                .iter()
                .enumerate()
                .fold((0, 0.0), |b, (l, &v)| if v > b.1 { (l, v) } else { b });
            (v > 0.0).then_some(l)
        })
        .collect()
}

#[test]
fn transform_of_the_training_matrix_reproduces_the_dominant_topics() {
    let (x, _) = planted(300, 60, 4, 17);
    for (solver, loss) in COMBOS {
        let params = custom(&x, 4, 9)
            .solver(solver)
            .loss(loss)
            .max_iter(400)
            .tol(1e-6);
        let model = fit(&x, params.clone());
        let valid = params.check().unwrap();
        let w = transform(&x, &model.h, &valid, None).unwrap();
        assert_eq!(w.dim(), model.w.dim());
        assert!(w.iter().all(|v| *v >= 0.0 && v.is_finite()));
        let (a, b) = (dominant(&model.w), dominant(&w));
        let same = a.iter().zip(&b).filter(|(p, q)| p == q).count();
        // gnmf's W is pulled toward its neighbours' by the graph, which new documents do not
        // have, and nsnmf's W carries the smoothing S: transform solves the data term alone,
        // so a few documents near a boundary between topics change sides.
        let share = match solver {
            Solver::Gnmf => 0.9,
            Solver::Nsnmf => 0.95,
            _ => 0.99,
        };
        assert!(
            same as f64 >= share * a.len() as f64,
            "{solver}/{loss}: {same} of {} rows agree",
            a.len()
        );
    }
}

#[test]
fn transform_rejects_a_mismatched_h() {
    let x = random_sparse(10, 6, 0.5, 1);
    let valid = NmfParams::new(2).check().unwrap();
    let h = Array2::ones((2, 7));
    assert!(matches!(
        transform(&x, &h, &valid, None),
        Err(NmfError::Data(_))
    ));
}

#[test]
fn into_fit_moves_custom_factors_and_gives_the_same_bits() {
    let x = random_sparse(30, 20, 0.3, 11);
    for (solver, loss) in COMBOS {
        let p = custom(&x, 3, 5)
            .solver(solver)
            .loss(loss)
            .max_iter(25)
            .tol(0.0);
        let borrowed = fit(&x, p.clone());
        let moved = p.check().unwrap().into_fit(&x, &mut |_, _| {}).unwrap();
        let bits = |a: &Array2<f64>| a.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&borrowed.w), bits(&moved.w), "{loss}");
        assert_eq!(bits(&borrowed.h), bits(&moved.h), "{loss}");
    }
    // A W0 of the wrong shape is still an error when moved.
    let p = NmfParams::new(2).custom_init(Array2::ones((7, 2)), Array2::ones((2, 20)));
    assert!(matches!(
        p.check().unwrap().into_fit(&x, &mut |_, _| {}),
        Err(NmfError::Data(_))
    ));
}

/// The online solver with options for a small matrix: batches of 16 rows, never stopping on
/// the smoothed cost.
fn online(x: &Matrix, k: usize, seed: u64) -> NmfParams {
    custom(x, k, seed)
        .solver(Solver::Online)
        .online(OnlineOptions {
            batch_size: 16,
            max_no_improvement: None,
            ..OnlineOptions::default()
        })
}

#[test]
fn online_is_deterministic_non_negative_and_runs_max_iter_with_tol_zero() {
    let x = random_sparse(300, 120, 0.08, 41);
    for loss in [Loss::Frobenius, Loss::Kl] {
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| fit(&x, online(&x, 6, 3).loss(loss).max_iter(7).tol(0.0)))
        };
        let one = run(1);
        assert_eq!(one.iterations, 7, "{loss}");
        assert_eq!(one.history.len(), 7);
        assert!(one
            .w
            .iter()
            .chain(one.h.iter())
            .all(|v| v.is_finite() && *v >= 0.0));
        for t in [2, 3] {
            let other = run(t);
            let bits = |m: &NmfModel| {
                m.w.iter()
                    .chain(m.h.iter())
                    .map(|v| v.to_bits())
                    .collect::<Vec<_>>()
            };
            assert_eq!(bits(&one), bits(&other), "{loss}: 1 vs {t} threads");
        }
    }
}

#[test]
fn online_smoothed_cost_decreases_and_the_default_rule_stops() {
    use nmf_topics::kernels::CsrRef;
    use nmf_topics::nmf::online::{row_block, MiniBatch};
    let (x, _) = planted(400, 60, 3, 17);
    let (n, m) = x.shape();
    let k = 3;
    let h0 = random_factor(k, m, 0.0, 5);
    let ht0: Vec<f64> = h0.t().iter().copied().collect();
    let opts = OnlineOptions {
        batch_size: 40,
        max_no_improvement: None,
        ..OnlineOptions::default()
    };
    let mut mb = MiniBatch::new(ht0, k, false, opts, n, 0.0, 0.0, 0.0, 0.0);
    let indptr_x = x.indptr().raw_storage().to_vec();
    let xr = CsrRef::new(n, m, &indptr_x, x.indices(), x.data());
    let mut w = random_factor(n, k, 0.0, 6)
        .iter()
        .copied()
        .collect::<Vec<f64>>();
    let mut ewa = Vec::new();
    let mut indptr = Vec::new();
    for _epoch in 0..6 {
        for r0 in (0..n).step_by(40) {
            let r1 = (r0 + 40).min(n);
            let xb = row_block(xr, r0, r1, &mut indptr);
            let rep = mb.step(xb, &mut w[r0 * k..r1 * k], true);
            if let Some(e) = rep.smoothed {
                ewa.push(e);
            }
        }
    }
    let per_epoch: Vec<f64> = ewa.chunks(10).map(|c| *c.last().unwrap()).collect();
    for p in per_epoch.windows(2) {
        assert!(
            p[1] < p[0],
            "the smoothed cost rose between epochs: {per_epoch:?}"
        );
    }
    // With scikit-learn's defaults (tol 1e-4, 10 steps without improvement) an easy problem
    // stops before max_iter.
    let model = fit(
        &x,
        custom(&x, 3, 2)
            .solver(Solver::Online)
            .online(OnlineOptions {
                batch_size: 40,
                ..OnlineOptions::default()
            })
            .max_iter(500),
    );
    assert!(
        model.converged && model.iterations < 500,
        "{} iterations",
        model.iterations
    );
}

/// The batch cost a step reports is scikit-learn's
/// (D(X_b, W_b·H) + l1_W‖W_b‖₁ + l1_H‖H‖₁ + l2_W‖W_b‖² + l2_H‖H‖²) / |b| for the batch's new W
/// and the H before the step, whether its cross term comes out of the W update (Frobenius),
/// a pass over the batch (KL, fresh restarts), here against a dense computation.
#[test]
fn online_batch_cost_is_the_objective_of_the_new_w_and_the_old_h() {
    use nmf_topics::kernels::CsrRef;
    use nmf_topics::nmf::online::{row_block, MiniBatch};
    let (x, _) = planted(120, 30, 3, 23);
    let (n, m) = x.shape();
    let k = 4;
    let dense = x.to_dense();
    let indptr_x = x.indptr().raw_storage().to_vec();
    let xr = CsrRef::new(n, m, &indptr_x, x.indices(), x.data());
    for (kl, fresh, alpha) in [
        (false, false, 0.0),
        (false, false, 0.3),
        (false, true, 0.3),
        (true, false, 0.0),
        (true, false, 0.3),
    ] {
        let opts = OnlineOptions {
            batch_size: 25,
            fresh_restarts: fresh,
            max_no_improvement: None,
            ..OnlineOptions::default()
        };
        let h0 = random_factor(k, m, 0.2, 8);
        let ht0: Vec<f64> = h0.t().iter().copied().collect();
        let l1_ratio = 0.4;
        let mut mb = MiniBatch::new(ht0, k, kl, opts, n, alpha, alpha, l1_ratio, 0.0);
        let mut w: Vec<f64> = random_factor(n, k, 0.2, 9).iter().copied().collect();
        let mut indptr = Vec::new();
        for r0 in (0..n).step_by(25) {
            let r1 = (r0 + 25).min(n);
            let ht = mb.ht().to_vec();
            let xb = row_block(xr, r0, r1, &mut indptr);
            let rep = mb.step(xb, &mut w[r0 * k..r1 * k], true);
            let rows = r1 - r0;
            let (mut div, mut w_l1, mut w_sq, mut h_l1, mut h_sq) = (0.0, 0.0, 0.0, 0.0, 0.0);
            for i in r0..r1 {
                for j in 0..m {
                    let wh: f64 = (0..k).map(|l| w[i * k + l] * ht[j * k + l]).sum();
                    let v = dense[[i, j]];
                    div += if kl {
                        let ln = if v > 0.0 { v * (v / wh).ln() } else { 0.0 };
                        ln - v + wh
                    } else {
                        0.5 * (v - wh) * (v - wh)
                    };
                }
            }
            for &v in &w[r0 * k..r1 * k] {
                w_l1 += v;
                w_sq += v * v;
            }
            for &v in &ht {
                h_l1 += v;
                h_sq += v * v;
            }
            let (nf, ns) = (m as f64, rows as f64);
            let want = (div
                + nf * alpha * l1_ratio * w_l1
                + ns * alpha * l1_ratio * h_l1
                + nf * alpha * (1.0 - l1_ratio) * w_sq
                + ns * alpha * (1.0 - l1_ratio) * h_sq)
                / ns;
            let what = format!("kl={kl} fresh={fresh} alpha={alpha} rows {r0}..{r1}");
            assert!(
                (rep.cost - want).abs() <= 1e-9 * want.abs().max(1.0),
                "{what}: cost {} against {want}",
                rep.cost
            );
        }
    }
}

#[test]
fn online_options_are_validated() {
    let bad = |o: OnlineOptions| match NmfParams::new(2).solver(Solver::Online).online(o).check() {
        Err(NmfError::Params(m)) => m,
        other => panic!("expected a params error, got {other:?}"),
    };
    let d = OnlineOptions::default();
    assert!(bad(OnlineOptions { batch_size: 0, ..d }).starts_with("--batch-size"));
    assert!(bad(OnlineOptions {
        forget_factor: 1.5,
        ..d
    })
    .starts_with("--forget-factor"));
    assert!(bad(OnlineOptions {
        max_no_improvement: Some(0),
        ..d
    })
    .starts_with("--max-no-improvement"));
    match NmfParams::new(2).solver(Solver::Hals).online(d).check() {
        Err(NmfError::Params(m)) => assert!(m.contains("options of --solver online"), "{m}"),
        other => panic!("expected a params error, got {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Graph-regularized NMF (gnmf)

/// Bits of a model's factors and history.
fn bits(m: &NmfModel) -> Vec<u64> {
    m.w.iter()
        .chain(m.h.iter())
        .chain(m.history.iter())
        .map(|v| v.to_bits())
        .collect()
}

#[test]
fn gnmf_with_lambda_zero_is_mu_bit_for_bit() {
    let x = random_sparse(200, 80, 0.1, 51);
    for loss in [Loss::Frobenius, Loss::Kl] {
        // tol > 0 takes the tentative passes of the stopping checks; tol = 0 runs max_iter.
        for (tol, iters) in [(1e-3, 400), (0.0, 35)] {
            let base = custom(&x, 6, 3).loss(loss).tol(tol).max_iter(iters);
            let mu = fit(&x, base.clone().solver(Solver::Mu));
            let g = fit(&x, base.solver(Solver::Gnmf).graph_lambda(0.0));
            assert_eq!(bits(&mu), bits(&g), "{loss}, tol {tol}");
            assert_eq!((mu.iterations, mu.converged), (g.iterations, g.converged));
            assert_eq!(mu.metrics.loss.to_bits(), g.metrics.loss.to_bits());
            assert!(g.graph.is_some());
        }
    }
}

/// The dense graph term of a fit: (λ'/2)·½Σ_ij S_ij‖w_i − w_j‖² (Frobenius) or
/// λ'·½Σ_ij S_ij Σ_l (w_il − w_jl)(ln w_il − ln w_jl) (KL).
fn dense_graph_term(w: &Array2<f64>, g: &DocGraph, lam: f64, kl: bool) -> f64 {
    let scaled = g.scaled_lambda(lam);
    let mut t = 0.0;
    for i in 0..g.n() {
        let (cols, ws) = g.neighbours(i);
        for (&j, &s) in cols.iter().zip(ws) {
            for l in 0..w.ncols() {
                let (a, b) = (w[[i, l]], w[[j as usize, l]]);
                t += if kl {
                    let ln = |v: f64| v.max(f64::MIN_POSITIVE).ln();
                    0.5 * s * (a - b) * (ln(a) - ln(b))
                } else {
                    0.25 * s * (a - b) * (a - b)
                };
            }
        }
    }
    scaled * t
}

#[test]
fn gnmf_reports_the_objective_with_its_graph_term_and_it_never_increases() {
    let x = random_sparse(90, 50, 0.12, 61);
    let g = Arc::new(nmf_topics::nmf::graph::knn_graph(&x, 4, GraphWeight::Cosine).unwrap());
    for loss in [Loss::Frobenius, Loss::Kl] {
        for lam in [1.0, 20.0] {
            let model = fit(
                &x,
                custom(&x, 5, 7)
                    .solver(Solver::Gnmf)
                    .loss(loss)
                    .doc_graph(g.clone())
                    .graph_lambda(lam)
                    .tol(0.0)
                    .max_iter(150),
            );
            for (t, pair) in model.history.windows(2).enumerate() {
                assert!(
                    pair[1] <= pair[0] * (1.0 + 1e-9),
                    "{loss} λ={lam}: objective rose at iteration {}: {} -> {}",
                    t + 2,
                    pair[0],
                    pair[1]
                );
            }
            let term = dense_graph_term(&model.w, &g, lam, loss == Loss::Kl);
            let m = &model.metrics;
            assert!(term > 0.0);
            assert!(
                (m.loss - m.divergence - term).abs() <= 1e-8 * m.loss,
                "{loss} λ={lam}: loss {} = divergence {} + graph term {term}?",
                m.loss,
                m.divergence
            );
            // The topics are normalized: unit Euclidean norm (Frobenius) or sum 1 (KL).
            for h in model.h.rows() {
                let norm = if loss == Loss::Kl {
                    h.sum()
                } else {
                    h.dot(&h).sqrt()
                };
                assert!((norm - 1.0).abs() < 1e-12, "{loss}: topic norm {norm}");
            }
            assert_eq!(model.method, Method::Gnmf { lambda: lam });
            assert_eq!(model.graph.as_ref().unwrap().edges, g.summary().edges);
        }
    }
}

/// L1 distance between the normalized topic weights of two documents.
fn topic_distance(w: &Array2<f64>, a: usize, b: usize) -> f64 {
    let (ra, rb) = (w.row(a), w.row(b));
    let (sa, sb) = (ra.sum(), rb.sum());
    ra.iter()
        .zip(rb)
        .map(|(p, q)| (p / sa - q / sb).abs())
        .sum()
}

#[test]
fn gnmf_pulls_linked_near_duplicates_together() {
    // Documents 0 and 1 share most of their words but each has a few of its own, drawn from
    // the vocabulary of different documents; the graph links them (and chains the rest).
    let base = random_sparse(60, 40, 0.15, 71);
    let d = base.to_dense();
    let mut t = Triplets::new((60, 40));
    for ((i, j), &v) in d.indexed_iter() {
        let v = match i {
            1 => {
                d[[0, j]] * 0.9
                    + if j % 5 == 0 {
                        0.6 * d[[30, j]] + 0.3
                    } else {
                        0.0
                    }
            }
            0 => v + if j % 7 == 3 { 0.8 } else { 0.0 },
            _ => v,
        };
        if v > 0.0 {
            t.add_triplet(i, j, v);
        }
    }
    let x: Matrix = t.to_csr();
    let mut links = vec![(0, 1, 1.0)];
    links.extend((2..59).map(|i| (i, i + 1, 1.0)));
    let g = Arc::new(DocGraph::from_links(60, &links).unwrap());
    for loss in [Loss::Frobenius, Loss::Kl] {
        let run = |lam: f64| {
            let model = fit(
                &x,
                custom(&x, 6, 13)
                    .solver(Solver::Gnmf)
                    .loss(loss)
                    .doc_graph(g.clone())
                    .graph_lambda(lam)
                    .tol(0.0)
                    .max_iter(300),
            );
            topic_distance(&model.w, 0, 1)
        };
        let (free, pulled) = (run(0.0), run(5.0));
        assert!(
            pulled < 0.5 * free,
            "{loss}: distance {pulled} with the graph, {free} without"
        );
    }
}

#[test]
fn gnmf_needs_a_read_graph_file_and_a_graph_of_the_right_size() {
    let x = random_sparse(20, 10, 0.3, 2);
    let p = custom(&x, 2, 1)
        .solver(Solver::Gnmf)
        .graph(GraphSpec::File("links.tsv".into()));
    match p.check().unwrap().fit(&x, &mut |_, _| {}) {
        Err(NmfError::Params(m)) => assert!(m.starts_with("--graph links.tsv:"), "{m}"),
        other => panic!("{other:?}"),
    }
    let g = Arc::new(DocGraph::from_links(19, &[(0, 1, 1.0)]).unwrap());
    let p = custom(&x, 2, 1).solver(Solver::Gnmf).doc_graph(g);
    assert!(matches!(
        p.check().unwrap().fit(&x, &mut |_, _| {}),
        Err(NmfError::Data(_))
    ));
    // P ≥ n is refused when the fit builds the graph.
    let p = custom(&x, 2, 1).solver(Solver::Gnmf).graph(GraphSpec::Knn {
        neighbours: 20,
        weight: GraphWeight::Cosine,
    });
    match p.check().unwrap().fit(&x, &mut |_, _| {}) {
        Err(NmfError::Params(m)) => assert_eq!(
            m,
            "--graph knn:20: P must be less than the number of documents (20)"
        ),
        other => panic!("{other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Non-smooth NMF (nsnmf)

#[test]
fn nsnmf_with_theta_zero_is_kl_mu_up_to_the_normalization_of_the_topics() {
    // KL multiplicative updates do not change under W·D, D⁻¹·H, so θ = 0 (which normalizes
    // the topics to sum 1 after every iteration) gives MU's W·H, and MU's factors once its
    // topics are normalized the same way: compared to 1e-9 relative.
    let x = random_sparse(80, 40, 0.15, 81);
    let base = custom(&x, 5, 4).loss(Loss::Kl).tol(0.0).max_iter(60);
    let mu = fit(&x, base.clone().solver(Solver::Mu));
    let ns = fit(&x, base.solver(Solver::Nsnmf).theta(0.0));
    let close = |a: f64, b: f64, scale: f64| (a - b).abs() <= 1e-9 * scale;
    let (p_mu, p_ns) = (mu.w.dot(&mu.h), ns.w.dot(&ns.h));
    let top = p_mu.iter().fold(0.0f64, |a, &b| a.max(b));
    for (a, b) in p_mu.iter().zip(&p_ns) {
        assert!(close(*a, *b, top), "W·H: {a} vs {b}");
    }
    let sums: Array1<f64> = mu.h.sum_axis(Axis(1));
    for l in 0..5 {
        let s = sums[l];
        for j in 0..40 {
            assert!(close(mu.h[[l, j]] / s, ns.h[[l, j]], 1.0), "H[{l}, {j}]");
        }
        for i in 0..80 {
            assert!(close(mu.w[[i, l]] * s, ns.w[[i, l]], top), "W[{i}, {l}]");
        }
    }
    for (a, b) in mu.history.iter().zip(&ns.history) {
        assert!(close(*a, *b, *a), "history {a} vs {b}");
    }
}

/// The TF-IDF matrix of `corpora/sample` (303 documents, 8 subjects).
fn sample_matrix() -> Matrix {
    use nmf_topics::corpus::{self, CorpusOptions};
    use nmf_topics::text::{Analyzer, AnalyzerConfig};
    use nmf_topics::vectorize::{self, VectorizeOptions};
    let root = std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/corpora/sample"));
    let c = corpus::load(&[root], &CorpusOptions::default()).unwrap();
    let analyzer = Analyzer::new(&AnalyzerConfig::default()).unwrap();
    let (dtm, _) =
        vectorize::vectorize(&c.documents, &analyzer, &VectorizeOptions::default()).unwrap();
    dtm.x
}

#[test]
fn nsnmf_topics_get_sparser_as_theta_grows() {
    let x = sample_matrix();
    let mut last = -1.0;
    let mut seen = Vec::new();
    for theta in [0.0, 0.5, 0.8] {
        let model = fit(
            &x,
            NmfParams::new(8)
                .solver(Solver::Nsnmf)
                .loss(Loss::Kl)
                .theta(theta)
                .max_iter(200),
        );
        let mean_h: f64 = model.h.rows().into_iter().map(hoyer_sparsity).sum::<f64>() / 8.0;
        assert!((model.metrics.sparsity_h - mean_h).abs() < 1e-12);
        seen.push((theta, mean_h));
        assert!(mean_h > last + 0.01, "Hoyer sparsity of H by θ: {seen:?}");
        last = mean_h;
        // X ≈ W·H with S absorbed into W: each document's weights are lifted by θ·mean.
        let floor = model
            .w
            .rows()
            .into_iter()
            .filter(|r| r.sum() > 0.0)
            .map(|r| r.iter().fold(f64::INFINITY, |a, &b| a.min(b)) / r.sum())
            .fold(f64::INFINITY, f64::min);
        assert!(floor >= theta / 8.0 * (1.0 - 1e-9), "θ = {theta}: {floor}");
    }
}

#[test]
fn nsnmf_theta_outside_the_unit_interval_is_a_usage_error() {
    for theta in [-0.1, 1.5, f64::NAN] {
        match NmfParams::new(3)
            .solver(Solver::Nsnmf)
            .loss(Loss::Kl)
            .theta(theta)
            .check()
        {
            Err(NmfError::Params(m)) => {
                assert!(m.starts_with("--theta must be in [0, 1]"), "{m}")
            }
            other => panic!("{other:?}"),
        }
    }
    for theta in [0.0, 1.0] {
        assert!(NmfParams::new(3)
            .solver(Solver::Nsnmf)
            .loss(Loss::Kl)
            .theta(theta)
            .check()
            .is_ok());
    }
}

// ---------------------------------------------------------------------------------------------
// Projected gradient (pg)

/// ‖[∇^P_W f, ∇^P_H f]‖_F of ½‖X − WH‖²_F at (W, H), and ‖[∇_W f, ∇_H f]‖_F, densely.
fn kkt(x: &Matrix, w: &Array2<f64>, h: &Array2<f64>) -> (f64, f64) {
    let r = w.dot(h) - x.to_dense();
    let gw = r.dot(&h.t());
    let gh = w.t().dot(&r);
    let mut proj = 0.0;
    let mut full = 0.0;
    for (g, v) in gw.iter().zip(w.iter()).chain(gh.iter().zip(h.iter())) {
        full += g * g;
        let p = if *v > 0.0 { *g } else { g.min(0.0) };
        proj += p * p;
    }
    (proj.sqrt(), full.sqrt())
}

#[test]
fn pg_ends_at_a_kkt_point_within_the_tolerance() {
    let x = random_sparse(40, 30, 0.3, 91);
    let p = custom(&x, 3, 2).solver(Solver::Pg);
    let (w0, h0) = (p.w0.clone().unwrap(), p.h0.clone().unwrap());
    let (_, initial) = kkt(&x, &w0, &h0);
    for tol in [1e-3, 1e-5] {
        let model = fit(&x, p.clone().tol(tol).max_iter(5000));
        assert!(
            model.converged,
            "tol {tol}: {} iterations",
            model.iterations
        );
        let (residual, _) = kkt(&x, &model.w, &model.h);
        assert!(
            residual <= tol * initial,
            "tol {tol}: KKT residual {residual:e} > {:e}",
            tol * initial
        );
    }
}

#[test]
fn pg_recovers_a_planted_factorization() {
    let (x, _) = planted(40, 30, 3, 5);
    let model = fit(
        &x,
        custom(&x, 3, 11)
            .solver(Solver::Pg)
            .tol(1e-7)
            .max_iter(3000),
    );
    let xd = dense(&x);
    let resid = (&xd - &model.w.dot(&model.h)).mapv(|v| v * v).sum().sqrt();
    let rel = resid / xd.mapv(|v| v * v).sum().sqrt();
    assert!(rel < 1e-3, "relative error {rel:e}");
}

#[test]
fn solver_and_loss_combinations_that_do_not_exist_name_the_ones_that_do() {
    for (s, l) in [(Solver::Nsnmf, Loss::Frobenius), (Solver::Pg, Loss::Kl)] {
        match NmfParams::new(3).solver(s).loss(l).check() {
            Err(NmfError::Params(m)) => {
                assert!(m.starts_with(&format!("--solver {s} does not work with --loss {l}")));
                assert!(
                    m.contains("gnmf (frobenius, kl), nsnmf (kl), pg (frobenius)"),
                    "{m}"
                );
            }
            other => panic!("{other:?}"),
        }
    }
}
