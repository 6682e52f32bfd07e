//! Benchmarks of the NMF kernels, of one iteration of each solver (MU, HALS, exact ALS) from
//! its kernels, and of short fits (5 iterations, the start excluded by a custom one) of the
//! solvers built on the driver only (gnmf, nsnmf, pg, next to mu).
//!
//! Synthetic sparse matrices (density ≈ 0.3%, values in (0, 1]) with k = 20, in a size sweep:
//! 5k × 2k, 20k × 8k, and a Debian-corpus-sized 59k × 20k with 2.5M stored entries.
//!
//! `cargo bench --bench nmf` (add `-- iteration` to run only the per-iteration group).

use criterion::{criterion_group, BenchmarkId, Criterion, Throughput};
use nmf_topics::kernels::{
    csr_mul_dense, csr_transpose, csr_transpose_mul_dense, factor_stats, Csr,
};
use nmf_topics::nmf::als::{ls_update, LsWork};
use nmf_topics::nmf::hals::cd_update;
use nmf_topics::nmf::mu::{
    mu_frobenius_from_numerator, mu_frobenius_rows, mu_kl_from_numerator, mu_kl_rows,
    mu_kl_rows_scatter,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::hint::black_box;

const K: usize = 20;

/// A random CSR matrix with `nnz` entries spread uniformly (duplicates merged by sorting).
fn synthetic(n: usize, m: usize, nnz: usize, seed: u64) -> Csr {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let per_row = nnz / n;
    let mut indptr = vec![0];
    let mut indices = Vec::with_capacity(nnz);
    let mut data = Vec::with_capacity(nnz);
    let mut row = Vec::new();
    for _ in 0..n {
        row.clear();
        let len = rng.random_range(0..=2 * per_row);
        for _ in 0..len {
            row.push(rng.random_range(0..m));
        }
        row.sort_unstable();
        row.dedup();
        for &j in &row {
            indices.push(j as u32);
            data.push(1.0 - rng.random::<f64>());
        }
        indptr.push(indices.len());
    }
    Csr {
        nrows: n,
        ncols: m,
        indptr,
        indices,
        data,
    }
}

fn factor(rows: usize, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..rows * K).map(|_| 0.05 + rng.random::<f64>()).collect()
}

const SIZES: [(usize, usize, usize); 3] = [
    (5_000, 2_000, 30_000),
    (20_000, 8_000, 480_000),
    (59_000, 20_000, 2_500_000),
];

fn kernels(c: &mut Criterion) {
    let mut g = c.benchmark_group("kernels");
    g.sample_size(10);
    for &(n, m, nnz) in &SIZES[..2] {
        let x = synthetic(n, m, nnz, 1);
        let label = format!("{n}x{m}");
        let (w, ht) = (factor(n, 2), factor(m, 3));
        let mut out = vec![0.0; n * K];
        g.throughput(Throughput::Elements(x.indices.len() as u64));
        g.bench_with_input(BenchmarkId::new("csr_mul_dense", &label), &x, |b, x| {
            b.iter(|| csr_mul_dense(x.view(), black_box(&ht), K, &mut out))
        });
        let den = factor_stats(&ht, K, false).colsum;
        g.bench_with_input(BenchmarkId::new("mu_kl_rows", &label), &x, |b, x| {
            b.iter(|| {
                mu_kl_rows(
                    x.view(),
                    &w,
                    black_box(&ht),
                    K,
                    &den,
                    0.0,
                    false,
                    true,
                    false,
                    &mut out,
                )
            })
        });
        let gram = factor_stats(&ht, K, true).gram;
        g.bench_with_input(BenchmarkId::new("mu_frobenius_rows", &label), &x, |b, x| {
            b.iter(|| {
                mu_frobenius_rows(
                    x.view(),
                    &w,
                    black_box(&ht),
                    K,
                    &gram,
                    0.0,
                    0.0,
                    true,
                    &mut out,
                )
            })
        });
        let (mut num, mut parts) = (vec![0.0; m * K], Vec::new());
        g.bench_with_input(
            BenchmarkId::new("csr_transpose_mul_dense", &label),
            &x,
            |b, x| {
                b.iter(|| csr_transpose_mul_dense(x.view(), black_box(&w), K, &mut num, &mut parts))
            },
        );
        g.bench_with_input(
            BenchmarkId::new("mu_kl_rows_scatter", &label),
            &x,
            |b, x| {
                b.iter(|| {
                    mu_kl_rows_scatter(
                        x.view(),
                        Some(&w),
                        black_box(&ht),
                        K,
                        &den,
                        0.0,
                        true,
                        &mut out,
                        &mut num,
                        &mut parts,
                    )
                })
            },
        );
        g.bench_with_input(BenchmarkId::new("csr_transpose", &label), &x, |b, x| {
            b.iter(|| csr_transpose(black_box(x.view())))
        });
    }
    g.finish();
}

