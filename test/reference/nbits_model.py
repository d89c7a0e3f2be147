"""Writes a model of onnxruntime's 4-bit weight formats, packed as docs/definitions.md states them (run by
test/node/nbits-reference.test.ts), and prints what numpy dequantizes each weight to.

Every MatMulNBits layer "mm<i>" reads graph input "a<i>" [K, K] (float32, or float16 with float16 scales) and
writes "y<i>" [K, N]: fed the identity, onnxruntime writes the dequantized weight B_deq [K, N]. Every
GatherBlockQuantized layer "g<i>" reads graph input "ids<i>" (int64) and writes "e<i>": fed every row index,
onnxruntime writes the dequantized table.

usage: nbits_model.py SPEC.json OUT.onnx
SPEC: {"seed": 1, "matmul": [{"K", "N", "block_size", "bits", "zero_points": "none"|"packed"|"float",
        "scales": "float32"|"float16", "bias": bool}],
       "gather": [{"rows", "width", "block_size", "dtype": "int4"|"uint4"|"uint8", "bits",
        "quantize_axis", "zero_points": bool, "scales": "float32"|"float16"}]}

Prints JSON: {"matmul": [{"name", "weight": B_deq row-major, "scales": [k_blocks, N] row-major,
"zeroPoints"}], "gather": [{"name", "weight", "scales", "zeroPoints"}]} (weights as float32 values).
"""
import json
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

INT4, UINT4 = 22, 21  # TensorProto data types newer than onnx 1.12 knows by name


def pack(values, bits):
    """Unsigned `bits`-bit values (last axis a multiple of 8 / bits) packed into bytes, low bits first."""
    per = 8 // bits
    v = values.astype(np.uint8).reshape(*values.shape[:-1], -1, per)
    out = np.zeros(v.shape[:-1], np.uint8)
    for j in range(per):
        out |= v[..., j] << (bits * j)
    return out


def padded(values, multiple):
    """`values` with its last axis zero-padded to a multiple of `multiple`."""
    extra = -values.shape[-1] % multiple
    return np.pad(values, [(0, 0)] * (values.ndim - 1) + [(0, extra)])


def scales_of(rng, shape, dtype):
    return rng.uniform(0.002, 0.05, shape).astype(dtype)


