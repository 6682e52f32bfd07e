#!/usr/bin/env python3
"""Side-by-side timing of scikit-learn's TfidfVectorizer and `nmf-topics vectorize`.

Both read the same folder from disk (walked in sorted order; `.txt`, `.md`, `.text`, `.html`,
`.htm` files, hidden files and folders skipped, the way `nmf-topics` walks a folder) and build a
TF-IDF matrix with English stopwords, min_df=5 and max_df=0.95:

* sklearn:   TfidfVectorizer(stop_words="english", min_df=5, max_df=0.95) on the file texts,
             file reading included in the time;
* nmf-topics vectorize FOLDER --out TMP --no-stem --stopwords english --min-df 5 --max-df 0.95
             (and the same with stemming on), writing matrix.mtx, terms.tsv, documents.tsv.

Every contender runs in its own child process, `--reps` times (default 3, interleaved); the
script prints the median time, the ratio to sklearn, and the peak resident memory of each child
(the `ru_maxrss` that `os.wait4` reports for that child alone), all in one run. The sklearn time
is reading + vectorizing measured inside its process (the interpreter start and the imports are
left out, in sklearn's favour); the nmf-topics time is the whole process, writing included.

Usage:
    python3 benches/peer_tfidf.py FOLDER [--bin target/release/nmf-topics] [--reps 3]
                                         [--no-cli] [--no-sklearn]
Requires Python 3.8+ and scikit-learn. Build the binary first: `cargo build --release`.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

EXTENSIONS = (".txt", ".md", ".text", ".html", ".htm")
SKLEARN = "sklearn TfidfVectorizer"
OPTIONS = ["--stopwords", "english", "--min-df", "5", "--max-df", "0.95"]


def walk_sorted(folder):
    """Paths of the text files under `folder`, sorted, hidden entries skipped."""
    paths = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if not name.startswith(".") and name.lower().endswith(EXTENSIONS):
                paths.append(os.path.join(root, name))
    paths.sort()
    return paths


def sklearn_child(folder):
    """Runs in the child process: read the folder, vectorize, print timings as JSON."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    t0 = time.perf_counter()
    texts = []
    for path in walk_sorted(folder):
        with open(path, encoding="utf-8", errors="replace") as f:
            texts.append(f.read())
    t1 = time.perf_counter()
    vectorizer = TfidfVectorizer(stop_words="english", min_df=5, max_df=0.95)
    x = vectorizer.fit_transform(texts)
    t2 = time.perf_counter()
    print(
        json.dumps(
            {
                "read_s": t1 - t0,
                "vectorize_s": t2 - t1,
                "documents": x.shape[0],
                "terms": x.shape[1],
                "nnz": int(x.nnz),
            }
        )
    )


def run_measured(cmd):
    """Runs `cmd` as a child, returns (wall seconds, peak RSS in MiB of that child, stdout)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        if hasattr(os, "waitstatus_to_exitcode"):
            proc.returncode = os.waitstatus_to_exitcode(status)
        else:
            proc.returncode = status >> 8
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            sys.exit(
                "command failed ({}): {}\n{}".format(
                    proc.returncode, " ".join(cmd), err.read().decode(errors="replace")
                )
            )
        # ru_maxrss is in KiB on Linux, in bytes on macOS.
        scale = 1 if sys.platform == "darwin" else 1024
        return wall, usage.ru_maxrss * scale / 2**20, out.read().decode(errors="replace")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder")
    parser.add_argument("--bin", default="target/release/nmf-topics")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--no-cli", action="store_true", help="time sklearn only")
    parser.add_argument("--no-sklearn", action="store_true", help="time nmf-topics only")
    parser.add_argument("--sklearn-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.sklearn_child:
        sklearn_child(args.folder)
        return

    n_files = len(walk_sorted(args.folder))
    print("folder: {} ({} files), {} repetitions each".format(args.folder, n_files, args.reps))
    contenders = []
    if not args.no_sklearn:
        contenders.append(
            (
                SKLEARN,
                [sys.executable, os.path.abspath(__file__), args.folder, "--sklearn-child"],
            )
        )
    tmp = tempfile.mkdtemp(prefix="peer_tfidf_")
    if not args.no_cli:
        if not os.access(args.bin, os.X_OK):
            sys.exit("no executable at {} (build it with cargo build --release)".format(args.bin))
        base = [args.bin, "vectorize", args.folder, "--out", tmp]
        contenders.append(("nmf-topics --no-stem", base + ["--no-stem"] + OPTIONS))
        contenders.append(("nmf-topics (stemming)", base + OPTIONS))

    results = {}
    # Interleave the repetitions so a change in machine load hits every contender alike.
    for rep in range(args.reps):
        for name, cmd in contenders:
            wall, rss, out = run_measured(cmd)
            r = results.setdefault(name, {"time": [], "wall": [], "rss": []})
            r["out"] = out
            if name == SKLEARN:
                # The interpreter start and the imports (about a second) are not counted:
                # only reading the files and vectorizing, timed inside the child.
                info = json.loads(out)
                r["time"].append(info["read_s"] + info["vectorize_s"])
            else:
                r["time"].append(wall)
            r["wall"].append(wall)
            r["rss"].append(rss)
            print(
                "  rep {} {:<24} {:7.3f} s (process {:7.3f} s) {:7.1f} MiB".format(
                    rep + 1, name, r["time"][-1], wall, rss
                )
            )

    print()
    reference = results.get(SKLEARN)
    ref_time = statistics.median(reference["time"]) if reference else None
    ref_rss = max(reference["rss"]) if reference else None
    print(
        "{:<24} {:>10} {:>9} {:>11} {:>9}".format("", "median s", "ratio", "peak MiB", "ratio")
    )
    for name, _ in contenders:
        r = results[name]
        t = statistics.median(r["time"])
        m = max(r["rss"])
        ratio_t = "{:.3f}x".format(t / ref_time) if ref_time else "-"
        ratio_m = "{:.3f}x".format(m / ref_rss) if ref_rss else "-"
        print("{:<24} {:>10.3f} {:>9} {:>11.1f} {:>9}".format(name, t, ratio_t, m, ratio_m))
    if reference:
        info = json.loads(reference["out"])
        print(
            "\nsklearn: {documents} documents, {terms} terms, {nnz} nonzeros; "
            "reading {read_s:.3f} s + vectorizing {vectorize_s:.3f} s (last run; its time "
            "excludes the interpreter start and imports, the nmf-topics times are whole "
            "processes)".format(**info)
        )
    if not args.no_cli:
        terms = os.path.join(tmp, "terms.tsv")
        if os.path.exists(terms):
            with open(terms, encoding="utf-8") as f:
                n_terms = sum(1 for _ in f) - 1
            print("nmf-topics (last run, with stemming): {} terms".format(n_terms))


if __name__ == "__main__":
    main()
