"""Reference for analytic bias correction (docs/definitions.md, "Bias correction"), without scipy.

Reads {"cases": [...]} as JSON on stdin; each case: "w" and "wq" (flat float weights), "shape", "op" ("Conv"
or "Gemm"), "group" (Conv), "transB" (Gemm), "bias" (list or null), "gamma", "beta", "lo", "hi" (null =
unbounded), "act" ("none" or a clip). Writes {"cases": [{"ex", "shift", "bias"}]}: E[x] per input channel,
the expected output shift sum(eps * E[x]) per output channel and the corrected bias b - shift (float64).
"""
import json
import math
import sys

import numpy as np


def Phi(x):
    return math.erfc(-x / math.sqrt(2)) / 2


def phi(x):
    return math.exp(-x * x / 2) / math.sqrt(2 * math.pi)


def clipped_mean(mu, gamma, lo, hi):
    """E[clip(X, lo, hi)], X ~ N(mu, gamma^2); lo/hi None when unbounded."""
    if lo is not None and hi is not None and lo > hi:
        return hi
    s = abs(gamma)
    if s == 0:
        v = mu if lo is None else max(mu, lo)
        return v if hi is None else min(v, hi)
    a = -math.inf if lo is None else (lo - mu) / s
    b = math.inf if hi is None else (hi - mu) / s
    # Phi(b) - Phi(a) and 1 - Phi(b) from the upper tail when it is the small side (1 - Phi(a) rounds to 0).
    inside = Phi(-a) - Phi(-b) if a > 0 else Phi(b) - Phi(a)
    mean = mu * inside + s * (phi(a) - phi(b))
    if lo is not None:
        mean += lo * Phi(a)
    if hi is not None:
        mean += hi * Phi(-b)
    return mean


def correct(case):
    gamma, beta = case["gamma"], case["beta"]
    if case["act"] == "none":
        ex = np.array(beta, dtype=np.float64)
    else:
        ex = np.array([clipped_mean(m, g, case["lo"], case["hi"]) for g, m in zip(gamma, beta)])
    shape = case["shape"]
    eps = np.array(case["wq"], dtype=np.float64).reshape(shape) - np.array(case["w"], dtype=np.float64).reshape(shape)
    if case["op"] == "Conv":
        cout, cin_g = shape[0], shape[1]
        per_group = cout // case["group"]
        eps = eps.reshape(cout, cin_g, -1).sum(axis=2)
        shift = np.array([eps[o] @ ex[(o // per_group) * cin_g:(o // per_group + 1) * cin_g] for o in range(cout)])
    elif case["transB"]:
        shift = eps @ ex
    else:
        shift = ex @ eps
    bias = np.zeros(len(shift)) if case["bias"] is None else np.array(case["bias"], dtype=np.float64)
    return {"ex": ex.tolist(), "shift": shift.tolist(), "bias": (bias - shift).tolist()}


print(json.dumps({"cases": [correct(c) for c in json.load(sys.stdin)["cases"]]}))
