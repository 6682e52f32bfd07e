#!/usr/bin/env python3
"""Builds tests/fixtures/nmf_mu.json: reference factors from scikit-learn's NMF (solver="mu").

A fixed 30x20 sparse matrix (about 30% of the entries stored, seeded) and fixed custom W0/H0
(k = 4) are factorized by sklearn.decomposition.NMF(solver="mu", init="custom", tol=0) for
10 and 50 iterations, with the Frobenius and the Kullback-Leibler loss, without and with
penalties (alpha_W/alpha_H/l1_ratio). The Rust test tests/nmf_parity.rs reads the file and
compares W and H to 1e-6 relative.

Usage: python3 tools/make_nmf_fixture.py [OUT.json]
"""
import json
import sys
import warnings

import numpy as np
import scipy.sparse as sp
import sklearn
from sklearn.decomposition import NMF


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/nmf_mu.json"
    rng = np.random.RandomState(20240501)
    n, m, k = 30, 20, 4
    x = sp.random(n, m, density=0.3, format="csr", random_state=rng, dtype=np.float64)
    x.data = np.round(x.data * 5.0, 6) + 0.001
    # one all-zero row and one all-zero column, to exercise those paths too
    x = x.tolil()
    x[7, :] = 0
    x[:, 11] = 0
    x = x.tocsr()
    x.eliminate_zeros()
    x.sort_indices()
    w0 = np.round(rng.uniform(0.05, 1.0, size=(n, k)), 6)
    h0 = np.round(rng.uniform(0.05, 1.0, size=(k, m)), 6)

    cases = []
    for loss in ["frobenius", "kullback-leibler"]:
        for pen in [
            dict(alpha_W=0.0, alpha_H="same", l1_ratio=0.0),
            dict(alpha_W=0.01, alpha_H="same", l1_ratio=0.5),
            dict(alpha_W=0.02, alpha_H=0.005, l1_ratio=0.0),
            dict(alpha_W=0.01, alpha_H=0.0, l1_ratio=1.0),
        ]:
            for iters in [10, 50]:
                model = NMF(
                    n_components=k,
                    solver="mu",
                    init="custom",
                    beta_loss=loss,
                    tol=0.0,
                    max_iter=iters,
                    **pen,
                )
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    w = model.fit_transform(x, W=w0.copy(), H=h0.copy())
                cases.append(
                    {
                        "loss": "kl" if loss == "kullback-leibler" else "frobenius",
                        "alpha_w": pen["alpha_W"],
                        "alpha_h": None if pen["alpha_H"] == "same" else pen["alpha_H"],
                        "l1_ratio": pen["l1_ratio"],
                        "max_iter": iters,
                        "n_iter": int(model.n_iter_),
                        "w": w.tolist(),
                        "h": model.components_.tolist(),
                        "reconstruction_err": float(model.reconstruction_err_),
                    }
                )
    coo = x.tocoo()
    doc = {
        "generator": "tools/make_nmf_fixture.py",
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
