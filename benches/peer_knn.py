#!/usr/bin/env python3
"""The cosine P-nearest-neighbour graph of `--solver gnmf` against scikit-learn's
`NearestNeighbors(metric="cosine", algorithm="brute")` on the same Matrix Market matrix.

Each side runs in its own process under GNU time (wall seconds and peak resident memory of
the whole process, reading the matrix included), alternating for --reps rounds (default 3);
medians are printed, with the time and memory of reading the matrix alone for both. Ours is
`examples/knn_graph.rs` (build it with `cargo build --release --example knn_graph`). The
neighbour lists of both are compared with a brute force (dense similarities of one row
against all, ties to the lower row) on 200 sampled documents; `--check` does only that.

    python3 benches/peer_knn.py --matrix data/debian-matrix/matrix.mtx [-p 5] [--reps 3] [--check]
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


def worker(args):
    x = sp.csr_matrix(scipy.io.mmread(args.matrix), dtype=np.float64)
    t0 = time.perf_counter()
    if not args.read_only:
        from sklearn.neighbors import NearestNeighbors
        nn = NearestNeighbors(n_neighbors=args.p + 1, metric="cosine", algorithm="brute")
        nn.fit(x)
        dist, ind = nn.kneighbors(x)
        seconds = time.perf_counter() - t0
        lists = []
        for i in range(x.shape[0]):
            mine = [int(j) for j, d in zip(ind[i], dist[i]) if j != i and d < 1.0][: args.p]
            lists.append(mine)
        with open(args.out, "w") as f:
            json.dump({"seconds": seconds, "lists": lists}, f)


def timed(cmd):
    fd, tfile = tempfile.mkstemp(prefix="peer_knn_time_")
    os.close(fd)
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", tfile] + cmd,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wall = time.perf_counter() - t0
    with open(tfile) as f:
        rss = int([ln for ln in f.read().split() if ln.isdigit()][-1]) / 1024.0
    os.unlink(tfile)
    if p.returncode != 0:
        sys.exit(f"{cmd[0]} failed:\n{p.stderr.decode()[-2000:]}")
    return wall, rss, p.stdout.decode()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--matrix", default="data/debian-matrix/matrix.mtx")
    ap.add_argument("--bin", default="target/release/examples/knn_graph")
    ap.add_argument("-p", type=int, default=5)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--check", action="store_true", help="only compare the lists")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--read-only", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args)
        return
    work = tempfile.mkdtemp(prefix="peer_knn_")
    out = os.path.join(work, "sk.json")
    if not args.check:
        compare_time(args, out)
    else:
        timed([sys.executable, HERE, "--worker", "--matrix", args.matrix, "-p", str(args.p),
               "--out", out])
    with open(out) as f:
        sk = json.load(f)
    lists_path = os.path.join(work, "ours.tsv")
    timed([args.bin, args.matrix, str(args.p), "--lists", lists_path])
    ours = {}
    with open(lists_path) as f:
        for line in f:
            i, js = line.rstrip("\n").split("\t")
            ours[int(i)] = [int(j) for j in js.split(",") if j]
    x = sp.csr_matrix(scipy.io.mmread(args.matrix), dtype=np.float64)
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    rng = np.random.RandomState(0)
    sample = rng.choice(x.shape[0], size=min(200, x.shape[0]), replace=False)
    agree = {"ours": 0, "scikit-learn": 0}
    for i in sample:
        sims = np.asarray((x @ x[i].T).todense()).ravel() / (norms * norms[i] + 1e-300)
        sims[i] = -1
        order = np.lexsort((np.arange(len(sims)), -sims))[: args.p]
        want = [int(j) for j in order if sims[j] > 0]
        agree["ours"] += ours[int(i)] == want
        agree["scikit-learn"] += set(sk["lists"][i]) == set(want)
    print(f"neighbour lists equal to a brute force on {len(sample)} sampled documents: ours "
          f"{agree['ours']} (in order), scikit-learn {agree['scikit-learn']} (as sets; the rest "
          f"differ by ties)")


def compare_time(args, out):
    rows = []
    for rep in range(args.reps):
        sk_wall, sk_rss, _ = timed([sys.executable, HERE, "--worker", "--matrix", args.matrix,
                                    "-p", str(args.p), "--out", out])
        with open(out) as f:
            sk = json.load(f)
        our_wall, our_rss, text = timed([args.bin, args.matrix, str(args.p)])
        ours = float(text.split("knn graph P = ")[1].split(": ")[1].split(" s")[0])
        rows.append(dict(sk_wall=sk_wall, sk_s=sk["seconds"], sk_rss=sk_rss, our_wall=our_wall,
                         our_s=ours, our_rss=our_rss))
        print(f"round {rep + 1}: scikit-learn {sk['seconds']:.2f} s (process {sk_wall:.2f} s, "
              f"{sk_rss:.0f} MiB); ours {ours:.2f} s (process {our_wall:.2f} s, "
              f"{our_rss:.0f} MiB)")
    base_sk = timed([sys.executable, HERE, "--worker", "--read-only", "--matrix", args.matrix])
    base_ours = timed([args.bin, args.matrix, str(args.p), "--read-only"])
    med = lambda k: float(np.median([r[k] for r in rows]))
    print()
    print(f"{'':<14} {'graph s':>8} {'process s':>10} {'peak MiB':>9} {'reading alone MiB':>18}")
    print(f"{'scikit-learn':<14} {med('sk_s'):>8.2f} {med('sk_wall'):>10.2f} {med('sk_rss'):>9.0f} "
          f"{base_sk[1]:>18.0f}")
    print(f"{'nmf-topics':<14} {med('our_s'):>8.2f} {med('our_wall'):>10.2f} {med('our_rss'):>9.0f} "
          f"{base_ours[1]:>18.0f}")
    ratios = [r["our_s"] / r["sk_s"] for r in rows]
    print(f"time ratio per round: {', '.join(f'{q:.3f}' for q in ratios)}; "
          f"median {np.median(ratios):.3f}")


if __name__ == "__main__":
    main()
