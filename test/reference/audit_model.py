"""Writes a quantized model and the float model it was made from (run by test/node/audit-reference.test.ts),
and prints, computed with numpy, what `weightlens audit` must find in it.

Layers (quantized model / float model):
  conv_t  QDQ Conv, int8 per tensor, symmetric [-127, 127], scale 0.6 of min-max (so codes saturate);
          float bias, input DequantizeLinear with constant scale X_SCALE: the bias's int32 headroom is known
          (one channel's bias overflows int32, one is within 2 bits of it)
  conv_c  QDQ Conv, uint8 per output channel (axis 0), asymmetric; scales include a zero, a subnormal and a
          negative one; int32 bias read through DequantizeLinear, one code at int32's maximum
  qconv   QLinearConv, int8 per output channel, int32 bias B with codes near and at int32's ends
  mm_Q4   com.microsoft MatMulNBits, 4 bits, block 32, packed uint8 zero points (float model: MatMul "mm")
The float model's weights are named as the quantized ones' without "_quantized" (and "w_mm" for mm).

usage: audit_model.py QUANTIZED.onnx FLOAT.onnx
Prints JSON: {"layers": {name: {"qmin", "qmax", "restricted", "levels", "channels": {"atMin", "atMax",
"elements", "levels"}, "blocks" (or null), "scales": {"count", "zero", "denormal", "negative", "nonFinite"},
"bias": {"headroomBits", "overflow"} or null, "float": {"sqnr", "outside", "clipped", "channels": {"sqnr",
"outside", "clipped"}}}}}
"""
import json
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

X_SCALE = np.float32(0.02)  # conv_t's input scale
Y_SCALE = np.float32(0.05)  # conv_c's and qconv's input scale


def arr(values, name):
    return numpy_helper.from_array(np.asarray(values), name)


def sqnr(signal, noise):
    return 10 * np.log10(signal / noise) if signal > 0 and noise > 0 else None


def counts(codes, channel_of, n_channels, qmin, qmax):
    """codes flattened; channel_of: same-shape int array of channel (or block) indices."""
    c, ch = codes.reshape(-1), channel_of.reshape(-1)
    at_min = np.bincount(ch, weights=(c == qmin), minlength=n_channels).astype(int).tolist()
    at_max = np.bincount(ch, weights=(c == qmax), minlength=n_channels).astype(int).tolist()
    elements = np.bincount(ch, minlength=n_channels).astype(int).tolist()
    levels = [len(np.unique(c[ch == k])) for k in range(n_channels)]
    return {"atMin": at_min, "atMax": at_max, "elements": elements, "levels": levels}


def scale_counts(s, tiny=2.0**-126):
    s = np.asarray(s, np.float64).reshape(-1)
    fin = np.isfinite(s)
    return {
        "count": int(s.size),
        "zero": int((s == 0).sum()),
        "denormal": int(((s != 0) & fin & (np.abs(s) < tiny)).sum()),
        "negative": int((s < 0).sum()),
        "nonFinite": int((~fin).sum()),
    }


def compare(w, deq, lo, hi, half, channel_of, n):
    """lo, hi, half: per element (the unit's range and half step); channel sums in float64."""
    x, d, ch = (a.reshape(-1) for a in (w.astype(np.float64), deq.astype(np.float64), channel_of))
    # the range's ends as DequantizeLinear gives them, rounded to float32
    lo, hi = (a.astype(np.float32).astype(np.float64).reshape(-1) for a in (lo, hi))
    half = half.reshape(-1)
    out = (x < lo) | (x > hi)
    clip = (x < lo - half) | (x > hi + half)
    sig = np.bincount(ch, weights=x * x, minlength=n)
    noi = np.bincount(ch, weights=(x - d) ** 2, minlength=n)
    return {
        "sqnr": sqnr(sig.sum(), noi.sum()),
        "outside": int(out.sum()),
        "clipped": int(clip.sum()),
        "channels": {
            "sqnr": [sqnr(a, b) for a, b in zip(sig, noi)],
            "outside": np.bincount(ch, weights=out, minlength=n).astype(int).tolist(),
            "clipped": np.bincount(ch, weights=clip, minlength=n).astype(int).tolist(),
        },
    }


def headroom(q):
    return [None if v == 0 else 31 - float(np.log2(abs(float(v)))) for v in q]


def per_axis0(values, shape):
    return np.broadcast_to(np.asarray(values).reshape(-1, *[1] * (len(shape) - 1)), shape)


