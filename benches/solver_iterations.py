#!/usr/bin/env python3
"""Seconds per iteration of every solver of `nmf-topics fit`, side by side on one matrix.

Each solver runs in its own process from the same custom start (peer_nmf.py's W0/H0: the
seeded |N(0,1)|·√(mean(X)/k)), with tol 0 for a fixed number of iterations, in rounds that
alternate the solvers (--reps, default 3). Printed per solver: the median of its seconds per
iteration (topics.json `fit.seconds_per_iteration`: the solver loop only, the start and, for
gnmf, the graph excluded), its ratio to MU with the same loss and to HALS (medians of the
per-round ratios, which are listed), the final objective, and for gnmf the seconds of the
graph (params.graph.seconds).

    python3 benches/solver_iterations.py --matrix data/debian-matrix/matrix.mtx [-k 20]
        [--iters 30] [--reps 3] [--solvers mu,hals,gnmf,pg,mu:kl,gnmf:kl,nsnmf:kl]
        [--iters-per pg=10,gnmf:kl=15] [--bin target/release/nmf-topics]

A solver is NAME or NAME:LOSS (frobenius by default); extra options for one solver can follow
its name after `+`, e.g. `gnmf+--graph-lambda=10`.
"""
import argparse
import importlib.util
import json
import os
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("peer_nmf", os.path.join(HERE, "peer_nmf.py"))
peer = importlib.util.module_from_spec(spec)
spec.loader.exec_module(peer)


def parse(name):
    opts = name.split("+")
    base, extra = opts[0], [o.replace("=", " ", 1).split(" ") for o in opts[1:]]
    solver, _, loss = base.partition(":")
    return solver, loss or "frobenius", [a for pair in extra for a in pair]


def run(args, name, matrix, w0, h0, work, iters):
    solver, loss, extra = parse(name)
    out = os.path.join(work, "out_" + name.replace(":", "_").replace("+", "_"))
    cmd = [args.bin, "fit", "--matrix", matrix, "-k", str(args.k), "--init", "custom",
           "--w0", w0, "--h0", h0, "--solver", solver, "--loss", loss, "--tol", "0",
           "--max-iter", str(iters), "--out", out, "--quiet"] + extra
    code, rss, wall, err = peer.run_child(cmd)
    if code != 0:
        print(f"{name} failed with exit code {code}:\n{err}")
        return None
    with open(os.path.join(out, "topics.json")) as f:
        r = json.load(f)
    graph = r["params"].get("graph", {}).get("seconds")
    return dict(spi=r["fit"]["seconds_per_iteration"], loss=r["metrics"]["loss"],
                graph=graph, rss=rss)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--matrix", default="data/debian-matrix/matrix.mtx")
    ap.add_argument("--bin", default="target/release/nmf-topics")
    ap.add_argument("-k", "--k", type=int, default=20)
    ap.add_argument("--iters", type=int, default=30)
    ap.add_argument("--iters-per", default="", help="iterations per solver, e.g. pg=10")
    ap.add_argument("--solvers", default="mu,hals,gnmf,pg,mu:kl,gnmf:kl,nsnmf:kl")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--work", default=None)
    args = ap.parse_args()
    work = args.work or tempfile.mkdtemp(prefix="solver_iterations_")
    os.makedirs(work, exist_ok=True)
    matrix, w0, h0, shape, nnz = peer.prepare(args, work)
    names = args.solvers.split(",")
    iters = {n: args.iters for n in names}
    for kv in filter(None, args.iters_per.split(",")):
        n, v = kv.rsplit("=", 1)
        iters[n] = int(v)
    print(f"matrix {matrix}: {shape[0]} x {shape[1]}, nnz {nnz}; k = {args.k}, custom start "
          f"(seed {args.seed}), tol 0; {args.reps} rounds; work dir {work}")
    rounds = []
    for rep in range(args.reps):
        row = {}
        for n in names:
            r = run(args, n, matrix, w0, h0, work, iters[n])
            if r is not None:
                row[n] = r
        rounds.append(row)
        print(f"round {rep + 1}: " + ", ".join(
            f"{n} {row[n]['spi'] * 1e3:.1f} ms/it" for n in names if n in row))
    med = lambda xs: float(np.median(xs)) if xs else float("nan")
    print()
    print(f"{'solver':<14} {'iters':>5} {'ms/it':>9} {'vs mu':>8} {'vs hals':>8} "
          f"{'objective':>16} {'graph s':>8}")
    for n in names:
        rs = [r[n] for r in rounds if n in r]
        if not rs:
            continue
        _, loss, _ = parse(n)
        mu = "mu" if loss == "frobenius" else "mu:kl"
        vs_mu = [r[n]["spi"] / r[mu]["spi"] for r in rounds if n in r and mu in r]
        vs_hals = [r[n]["spi"] / r["hals"]["spi"] for r in rounds if n in r and "hals" in r]
        g = [x["graph"] for x in rs if x["graph"] is not None]
        print(f"{n:<14} {iters[n]:>5} {med([x['spi'] for x in rs]) * 1e3:>9.2f} "
              f"{med(vs_mu):>7.2f}x {med(vs_hals):>7.2f}x {rs[-1]['loss']:>16.8g} "
              f"{(f'{med(g):.2f}' if g else '-'):>8}")
    for n in names:
        _, loss, _ = parse(n)
        mu = "mu" if loss == "frobenius" else "mu:kl"
        per = [f"{r[n]['spi'] / r[mu]['spi']:.2f}" for r in rounds if n in r and mu in r]
        print(f"{n}: ms/it ratio to {mu} per round: {', '.join(per)}")


if __name__ == "__main__":
    main()
