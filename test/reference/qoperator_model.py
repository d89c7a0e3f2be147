"""Writes a QOperator copy of a float ONNX model, laid out as onnxruntime's quantize_static with
QuantFormat.QOperator does (run by test/node/qoperator-reference.test.ts).

Every Conv with a constant weight becomes QuantizeLinear -> QLinearConv -> DequantizeLinear with an int8
weight quantized per output channel (symmetric, zero points 0) and, when it has one, an int32 bias quantized
with x_scale * w_scale; every MatMul with a constant right operand becomes QuantizeLinear -> QLinearMatMul ->
DequantizeLinear with a uint8 weight quantized per tensor (asymmetric). Activation scales are fixed
placeholders: the model is for weight analysis, not for accurate inference. Nodes keep their names.

Prints JSON on stdout: per layer, the scales, zero points and dequantized bias written.

usage: qoperator_model.py FLOAT.onnx OUT.onnx
"""
import json
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper

from channel_stats import constants  # the script's own folder is on sys.path

X_SCALE = np.float32(0.05)  # the activation scale every QLinear op reads (and the bias is quantized with)
Y_SCALE = np.float32(0.1)


def per_channel_int8(w):
    absmax = np.abs(w.reshape(w.shape[0], -1)).max(axis=1)
    scale = (absmax / np.float32(127)).astype(np.float32)
    scale[scale == 0] = 1
    q = np.clip(np.rint(w / scale.reshape(-1, *[1] * (w.ndim - 1))), -127, 127).astype(np.int8)
    return q, scale, np.zeros(len(scale), np.int8)


def per_tensor_uint8(w):
    lo, hi = min(float(w.min()), 0.0), max(float(w.max()), 0.0)
    scale = np.float32((hi - lo) / 255) or np.float32(1)
    zp = np.uint8(np.rint(-lo / scale))
    q = np.clip(np.rint(w / scale) + zp, 0, 255).astype(np.uint8)
    return q, np.array(scale, np.float32), np.array(zp, np.uint8)


def main(src, out):
    model = onnx.load(src)
    graph = model.graph
    consts = constants(graph)
    inits = [
        numpy_helper.from_array(np.array(X_SCALE), "act_scale"),
        numpy_helper.from_array(np.array(128, np.uint8), "act_zp"),
        numpy_helper.from_array(np.array(Y_SCALE), "out_scale"),
        numpy_helper.from_array(np.array(128, np.uint8), "out_zp"),
    ]
    nodes, written = [], {}
    for node in graph.node:
        conv = node.op_type == "Conv" and len(node.input) > 1 and node.input[1] in consts
        matmul = node.op_type == "MatMul" and node.input[1] in consts
        if not (conv or matmul):
            nodes.append(node)
            continue
        name = node.name or node.output[0]
        w = numpy_helper.to_array(consts[node.input[1]]).astype(np.float32)
        q, scale, zp = per_channel_int8(w) if conv else per_tensor_uint8(w)
        prefix = node.input[1]
        inits += [
            numpy_helper.from_array(q, f"{prefix}_quantized"),
            numpy_helper.from_array(scale, f"{prefix}_scale"),
            numpy_helper.from_array(zp, f"{prefix}_zero_point"),
        ]
        inputs = [f"{name}_x_q", "act_scale", "act_zp", f"{prefix}_quantized", f"{prefix}_scale", f"{prefix}_zero_point", "out_scale", "out_zp"]
        record = {"scales": scale.reshape(-1).astype(float).tolist(), "zeroPoints": zp.reshape(-1).astype(float).tolist(), "bias": None}
        if conv and len(node.input) > 2 and node.input[2]:
            bias_scale = (X_SCALE * scale).astype(np.float32)
            b = numpy_helper.to_array(consts[node.input[2]]).astype(np.float32)
            # Tiny weight scales make b / bias_scale overflow int32: saturate, as a bias quantizer must.
            b_q = np.clip(np.rint(b.astype(np.float64) / bias_scale), -(2**31), 2**31 - 1).astype(np.int32)
            inits.append(numpy_helper.from_array(b_q, f"{node.input[2]}_quantized"))
            inputs.append(f"{node.input[2]}_quantized")
            record["bias"] = (b_q.astype(np.float64) * bias_scale).astype(np.float32).astype(float).tolist()
        op = "QLinearConv" if conv else "QLinearMatMul"
        nodes += [
            helper.make_node("QuantizeLinear", [node.input[0], "act_scale", "act_zp"], [f"{name}_x_q"], f"{name}_quantize"),
            helper.make_node(op, inputs, [f"{name}_y_q"], name, **{a.name: helper.get_attribute_value(a) for a in node.attribute}),
            helper.make_node("DequantizeLinear", [f"{name}_y_q", "out_scale", "out_zp"], [node.output[0]], f"{name}_dequantize"),
        ]
        written[name] = record

    # The float weights are no longer read: drop their Constant nodes and initializers.
    used = {i for n in nodes for i in n.input} | {o.name for o in graph.output}
    kept_nodes = [n for n in nodes if n.op_type != "Constant" or n.output[0] in used]
    kept_inits = [t for t in graph.initializer if t.name in used]
    del graph.node[:]
    graph.node.extend(kept_nodes)
    del graph.initializer[:]
    graph.initializer.extend(kept_inits + inits)
    for opset in model.opset_import:
        if opset.domain in ("", "ai.onnx"):
            opset.version = max(opset.version, 10)  # QLinearConv, QLinearMatMul
    onnx.save(model, out)
    json.dump({"layers": written}, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
