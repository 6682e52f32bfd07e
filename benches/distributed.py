#!/usr/bin/env python3
"""Time per iteration of `fit --distributed` on P = 1, 2, 4 processes of one host against the
local threaded fit, side by side (rounds alternate the configurations; medians reported).

    python3 benches/distributed.py --bin target/release/nmf-topics \
        --matrix data/debian-matrix/matrix.mtx --solver mu --loss frobenius --iters 30 --reps 3

The binary must be built with `--features mpi`. Every run starts from the same random start
(--init random, --seed 0), runs --iters iterations with --tol 0, and reports the model's
seconds per iteration (the solver loop divided by the iterations, from topics.json: the
start, the reading and the outputs are not in it). The local fit uses all --cores threads;
a distributed run gives each of its P processes cores/P threads (at least 1), so P = 4 on
2 cores is oversubscribed: it measures the cost of the layout and the communication, not a
speed-up. The factors of every run are compared with the local run's (max relative
difference of W and H).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile


def read_array(path):
    with open(path) as f:
        lines = [l for l in f if not l.startswith("%")]
    return [float(v) for l in lines[1:] for v in l.split()]


def rel_diff(a, b):
    x, y = read_array(a), read_array(b)
    scale = max(abs(v) for v in x)
    return max(abs(p - q) for p, q in zip(x, y)) / scale


def run(args, config, out):
    kind, p = config
    fit = [
        "fit", "--matrix", args.matrix, "-k", str(args.k), "--solver", args.solver,
        "--loss", args.loss, "--init", "random", "--seed", "0", "--max-iter",
        str(args.iters), "--tol", "0", "--quiet", "--out", out,
    ]
    if args.factors:
        fit.append("--save-factors")
    env = dict(os.environ)
    if kind == "local":
        cmd = [args.bin] + fit + ["--threads", str(args.cores)]
    else:
        threads = max(1, args.cores // p)
        cmd = (["mpirun", "--allow-run-as-root", "--oversubscribe", "-n", str(p),
                "--bind-to", "none", args.bin] + fit
               + ["--distributed", "--threads", str(threads)])
    subprocess.run(["nice", "-n", "19"] + cmd, check=True, env=env,
                   stdout=subprocess.DEVNULL)
    with open(os.path.join(out, "topics.json")) as f:
        t = json.load(f)
    return t["fit"]["seconds_per_iteration"], t["metrics"]["loss"]


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default="target/release/nmf-topics")
    ap.add_argument("--matrix", required=True)
    ap.add_argument("-k", type=int, default=20)
    ap.add_argument("--solver", default="mu")
    ap.add_argument("--loss", default="frobenius")
    ap.add_argument("--iters", type=int, default=30)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--cores", type=int, default=os.cpu_count())
    ap.add_argument("--procs", default="1,2,4")
    ap.add_argument("--factors", action="store_true",
                    help="also compare W and H with the local run's")
    args = ap.parse_args()
    configs = [("local", 0)] + [("mpi", int(p)) for p in args.procs.split(",")]
    times = {c: [] for c in configs}
    losses = {}
    with tempfile.TemporaryDirectory() as work:
        for r in range(args.reps):
            for c in configs:
                out = os.path.join(work, f"{c[0]}{c[1]}")
                s, loss = run(args, c, out)
                times[c].append(s)
                losses[c] = loss
                print(f"round {r}: {c[0]} P={c[1]}: {s * 1e3:.1f} ms/iter", file=sys.stderr)
        diffs = {}
        if args.factors:
            for c in configs[1:]:
                out = os.path.join(work, f"{c[0]}{c[1]}")
                local = os.path.join(work, "local0")
                diffs[c] = max(rel_diff(os.path.join(local, f), os.path.join(out, f))
                               for f in ["W.mtx", "H.mtx"])
    base = statistics.median(times[configs[0]])
    print(f"matrix {args.matrix}, k = {args.k}, {args.solver} {args.loss}, "
          f"{args.iters} iterations, {args.cores} cores, medians of {args.reps}")
    print("| run | threads per process | ms / iteration (median) | rounds | vs local | objective |"
          + (" max rel. diff of W, H vs local |" if args.factors else ""))
    print("|---|---|---|---|---|---|" + ("---|" if args.factors else ""))
    for c in configs:
        med = statistics.median(times[c])
        name = "local (threads)" if c[0] == "local" else f"--distributed, P = {c[1]}"
        threads = args.cores if c[0] == "local" else max(1, args.cores // c[1])
        rounds = ", ".join(f"{t * 1e3:.1f}" for t in times[c])
        line = (f"| {name} | {threads} | {med * 1e3:.1f} | {rounds} | {med / base:.2f}× | "
                f"{losses[c]:.10g} |")
        if args.factors:
            line += f" {diffs[c]:.1e} |" if c in diffs else " – |"
        print(line)


if __name__ == "__main__":
    main()
