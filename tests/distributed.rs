//! `fit --distributed` under `mpirun` (a build with `--features mpi`): the factors of P = 1, 2,
//! 3, 4 processes on several grids equal the local solver's from the same start to 1e-10
//! relative after 20 iterations (MU with both losses, HALS, ALS); a given P and grid give the
//! same bits run to run and with any number of threads; a missing file or a malformed block
//! on one rank ends the whole job with one clear error within seconds.
//!
//! The matrix is small (240 × 90) so that each launch takes about a second. Without `mpirun`
//! the MPI tests are skipped, unless the environment variable `CI` is set: then they fail.
//! Without the feature, `--distributed` must say that this build has no MPI support.

mod util;

use std::path::Path;

use util::*;

/// A deterministic 240 × 90 sparse non-negative matrix of rank about 6 plus noise, written as
/// Matrix Market (coordinate), and a custom start W0 (240 × 4) and H0 (4 × 90) (array).
fn problem(dir: &Path) {
    let (n, m, k) = (240usize, 90usize, 4usize);
    let mut s: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let a: Vec<f64> = (0..n * 6).map(|_| next()).collect();
    let b: Vec<f64> = (0..6 * m).map(|_| next()).collect();
    let mut lines = Vec::new();
    for i in 0..n {
        for j in 0..m {
            if next() < 0.15 {
                let v: f64 = (0..6).map(|l| a[i * 6 + l] * b[l * m + j]).sum::<f64>() + next();
                lines.push(format!("{} {} {v}", i + 1, j + 1));
            }
        }
    }
    let mut text = format!(
        "%%MatrixMarket matrix coordinate real general\n{n} {m} {}\n",
        lines.len()
    );
    text.push_str(&lines.join("\n"));
    text.push('\n');
    write(dir, "m/matrix.mtx", text);
    let array = |rows: usize, cols: usize, next: &mut dyn FnMut() -> f64| {
        let mut t = format!("%%MatrixMarket matrix array real general\n{rows} {cols}\n");
        for _ in 0..rows * cols {
            t.push_str(&format!("{}\n", 0.1 + next()));
        }
        t
    };
    write(dir, "W0.mtx", array(n, k, &mut next));
    write(dir, "H0.mtx", array(k, m, &mut next));
}

/// The values of a dense Matrix Market array file (column-major order).
fn read_array(path: &Path) -> Vec<f64> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.starts_with('%'))
        .skip(1)
        .flat_map(|l| l.split_whitespace().map(|v| v.parse::<f64>().unwrap()))
        .collect()
}

/// max |a − b| / max |a| over the entries of two factor files.
fn rel_diff(a: &Path, b: &Path) -> f64 {
    let (x, y) = (read_array(a), read_array(b));
    assert_eq!(x.len(), y.len(), "{} and {}", a.display(), b.display());
    let scale = x.iter().fold(0.0f64, |s, v| s.max(v.abs()));
    let diff = x
        .iter()
        .zip(&y)
        .fold(0.0f64, |s, (p, q)| s.max((p - q).abs()));
    diff / scale
}

#[cfg(feature = "mpi")]
mod mpi_runs {
    use super::*;
    use std::process::Command;
    use std::time::{Duration, Instant};

    /// `mpirun` when it is installed; skips the test (fails it under CI) otherwise.
    fn mpirun() -> Option<Command> {
        let found = Command::new("mpirun")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        if !found {
            if std::env::var_os("CI").is_some() {
                panic!("mpirun is required on CI (apt-get install openmpi-bin libopenmpi-dev)");
            }
            eprintln!("skipped: mpirun not found (apt-get install openmpi-bin libopenmpi-dev)");
            return None;
        }
        let mut cmd = Command::new("mpirun");
        // Root in containers and CI; more processes than cores on small machines.
        cmd.args(["--allow-run-as-root", "--oversubscribe"]);
        Some(cmd)
    }

    /// Runs `mpirun -n p nmf-topics args…` in `dir` (one thread per process).
    fn mpi(dir: &Path, p: usize, args: &[&str]) -> Option<Run> {
        let mut cmd = mpirun()?;
        cmd.current_dir(dir)
            .args(["-n", &p.to_string()])
            .arg(bin())
            .args(args)
            .env("RAYON_NUM_THREADS", "1");
        Some(run_command(&mut cmd))
    }

