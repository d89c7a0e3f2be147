"""SQNR of each weight a QDQ export stores, computed independently with numpy (for
test/node/quantize-reference.test.ts): the exported model's DequantizeLinear nodes are evaluated as the
ONNX operator defines them, (x - zero_point) * scale with scale broadcast along `axis` (opset 13 forms:
per tensor or per axis), in float32, and compared in float64 with the float model's weight of the same
name (an initializer or a Constant node's value).

usage: quantized_sqnr.py FLOAT.onnx QUANTIZED.onnx  -> JSON {weight name: SQNR dB or null when exact}
"""
import json
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def float_weights(model):
    weights = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    for node in model.graph.node:
        if node.op_type == "Constant":
            for a in node.attribute:
                if a.name == "value":
                    weights[node.output[0]] = numpy_helper.to_array(a.t)
    return weights


def main(float_path, quantized_path):
    floats = float_weights(onnx.load(float_path))
    quantized = onnx.load(quantized_path)
    stored = {t.name: numpy_helper.to_array(t) for t in quantized.graph.initializer}
    out = {}
    for node in quantized.graph.node:
        if node.op_type != "DequantizeLinear":
            continue
        codes = stored[node.input[0]].astype(np.float32)
        scale = stored[node.input[1]].astype(np.float32)
        zero = stored[node.input[2]].astype(np.float32) if len(node.input) > 2 else np.zeros_like(scale)
        axis = next((a.i for a in node.attribute if a.name == "axis"), 1)
        if scale.ndim == 1:
            shape = [1] * codes.ndim
            shape[axis] = -1
            scale, zero = scale.reshape(shape), zero.reshape(shape)
        dequantized = ((codes - zero) * scale).astype(np.float32)
        w = floats[node.output[0]].astype(np.float64)
        noise = np.sum((w - dequantized.astype(np.float64)) ** 2)
        signal = np.sum(w**2)
        out[node.output[0]] = None if noise == 0 or signal == 0 else float(10 * np.log10(signal / noise))
    print(json.dumps(out))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
