"""Independent numpy reference for the compressibility figures (run by test/node/compress-reference.test.ts),
written from docs/definitions.md ("Compressibility"): LAPACK's SVD of each matrix (no Gram matrix), the rank
keeping 99 % of the energy, Roy and Vetterli's effective rank, the relative error at every rank, and the
pruning curves from sorted magnitudes and input-channel L1 norms.

Reads JSON on stdin: {"shares": [...], "layers": [{"values": [...], "shape": [...], "weightMatrix": [rows, cols]
or null, "spatial": true|false (Spatial SVD of a [Cout, Cin, kh, kw] weight: W[o, c, y, x] at row o·kh + y,
column c·kw + x), "channels": [rows, cols] (the block layout: input channel r = (i // cols) % rows)}]}.
Prints JSON: {"layers": [{"svd": [{"rank99", "effectiveRank", "errors": [...]}], "pruning": [...],
"channelPruning": [...]}]}.

usage: compressibility.py < JOB.json
"""
import json
import sys

import numpy as np


def factorization(a):
    s = np.linalg.svd(a.astype(np.float64), compute_uv=False)
    energy = s**2
    total = energy.sum()
    tail = np.concatenate([np.cumsum(energy[::-1])[::-1], [0.0]])  # tail[k] = sum of energy[k:]
    rank99 = int(next(k for k in range(len(s) + 1) if tail[k] <= 0.01 * total)) if total > 0 else 0
    p = s / s.sum() if s.sum() > 0 else s
    nz = p[p > 0]
    erank = float(np.exp(-(nz * np.log(nz)).sum())) if s.sum() > 0 else 0.0
    errors = [float(np.sqrt(tail[k] / total)) if total > 0 else 0.0 for k in range(1, len(s) + 1)]
    return {"rank99": rank99, "effectiveRank": erank, "errors": errors}


def pruning(w, shares):
    sq = np.sort(w.astype(np.float64) ** 2)
    total = sq.sum()
    prefix = np.concatenate([[0.0], np.cumsum(sq)])
    return [float(np.sqrt(prefix[int(np.floor(s * len(sq)))] / total)) for s in shares]


def channel_pruning(w, rows, cols, shares):
    r = (np.arange(w.size) // cols) % rows
    l1 = np.bincount(r, weights=np.abs(w.astype(np.float64)), minlength=rows)
    sq = np.bincount(r, weights=w.astype(np.float64) ** 2, minlength=rows)
    order = np.lexsort((np.arange(rows), l1))
    prefix = np.concatenate([[0.0], np.cumsum(sq[order])])
    return [float(np.sqrt(prefix[int(np.floor(s * rows))] / prefix[-1])) for s in shares]


job = json.load(sys.stdin)
out = []
for layer in job["layers"]:
    w = np.asarray(layer["values"], dtype=np.float32)
    svd = []
    if layer["weightMatrix"]:
        svd.append(factorization(w.reshape(*layer["weightMatrix"])))
    if layer["spatial"]:
        cout, cin, kh, kw = layer["shape"]
        svd.append(factorization(w.reshape(cout, cin, kh, kw).transpose(0, 2, 1, 3).reshape(cout * kh, cin * kw)))
    rows, cols = layer["channels"]
    out.append(
        {
            "svd": svd,
            "pruning": pruning(w, job["shares"]),
            "channelPruning": channel_pruning(w, rows, cols, job["shares"]),
        }
    )
json.dump({"layers": out}, sys.stdout)