def matmul_layer(rng, i, spec, inits):
    K, N, bs, bits = spec["K"], spec["N"], spec["block_size"], spec.get("bits", 4)
    blocks = -(-K // bs)
    levels = 2**bits
    sdtype = np.float16 if spec.get("scales") == "float16" else np.float32
    q = rng.integers(0, levels, (N, K))  # column n of the weight, along K
    scales = scales_of(rng, (N, blocks), sdtype)
    zp_kind = spec.get("zero_points", "none")
    if zp_kind == "packed":
        zp = rng.integers(0, levels, (N, blocks))
        zp_tensor = pack(padded(zp, 8 // bits), bits)  # each row of N starts a new byte
    elif zp_kind == "float":
        zp = rng.uniform(0, levels - 1, (N, blocks)).astype(sdtype)
        zp_tensor = zp
    else:
        zp = np.full((N, blocks), levels // 2)
        zp_tensor = None
    b = pack(padded(q, bs).reshape(N, blocks, bs), bits)  # [N, k_blocks, blob_size], padding quantized as 0
    names = [f"a{i}", f"B{i}", f"scales{i}", f"zp{i}" if zp_tensor is not None else ""]
    inits += [numpy_helper.from_array(b, names[1]), numpy_helper.from_array(scales, names[2])]
    if zp_tensor is not None:
        inits.append(numpy_helper.from_array(zp_tensor, names[3]))
    if spec.get("bias"):
        names += ["", f"bias{i}"]
        inits.append(numpy_helper.from_array(rng.uniform(-1, 1, N).astype(sdtype), names[5]))
    while names[-1] == "":
        names.pop()
    node = helper.make_node(
        "MatMulNBits", names, [f"y{i}"], f"mm{i}", domain="com.microsoft", K=K, N=N, bits=bits, block_size=bs
    )
    elem = TensorProto.FLOAT16 if sdtype == np.float16 else TensorProto.FLOAT
    io = (helper.make_tensor_value_info(f"a{i}", elem, [K, K]), helper.make_tensor_value_info(f"y{i}", elem, [K, N]))
    # numpy: (q - zp) · s per block in float64, rounded once to float32 (a float zero point as onnxruntime
    # computes it: q·s + (−s·zp), each step rounded to float32).
    s = np.repeat(scales.astype(np.float32), bs, axis=1)[:, :K]
    z = np.repeat(zp.astype(np.float32), bs, axis=1)[:, :K]
    if zp_kind == "float":
        w = (q.astype(np.float32) * s) + (-s * z)
    else:
        w = ((q - z).astype(np.float64) * s.astype(np.float64)).astype(np.float32)
    record = {
        "name": f"mm{i}",
        "weight": w.T.reshape(-1).tolist(),
        "scales": scales.T.astype(np.float32).reshape(-1).tolist(),
        "zeroPoints": zp.T.astype(np.float32).reshape(-1).tolist(),
    }
    return node, io, record


def int4_tensor(values, name, signed):
    """An ONNX int4/uint4 initializer: values flattened, two per byte, low nibble first."""
    flat = values.reshape(-1).astype(np.int64) & 0xF
    t = TensorProto()
    t.name = name
    t.data_type = INT4 if signed else UINT4
    t.dims.extend(values.shape)
    t.raw_data = pack(padded(flat[None, :], 2), 4).tobytes()
    return t


def gather_layer(rng, i, spec, inits):
    rows, width, bs, dtype = spec["rows"], spec["width"], spec["block_size"], spec["dtype"]
    bits = spec.get("bits", 4)
    axis = spec.get("quantize_axis", 1)
    sdtype = np.float16 if spec.get("scales") == "float16" else np.float32
    shape = [rows, width]
    blocks_shape = list(shape)
    blocks_shape[axis] = -(-shape[axis] // bs)
    signed = dtype == "int4"
    lo, hi = (-8, 8) if signed else (0, 2**bits)
    q = rng.integers(lo, hi, shape)
    scales = scales_of(rng, blocks_shape, sdtype)
    zp = rng.integers(lo, hi, blocks_shape) if spec.get("zero_points") else None
    names = [f"data{i}", f"ids{i}", f"gscales{i}"] + ([f"gzp{i}"] if zp is not None else [])
    if dtype == "uint8":
        inits.append(numpy_helper.from_array(pack(q, bits) if bits < 8 else q.astype(np.uint8), names[0]))
        if zp is not None:
            zpacked = pack(padded(zp, 8 // bits), bits) if bits < 8 else zp.astype(np.uint8)
            inits.append(numpy_helper.from_array(zpacked, names[3]))
    else:
        inits.append(int4_tensor(q, names[0], signed))
        if zp is not None:
            inits.append(int4_tensor(zp, names[3], signed))
    inits.append(numpy_helper.from_array(scales, names[2]))
    attrs = {"gather_axis": 0, "quantize_axis": axis, "block_size": bs}
    if dtype == "uint8":
        attrs["bits"] = bits
    node = helper.make_node("GatherBlockQuantized", names, [f"e{i}"], f"g{i}", domain="com.microsoft", **attrs)
    elem = TensorProto.FLOAT16 if sdtype == np.float16 else TensorProto.FLOAT
    io = (
        helper.make_tensor_value_info(f"ids{i}", TensorProto.INT64, [rows]),
        helper.make_tensor_value_info(f"e{i}", elem, shape),
    )
    if zp is None:
        zp = np.full(blocks_shape, 2 ** (bits - 1) if dtype == "uint8" else 0)
    s = np.repeat(scales.astype(np.float32), bs, axis=axis)[:rows, :width]
    z = np.repeat(zp, bs, axis=axis)[:rows, :width]
    w = ((q - z).astype(np.float64) * s.astype(np.float64)).astype(np.float32)
    record = {
        "name": f"g{i}",
        "weight": w.reshape(-1).tolist(),
        "scales": scales.astype(np.float32).reshape(-1).tolist(),
        "zeroPoints": zp.astype(np.float32).reshape(-1).tolist(),
    }
    return node, io, record


def main(spec_path, out):
    with open(spec_path) as f:
        spec = json.load(f)
    rng = np.random.default_rng(spec.get("seed", 1))
    nodes, inputs, outputs, inits = [], [], [], []
    written = {"matmul": [], "gather": []}
    for kind, make in (("matmul", matmul_layer), ("gather", gather_layer)):
        for i, layer in enumerate(spec.get(kind, [])):
            node, (inp, outp), record = make(rng, i, layer, inits)
            nodes.append(node)
            inputs.append(inp)
            outputs.append(outp)
            written[kind].append(record)
    graph = helper.make_graph(nodes, "nbits", inputs, outputs, inits)
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
    )
    model.ir_version = 10  # int4/uint4 initializers
    onnx.save(model, out)
    json.dump(written, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