/// One whole iteration as the solvers run it: for MU-KL the fused W pass (which also
/// scatters the numerator of the H update) and the H update from it; for MU-Frobenius the W
/// pass, the scatter of Xᵀ·W and the H update from it; for HALS and exact ALS the W update
/// from the rows of X, the scatter, the H update (from the same start every time).
fn iteration(c: &mut Criterion) {
    let mut g = c.benchmark_group("iteration");
    g.sample_size(10);
    for &(n, m, nnz) in &SIZES {
        let x = synthetic(n, m, nnz, 1);
        let label = format!("{n}x{m}");
        let (w, ht) = (factor(n, 2), factor(m, 3));
        let (mut wn, mut htn) = (vec![0.0; n * K], vec![0.0; m * K]);
        let (mut num, mut parts) = (vec![0.0; m * K], Vec::new());
        g.throughput(Throughput::Elements(x.indices.len() as u64));
        g.bench_function(BenchmarkId::new("kl", &label), |b| {
            b.iter(|| {
                let den = factor_stats(&ht, K, false).colsum;
                let st = mu_kl_rows_scatter(
                    x.view(),
                    Some(&w),
                    &ht,
                    K,
                    &den,
                    0.0,
                    true,
                    &mut wn,
                    &mut num,
                    &mut parts,
                );
                let den: Vec<f64> = st.new.colsum.iter().map(|s| s.max(1.0)).collect();
                htn.copy_from_slice(&ht);
                mu_kl_from_numerator(&mut htn, &num, K, &den, 0.0, true)
            })
        });
        let order: Vec<usize> = (0..K).collect();
        g.bench_function(BenchmarkId::new("hals", &label), |b| {
            b.iter(|| {
                let gh = factor_stats(&ht, K, true).gram;
                wn.copy_from_slice(&w);
                let st = cd_update(
                    &mut wn,
                    Some(x.view()),
                    &ht,
                    None,
                    K,
                    &gh,
                    0.0,
                    0.0,
                    &order,
                    1,
                );
                csr_transpose_mul_dense(x.view(), &wn, K, &mut num, &mut parts);
                htn.copy_from_slice(&ht);
                cd_update(
                    &mut htn,
                    None,
                    &[],
                    Some(&num),
                    K,
                    &st.new.gram,
                    0.0,
                    0.0,
                    &order,
                    1,
                )
            })
        });
        let mut work = LsWork::default();
        g.bench_function(BenchmarkId::new("als", &label), |b| {
            b.iter(|| {
                let gh = factor_stats(&ht, K, true).gram;
                wn.copy_from_slice(&w);
                let st = ls_update(
                    &mut wn,
                    Some(x.view()),
                    &ht,
                    None,
                    K,
                    &gh,
                    0.0,
                    0.0,
                    true,
                    &mut work,
                );
                csr_transpose_mul_dense(x.view(), &wn, K, &mut num, &mut parts);
                htn.copy_from_slice(&ht);
                ls_update(
                    &mut htn,
                    None,
                    &[],
                    Some(&num),
                    K,
                    &st.new.gram,
                    0.0,
                    0.0,
                    true,
                    &mut work,
                )
            })
        });
        g.bench_function(BenchmarkId::new("frobenius", &label), |b| {
            b.iter(|| {
                let gh = factor_stats(&ht, K, true).gram;
                let st = mu_frobenius_rows(x.view(), &w, &ht, K, &gh, 0.0, 0.0, true, &mut wn);
                csr_transpose_mul_dense(x.view(), &wn, K, &mut num, &mut parts);
                htn.copy_from_slice(&ht);
                mu_frobenius_from_numerator(&mut htn, &num, K, &st.new.gram, 0.0, 0.0, true)
            })
        });
    }
    g.finish();
}

