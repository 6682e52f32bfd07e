#!/usr/bin/env python3
"""Writes tests/fixtures/coherence.json: reference values for the quality measures of
src/topics/quality, computed with gensim, scikit-learn and scipy (and with a plain Python
enumeration of sliding windows, the exact counts).

    python3 tools/make_coherence_fixture.py > tests/fixtures/coherence.json

Made with gensim 4.4.0, scikit-learn 1.9.1, scipy (as installed with them), numpy.

The texts are generated from a fixed seed: lowercase words of at least two letters separated
by spaces, so the Rust analyzer with `--stopwords none --no-stem` yields exactly these tokens.
"""
import json
import random
import sys

import numpy as np
from gensim.corpora import Dictionary
from gensim.models.coherencemodel import CoherenceModel
from gensim.topic_coherence import direct_confirmation_measure, probability_estimation, segmentation
from scipy.cluster.hierarchy import cophenet, linkage
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

THEMES = [
    ["star", "planet", "orbit", "moon", "comet", "galaxy", "telescope", "nebula"],
    ["bread", "flour", "oven", "yeast", "dough", "butter", "sugar", "bake"],
    ["goal", "match", "team", "player", "ball", "coach", "league", "score"],
]
SHARED = ["new", "time", "good", "year", "day", "make"]


def texts_with_repeats(rng, n_docs):
    docs = []
    for d in range(n_docs):
        theme = THEMES[d % 3]
        other = THEMES[(d + 1) % 3]
        length = rng.randint(0, 28) if d != 5 else 0  # one empty document
        words = []
        for _ in range(length):
            r = rng.random()
            if r < 0.65:
                words.append(rng.choice(theme[:5]))  # a small pool: repeats within windows
            elif r < 0.8:
                words.append(rng.choice(other))
            else:
                words.append(rng.choice(SHARED))
        docs.append(words)
    return docs


def texts_without_repeats(rng, n_docs, window):
    """Documents in which no word occurs twice within `window` consecutive tokens."""
    docs = []
    for d in range(n_docs):
        theme = THEMES[d % 3] + SHARED
        length = rng.randint(3, 30)
        words = []
        for _ in range(length):
            recent = set(words[-(window - 1):]) if window > 1 else set()
            choices = [w for w in theme + THEMES[(d + 2) % 3][:3] if w not in recent]
            words.append(rng.choice(choices))
        docs.append(words)
    return docs


def exact_window_npmi(texts, topics, window):
    """NPMI per topic with exact boolean sliding windows (every window enumerated)."""
    eps = 1e-12
    wins = []
    for t in texts:
        if len(t) <= window:
            wins.append(set(t))
        else:
            wins.extend(set(t[i:i + window]) for i in range(len(t) - window + 1))
    n = len(wins)
    out = []
    for topic in topics:
        vals = []
        for i in range(len(topic)):
            for j in range(len(topic)):
                if i == j:
                    continue
                a, b = topic[i], topic[j]
                ca = sum(a in w for w in wins)
                cb = sum(b in w for w in wins)
                cab = sum(a in w and b in w for w in wins)
                pmi = np.log((cab / n + eps) / ((ca / n) * (cb / n)))
                vals.append(pmi / -np.log(cab / n + eps))
        out.append(float(np.mean(vals)))
    return out


def gensim_scores(texts, topics):
    d = Dictionary(texts)
    bow = [d.doc2bow(t) for t in texts]
    umass = CoherenceModel(topics=topics, corpus=bow, dictionary=d, coherence="u_mass", topn=10)
    cnpmi = CoherenceModel(topics=topics, texts=texts, dictionary=d, coherence="c_npmi", topn=10,
                           processes=1)
    ids = [np.array([d.token2id[w] for w in t]) for t in topics]
    seg = segmentation.s_one_one(ids)
    acc = probability_estimation.p_boolean_document(bow, seg)
    npmi_doc = direct_confirmation_measure.log_ratio_measure(seg, acc, normalize=True)
    return {
        "u_mass": [float(v) for v in umass.get_coherence_per_topic()],
        "npmi_document": [float(v) for v in npmi_doc],
        "c_npmi_gensim": [float(v) for v in cnpmi.get_coherence_per_topic()],
    }


def nimfa_purity(clusters, labels):
    n = len(clusters)
    total = 0
    for c in set(clusters):
        members = [l for cl, l in zip(clusters, labels) if cl == c]
        total += max(members.count(l) for l in set(labels))
    return total / n


def nimfa_entropy(clusters, labels):
    n, q = len(clusters), len(set(labels))
    s = 0.0
    for c in set(clusters):
        members = [l for cl, l in zip(clusters, labels) if cl == c]
        for l in set(labels):
            ncl = members.count(l)
            if ncl > 0:
                s += ncl * np.log2(ncl / len(members))
    return float(-s / (n * np.log2(q)))


def main():
    rng = random.Random(20261201)
    texts = texts_with_repeats(rng, 36)
    texts_norep = texts_without_repeats(rng, 30, 10)
    topics = [
        ["star", "planet", "orbit", "moon", "comet", "galaxy", "time", "new", "goal", "bread"],
        ["bread", "flour", "oven", "yeast", "dough", "butter", "day", "make", "star", "match"],
        ["goal", "match", "team", "player", "ball", "coach", "good", "year", "oven", "moon"],
        ["new", "time", "good", "year", "day", "make", "star", "bread", "goal", "telescope"],
    ]
    topics_norep = [t for t in topics]
    fixture = {
        "texts": [" ".join(t) for t in texts],
        "topics": topics,
        "exact_c_npmi": exact_window_npmi(texts, topics, 10),
        "texts_no_repeats": [" ".join(t) for t in texts_norep],
        "exact_c_npmi_no_repeats": exact_window_npmi(texts_norep, topics_norep, 10),
    }
    fixture.update(gensim_scores(texts, topics))
    norep = gensim_scores(texts_norep, topics_norep)
    fixture["c_npmi_gensim_no_repeats"] = norep["c_npmi_gensim"]

    # label agreement: the textbook example and a random one
    lrng = random.Random(7)
    clusters = [lrng.randrange(4) for _ in range(80)]
    labels = [c if lrng.random() < 0.6 else lrng.randrange(3) for c in clusters]
    fixture["agreement"] = {
        "clusters": clusters,
        "labels": labels,
        "nmi": float(normalized_mutual_info_score(labels, clusters)),
        "ari": float(adjusted_rand_score(labels, clusters)),
        "purity": nimfa_purity(clusters, labels),
        "entropy": nimfa_entropy(clusters, labels),
    }
    iir_c = [0] * 6 + [1] * 6 + [2] * 5
    iir_l = [0] * 5 + [1] + [0] + [1] * 4 + [2] + [0] * 2 + [2] * 3
    fixture["agreement_iir"] = {
        "nmi": float(normalized_mutual_info_score(iir_l, iir_c)),
        "ari": float(adjusted_rand_score(iir_l, iir_c)),
    }

    # cophenetic correlation of a consensus (scipy's average linkage on 1 − C)
    runs = [[0, 0, 0, 1, 1, 2, 2, 2], [0, 0, 1, 1, 1, 2, 2, 0], [1, 1, 1, 0, 0, 2, 2, 2],
            [0, 0, 0, 1, 2, 2, 2, 2]]
    n = len(runs[0])
    cond = [sum(r[i] != r[j] for r in runs) / len(runs) for i in range(n) for j in range(i + 1, n)]
    z = linkage(np.array(cond), method="average")
    fixture["cophenetic"] = {"runs": runs, "scipy": float(cophenet(z, np.array(cond))[0])}
    json.dump(fixture, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
