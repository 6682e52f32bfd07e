#!/usr/bin/env python3
"""How time and memory grow with the corpus: synthetic corpora with known topics (the generator
of `tools/synth_corpus.rs`) of several sizes, vectorized and fitted end to end by the real
binary, each run a process of its own under GNU time (wall seconds and peak resident memory).

    cargo build --release --example synth_corpus
    python3 benches/scale.py [--sizes 10000,100000,1000000] [-k 50] [--solvers hals,online]
                             [--bin target/release/nmf-topics] [--work data/scale]
                             [--skip-vectorize]

The largest corpus is generated once (`--topics 30 --seed 0`); a smaller one is its first N
lines (the generator's smaller `--docs` gives exactly that prefix). Every run uses
`--label-field label --no-stem --min-df 5` and the solver's defaults (tolerance, start). For each
size it prints the corpus (documents, stored entries), `vectorize` (wall, peak), and per solver
the whole `fit` (wall, CPU, peak), the solver's own seconds (start included, from topics.json),
the rest (reading, vectorizing, measuring, writing), the iterations, and the NMI of the dominant
topics against the generating topics. The last columns divide time and memory by the stored
entries, so linear growth shows as a constant.

`--solvers` takes `stream` besides the solver names: `fit --stream` (the online solver over the
text read again every epoch, the matrix never built). `--skip-vectorize` leaves out the
`vectorize` run (whose matrix.mtx is about 16 bytes of text per stored entry: 7 GB at 5M
documents); the stored entries then come from topics.json.
"""
import argparse
import json
import os
import subprocess
import sys


def timed(cmd):
    """Runs `cmd` under GNU time: (wall s, user + sys s, peak MiB)."""
    r = subprocess.run(["/usr/bin/time", "-f", "%e %U %S %M"] + cmd, capture_output=True,
                       text=True)
    if r.returncode != 0:
        sys.exit(f"failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr[-2000:]}")
    wall, user, sys_, kb = r.stderr.strip().splitlines()[-1].split()
    return float(wall), float(user) + float(sys_), int(kb) / 1024.0


def corpus(args, n):
    """The path of the n-document corpus, made from the largest one when missing."""
    largest = max(args.sizes)
    big = os.path.join(args.work, f"synth-{largest}.jsonl")
    if not os.path.exists(big):
        gen = os.path.join(os.path.dirname(args.bin), "examples", "synth_corpus")
        subprocess.run([gen, "--docs", str(largest), "--topics", "30", "--seed", "0",
                        "--out", big], check=True)
    if n == largest:
        return big
    path = os.path.join(args.work, f"synth-{n}.jsonl")
    if not os.path.exists(path):
        with open(big) as src, open(path, "w") as dst:
            for i, line in enumerate(src):
                if i == n:
                    break
                dst.write(line)
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("-k", type=int, default=50)
    ap.add_argument("--solvers", default="hals,online")
    ap.add_argument("--bin", default="target/release/nmf-topics")
    ap.add_argument("--work", default="data/scale")
    ap.add_argument("--skip-vectorize", action="store_true")
    args = ap.parse_args()
    args.sizes = [int(s) for s in args.sizes.split(",")]
    os.makedirs(args.work, exist_ok=True)
    common = ["--label-field", "label", "--no-stem", "--min-df", "5", "--quiet"]
    rows = []
    for n in sorted(args.sizes):
        path = corpus(args, n)
        mdir = os.path.join(args.work, f"m-{n}")
        vw, vm, nnz = float("nan"), float("nan"), None
        if not args.skip_vectorize:
            vw, vc, vm = timed([args.bin, "vectorize", path, "--out", mdir] + common)
            with open(os.path.join(mdir, "matrix.mtx")) as f:
                for line in f:
                    if not line.startswith("%"):
                        nnz = int(line.split()[2])
                        break
        for solver in args.solvers.split(","):
            out = os.path.join(args.work, f"o-{n}-{solver}")
            how = ["--stream"] if solver == "stream" else ["--solver", solver]
            fw, fc, fm = timed([args.bin, "fit", path, "-k", str(args.k), "--out", out]
                               + how + common)
            with open(os.path.join(out, "topics.json")) as f:
                t = json.load(f)
            nnz = t["corpus"]["nnz"] if nnz is None else nnz
            fit = t["fit"]
            nmi = t["metrics"].get("labels", {}).get("nmi")
            row = dict(docs=n, nnz=nnz, vec_s=vw, vec_mib=vm, solver=solver, wall=fw, cpu=fc,
                       peak=fm, solver_s=fit["seconds"], start_s=fit["init_seconds"],
                       iters=fit["iterations"], nmi=nmi)
            rows.append(row)
            print(json.dumps(row), flush=True)
    print()
    print(f"{'documents':>10} {'nnz':>11} {'vectorize':>16} {'solver':>7} {'fit wall':>9} "
          f"{'CPU':>7} {'peak':>9} {'solver s':>9} {'start s':>8} {'rest s':>7} {'iters':>6} "
          f"{'NMI':>6} {'us/nnz':>7} {'B/nnz':>6}")
    for r in rows:
        rest = r["wall"] - r["solver_s"]
        print(f"{r['docs']:>10,} {r['nnz']:>11,} {r['vec_s']:>7.1f} s {r['vec_mib']:>5.0f} MiB "
              f"{r['solver']:>7} {r['wall']:>7.1f} s {r['cpu']:>5.0f} s {r['peak']:>5.0f} MiB "
              f"{r['solver_s']:>9.1f} {r['start_s']:>8.1f} {rest:>7.1f} {r['iters']:>6} "
              f"{(r['nmi'] or 0):>6.3f} {1e6 * r['wall'] / r['nnz']:>7.2f} "
              f"{r['peak'] * 2**20 / r['nnz']:>6.1f}")


if __name__ == "__main__":
    main()
