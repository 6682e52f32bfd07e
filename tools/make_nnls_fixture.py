#!/usr/bin/env python3
"""Builds tests/fixtures/nnls.json: non-negative least-squares problems solved by scipy.

Each problem is min ||A x - c||_2 over x >= 0 for a seeded random A (p x k, entries shifted so
that some columns correlate negatively with c) and c, solved by scipy.optimize.nnls; the file
keeps the Gram form the Rust solver takes, G = A^T A and b = A^T c, and scipy's x. The Rust test
(src/nmf/nnls.rs via tests/nnls_scipy.rs) solves min 1/2 x^T G x - b^T x, x >= 0, and compares.

Usage: python3 tools/make_nnls_fixture.py [OUT.json]
"""
import json
import sys

import numpy as np
import scipy
from scipy.optimize import nnls


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/nnls.json"
    rng = np.random.RandomState(7)
    problems = []
    for k in [1, 2, 3, 5, 8, 12, 20, 30]:
        for rep in range(6):
            p = k + rng.randint(1, 2 * k + 3)
            a = rng.standard_normal((p, k)) + 0.3 * rng.standard_normal(k)
            c = rng.standard_normal(p)
            x, _ = nnls(a, c)
            problems.append({
                "k": k,
                "g": (a.T @ a).ravel().tolist(),
                "b": (a.T @ c).tolist(),
                "x": x.tolist(),
            })
    with open(out, "w") as f:
        json.dump({"generator": "tools/make_nnls_fixture.py", "scipy_version": scipy.__version__,
                   "problems": problems}, f, indent=1)
        f.write("\n")
    print(f"wrote {out}: {len(problems)} problems, scipy {scipy.__version__}")


if __name__ == "__main__":
    main()
