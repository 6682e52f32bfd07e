#!/usr/bin/env python3
"""Writes tests/fixtures/init_nndsvd.json: scikit-learn's NNDSVD initializations of a small
non-negative matrix with an exactly known SVD, the reference for `src/nmf/init.rs`.

X = A·B with A (15×6) and B (6×11) uniform on [0, 1) from numpy's default_rng(7): non-negative,
of rank 6 with distinct singular values. Every randomized range finder with at least 6 columns
(k + 10 oversamples ≥ 13 here) spans the whole range of X, so the randomized SVD is exact to
rounding and sklearn's factors do not depend on its random numbers; ours must match them to 1e-6.

Usage: python3 tools/make_init_fixture.py  (needs numpy and scikit-learn; run from the repo root)
"""

import json
import pathlib

import numpy as np
import sklearn
from sklearn.decomposition._nmf import _initialize_nmf


def main():
    rng = np.random.default_rng(7)
    a = rng.random((15, 6))
    b = rng.random((6, 11))
    x = a @ b
    s = np.linalg.svd(x, compute_uv=False)
    cases = []
    for init in ("nndsvd", "nndsvda"):
        for k in (3, 6):
            w, h = _initialize_nmf(x, k, init=init, random_state=0)
            cases.append({"init": init, "k": k, "w": w.tolist(), "h": h.tolist()})
    out = {
        "generator": "tools/make_init_fixture.py",
        "sklearn_version": sklearn.__version__,
        "numpy_version": np.__version__,
        "x": x.tolist(),
        "singular_values": s.tolist(),
        "cases": cases,
    }
    path = pathlib.Path(__file__).resolve().parent.parent / "tests/fixtures/init_nndsvd.json"
    path.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {path} (scikit-learn {sklearn.__version__}, singular values {np.round(s, 4)})")


if __name__ == "__main__":
    main()
