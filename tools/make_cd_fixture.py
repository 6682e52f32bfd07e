#!/usr/bin/env python3
"""Builds tests/fixtures/nmf_cd.json: reference factors from scikit-learn's NMF(solver="cd").

The matrix and the custom W0/H0 are those of tools/make_nmf_fixture.py (a fixed 30x20 sparse
matrix with an all-zero row and column, k = 4, seeded), factorized by
sklearn.decomposition.NMF(solver="cd", shuffle=False, init="custom", tol=0) for 1, 10 and 50
iterations, without and with L1/L2 penalties (alpha_W/alpha_H/l1_ratio). The Rust test
tests/nmf_parity.rs reads the file and compares W and H to 1e-6 relative.

Usage: python3 tools/make_cd_fixture.py [OUT.json]
"""
import json
import sys
import warnings

import numpy as np
import scipy.sparse as sp
import sklearn
from sklearn.decomposition import NMF


def data():
    """The matrix and start of tools/make_nmf_fixture.py (same seed and draws)."""
    rng = np.random.RandomState(20240501)
    n, m, k = 30, 20, 4
    x = sp.random(n, m, density=0.3, format="csr", random_state=rng, dtype=np.float64)
    x.data = np.round(x.data * 5.0, 6) + 0.001
    x = x.tolil()
    x[7, :] = 0
    x[:, 11] = 0
    x = x.tocsr()
    x.eliminate_zeros()
    x.sort_indices()
    w0 = np.round(rng.uniform(0.05, 1.0, size=(n, k)), 6)
    h0 = np.round(rng.uniform(0.05, 1.0, size=(k, m)), 6)
    return x, w0, h0, k


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/nmf_cd.json"
    x, w0, h0, k = data()
    n, m = x.shape
    cases = []
    for pen in [
        dict(alpha_W=0.0, alpha_H="same", l1_ratio=0.0),
        dict(alpha_W=0.01, alpha_H="same", l1_ratio=0.5),
        dict(alpha_W=0.02, alpha_H=0.005, l1_ratio=0.0),
        dict(alpha_W=0.01, alpha_H=0.0, l1_ratio=1.0),
    ]:
        for iters in [1, 10, 50]:
            model = NMF(n_components=k, solver="cd", shuffle=False, init="custom",
                        beta_loss="frobenius", tol=0.0, max_iter=iters, **pen)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                w = model.fit_transform(x, W=w0.copy(), H=h0.copy())
            cases.append({
                "alpha_w": pen["alpha_W"],
                "alpha_h": None if pen["alpha_H"] == "same" else pen["alpha_H"],
                "l1_ratio": pen["l1_ratio"],
                "max_iter": iters,
                "n_iter": int(model.n_iter_),
                "w": w.tolist(),
                "h": model.components_.tolist(),
                "reconstruction_err": float(model.reconstruction_err_),
            })
    coo = x.tocoo()
    doc = {
        "generator": "tools/make_cd_fixture.py",
        "sklearn_version": sklearn.__version__,
        "numpy_version": np.__version__,
        "shape": [n, m],
        "k": k,
        "x_rows": coo.row.tolist(),
        "x_cols": coo.col.tolist(),
        "x_vals": coo.data.tolist(),
        "w0": w0.tolist(),
        "h0": h0.tolist(),
        "cases": cases,
    }
    with open(out, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    print(f"wrote {out}: {len(cases)} cases, nnz = {x.nnz}, scikit-learn {sklearn.__version__}")


if __name__ == "__main__":
    main()
