"""Independent numpy reference for the singular values (run by test/node/svd-reference.test.ts), written from
docs/definitions.md ("Singular values"): LAPACK's SVD (np.linalg.svd, divide and conquer on the matrix itself,
no Gram matrix) of each float32 matrix promoted to float64.

Reads JSON on stdin: {"matrices": [{"rows", "cols", "values": row-major list}, ...]}.
Prints JSON: {"singularValues": [[σ descending], ...]}, min(rows, cols) values per matrix.

usage: singular_values.py < JOB.json
"""
import json
import sys

import numpy as np


def singular_values(m):
    a = np.asarray(m["values"], dtype=np.float32).reshape(m["rows"], m["cols"]).astype(np.float64)
    if a.size == 0:
        return []
    return np.linalg.svd(a, compute_uv=False).tolist()


job = json.load(sys.stdin)
json.dump({"singularValues": [singular_values(m) for m in job["matrices"]]}, sys.stdout)
