#!/usr/bin/env python3
"""Topic quality with defaults on both sides: scikit-learn (TfidfVectorizer(stop_words="english")
+ NMF()) against `nmf-topics fit`, on a labelled corpus (one subfolder per label).

For each tool: the top-10 words of every topic, scored on one reference matrix by this crate's
coherence (examples/coherence.rs: NPMI and UMass from document co-occurrence, each word counted
over the documents that hold any form of its stem, the reference built by
`nmf-topics vectorize CORPUS --stopwords none`), once as listed (two forms of one stem, e.g.
"game" and "games", are two words whose pair scores perfectly) and once on the first 10
distinct stems of each topic; and the agreement of each document's dominant
topic with its folder (NMI and adjusted Rand index, scikit-learn's functions). Both tools run
with their defaults and k topics (k defaults to the number of labels); scikit-learn's NMF gets
random_state=0, ours its default seed 0. Fit seconds are each tool's own (vectorizing
excluded for scikit-learn, end to end for ours).

    python3 benches/peer_quality.py data/debian12 [-k 12] [--bin target/release/nmf-topics]
                                    [--example target/release/examples/coherence]
                                    [--json OUT.json] [--ours-args "--no-stem ..."]

The corpus is built from Debian's package descriptions: `bash corpora/debian/build.sh
data/debian`, then a folder of symbolic links to some of its section folders (see README).
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time


def read_corpus(root):
    """(texts, labels) of the .txt files under `root`, paths sorted, label = first folder."""
    paths = []
    for dirpath, _, files in os.walk(root, followlinks=True):
        for f in files:
            if f.endswith(".txt"):
                paths.append(os.path.join(dirpath, f))
    paths.sort()
    texts, labels = [], []
    for p in paths:
        with open(p, encoding="utf-8", errors="replace") as fh:
            texts.append(fh.read())
        labels.append(os.path.relpath(p, root).split(os.sep)[0])
    return texts, labels


def sklearn_topics(texts, k):
    import numpy as np
    from sklearn.decomposition import NMF
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(stop_words="english")
    x = vec.fit_transform(texts)
    t0 = time.perf_counter()
    model = NMF(n_components=k, random_state=0)
    w = model.fit_transform(x)
    seconds = time.perf_counter() - t0
    names = vec.get_feature_names_out()
    topics = [[names[j] for j in np.argsort(-row)[:30]] for row in model.components_]
    dominant = [int(np.argmax(r)) if r.max() > 0 else -1 for r in w]
    return topics, dominant, seconds, int(model.n_iter_)


def our_topics(bin_path, corpus, k, work, extra):
    out = os.path.join(work, "ours")
    t0 = time.perf_counter()
    subprocess.run([bin_path, "fit", corpus, "-k", str(k), "--out", out, "--quiet",
                    "--top-terms", "30"] + extra, check=True)
    seconds = time.perf_counter() - t0
    with open(os.path.join(out, "topics.json")) as f:
        doc = json.load(f)
    topics = [[t["term"] for t in topic["terms"][:30]] for topic in doc["topics"]]
    dominant, labels = [], []
    with open(os.path.join(out, "doc_topics.csv"), newline="") as f:
        for row in csv.DictReader(f):
            dominant.append(int(row["dominant_topic"]) if row["dominant_topic"] else -1)
            labels.append(row["label"])
    fit = doc["fit"]
    return topics, dominant, labels, seconds, fit["iterations"], doc["params"]["solver"]


def coherence(example, ref, topics, work, name, distinct):
    path = os.path.join(work, f"{name}_topics.txt")
    with open(path, "w") as f:
        for t in topics:
            f.write(" ".join(t) + "\n")
    cmd = [example, ref, path, "10"] + (["--distinct"] if distinct else [])
    r = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(r.stdout)


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus")
    ap.add_argument("-k", type=int, default=None)
    ap.add_argument("--bin", default="target/release/nmf-topics")
    ap.add_argument("--example", default="target/release/examples/coherence")
    ap.add_argument("--json", default=None, help="also write the figures here")
    ap.add_argument("--ours-args", default="",
                    help="extra options for `nmf-topics fit` (one string, split on spaces)")
    args = ap.parse_args()
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    work = tempfile.mkdtemp(prefix="peer_quality_")
    texts, labels = read_corpus(args.corpus)
    k = args.k or len(set(labels))
    ref = os.path.join(work, "ref")
    subprocess.run([args.bin, "vectorize", args.corpus, "--out", ref, "--stopwords", "none",
                    "--quiet"], check=True)
    sk_topics, sk_dom, sk_sec, sk_iter = sklearn_topics(texts, k)
    our, our_dom, our_labels, our_sec, our_iter, solver = our_topics(args.bin, args.corpus, k, work,
                                                                    args.ours_args.split())
    rows = []
    for name, topics, dom, labs, sec, it in [
        ("scikit-learn", sk_topics, sk_dom, labels, sk_sec, sk_iter),
        (f"nmf-topics ({solver})", our, our_dom, our_labels, our_sec, our_iter),
    ]:
        c = coherence(args.example, ref, topics, work, name.split()[0], False)
        cd = coherence(args.example, ref, topics, work, name.split()[0], True)
        pairs = [(d, l) for d, l in zip(dom, labs) if d >= 0]
        nmi = normalized_mutual_info_score([l for _, l in pairs], [d for d, _ in pairs])
        ari = adjusted_rand_score([l for _, l in pairs], [d for d, _ in pairs])
        rows.append(dict(tool=name, npmi=c["mean_npmi"], npmi_distinct=cd["mean_npmi"],
                         umass=c["mean_umass"], nmi=nmi, ari=ari, seconds=sec, iterations=it,
                         unknown=len(c["unknown"]), topics=[" ".join(t[:10]) for t in topics]))
    print(f"corpus {args.corpus}: {len(texts)} documents, {len(set(labels))} labels, k = {k}")
    print(f"{'tool':<22} {'NPMI@10':>8} {'distinct':>8} {'UMass':>8} {'NMI':>6} {'ARI':>6} "
          f"{'iter':>5} {'seconds':>8}")
    for r in rows:
        print(f"{r['tool']:<22} {r['npmi']:>8.4f} {r['npmi_distinct']:>8.4f} {r['umass']:>8.3f} "
              f"{r['nmi']:>6.3f} {r['ari']:>6.3f} {r['iterations']:>5} {r['seconds']:>8.2f}")
    print("(NPMI@10: the top 10 words, forms of one stem counted apart; distinct: the first 10 "
          "distinct stems)")
    for r in rows:
        if r["unknown"]:
            print(f"{r['tool']}: {r['unknown']} top words without a stem in the reference")
    for r in rows:
        print(f"\n{r['tool']} topics:")
        for i, t in enumerate(r["topics"]):
            print(f"  {i:>2}  {t}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(corpus=args.corpus, documents=len(texts), k=k, rows=rows), f, indent=1)


if __name__ == "__main__":
    sys.exit(main())
