//! Invariants of every solver (multiplicative updates for both losses, coordinate descent,
//! exact ALS): monotone objective, non-negativity, recovery of planted factors, sparse =
//! dense losses, zero rows/columns, determinism across thread counts, the stopping rules,
//! data validation and `transform`.

use ndarray::Array2;
use nmf_topics::nmf::online::OnlineOptions;
use nmf_topics::nmf::{transform, AlsVariant, Init, Loss, NmfError, NmfModel, NmfParams, Solver};

/// Every solver with every loss it supports.
const COMBOS: [(Solver, Loss); 4] = [
    (Solver::Mu, Loss::Frobenius),
    (Solver::Mu, Loss::Kl),
    (Solver::Hals, Loss::Frobenius),
    (Solver::Als, Loss::Frobenius),
];
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sprs::{CsMat, TriMat};

/// A random sparse n×m matrix with about `density` of its entries stored, values in (0, 3].
fn random_sparse(n: usize, m: usize, density: f64, seed: u64) -> CsMat<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut t = TriMat::new((n, m));
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

fn fit(x: &CsMat<f64>, params: NmfParams) -> NmfModel {
    params.check().unwrap().fit(x, &mut |_, _| {}).unwrap()
}

fn custom(x: &CsMat<f64>, k: usize, seed: u64) -> NmfParams {
    let (n, m) = x.shape();
    NmfParams::new(k).custom_init(
        random_factor(n, k, 0.0, seed),
        random_factor(k, m, 0.0, seed + 1000),
    )
}

fn dense(x: &CsMat<f64>) -> Array2<f64> {
    x.to_dense()
}

/// The planted exact rank-k matrix X = W*·H* (factors with about 30% zeros), stored sparse.
fn planted(n: usize, m: usize, k: usize, seed: u64) -> (CsMat<f64>, Array2<f64>) {
    let w = random_factor(n, k, 0.3, seed);
    let h = random_factor(k, m, 0.3, seed + 1);
    let prod = w.dot(&h);
    let mut t = TriMat::new((n, m));
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
fn factors_stay_non_negative_and_finite_with_penalties() {
    let x = random_sparse(50, 40, 0.2, 9);
    for (solver, loss) in COMBOS {
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
            "{loss}: {got} vs dense {want}"
        );
        assert!((model.metrics.loss - want).abs() <= 1e-9 * want);
        assert_eq!(*model.history.last().unwrap(), model.metrics.loss);
        let ev = 1.0 - frob / xd.mapv(|v| v * v).sum();
        assert!((model.metrics.explained_variance - ev).abs() < 1e-9);
    }
}

#[test]
fn zero_rows_and_columns_get_zero_weights() {
    let mut t = TriMat::new((12, 9));
    let mut rng = ChaCha8Rng::seed_from_u64(4);
    for i in 0..12 {
        for j in 0..9 {
            if i % 4 != 1 && j != 5 && rng.random::<f64>() < 0.5 {
                t.add_triplet(i, j, rng.random::<f64>() + 0.1);
            }
        }
    }
    let x: CsMat<f64> = t.to_csr();
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
    let x: CsMat<f64> = TriMat::new((6, 4)).to_csr();
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
        let p = custom(&x, k, 5)
            .als_variant(AlsVariant::Projected)
            .solver(Solver::Als);
        cases.push((format!("als projected k={k}"), p));
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
        if solver == Solver::Mu {
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

fn data_err(x: &CsMat<f64>) -> String {
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
    let mut t = TriMat::new((5, 8));
    t.add_triplet(0, 0, 1.0);
    t.add_triplet(2, 6, -2.5);
    assert_eq!(
        data_err(&t.to_csr()),
        "X has a negative entry (-2.5) at row 3, column 7"
    );
}

#[test]
fn a_nan_or_infinite_entry_is_rejected() {
    let mut t = TriMat::new((5, 8));
    t.add_triplet(4, 1, f64::NAN);
    assert!(data_err(&t.to_csr()).starts_with("X has a NaN or infinite entry"));
    let mut t = TriMat::new((5, 8));
    t.add_triplet(1, 1, f64::INFINITY);
    assert!(data_err(&t.to_csr()).contains("at row 2, column 2"));
}

#[test]
fn an_empty_matrix_is_rejected() {
    let x: CsMat<f64> = TriMat::new((0, 8)).to_csr();
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
        assert!(
            same as f64 >= 0.99 * a.len() as f64,
            "{loss}: {same} of {} rows agree",
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
fn online(x: &CsMat<f64>, k: usize, seed: u64) -> NmfParams {
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
