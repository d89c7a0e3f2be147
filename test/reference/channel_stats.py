"""Independent numpy reference for `weightlens stats` (run by test/node/numpy-reference.test.ts).

Reads the model with the onnx Python package, finds every Conv/ConvTranspose/Gemm/MatMul whose weight is
an initializer or a Constant-node output (in all subgraphs, outer-scope names resolved), every QLinearConv/QLinearMatMul whose
integer weight, scale and zero point are (dequantized: (w - zp) * scale, per tensor, per output channel for
QLinearConv, per column for QLinearMatMul), the constant W and R of every LSTM/GRU/RNN (layers "<node>/W"
and "<node>/R"; channel d*G*H + r of W [D, G*H, I], R [D, G*H, H]) and every Gather along axis 0 from a
constant float table of rank 2 (one channel per row), and computes per-output-channel statistics
the plain way: min/max in float32, mean/std (ddof=0) in float64, dead channels (range at most 1e-4 of
the layer's largest), relative ranges over the live channels and Tukey outliers with numpy.percentile
(linear interpolation). Also the model's parameter counts: elements of float constants other than
quantization scales, and of integer constants a quantization op dequantizes. Prints JSON on stdout.

A weight computed at run time from float constants by Slice, Concat, Unsqueeze, Squeeze, Reshape, Transpose
or Identity (an export without constant folding, e.g. Silero VAD v5's LSTM gates) is folded here with numpy
and read like a constant named after the node's output; it is not a parameter of the model.

With --quant, also the SQNR (dB) of fake-quantized weights, INT8/INT4, symmetric/asymmetric, per-tensor,
per-channel and per-group (blocks of 32, 64 and 128 along the input axis, or the sizes given by --blocks),
as docs/definitions.md (ONNX Runtime's definition) describes, in float32 like the kit.

usage: channel_stats.py MODEL.onnx [--quant [--blocks 32,64,128]]
"""
import json
import sys

import numpy as np
import onnx
from onnx import numpy_helper

WEIGHT_OPS = {"Conv", "ConvTranspose", "Gemm", "MatMul"}
# QOperator ops: input indices of the weight, its scale and its zero point.
QOPERATOR = {"QLinearConv": (3, 4, 5), "QLinearMatMul": (3, 4, 5)}
RECURRENT = {"LSTM", "GRU", "RNN"}
T = onnx.TensorProto
# float, float16, double, bfloat16, the float8 types and float4e2m1 (onnx.proto codes; Debian's onnx 1.12 names only the first four)
FLOAT_TYPES = {T.FLOAT, T.FLOAT16, T.DOUBLE, T.BFLOAT16, 17, 18, 19, 20, 23}
# Quantization ops: (inputs holding integer-stored weights they dequantize, scale and zero-point inputs).
QUANTIZATION_INPUTS = {
    "DequantizeLinear": ([0], [1, 2]),
    "QuantizeLinear": ([], [1, 2]),
    "QLinearConv": ([3, 8], [1, 2, 4, 5, 6, 7]),
    "QLinearMatMul": ([0, 3], [1, 2, 4, 5, 6, 7]),
    "ConvInteger": ([0, 1], [2, 3]),
    "MatMulInteger": ([0, 1], [2, 3]),
}


