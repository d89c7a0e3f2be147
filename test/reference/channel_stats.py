"""Independent numpy reference for `weightlens stats` (run by test/node/numpy-reference.test.ts).

Reads the model with the onnx Python package, finds every Conv/ConvTranspose/Gemm/MatMul whose weight is
an initializer or a Constant-node output (in all subgraphs), and every QLinearConv/QLinearMatMul whose
integer weight, scale and zero point are (dequantized: (w - zp) * scale, per tensor, per output channel for
QLinearConv, per column for QLinearMatMul), and computes per-output-channel statistics
the plain way: min/max in float32, mean/std (ddof=0) in float64, dead channels (range at most 1e-4 of
the layer's largest), relative ranges over the live channels and Tukey outliers with numpy.percentile
(linear interpolation). Prints JSON on stdout.

With --quant, also the SQNR (dB) of fake-quantized weights, INT8/INT4, symmetric/asymmetric, per-tensor
and per-channel, as DESIGN.md section 2 (ONNX Runtime's definition) describes, in float32 like the kit.

usage: channel_stats.py MODEL.onnx [--quant]
"""
import json
import sys

import numpy as np
import onnx
from onnx import numpy_helper

WEIGHT_OPS = {"Conv", "ConvTranspose", "Gemm", "MatMul"}
# QOperator ops: input indices of the weight, its scale and its zero point.
QOPERATOR = {"QLinearConv": (3, 4, 5), "QLinearMatMul": (3, 4, 5)}


def graphs(graph):
    yield graph
    for node in graph.node:
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                yield from graphs(attr.g)
            elif attr.type == onnx.AttributeProto.GRAPHS:
                for g in attr.graphs:
                    yield from graphs(g)


def constants(graph):
    found = {t.name: t for t in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant":
            for attr in node.attribute:
                if attr.name == "value":
                    found[node.output[0]] = attr.t
    return found


def attr(node, name, default):
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def channels_first(w, node):
    """Rows = output channels (DESIGN.md section 2)."""
    op = node.op_type
    if op in ("Conv", "QLinearConv") or (op == "Gemm" and attr(node, "transB", 0) == 1):
        return w.reshape(w.shape[0], -1)
    if op == "ConvTranspose":
        g = attr(node, "group", 1)
        cin, cout_g = w.shape[0], w.shape[1]
        v = w.reshape(g, cin // g, cout_g, -1).transpose(0, 2, 1, 3)
        return v.reshape(g * cout_g, -1)
    return np.moveaxis(w, -1, 0).reshape(w.shape[-1], -1)  # Gemm transB=0, MatMul


def sqnr(rows, bits, symmetric, per_channel):
    x = rows.astype(np.float32)
    if symmetric:
        qmax = 2 ** (bits - 1) - 1
        qmin = -qmax
        absmax = np.abs(x).max(axis=1) if per_channel else np.full(len(x), np.abs(x).max(), np.float32)
        scale = (absmax / np.float32(qmax)).astype(np.float32)
        scale[scale == 0] = 1
        zp = np.zeros(len(x), np.float32)
    else:
        qmin, qmax = 0, 2 ** bits - 1
        lo = np.minimum(x.min(axis=1) if per_channel else np.full(len(x), x.min(), np.float32), 0).astype(np.float32)
        hi = np.maximum(x.max(axis=1) if per_channel else np.full(len(x), x.max(), np.float32), 0).astype(np.float32)
        scale = ((hi - lo) / np.float32(qmax)).astype(np.float32)
        scale[scale == 0] = 1
        zp = np.round(-lo / scale).astype(np.float32)
    s, z = scale[:, None], zp[:, None]
    q = (np.clip(np.round(x / s) + z, qmin, qmax) - z) * s
    signal = np.sum(x.astype(np.float64) ** 2)
    noise = np.sum((x - q).astype(np.float64) ** 2)
    return float(10 * np.log10(signal / noise)) if signal > 0 and noise > 0 else None


def quant_figures(rows):
    if not np.all(np.isfinite(rows)):
        return None
    return {
        f"int{bits}": {
            mode: {"perTensor": sqnr(rows, bits, mode == "symmetric", False), "perChannel": sqnr(rows, bits, mode == "symmetric", True)}
            for mode in ("symmetric", "asymmetric")
        }
        for bits in (8, 4)
    }


def dequantized(node, consts):
    """The QOperator weight as float32, computed in float64 then rounded once (exact for int8 x float32)."""
    w, s, z = (numpy_helper.to_array(consts[node.input[i]]) for i in QOPERATOR[node.op_type])
    s, z = s.astype(np.float64), z.astype(np.float64)
    if node.op_type == "QLinearConv" and s.size > 1:
        s, z = s.reshape(-1, *[1] * (w.ndim - 1)), z.reshape(-1, *[1] * (w.ndim - 1))
    # QLinearMatMul: a [N] or [..., 1, N] scale broadcasts along the columns as it is.
    return ((w.astype(np.float64) - z) * s).astype(np.float32)


def weight_of(node, consts):
    if node.op_type in WEIGHT_OPS and len(node.input) > 1 and node.input[1] in consts:
        return node.input[1], numpy_helper.to_array(consts[node.input[1]])
    if node.op_type in QOPERATOR and all(node.input[i] in consts for i in QOPERATOR[node.op_type]):
        return node.input[3], dequantized(node, consts)
    return None


def layer_stats(name, node, weight, quant=False):
    weight_name, w = weight
    w = w.astype(np.float32)
    rows = channels_first(w, node)
    finite = np.where(np.isfinite(rows), rows, np.nan)
    w64 = finite.astype(np.float64)
    mins = np.nanmin(finite, axis=1)
    maxs = np.nanmax(finite, axis=1)
    ranges = np.abs(maxs.astype(np.float64) - mins.astype(np.float64))
    # Dead: range at most 1e-4 of the largest (NaN ranges, from channels without finite values, compare False).
    largest = np.nanmax(ranges) if np.isfinite(ranges).any() else 0.0
    live = ranges > 1e-4 * largest
    dead = [int(c) for c in np.nonzero(~live)[0]]
    if live.any():
        rel = ranges[live] / ranges[live].min()
        q1, q3 = np.percentile(rel, [25, 75])
        live_index = np.nonzero(live)[0]
        outliers = [int(live_index[i]) for i in np.nonzero(rel > q3 + 1.5 * (q3 - q1))[0]]
        rel_list = [None] * len(ranges)
        for i, c in enumerate(live_index):
            rel_list[c] = float(rel[i])
    else:
        rel_list, outliers = [None] * len(ranges), []
    return {
        "name": name,
        "op": node.op_type,
        "weight": weight_name,
        "shape": list(w.shape),
        "min": mins.astype(float).tolist(),
        "max": maxs.astype(float).tolist(),
        "mean": np.nanmean(w64, axis=1).tolist(),
        "std": np.nanstd(w64, axis=1).tolist(),
        "relativeRange": rel_list,
        "outliers": outliers,
        "deadChannels": dead,
        "nonFinite": int((~np.isfinite(rows)).sum()),
        **({"quant": quant_figures(rows)} if quant else {}),
    }


def main(path, quant):
    model = onnx.load(path)
    layers = []
    for graph in graphs(model.graph):
        consts = constants(graph)
        for node in graph.node:
            weight = weight_of(node, consts)
            if weight is not None:
                layers.append(layer_stats(node.name or node.output[0], node, weight, quant))
    json.dump({"file": path, "layers": layers}, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1], "--quant" in sys.argv[2:])
