"""Independent numpy reference for the clipping search and HQQ zero points (run by
test/node/quant-search-reference.test.ts), written from docs/definitions.md ("Clipping search", "HQQ").

Reads float32 values (raw little-endian) and a JSON job: {"grid": QuantGrid, "qmin", "qmax", "mode":
"clip" | "tensor" | "hqq"}. Prints JSON: per entry the chosen clip step (clip) or HQQ step count, scales,
integer zero points, float zero points (hqq), and the sums Σx², Σ(x − q(x))² of the start and the choice.
Errors are float32 like onnxruntime's QuantizeLinear/DequantizeLinear (a true division), squared and summed
in float64 one value after the other (numpy.cumsum), as the kit sums them.

usage: quant_search.py VALUES.f32 JOB.json
"""
import json
import sys

import numpy as np

f32 = np.float32
STEPS = 32
LP_NORM, BETA, KAPPA, ITERATIONS = 0.7, 10.0, 1.01, 20


def entries(x, grid, per_tensor):
    if per_tensor:
        return [x]
    layout = grid["layout"]
    if grid["kind"] == "channel":
        g, o, c, i = layout["groups"], layout["outer"], layout["cg"], layout["inner"]
        return list(x.reshape(g, o, c, i).transpose(0, 2, 1, 3).reshape(g * c, o * i))
    m, r, c, b = layout["mats"], layout["rows"], layout["cols"], grid["block"]
    v = x.reshape(m, r, c)
    return [v[mi, t : t + b, col] for mi in range(m) for t in range(0, r, b) for col in range(c)]


def clipped(step, lo, hi, qmin, qmax):
    """Min-max scale and zero point of the range r·[lo, hi], r = 1 − step/64."""
    r = 1 - step / 64
    low, high = f32(r * float(lo)), f32(r * float(hi))
    if qmin < 0:
        scale, zp = f32(max(-low, high)) / f32(qmax), 0.0
    else:
        scale = f32((float(high) - float(low)) / qmax)
    if not (scale > 0 and np.isfinite(scale)):
        scale = f32(1)
    if qmin >= 0:
        zp = float(np.clip(np.rint(f32(-float(low) / float(scale))), qmin, qmax))
    return scale, zp


def noise(v, scales, zps, qmin, qmax):
    """Σ(x − q(x))² for each (scale, zp) pair, float32 q, float64 sums in order."""
    s = np.asarray(scales, dtype=f32)[:, None]
    z = np.asarray(zps, dtype=f32)[:, None]
    c = np.clip(np.rint(v[None, :] / s), f32(qmin) - z, f32(qmax) - z)
    e = (v[None, :] - c * s).astype(np.float64)
    return np.cumsum(e * e, axis=1)[:, -1] if v.size else np.zeros(len(scales))


def span(v):
    return min(float(v.min(initial=0)), 0.0), max(float(v.max(initial=0)), 0.0)


def clip_search(blocks, qmin, qmax):
    out = {"steps": [], "scales": [], "zeroPoints": [], "signal": 0.0, "minMaxNoise": 0.0, "noise": 0.0}
    for v in blocks:
        lo, hi = span(v)
        params = [clipped(k, lo, hi, qmin, qmax) for k in range(STEPS)]
        n = noise(v, [p[0] for p in params], [p[1] for p in params], qmin, qmax)
        best = int(np.argmin(n))  # the first of equal minima: the larger r
        out["steps"].append(best)
        out["scales"].append(float(params[best][0]))
        out["zeroPoints"].append(params[best][1])
        out["signal"] += float(np.sum(v.astype(np.float64) ** 2))
        out["minMaxNoise"] += float(n[0])
        out["noise"] += float(n[best])
    return out


def shrink(d, beta):
    a = np.abs(d)
    t = np.maximum(a - (1 / beta) * np.power(a + 1e-8, LP_NORM - 1), 0)
    return np.where(d < 0, -t, t)


def hqq(blocks, qmax, total):
    starts = [clipped(0, *span(v), 0, qmax) for v in blocks]
    scales = [float(s) for s, _ in starts]
    zeros = [z for _, z in starts]
    best, beta, iterations = 1e4, BETA, 0
    while iterations < ITERATIONS:
        abs_sums = []
        for e, v in enumerate(blocks):
            x = v.astype(np.float64)
            wq = np.clip(np.rint(x / scales[e] + zeros[e]), 0, qmax)
            d = x - (wq - zeros[e]) * scales[e]
            abs_sums.append(np.cumsum(np.abs(d))[-1])
            zeros[e] = np.cumsum(wq - (x - shrink(d, beta)) / scales[e])[-1] / v.size
        beta *= KAPPA
        iterations += 1
        error = np.cumsum(abs_sums)[-1] / total
        if not error < best:
            break
        best = error
    out = {"iterations": iterations, "scales": scales, "zeroPoints": [], "floatZeroPoints": [float(f32(z)) for z in zeros]}
    out.update(signal=0.0, minMaxNoise=0.0, noise=0.0, floatNoise=0.0)
    for e, v in enumerate(blocks):
        s, z = f32(scales[e]), f32(zeros[e])
        q = (np.clip(np.rint(v / s + z), 0, qmax).astype(f32) - z) * s
        err = (v - q).astype(np.float64)
        out["floatNoise"] += float(np.cumsum(err * err)[-1])
        zp = float(np.clip(np.rint(zeros[e]), 0, qmax))
        start, refined = noise(v, [scales[e]] * 2, [starts[e][1], zp], 0, qmax)
        out["zeroPoints"].append(zp if refined < start else starts[e][1])
        out["signal"] += float(np.sum(v.astype(np.float64) ** 2))
        out["minMaxNoise"] += float(start)
        out["noise"] += float(min(refined, start))
    return out


def main():
    x = np.fromfile(sys.argv[1], dtype="<f4")
    with open(sys.argv[2]) as f:
        job = json.load(f)
    blocks = entries(x, job["grid"], job["mode"] == "tensor")
    if job["mode"] == "hqq":
        result = hqq(blocks, job["qmax"], x.size)
    else:
        result = clip_search(blocks, job["qmin"], job["qmax"])
    json.dump(result, sys.stdout)


main()
