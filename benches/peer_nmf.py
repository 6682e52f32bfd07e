#!/usr/bin/env python3
"""Peer comparison: scikit-learn's NMF vs `nmf-topics fit` on the same matrix.

Two modes. The default compares seconds per iteration of the multiplicative updates
(scikit-learn's solver='mu' against `--solver mu`); `--quality` compares time to quality
against scikit-learn's coordinate descent (solver='cd'), described at the end.

Both run on the same Matrix Market file with the same fixed custom initialization (seeded,
written as W0.mtx / H0.mtx in Matrix Market array format), tol = 0 and the same number of
iterations, each in its own subprocess, side by side in one run: `--reps` rounds (default 3),
each running sklearn then nmf-topics for every loss. Printed per loss, as medians over the
rounds: seconds per iteration of each and their ratio (the median of the per-round ratios,
which are listed too), the final reconstruction errors (sklearn's reconstruction_err_ vs ours,
sqrt(2 * divergence)) and their relative difference, and the peak resident memory of each
process (GNU time's %M, measured per child).

    python3 benches/peer_nmf.py [--matrix data/debian/matrix.mtx] [--bin target/release/nmf-topics]
                                [-k 20] [--iters 100] [--loss kl,frobenius] [--reps 3]
                                [--skip-ours] [--skip-sklearn]

Without the matrix file, a synthetic uniformly random sparse matrix of 59000 x 20000 with about
2.5M stored entries (seeded) is written to the work directory and used instead.

--online: scikit-learn's MiniBatchNMF with its defaults (tol 1e-4, max_iter 200,
max_no_improvement 10, forget_factor 0.7, --batch-size 1024) from the custom start against
`--solver online` with the same options; seconds of each fit (ours: without the
initialization) and the final errors.

--quality (Frobenius loss, the same custom start): scikit-learn's NMF(solver="cd",
shuffle=False) runs from the start to its own convergence (tol 1e-4); its final objective
L* = reconstruction_err_^2 / 2 and its whole fit time T are noted. Each of our solvers
(--solvers, default mu,hals,als) then runs with tol 0 for a fixed number of iterations
(--quality-iters, per solver) and, from its loss history and seconds per iteration, the
script reports the time to reach (a) L*·(1 + 1e-3) and (b) L*·(1 + 1e-6), each as a share of
T, and one iteration's time against scikit-learn cd's (T / n_iter) and against our MU's.
Rounds alternate the sides (--reps); figures are medians over the rounds.

    python3 benches/peer_nmf.py --matrix data/debian-matrix/matrix.mtx --quality --reps 3
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import scipy.io
import scipy.sparse as sp

HERE = os.path.abspath(__file__)


def sklearn_worker(args):
    """Runs inside the child process: one sklearn fit, results as JSON to args.out."""
    import warnings

    import sklearn
    from sklearn.decomposition import NMF

    x = sp.csr_matrix(scipy.io.mmread(args.matrix), dtype=np.float64)
    w0 = np.ascontiguousarray(scipy.io.mmread(args.w0), dtype=np.float64)
    h0 = np.ascontiguousarray(scipy.io.mmread(args.h0), dtype=np.float64)
    loss = "kullback-leibler" if args.loss == "kl" else "frobenius"
    if args.sk_solver == "minibatch":
        from sklearn.decomposition import MiniBatchNMF
        model = MiniBatchNMF(n_components=args.k, init="custom", beta_loss=loss,
                             batch_size=args.batch_size)
    elif args.sk_solver == "cd":
        model = NMF(n_components=args.k, solver="cd", shuffle=False, init="custom",
                    beta_loss="frobenius", tol=args.sk_tol, max_iter=args.iters)
    else:
        model = NMF(
            n_components=args.k,
            solver="mu",
            init="custom",
            beta_loss=loss,
            tol=0.0,
            max_iter=args.iters,
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        model.fit_transform(x, W=w0, H=h0)
        seconds = time.perf_counter() - t0
    with open(args.out, "w") as f:
        json.dump(
            {
                "sklearn_version": sklearn.__version__,
                "seconds": seconds,
                "iterations": int(model.n_iter_),
                "seconds_per_iteration": seconds / model.n_iter_,
                "reconstruction_error": float(model.reconstruction_err_),
            },
            f,
        )


def run_child(cmd):
    """Runs cmd under /usr/bin/time, returns (exit code, peak RSS in MiB, wall seconds, stderr
    tail).

    The peak is GNU time's %M (the child's own maximum resident set size). ru_maxrss from
    wait4 on the direct child is not used: Linux keeps the high-water mark across exec, so a
    child forked from this (large) Python process would report the parent's size.
    """
    fd, tfile = tempfile.mkstemp(prefix="peer_nmf_time_")
    os.close(fd)
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", tfile] + cmd,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - t0
    err = p.stderr.decode(errors="replace")
    rss = float("nan")
    try:
        with open(tfile) as f:
            lines = [ln for ln in f.read().split() if ln.strip().isdigit()]
        if lines:
            rss = int(lines[-1]) / 1024.0
    finally:
        os.unlink(tfile)
    return p.returncode, rss, wall, err[-2000:]


def prepare(args, work):
    matrix = args.matrix
    if not os.path.exists(matrix):
        matrix = os.path.join(work, "synthetic.mtx")
        if not os.path.exists(matrix):
            n, m, nnz = 59000, 20000, 2_500_000
            print(f"{args.matrix} not found; writing a synthetic {n}x{m} matrix to {matrix}")
            # uniform random positions (duplicates summed), values in (0, 1]; scipy's
            # sp.random would draw from all n*m positions and need ~10 GB here
            rng = np.random.RandomState(0)
            rows = rng.randint(0, n, size=nnz)
            cols = rng.randint(0, m, size=nnz)
            vals = 1.0 - rng.random_sample(nnz)
            x = sp.coo_matrix((vals, (rows, cols)), shape=(n, m)).tocsr()
            x.sum_duplicates()
            scipy.io.mmwrite(matrix, x)
    x = sp.csr_matrix(scipy.io.mmread(matrix))
    n, m = x.shape
    rng = np.random.RandomState(args.seed)
    avg = np.sqrt(x.sum() / (n * m) / args.k)
    w0 = avg * np.abs(rng.standard_normal((n, args.k)))
    h0 = avg * np.abs(rng.standard_normal((args.k, m)))
    w0_path, h0_path = os.path.join(work, "W0.mtx"), os.path.join(work, "H0.mtx")
    scipy.io.mmwrite(w0_path, w0)
    scipy.io.mmwrite(h0_path, h0)
    return matrix, w0_path, h0_path, x.shape, x.nnz


def run_pair(args, loss, matrix, w0, h0, work):
    """One sklearn run and one nmf-topics run of `loss`, each in its own process; returns the
    measured figures (keys missing for a side that was skipped or failed)."""
    row = {}
    if not args.skip_sklearn:
        out = os.path.join(work, f"sklearn_{loss}.json")
        cmd = [sys.executable, HERE, "--worker", "sklearn", "--matrix", matrix, "--w0", w0,
               "--h0", h0, "--loss", loss, "--iters", str(args.iters), "-k", str(args.k),
               "--out", out]
        code, rss, wall, err = run_child(cmd)
        if code != 0:
            print(f"sklearn ({loss}) failed with exit code {code}:\n{err}")
        else:
            with open(out) as f:
                r = json.load(f)
            row.update(sk_spi=r["seconds_per_iteration"], sk_err=r["reconstruction_error"],
                       sk_rss=rss, sk_version=r["sklearn_version"])
    if not args.skip_ours:
        out = os.path.join(work, f"ours_{loss}")
        cmd = [args.bin, "fit", "--matrix", matrix, "-k", str(args.k), "--init", "custom",
               "--w0", w0, "--h0", h0, "--solver", "mu", "--loss", loss, "--tol", "0",
               "--max-iter", str(args.iters), "--out", out, "--quiet"]
        if not os.path.exists(args.bin):
            print(f"{args.bin} not found; build it with `cargo build --release`")
        else:
            code, rss, wall, err = run_child(cmd)
            if code != 0:
                print(f"nmf-topics ({loss}) failed with exit code {code}:\n{err}")
            else:
                with open(os.path.join(out, "topics.json")) as f:
                    r = json.load(f)
                div = r["metrics"].get("divergence")
                ours_err = r["metrics"].get("reconstruction_error")
                if div is not None:
                    ours_err = float(np.sqrt(2.0 * max(div, 0.0)))
                row.update(our_spi=r["fit"]["seconds_per_iteration"], our_err=ours_err,
                           our_rss=rss)
    return row


def ours_history(args, solver, iters, matrix, w0, h0, work):
    """One `nmf-topics fit --solver SOLVER --tol 0` run: (loss history, seconds per iteration).
    `hals+N` is `--solver hals --inner-sweeps N`."""
    out = os.path.join(work, f"ours_q_{solver}")
    name, _, inner = solver.partition("+")
    extra = ["--inner-sweeps", inner] if inner else []
    cmd = [args.bin, "fit", "--matrix", matrix, "-k", str(args.k), "--init", "custom",
           "--w0", w0, "--h0", h0, "--solver", name, "--loss", "frobenius", "--tol", "0",
           "--max-iter", str(iters), "--out", out, "--quiet"] + extra
    code, _, _, err = run_child(cmd)
    if code != 0:
        print(f"nmf-topics --solver {solver} failed with exit code {code}:\n{err}")
        return None
    with open(os.path.join(out, "topics.json")) as f:
        r = json.load(f)
    return r["fit"]["loss_history"], r["fit"]["seconds_per_iteration"]


def first_at_or_below(history, target):
    """Iterations needed (1-based) to bring the objective to `target` or below, else None."""
    for t, v in enumerate(history):
        if v <= target:
            return t + 1
    return None


def online(args, matrix, w0, h0, work):
    """scikit-learn's MiniBatchNMF with its defaults from the custom start, against
    `--solver online` with the same options, alternating rounds; medians."""
    rows = {loss: [] for loss in args.loss.split(",")}
    for rep in range(args.reps):
        for loss in rows:
            out = os.path.join(work, f"sklearn_mb_{loss}.json")
            cmd = [sys.executable, HERE, "--worker", "sklearn", "--sk-solver", "minibatch",
                   "--matrix", matrix, "--w0", w0, "--h0", h0, "--loss", loss, "-k",
                   str(args.k), "--iters", "200", "--batch-size", str(args.batch_size),
                   "--out", out]
            code, rss, _, err = run_child(cmd)
            if code != 0:
                print(f"sklearn MiniBatchNMF failed:\n{err}")
                return
            with open(out) as f:
                sk = json.load(f)
            ours_dir = os.path.join(work, f"ours_online_{loss}")
            cmd = [args.bin, "fit", "--matrix", matrix, "-k", str(args.k), "--init", "custom",
                   "--w0", w0, "--h0", h0, "--solver", "online", "--loss", loss,
                   "--batch-size", str(args.batch_size), "--out", ours_dir, "--quiet"]
            code, our_rss, _, err = run_child(cmd)
            if code != 0:
                print(f"nmf-topics --solver online failed:\n{err}")
                return
            with open(os.path.join(ours_dir, "topics.json")) as f:
                r = json.load(f)
            loop = r["fit"]["seconds"] - r["fit"]["init_seconds"]
            ours_err = float(np.sqrt(2.0 * max(r["metrics"]["divergence"], 0.0)))
            rows[loss].append(dict(sk_s=sk["seconds"], sk_err=sk["reconstruction_error"],
                                   sk_it=sk["iterations"], our_s=loop, our_err=ours_err,
                                   our_it=r["fit"]["iterations"], sk_rss=rss, our_rss=our_rss))
            q = rows[loss][-1]
            print(f"round {rep + 1} {loss}: sklearn {q['sk_s']:.3f} s ({q['sk_it']} epochs, error "
                  f"{q['sk_err']:.6f}); ours {q['our_s']:.3f} s ({q['our_it']} epochs, error "
                  f"{q['our_err']:.6f}); ratio {q['our_s'] / q['sk_s']:.3f}")
    print()
    for loss, rs in rows.items():
        med = lambda key: float(np.median([r[key] for r in rs]))
        ratio = float(np.median([r["our_s"] / r["sk_s"] for r in rs]))
        print(f"{loss}: MiniBatchNMF {med('sk_s'):.3f} s, error {rs[0]['sk_err']:.8g}; "
              f"--solver online {med('our_s'):.3f} s, error {rs[0]['our_err']:.8g}; "
              f"time ratio {ratio:.3f} (median of {len(rs)}); peak memory "
              f"{med('sk_rss'):.0f} / {med('our_rss'):.0f} MiB")


def quality(args, matrix, w0, h0, work):
    solvers = args.solvers.split(",")
    iters = dict(mu=300, hals=150, als=80)
    for kv in filter(None, args.quality_iters.split(",")):
        name, n = kv.split("=")
        iters[name] = int(n)
    rounds = []
    for rep in range(args.reps):
        out = os.path.join(work, "sklearn_cd.json")
        cmd = [sys.executable, HERE, "--worker", "sklearn", "--sk-solver", "cd", "--sk-tol",
               str(args.sk_tol), "--matrix", matrix, "--w0", w0, "--h0", h0, "--loss",
               "frobenius", "--iters", "1000", "-k", str(args.k), "--out", out]
        code, rss, wall, err = run_child(cmd)
        if code != 0:
            print(f"sklearn cd failed with exit code {code}:\n{err}")
            return
        with open(out) as f:
            sk = json.load(f)
        row = {"T": sk["seconds"], "n_iter": sk["iterations"],
               "L": 0.5 * sk["reconstruction_error"] ** 2, "version": sk["sklearn_version"]}
        for s in solvers:
            h = ours_history(args, s, iters.get(s, 100), matrix, w0, h0, work)
            if h is not None:
                row[s] = h
        rounds.append(row)
        print(f"round {rep + 1}: sklearn cd {row['n_iter']} iterations, T = {row['T']:.3f} s, "
              f"L* = {row['L']:.8f}; " + ", ".join(
                  f"{s} {row[s][1] * 1e3:.2f} ms/it" for s in solvers if s in row))
    med = lambda xs: float(np.median(xs)) if xs else float("nan")
    T = med([r["T"] for r in rounds])
    sk_spi = med([r["T"] / r["n_iter"] for r in rounds])
    print()
    print(f"scikit-learn {rounds[0]['version']} NMF(solver='cd'): {rounds[0]['n_iter']} iterations "
          f"to tol {args.sk_tol}, T = {T:.3f} s (median of {len(rounds)}), "
          f"{sk_spi * 1e3:.2f} ms per iteration, L* = {rounds[0]['L']:.8f}")
    print(f"{'solver':<7} {'ms/it':>8} {'vs cd it':>9} {'vs mu it':>9} "
          f"{'iters (a)':>9} {'(a)/T':>8} {'iters (b)':>9} {'(b)/T':>8}")
    for s in solvers:
        spis = [r[s][1] for r in rounds if s in r]
        if not spis:
            continue
        spi = med(spis)
        vs_cd = med([r[s][1] / (r["T"] / r["n_iter"]) for r in rounds if s in r])
        vs_mu = med([r[s][1] / r["mu"][1] for r in rounds if s in r and "mu" in r])
        cells = []
        for rel in (1e-3, 1e-6):
            its = [first_at_or_below(r[s][0], r["L"] * (1 + rel)) for r in rounds if s in r]
            shares = [i * r[s][1] / r["T"] for i, r in zip(its, [r for r in rounds if s in r])
                      if i is not None]
            if len(shares) == len(its):
                cells += [f"{int(np.median(its)):>9}", f"{med(shares):>7.3f}x"]
            else:
                cells += [f"{'not in ' + str(iters.get(s, 100)):>9}", f"{'-':>8}"]
        print(f"{s:<7} {spi * 1e3:>8.2f} {vs_cd:>8.3f}x {vs_mu:>8.3f}x " + " ".join(cells))
    for s in solvers:
        per = [f"{r[s][1] / (r['T'] / r['n_iter']):.3f}" for r in rounds if s in r]
        print(f"{s}: iteration time / sklearn cd's, per round: {', '.join(per)}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--matrix", default="data/debian/matrix.mtx")
    ap.add_argument("--bin", default="target/release/nmf-topics")
    ap.add_argument("-k", "--k", type=int, default=20)
    ap.add_argument("--iters", type=int, default=100)
    ap.add_argument("--loss", default="kl,frobenius")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--reps", type=int, default=3,
                    help="runs of each side per loss, alternating; medians are printed")
    ap.add_argument("--work", default=None, help="work directory (default: a temporary one)")
    ap.add_argument("--skip-ours", action="store_true")
    ap.add_argument("--skip-sklearn", action="store_true")
    ap.add_argument("--quality", action="store_true",
                    help="time to quality against scikit-learn's solver='cd' (see above)")
    ap.add_argument("--solvers", default="mu,hals,als",
                    help="our solvers for --quality; hals+N adds --inner-sweeps N")
    ap.add_argument("--quality-iters", default="",
                    help="iterations per solver for --quality, e.g. mu=300,hals=150,als=80")
    ap.add_argument("--online", action="store_true",
                    help="MiniBatchNMF's defaults against --solver online (same start)")
    ap.add_argument("--batch-size", type=int, default=1024, help="--online batch size")
    ap.add_argument("--sk-tol", type=float, default=1e-4, help=argparse.SUPPRESS)
    ap.add_argument("--sk-solver", default="mu", help=argparse.SUPPRESS)
    # internal: the sklearn child
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--w0", help=argparse.SUPPRESS)
    ap.add_argument("--h0", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker == "sklearn":
        sklearn_worker(args)
        return

    work = args.work or tempfile.mkdtemp(prefix="peer_nmf_")
    os.makedirs(work, exist_ok=True)
    matrix, w0, h0, shape, nnz = prepare(args, work)
    if args.online:
        print(f"matrix {matrix}: {shape[0]} x {shape[1]}, nnz {nnz}; k = {args.k}, custom init "
              f"(seed {args.seed}), batch size {args.batch_size}; {args.reps} rounds")
        online(args, matrix, w0, h0, work)
        return
    if args.quality:
        print(f"matrix {matrix}: {shape[0]} x {shape[1]}, nnz {nnz}; k = {args.k}, custom init "
              f"(seed {args.seed}); {args.reps} rounds; work dir {work}")
        quality(args, matrix, w0, h0, work)
        return
    print(f"matrix {matrix}: {shape[0]} x {shape[1]}, nnz {nnz}; k = {args.k}, "
          f"{args.iters} iterations, tol 0, custom init (seed {args.seed}); "
          f"{args.reps} runs of each side, medians; work dir {work}")
    runs = {loss: [] for loss in args.loss.split(",")}
    for rep in range(args.reps):
        for loss in runs:
            runs[loss].append(run_pair(args, loss, matrix, w0, h0, work))
    rows = []
    for loss, reps in runs.items():
        row = {"loss": loss}
        for key in ("sk_spi", "sk_err", "sk_rss", "our_spi", "our_err", "our_rss"):
            vals = [r[key] for r in reps if key in r]
            if vals:
                row[key] = float(np.median(vals))
        pairs = [r["our_spi"] / r["sk_spi"] for r in reps if "our_spi" in r and "sk_spi" in r]
        if pairs:
            row["ratios"] = pairs
        versions = [r["sk_version"] for r in reps if "sk_version" in r]
        if versions:
            row["sk_version"] = versions[0]
        rows.append(row)

    print()
    print(f"{'loss':<10} {'sklearn s/it':>12} {'ours s/it':>10} {'ratio':>7} "
          f"{'sklearn err':>14} {'ours err':>14} {'rel diff':>9} {'sk MiB':>8} {'our MiB':>8} {'mem ratio':>9}")
    for r in rows:
        def g(key, fmt):
            return format(r[key], fmt) if key in r else "-"
        ratio = f"{float(np.median(r['ratios'])):.3f}" if "ratios" in r else "-"
        rel = (f"{abs(r['our_err'] - r['sk_err']) / r['sk_err']:.1e}"
               if "our_err" in r and "sk_err" in r else "-")
        mem = f"{r['our_rss'] / r['sk_rss']:.3f}" if "our_rss" in r and "sk_rss" in r else "-"
        print(f"{r['loss']:<10} {g('sk_spi', '.4f'):>12} {g('our_spi', '.4f'):>10} {ratio:>7} "
              f"{g('sk_err', '.8g'):>14} {g('our_err', '.8g'):>14} {rel:>9} "
              f"{g('sk_rss', '.0f'):>8} {g('our_rss', '.0f'):>8} {mem:>9}")
    for r in rows:
        if "ratios" in r:
            print(f"{r['loss']}: time ratio of each run: "
                  + ", ".join(f"{q:.3f}" for q in r["ratios"]))
    if rows and "sk_version" in rows[0]:
        print(f"(scikit-learn {rows[0]['sk_version']}, numpy {np.__version__})")


if __name__ == "__main__":
    main()