def constants(graph):
    found = {t.name: t for t in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant":
            for attr in node.attribute:
                if attr.name == "value":
                    found[node.output[0]] = attr.t
                elif attr.name in ("value_float", "value_floats"):
                    values = onnx.helper.get_attribute_value(attr)
                    dims = [] if attr.name == "value_float" else [len(values)]
                    found[node.output[0]] = onnx.helper.make_tensor(node.output[0], T.FLOAT, dims, values if dims else [values])
    return found


INT64_MAX = 2**63 - 1


def ints_of(value, consts):
    """The integers of an index input (Slice starts, Reshape shape, axes), or None when absent or not constant."""
    if not value or value not in consts:
        return None
    return [int(v) for v in numpy_helper.to_array(consts[value]).reshape(-1)]


def slice_axis(dim, start, end, step):
    """The indices ONNX Slice takes along one axis: negatives count from the end, then clamp."""
    if start < 0:
        start += dim
    if end < 0:
        end += dim
    if step > 0:
        start, end = min(max(start, 0), dim), min(max(end, 0), dim)
    else:
        start, end = min(max(start, 0), dim - 1), min(max(end, -1), dim - 1)
    return np.arange(start, end, step, dtype=np.int64)


def fold(node, values, consts):
    """The output of a data-movement node over constant arrays `values`, or None."""
    op, x = node.op_type, values[0]
    if op == "Concat":
        return np.concatenate(values, axis=attr(node, "axis", 0))
    if op == "Transpose":
        return np.transpose(x, attr(node, "perm", None))
    if op in ("Unsqueeze", "Squeeze"):
        axes = ints_of(node.input[1], consts) if len(node.input) > 1 else attr(node, "axes", None)
        if op == "Squeeze":
            return np.squeeze(x, axis=None if axes is None else tuple(axes))
        rank = x.ndim + len(axes)
        for a in sorted(a % rank for a in axes):
            x = np.expand_dims(x, a)
        return x
    if op == "Reshape":
        shape = ints_of(node.input[1], consts)
        if shape is None:
            return None
        allow_zero = attr(node, "allowzero", 0) == 1
        return x.reshape([x.shape[k] if d == 0 and not allow_zero else d for k, d in enumerate(shape)])
    if op == "Slice":
        if len(node.input) > 1:
            starts, ends = ints_of(node.input[1], consts), ints_of(node.input[2], consts)
            axes = ints_of(node.input[3], consts) if len(node.input) > 3 and node.input[3] else list(range(len(starts)))
            steps = ints_of(node.input[4], consts) if len(node.input) > 4 and node.input[4] else [1] * len(starts)
        else:
            starts, ends = attr(node, "starts", None), attr(node, "ends", None)
            axes, steps = attr(node, "axes", list(range(len(starts)))), [1] * len(starts)
        for a, start, end, step in zip(axes, starts, ends, steps):
            x = np.take(x, slice_axis(x.shape[a], start, end, step), axis=a)
        return x
    return None


FOLDED_OPS = {"Concat", "Transpose", "Unsqueeze", "Squeeze", "Reshape", "Slice"}


def folded(graph, consts):
    """Outputs of data-movement nodes whose data inputs are float constants (or folded before), in graph order.
    An Identity passes its constant on to such a node; a weight read through Identity alone keeps its own name
    and is not looked for here."""
    out, identities = {}, {}
    for node in graph.node:
        if not node.output or not node.input:
            continue
        found = lambda n: next((d[n] for d in (out, identities, consts) if n in d), None)
        if node.op_type == "Identity":
            if found(node.input[0]) is not None:
                identities[node.output[0]] = found(node.input[0])
            continue
        if node.op_type not in FOLDED_OPS:
            continue
        data = node.input if node.op_type == "Concat" else node.input[:1]
        sources = [found(n) for n in data]
        if not all(s is not None and s.data_type in FLOAT_TYPES for s in sources):
            continue
        value = fold(node, [numpy_helper.to_array(s) for s in sources], consts)
        if value is not None:
            out[node.output[0]] = numpy_helper.from_array(np.ascontiguousarray(value), node.output[0])
    return out


def subgraphs(node):
    for attr in node.attribute:
        if attr.type == onnx.AttributeProto.GRAPH:
            yield attr.g
        elif attr.type == onnx.AttributeProto.GRAPHS:
            yield from attr.graphs


def scoped(graph, outer=None):
    """Every graph, depth first, with its own constants and those visible in it (its own shadow its ancestors'),
    folded data-movement outputs included in the visible ones."""
    own = constants(graph)
    visible = {**(outer or {}), **own}
    visible.update(folded(graph, visible))
    yield graph, own, visible
    for node in graph.node:
        for g in subgraphs(node):
            yield from scoped(g, visible)


def model_parameters(walk):
    """Elements of float constants other than quantization scales and zero points, and of integer-stored
    constants that a quantization op dequantizes; each constant counted once (keyed by object)."""
    stored, metadata, tensors = set(), set(), []
    for graph, own, visible in walk:
        tensors += own.values()
        for node in graph.node:
            if node.domain in ("", "ai.onnx") and node.op_type in QUANTIZATION_INPUTS:
                for indices, into in zip(QUANTIZATION_INPUTS[node.op_type], (stored, metadata)):
                    into.update(id(visible[node.input[i]]) for i in indices if i < len(node.input) and node.input[i] in visible)
    size = lambda t: int(np.prod(t.dims, dtype=np.int64))
    return {
        "parameters": sum(size(t) for t in tensors if id(t) not in stored and id(t) not in metadata and t.data_type in FLOAT_TYPES),
        "quantizedParameters": sum(size(t) for t in tensors if id(t) in stored),
    }


def attr(node, name, default):
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def channels_first(w, node):
    """Rows = output channels (docs/definitions.md, "Channels")."""
    op = node.op_type
    if op in ("Conv", "QLinearConv") or (op == "Gemm" and attr(node, "transB", 0) == 1):
        return w.reshape(w.shape[0], -1)
    if op in RECURRENT:
        return w.reshape(-1, w.shape[-1])  # [D, G*H, last]: row d*G*H + r
    if op == "Gather":
        return w  # one channel per row of the table
    if op == "ConvTranspose":
        g = attr(node, "group", 1)
        cin, cout_g = w.shape[0], w.shape[1]
        v = w.reshape(g, cin // g, cout_g, -1).transpose(0, 2, 1, 3)
        return v.reshape(g * cout_g, -1)
    return np.moveaxis(w, -1, 0).reshape(w.shape[-1], -1)  # Gemm transB=0, MatMul


def input_axis_first(w, node):
    """[mats, inputs, cols]: the input (reduction) axis in the middle, each column of each mat one block row
    (docs/definitions.md, "Per-group quantization")."""
    op = node.op_type
    if op in ("Conv", "QLinearConv"):
        return w.reshape(w.shape[0], w.shape[1], -1)  # [Cout, Cin/g, kernel positions]
    if op == "ConvTranspose":
        g = attr(node, "group", 1)
        return w.reshape(g, w.shape[0] // g, -1)  # group g's input channels, [Cout/g * kernel positions]
    if op == "Gemm":
        return w[:, :, None] if attr(node, "transB", 0) == 1 else w[None]
    if op in RECURRENT or op == "Gather":
        return w.reshape(-1, w.shape[-1], 1)  # W/R: the input (or hidden) axis; a table: along each row
    if w.ndim == 1:
        return w.reshape(1, -1, 1)
    return w.reshape(-1, w.shape[-2], w.shape[-1])  # MatMul [..., in, out]


def quantize(x, scale, zp, qmin, qmax):
    return (np.clip(np.round(x / scale) + zp, qmin, qmax) - zp) * scale


def scale_and_zero_point(lo, hi, bits, symmetric):
    """(scale, zero point, qmin, qmax) for ranges lo <= 0 <= hi (arrays): float32 scales, 1 where the range is 0."""
    if symmetric:
        qmax = 2 ** (bits - 1) - 1
        scale = (np.maximum(-lo, hi) / np.float32(qmax)).astype(np.float32)
        scale[scale == 0] = 1
        return scale, np.zeros_like(scale), -qmax, qmax
    qmax = 2**bits - 1
    scale = ((hi - lo) / np.float32(qmax)).astype(np.float32)
    scale[scale == 0] = 1
    return scale, np.round(-lo / scale).astype(np.float32), 0, qmax


def group_sqnr(view, bits, symmetric, block):
    """Per-group SQNR: one scale per (mat, column, block of `block` inputs); the last block may be shorter."""
    signal = noise = 0.0
    for start in range(0, view.shape[1], block):
        x = view[:, start : start + block, :]
        lo = np.minimum(x.min(axis=1, keepdims=True), 0).astype(np.float32)
        hi = np.maximum(x.max(axis=1, keepdims=True), 0).astype(np.float32)
        scale, zp, qmin, qmax = scale_and_zero_point(lo, hi, bits, symmetric)
        signal += np.sum(x.astype(np.float64) ** 2)
        noise += np.sum((x - quantize(x, scale, zp, qmin, qmax)).astype(np.float64) ** 2)
    return decibels(signal, noise)


def decibels(signal, noise):
    return float(10 * np.log10(signal / noise)) if signal > 0 and noise > 0 else None


def sqnr(rows, bits, symmetric, per_channel):
    x = rows.astype(np.float32)
    lo = x.min(axis=1) if per_channel else np.full(len(x), x.min(), np.float32)
    hi = x.max(axis=1) if per_channel else np.full(len(x), x.max(), np.float32)
    lo, hi = np.minimum(lo, 0).astype(np.float32)[:, None], np.maximum(hi, 0).astype(np.float32)[:, None]
    scale, zp, qmin, qmax = scale_and_zero_point(lo, hi, bits, symmetric)
    return decibels(np.sum(x.astype(np.float64) ** 2), np.sum((x - quantize(x, scale, zp, qmin, qmax)).astype(np.float64) ** 2))


def quant_figures(rows, view, blocks):
    if not np.all(np.isfinite(rows)):
        return None
    return {
        f"int{bits}": {
            mode: {
                "perTensor": sqnr(rows, bits, mode == "symmetric", False),
                "perChannel": sqnr(rows, bits, mode == "symmetric", True),
                "perGroup": [{"block": b, "sqnr": group_sqnr(view, bits, mode == "symmetric", b)} for b in sorted(blocks)],
            }
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


def weights_of(node, consts):
    """(layer name, (weight name, array)) for each weight layer of `node`."""
    name = node.name or node.output[0]
    if node.op_type in WEIGHT_OPS and len(node.input) > 1 and node.input[1] in consts:
        return [(name, (node.input[1], numpy_helper.to_array(consts[node.input[1]])))]
    if node.op_type in QOPERATOR and all(node.input[i] in consts for i in QOPERATOR[node.op_type]):
        return [(name, (node.input[3], dequantized(node, consts)))]
    if node.op_type in RECURRENT:
        return [(f"{name}/{which}", (node.input[i], numpy_helper.to_array(consts[node.input[i]])))
                for i, which in ((1, "W"), (2, "R")) if len(node.input) > i and node.input[i] in consts]
    if node.op_type == "Gather" and node.input[0] in consts and attr(node, "axis", 0) in (0, -2):
        table = consts[node.input[0]]
        if len(table.dims) == 2 and table.data_type in FLOAT_TYPES:
            return [(name, (node.input[0], numpy_helper.to_array(table)))]
    return []


def layer_stats(name, node, weight, blocks=None):
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
        **({"quant": quant_figures(rows, input_axis_first(w, node), blocks)} if blocks is not None else {}),
    }


def main(path, blocks):
    model = onnx.load(path)
    walk = list(scoped(model.graph))
    layers = []
    for graph, _, consts in walk:
        for node in graph.node:
            for name, weight in weights_of(node, consts):
                layers.append(layer_stats(name, node, weight, blocks))
    json.dump({"file": path, "model": model_parameters(walk), "layers": layers}, sys.stdout)


if __name__ == "__main__":
    args = sys.argv[2:]
    blocks = [int(b) for b in args[args.index("--blocks") + 1].split(",")] if "--blocks" in args else [32, 64, 128]
    main(sys.argv[1], blocks if "--quant" in args else None)