    const FIT: [&str; 11] = [
        "fit",
        "--matrix",
        "m/matrix.mtx",
        "-k",
        "4",
        "--init",
        "custom",
        "--w0",
        "W0.mtx",
        "--h0",
        "H0.mtx",
    ];

    fn args<'a>(solver: &'a str, loss: &'a str, out: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
        let mut a: Vec<&str> = FIT.to_vec();
        a.extend([
            "--solver",
            solver,
            "--loss",
            loss,
            "--max-iter",
            "20",
            "--tol",
            "0",
            "--save-factors",
            "--quiet",
            "--out",
            out,
        ]);
        a.extend_from_slice(extra);
        a
    }

    /// (solver, loss, the runs as (P, --grid)).
    type Case<'a> = (&'a str, &'a str, &'a [(usize, Option<&'a str>)]);

    #[test]
    fn every_p_and_grid_gives_the_local_factors() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        problem(dir);
        if mpirun().is_none() {
            return;
        }
        // (solver, loss, [(P, grid)]): every P from 1 to 4 for MU Frobenius; 1-D and 2-D grids
        // for the others.
        let cases: [Case<'_>; 4] = [
            (
                "mu",
                "frobenius",
                &[(1, None), (2, Some("1x2")), (3, None), (4, Some("2x2"))],
            ),
            ("mu", "kl", &[(2, Some("2x1")), (4, Some("2x2"))]),
            ("hals", "frobenius", &[(3, Some("3x1")), (4, Some("1x4"))]),
            ("als", "frobenius", &[(4, Some("2x2"))]),
        ];
        for (solver, loss, runs) in cases {
            let local = format!("local-{solver}-{loss}");
            run(dir, &args(solver, loss, &local, &[])).expect_code(0);
            for &(p, grid) in runs {
                let out = format!("p{p}-{solver}-{loss}");
                let mut extra = vec!["--distributed"];
                if let Some(g) = grid {
                    extra.extend(["--grid", g]);
                }
                let r = mpi(dir, p, &args(solver, loss, &out, &extra)).unwrap();
                r.expect_code(0);
                for f in ["W.mtx", "H.mtx"] {
                    let d = rel_diff(&dir.join(&local).join(f), &dir.join(&out).join(f));
                    assert!(
                        d <= 1e-10,
                        "{solver} {loss}, P = {p}, grid {grid:?}: {f} differs by {d:e}"
                    );
                }
                // The outputs of a local fit, all of them.
                for f in [
                    "topics.json",
                    "doc_topics.csv",
                    "topic_terms.csv",
                    "model.json",
                    "report.html",
                ] {
                    assert!(dir.join(&out).join(f).is_file(), "{out}/{f}");
                }
            }
        }
    }

    #[test]
    fn a_given_p_and_grid_gives_the_same_bits_every_run() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        problem(dir);
        let extra = ["--distributed", "--grid", "2x2"];
        let Some(r) = mpi(dir, 4, &args("mu", "kl", "a", &extra)) else {
            return;
        };
        r.expect_code(0);
        // Again, with 2 threads per process.
        let mut with_threads = args("mu", "kl", "b", &extra);
        with_threads.extend(["--threads", "2"]);
        mpi(dir, 4, &with_threads).unwrap().expect_code(0);
        for f in ["W.mtx", "H.mtx", "doc_topics.csv", "topic_terms.csv"] {
            let (a, b) = (dir.join("a").join(f), dir.join("b").join(f));
            assert!(
                std::fs::read(&a).unwrap() == std::fs::read(&b).unwrap(),
                "{f} differs between two runs"
            );
        }
        let loss = |d: &str| {
            let t = std::fs::read_to_string(dir.join(d).join("topics.json")).unwrap();
            let v: serde_json::Value = serde_json::from_str(&t).unwrap();
            v["fit"]["loss_history"].clone()
        };
        assert_eq!(loss("a"), loss("b"));
    }

    /// Runs an MPMD job: rank 0 with `first`, rank 1 with `second`; checks that it ends within
    /// seconds with exit code 2 and rank 0 naming rank 1's error once.
    fn one_rank_fails(dir: &Path, first: &[&str], second: &[&str], expect: &str) {
        let Some(mut cmd) = mpirun() else {
            return;
        };
        cmd.current_dir(dir)
            .args(["-n", "1"])
            .arg(bin())
            .args(first)
            .args([":", "-n", "1"])
            .arg(bin())
            .args(second)
            .env("RAYON_NUM_THREADS", "1");
        let t = Instant::now();
        let r = run_command(&mut cmd);
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "the job took {:?}",
            t.elapsed()
        );
        assert_ne!(r.code, 0, "{}", r.stderr);
        let errors: Vec<&str> = (r.stderr.lines())
            .filter(|l| l.starts_with("nmf-topics: error: "))
            .collect();
        assert_eq!(errors.len(), 1, "one error line expected:\n{}", r.stderr);
        assert!(
            errors[0].starts_with("nmf-topics: error: rank 1 of 2: ") && errors[0].contains(expect),
            "{}",
            r.stderr
        );
        assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    }

    #[test]
    fn a_missing_file_on_one_rank_ends_the_job_with_its_error() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        problem(dir);
        let good = args("mu", "kl", "o", &["--distributed"]);
        let mut missing = good.clone();
        missing[2] = "elsewhere/matrix.mtx";
        one_rank_fails(dir, &good, &missing, "elsewhere/matrix.mtx");
    }

    #[test]
    fn a_malformed_block_on_one_rank_ends_the_job_with_its_line() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        problem(dir);
        // The same file but for a value in its last quarter (rank 1 of 2 reads that half),
        // replaced by as many letters: the same size, so only the value is wrong.
        let text = std::fs::read_to_string(dir.join("m/matrix.mtx")).unwrap();
        let mut lines: Vec<String> = text.lines().map(String::from).collect();
        let at = lines.len() * 3 / 4;
        let fields: Vec<&str> = lines[at].split(' ').collect();
        let bad = format!(
            "{} {} {}",
            fields[0],
            fields[1],
            "x".repeat(fields[2].len())
        );
        lines[at] = bad;
        write(dir, "bad/matrix.mtx", lines.join("\n") + "\n");
        let good = args("mu", "frobenius", "o", &["--distributed"]);
        let mut malformed = good.clone();
        malformed[2] = "bad/matrix.mtx";
        let expect = format!("bad/matrix.mtx:{}: value", at + 1);
        one_rank_fails(dir, &good, &malformed, &expect);
    }

    #[test]
    fn a_grid_that_is_not_the_job_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        problem(dir);
        let a = args(
            "hals",
            "frobenius",
            "o",
            &["--distributed", "--grid", "2x2"],
        );
        let Some(r) = mpi(dir, 3, &a) else {
            return;
        };
        r.expect_code(2)
            .stderr_has("--grid 2x2 has 4 processes, but the job has 3");
        // Repeated HALS sweeps stop per tile of a process's rows: refused, not silently
        // dependent on the number of processes.
        let a = args(
            "hals",
            "frobenius",
            "o",
            &["--distributed", "--inner-sweeps", "3"],
        );
        let Some(r) = mpi(dir, 2, &a) else {
            return;
        };
        r.expect_code(2)
            .stderr_has("--inner-sweeps cannot be combined with --distributed");
    }
}

/// A build without the `mpi` feature says so, naming the option, instead of fitting locally.
#[cfg(not(feature = "mpi"))]
#[test]
fn without_mpi_support_distributed_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    problem(dir);
    run(
        dir,
        &[
            "fit",
            "--distributed",
            "--matrix",
            "m/matrix.mtx",
            "--out",
            "o",
        ],
    )
    .expect_code(2)
    .one_line_error()
    .stderr_has("--distributed: this build of nmf-topics has no MPI support");
    assert!(!dir.join("o/topics.json").exists());
    // rel_diff and read_array serve the MPI tests.
    let _ = (rel_diff, read_array);
}