def main(q_path, f_path):
    rng = np.random.default_rng(7)
    ref = {}
    q_inits, q_nodes, f_inits, f_nodes = [], [], [], []

    # conv_t: int8 per tensor, restricted range, scale 0.6 of min-max: the largest weights clip.
    w_t = rng.normal(0, 0.1, (6, 4, 3, 3)).astype(np.float32)
    s_t = np.float32(np.abs(w_t).max() / 127 * 0.6)
    q_t = np.clip(np.rint(w_t / s_t), -127, 127).astype(np.int8)
    deq_t = (q_t.astype(np.float64) * s_t).astype(np.float32)
    b_t = np.zeros(6, np.float32)
    unit = np.float64(X_SCALE) * np.float64(s_t)
    b_t[0] = np.float32(1.5 * 2**31 * unit)  # overflows int32
    b_t[1] = np.float32(-0.3 * 2**31 * unit)  # 1.7 bits of headroom
    b_t[2:] = rng.normal(0, 0.1, 4).astype(np.float32)
    q_inits += [arr(q_t, "w_t_quantized"), arr(s_t, "w_t_scale"), arr(np.int8(0), "w_t_zero_point"), arr(b_t, "b_t")]
    q_inits += [arr(X_SCALE, "x_scale"), arr(np.int8(0), "x_zero_point")]
    q_nodes += [
        helper.make_node("QuantizeLinear", ["x", "x_scale", "x_zero_point"], ["x_q"], "x_quantize"),
        helper.make_node("DequantizeLinear", ["x_q", "x_scale", "x_zero_point"], ["x_dq"], "x_dequantize"),
        helper.make_node("DequantizeLinear", ["w_t_quantized", "w_t_scale", "w_t_zero_point"], ["w_t_dq"], "w_t_dequantize"),
        helper.make_node("Conv", ["x_dq", "w_t_dq", "b_t"], ["t"], "conv_t", pads=[1, 1, 1, 1]),
    ]
    f_inits += [arr(w_t, "w_t"), arr(b_t, "b_t")]
    f_nodes += [helper.make_node("Conv", ["x", "w_t", "b_t"], ["t"], "conv_t", pads=[1, 1, 1, 1])]
    ch = np.broadcast_to(np.arange(6).reshape(-1, 1, 1, 1), w_t.shape)
    lo, hi = np.full(w_t.shape, -127 * np.float64(s_t)), np.full(w_t.shape, 127 * np.float64(s_t))
    ref["conv_t"] = {
        "qmin": -127,
        "qmax": 127,
        "restricted": True,
        "levels": len(np.unique(q_t)),
        "channels": counts(q_t, ch, 6, -127, 127),
        "blocks": None,
        "scales": scale_counts([s_t]),
        "bias": {"headroomBits": headroom(b_t.astype(np.float64) / (np.float64(X_SCALE) * np.float64(s_t))), "overflow": 1},
        "float": compare(w_t, deq_t, lo, hi, np.full(w_t.shape, np.float64(s_t) / 2), ch, 6),
    }

    # conv_c: uint8 per channel, asymmetric min-max; channel 1 all zero (scale 0), 2 subnormal, 3 negative.
    w_c = rng.normal(0, 0.05, (8, 6, 3, 3)).astype(np.float32)
    w_c[1] = 0
    flat = w_c.reshape(8, -1).astype(np.float64)
    lo_c, hi_c = np.minimum(flat.min(1), 0), np.maximum(flat.max(1), 0)
    s_c = ((hi_c - lo_c) / 255).astype(np.float32)
    s_c[1] = 0
    s_c[2] = np.float32(1e-40)
    s_c[3] = -s_c[3]
    s_c[5] *= np.float32(0.5)  # channel 5 clips
    safe = np.where(s_c == 0, 1, s_c).astype(np.float64)
    zp_c = np.clip(np.rint(np.where(s_c[:, None] < 0, hi_c[:, None], -lo_c[:, None]) / np.abs(safe)[:, None]), 0, 255)
    zp_c = zp_c.reshape(-1).astype(np.uint8)
    zp_c[1] = 7
    w_c[2] = (rng.integers(0, 256, (6, 3, 3)).astype(np.float64) - zp_c[2]) * np.float64(s_c[2])  # subnormal weights
    q_c = np.clip(np.rint(w_c.astype(np.float64) / per_axis0(safe, w_c.shape)) + per_axis0(zp_c, w_c.shape), 0, 255)
    q_c = q_c.astype(np.uint8)
    deq_c = ((q_c.astype(np.float64) - per_axis0(zp_c, w_c.shape)) * per_axis0(s_c, w_c.shape)).astype(np.float32)
    bias_scale_c = (Y_SCALE * s_c).astype(np.float32)
    b_c_q = rng.integers(-1000, 1000, 8).astype(np.int32)
    b_c_q[4] = 2**31 - 1
    b_c_q[6] = -(2**29)
    b_c = (b_c_q.astype(np.float64) * bias_scale_c).astype(np.float32)
    q_inits += [
        arr(q_c, "w_c_quantized"), arr(s_c, "w_c_scale"), arr(zp_c, "w_c_zero_point"),
        arr(b_c_q, "b_c_quantized"), arr(bias_scale_c, "b_c_scale"), arr(np.zeros(8, np.int32), "b_c_zero_point"),
        arr(Y_SCALE, "t_scale"), arr(np.uint8(128), "t_zero_point"),
    ]
    q_nodes += [
        helper.make_node("QuantizeLinear", ["t", "t_scale", "t_zero_point"], ["t_q"], "t_quantize"),
        helper.make_node("DequantizeLinear", ["t_q", "t_scale", "t_zero_point"], ["t_dq"], "t_dequantize"),
        helper.make_node("DequantizeLinear", ["w_c_quantized", "w_c_scale", "w_c_zero_point"], ["w_c_dq"], "w_c_dequantize", axis=0),
        helper.make_node("DequantizeLinear", ["b_c_quantized", "b_c_scale", "b_c_zero_point"], ["b_c_dq"], "b_c_dequantize", axis=0),
        helper.make_node("Conv", ["t_dq", "w_c_dq", "b_c_dq"], ["c"], "conv_c", pads=[1, 1, 1, 1]),
    ]
    f_inits += [arr(w_c, "w_c"), arr(b_c, "b_c")]
    f_nodes += [helper.make_node("Conv", ["t", "w_c", "b_c"], ["c"], "conv_c", pads=[1, 1, 1, 1])]
    ch = np.broadcast_to(np.arange(8).reshape(-1, 1, 1, 1), w_c.shape)
    s64, z64 = per_axis0(s_c.astype(np.float64), w_c.shape), per_axis0(zp_c.astype(np.float64), w_c.shape)
    a, b = (0 - z64) * s64, (255 - z64) * s64
    ref["conv_c"] = {
        "qmin": 0,
        "qmax": 255,
        "restricted": False,
        "levels": len(np.unique(q_c)),
        "channels": counts(q_c, ch, 8, 0, 255),
        "blocks": None,
        "scales": scale_counts(s_c),
        "bias": {"headroomBits": headroom(b_c_q), "overflow": 1},
        "float": compare(w_c, deq_c, np.minimum(a, b), np.maximum(a, b), np.abs(s64) / 2, ch, 8),
    }

    # qconv: QLinearConv int8 per channel (symmetric, full range), int32 bias near and at int32's ends.
    w_q = rng.normal(0, 0.2, (8, 8, 1, 1)).astype(np.float32)
    s_q = (np.abs(w_q.reshape(8, -1)).max(1) / 100).astype(np.float32)  # codes reach ±127 after clipping
    q_q = np.clip(np.rint(w_q / per_axis0(s_q, w_q.shape)), -128, 127).astype(np.int8)
    deq_q = (q_q.astype(np.float64) * per_axis0(s_q, w_q.shape)).astype(np.float32)
    b_q = np.array([2**31 - 1, -(2**31), 2**30, -(2**28) - 5, 0, 17, -300, 2**20], np.int32)
    b_q_float = (b_q.astype(np.float64) * (Y_SCALE * s_q).astype(np.float32)).astype(np.float32)
    q_inits += [
        arr(q_q, "w_q_quantized"), arr(s_q, "w_q_scale"), arr(np.zeros(8, np.int8), "w_q_zero_point"),
        arr(b_q, "b_q_quantized"), arr(np.float32(0.1), "y_scale"), arr(np.uint8(128), "y_zero_point"),
        arr(np.uint8(128), "c_zero_point"),
    ]
    q_nodes += [
        helper.make_node("QuantizeLinear", ["c", "t_scale", "c_zero_point"], ["c_q"], "c_quantize"),
        helper.make_node(
            "QLinearConv",
            ["c_q", "t_scale", "c_zero_point", "w_q_quantized", "w_q_scale", "w_q_zero_point", "y_scale", "y_zero_point", "b_q_quantized"],
            ["y_q"],
            "qconv_quant",
        ),
        helper.make_node("DequantizeLinear", ["y_q", "y_scale", "y_zero_point"], ["y"], "y_dequantize"),
    ]
    f_inits += [arr(w_q, "w_q"), arr(b_q_float, "b_q")]
    f_nodes += [helper.make_node("Conv", ["c", "w_q", "b_q"], ["y"], "qconv")]
    ch = np.broadcast_to(np.arange(8).reshape(-1, 1, 1, 1), w_q.shape)
    s64 = per_axis0(s_q.astype(np.float64), w_q.shape)
    any_min = bool((q_q == -128).any())
    ref["qconv_quant"] = {
        "qmin": -128 if any_min else -127,
        "qmax": 127,
        "restricted": not any_min,
        "levels": len(np.unique(q_q)),
        "channels": counts(q_q, ch, 8, -128 if any_min else -127, 127),
        "blocks": None,
        "scales": scale_counts(s_q),
        "bias": {"headroomBits": headroom(b_q), "overflow": 2},
        "float": compare(w_q, deq_q, (-128 if any_min else -127) * s64, 127 * s64, s64 / 2, ch, 8),
    }

    # mm_Q4: MatMulNBits, K=80 (3 blocks of 32, the last padded), N=6, packed uint8 zero points.
    K, N, bs = 80, 6, 32
    kb = -(-K // bs)
    w_mm = rng.normal(0, 0.1, (K, N)).astype(np.float32)
    s_mm = rng.uniform(0.005, 0.02, (N, kb)).astype(np.float32)
    zp_mm = rng.integers(4, 12, (N, kb))
    block_of_k = np.arange(K) // bs
    s_kn = s_mm[:, block_of_k].T.astype(np.float64)  # [K, N]
    z_kn = zp_mm[:, block_of_k].T.astype(np.float64)
    q_mm = np.clip(np.rint(w_mm / s_kn) + z_kn, 0, 15).astype(np.uint8)  # [K, N]
    deq_mm = ((q_mm - z_kn) * s_kn).astype(np.float32)
    padded = np.zeros((N, kb * bs), np.uint8)
    padded[:, :K] = q_mm.T
    b_packed = (padded[:, 0::2] | (padded[:, 1::2] << 4)).reshape(N, kb, bs // 2)
    zp_pad = np.zeros((N, 2 * (-(-kb // 2))), np.uint8)
    zp_pad[:, :kb] = zp_mm
    zp_packed = zp_pad[:, 0::2] | (zp_pad[:, 1::2] << 4)
    q_inits += [arr(b_packed, "w_mm_q4"), arr(s_mm.reshape(-1), "w_mm_scales"), arr(zp_packed, "w_mm_zp")]
    q_nodes += [
        helper.make_node(
            "MatMulNBits", ["a", "w_mm_q4", "w_mm_scales", "w_mm_zp"], ["m"], "mm_Q4",
            domain="com.microsoft", K=K, N=N, bits=4, block_size=bs,
        )
    ]
    f_inits += [arr(w_mm, "w_mm")]
    f_nodes += [helper.make_node("MatMul", ["a", "w_mm"], ["m"], "mm")]
    ch = np.broadcast_to(np.arange(N), (K, N))
    unit = block_of_k[:, None] * N + np.arange(N)[None, :]  # the [k_blocks, N] scale tensor's order
    ref["mm_Q4"] = {
        "qmin": 0,
        "qmax": 15,
        "restricted": False,
        "levels": len(np.unique(q_mm)),
        "channels": counts(q_mm, ch, N, 0, 15),
        "blocks": counts(q_mm, unit, kb * N, 0, 15),
        "scales": scale_counts(s_mm),
        "bias": None,
        "float": compare(w_mm, deq_mm, (0 - z_kn) * s_kn, (15 - z_kn) * s_kn, s_kn / 2, ch, N),
    }

    def save(nodes, inits, path, ms):
        graph = helper.make_graph(
            nodes,
            "audit",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 5, 5]),
             helper.make_tensor_value_info("a", TensorProto.FLOAT, [2, K])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, None),
             helper.make_tensor_value_info("m", TensorProto.FLOAT, None)],
            inits,
        )
        opsets = [helper.make_opsetid("", 13)] + ([helper.make_opsetid("com.microsoft", 1)] if ms else [])
        model = helper.make_model(graph, opset_imports=opsets, producer_name="audit_model.py")
        model.ir_version = 8
        onnx.save(model, path)

    save(q_nodes, q_inits, q_path, True)
    save(f_nodes, f_inits, f_path, False)
    print(json.dumps({"layers": ref}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
