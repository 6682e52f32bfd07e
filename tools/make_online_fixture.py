#!/usr/bin/env python3
"""Builds tests/fixtures/nmf_online.json: reference factors from scikit-learn's MiniBatchNMF.

The matrix and the custom W0/H0 are those of tools/make_nmf_fixture.py (a fixed 30x20 sparse
matrix with an all-zero row and column, k = 4, seeded). MiniBatchNMF(init="custom",
batch_size=7, tol=0, max_no_improvement=None) runs one and three epochs (max_iter), with the
Frobenius and the KL loss, with and without fresh restarts and penalties. The Rust test
tests/nmf_parity.rs reads the file and compares W and H to 1e-6 relative.

Usage: python3 tools/make_online_fixture.py [OUT.json]
"""
import json
import os
import sys
import warnings

import numpy as np
import sklearn
from sklearn.decomposition import MiniBatchNMF

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_cd_fixture import data  # noqa: E402  (the shared matrix and start)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/nmf_online.json"
    x, w0, h0, k = data()
    n, m = x.shape
    cases = []
    for loss in ["frobenius", "kullback-leibler"]:
        for fresh in [False, True]:
            for pen in [dict(alpha_W=0.0, alpha_H="same", l1_ratio=0.0),
                        dict(alpha_W=0.01, alpha_H=0.005, l1_ratio=0.5)]:
                for epochs in [1, 3]:
                    model = MiniBatchNMF(n_components=k, init="custom", beta_loss=loss,
                                         batch_size=7, forget_factor=0.7, tol=0.0,
                                         max_no_improvement=None, fresh_restarts=fresh,
                                         max_iter=epochs, **pen)
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        w = model.fit_transform(x, W=w0.copy(), H=h0.copy())
                    cases.append({
                        "loss": "kl" if loss == "kullback-leibler" else "frobenius",
                        "fresh_restarts": fresh,
                        "alpha_w": pen["alpha_W"],
                        "alpha_h": None if pen["alpha_H"] == "same" else pen["alpha_H"],
                        "l1_ratio": pen["l1_ratio"],
                        "max_iter": epochs,
                        "n_iter": int(model.n_iter_),
                        "n_steps": int(model.n_steps_),
                        "w": w.tolist(),
                        "h": model.components_.tolist(),
                    })
    coo = x.tocoo()
    doc = {
        "generator": "tools/make_online_fixture.py",
        "sklearn_version": sklearn.__version__,
        "numpy_version": np.__version__,
        "shape": [n, m],
        "k": k,
        "batch_size": 7,
        "forget_factor": 0.7,
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
    print(f"wrote {out}: {len(cases)} cases, scikit-learn {sklearn.__version__}")


if __name__ == "__main__":
    main()