/// Short fits through the library: the 5 iterations and the final evaluation.
fn fits(c: &mut Criterion) {
    use nmf_topics::nmf::graph::{knn_graph, GraphWeight};
    use nmf_topics::nmf::{Loss, NmfParams, Solver};
    let mut g = c.benchmark_group("fit5");
    g.sample_size(10);
    for &(n, m, nnz) in &SIZES[..2] {
        let raw = synthetic(n, m, nnz, 1);
        let x = nmf_topics::matrix::Matrix::new(
            (n, m),
            raw.indptr.clone(),
            raw.indices.clone(),
            raw.data.clone(),
        );
        let label = format!("{n}x{m}");
        let w0 = ndarray::Array2::from_shape_vec((n, K), factor(n, 2)).unwrap();
        let h0 = ndarray::Array2::from_shape_vec((K, m), factor(m, 3)).unwrap();
        let graph = std::sync::Arc::new(knn_graph(&x, 5, GraphWeight::Cosine).unwrap());
        for (name, solver, loss) in [
            ("mu", Solver::Mu, Loss::Frobenius),
            ("gnmf", Solver::Gnmf, Loss::Frobenius),
            ("pg", Solver::Pg, Loss::Frobenius),
            ("mu_kl", Solver::Mu, Loss::Kl),
            ("gnmf_kl", Solver::Gnmf, Loss::Kl),
            ("nsnmf", Solver::Nsnmf, Loss::Kl),
        ] {
            let mut p = NmfParams::new(K)
                .custom_init(w0.clone(), h0.clone())
                .solver(solver)
                .loss(loss)
                .max_iter(5)
                .tol(0.0);
            if solver == Solver::Gnmf {
                p = p.doc_graph(graph.clone());
            }
            let p = p.check().unwrap();
            g.bench_function(BenchmarkId::new(name, &label), |b| {
                b.iter(|| p.fit(&x, &mut |_, _| {}).unwrap().metrics.loss)
            });
        }
    }
    g.finish();
}

criterion_group!(benches, kernels, iteration, fits);

/// Reads a Matrix Market file (coordinate real, or array real in column-major order) into
/// (rows, cols, triplets) — just enough for the peer files written by `benches/peer_nmf.py`.
fn read_mtx(path: &std::path::Path) -> (usize, usize, Vec<(usize, usize, f64)>) {
    let text = std::fs::read_to_string(path).expect("readable Matrix Market file");
    let mut lines = text.lines();
    let header = lines.next().expect("header line").to_lowercase();
    let array = header.contains(" array ");
    let mut lines = lines.filter(|l| !l.starts_with('%') && !l.trim().is_empty());
    let size: Vec<usize> = lines
        .next()
        .expect("size line")
        .split_whitespace()
        .map(|t| t.parse().expect("integer size"))
        .collect();
    let (n, m) = (size[0], size[1]);
    let mut out = Vec::new();
    if array {
        for (t, l) in lines.enumerate() {
            let v: f64 = l.trim().parse().expect("value");
            out.push((t % n, t / n, v));
        }
    } else {
        for l in lines {
            let mut it = l.split_whitespace();
            let i: usize = it.next().unwrap().parse().unwrap();
            let j: usize = it.next().unwrap().parse().unwrap();
            let v: f64 = it.next().map_or(1.0, |t| t.parse().unwrap());
            out.push((i - 1, j - 1, v));
        }
    }
    (n, m, out)
}

/// Peer mode (`NMF_PEER_DIR=DIR cargo bench --bench nmf`): full fits on the files that
/// `benches/peer_nmf.py --work DIR` wrote (synthetic.mtx or $NMF_PEER_MATRIX, W0.mtx, H0.mtx),
/// printing seconds per iteration and the reconstruction error, to set against scikit-learn's.
fn peer(dir: &str) {
    use nmf_topics::nmf::{Loss, NmfParams};
    let dir = std::path::Path::new(dir);
    let matrix = std::env::var("NMF_PEER_MATRIX")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| dir.join("synthetic.mtx"));
    let iters: usize = std::env::var("NMF_PEER_ITERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100);
    let (n, m, trip) = read_mtx(&matrix);
    let mut t = nmf_topics::matrix::Triplets::new((n, m));
    for (i, j, v) in trip {
        t.add_triplet(i, j, v);
    }
    let x: nmf_topics::matrix::Matrix = t.to_csr();
    let dense = |p: &str| {
        let (r, c, trip) = read_mtx(&dir.join(p));
        let mut a = ndarray::Array2::zeros((r, c));
        for (i, j, v) in trip {
            a[[i, j]] = v;
        }
        a
    };
    let (w0, h0) = (dense("W0.mtx"), dense("H0.mtx"));
    let k = w0.ncols();
    println!(
        "{}: {n} x {m}, nnz {}, k = {k}, {iters} iterations, {} threads",
        matrix.display(),
        x.nnz(),
        rayon::current_num_threads()
    );
    for loss in [Loss::Kl, Loss::Frobenius] {
        let model = NmfParams::new(k)
            .loss(loss)
            .custom_init(w0.clone(), h0.clone())
            .tol(0.0)
            .max_iter(iters)
            .check()
            .unwrap()
            .fit(&x, &mut |_, _| {})
            .unwrap();
        println!(
            "{loss:<10} {:.4} s/iteration  reconstruction error {:.10}  (fit {:.2} s)",
            model.seconds_per_iteration, model.metrics.reconstruction_error, model.seconds
        );
    }
}

fn main() {
    if let Ok(dir) = std::env::var("NMF_PEER_DIR") {
        peer(&dir);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
