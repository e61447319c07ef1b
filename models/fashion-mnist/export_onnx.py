#!/usr/bin/env python3
"""Writes fashion-cnn-v1.onnx from fashion-cnn-v1.safetensors: the project's
own Fashion-MNIST CNN as an ONNX graph, reproducibly (same weights, same
bytes: no timestamps, fixed producer and opset).

    python3 models/fashion-mnist/export_onnx.py            # needs numpy, onnx
    python3 models/fashion-mnist/export_onnx.py --check    # also compares with onnxruntime

The graph is the function of crates/workloads/src/model.rs (`fashion-cnn-v1`):
conv 3x3 pad 1 (1->16), ReLU, max-pool 2; conv 3x3 (16->32), ReLU, max-pool 2;
flattened in (row, col, channel) order, as the Rust model flattens; linear
1152->128, ReLU; linear 128->10 (logits). Input `image` float32
[batch, 1, 28, 28] (normalised as the workload says), output `logits`
float32 [batch, 10]; the batch dimension is dynamic.
"""
import json
import struct
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = Path(__file__).resolve().parent
WEIGHTS = HERE / "fashion-cnn-v1.safetensors"
OUT = HERE / "fashion-cnn-v1.onnx"
OPSET = 17


def read_safetensors(path):
    """The tensors of a safetensors file (the format is 8 bytes of header
    length, a JSON header, then the raw little-endian data)."""
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    data = raw[8 + n :]
    tensors = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        assert meta["dtype"] == "F32", (name, meta["dtype"])
        a, b = meta["data_offsets"]
        tensors[name] = np.frombuffer(data[a:b], dtype="<f4").reshape(meta["shape"])
    return tensors


def build(w):
    init = [numpy_helper.from_array(np.ascontiguousarray(v, dtype=np.float32), k) for k, v in sorted(w.items())]
    nodes = [
        helper.make_node("Conv", ["image", "conv1.weight", "conv1.bias"], ["c1"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["p1", "conv2.weight", "conv2.bias"], ["c2"], kernel_shape=[3, 3]),
        helper.make_node("Relu", ["c2"], ["r2"]),
        helper.make_node("MaxPool", ["r2"], ["p2"], kernel_shape=[2, 2], strides=[2, 2]),
        # The Rust model flattens channels-last: (row, col, channel).
        helper.make_node("Transpose", ["p2"], ["t2"], perm=[0, 2, 3, 1]),
        helper.make_node("Flatten", ["t2"], ["f2"], axis=1),
        helper.make_node("Gemm", ["f2", "fc1.weight", "fc1.bias"], ["h1"], transB=1),
        helper.make_node("Relu", ["h1"], ["r3"]),
        helper.make_node("Gemm", ["r3", "fc2.weight", "fc2.bias"], ["logits"], transB=1),
    ]
    graph = helper.make_graph(
        nodes,
        "fashion-cnn-v1",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 1, 28, 28])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 10])],
        initializer=init,
    )
    model = helper.make_model(
        graph,
        producer_name="yardstick models/fashion-mnist/export_onnx.py",
        producer_version="1",
        opset_imports=[helper.make_opsetid("", OPSET)],
    )
    model.ir_version = 8
    model.doc_string = "Fashion-MNIST CNN fashion-cnn-v1, from fashion-cnn-v1.safetensors"
    onnx.checker.check_model(model)
    return model


def main():
    model = build(read_safetensors(WEIGHTS))
    OUT.write_bytes(model.SerializeToString())
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")
    if "--check" in sys.argv:
        import onnxruntime as ort

        sess = ort.InferenceSession(str(OUT), providers=["CPUExecutionProvider"])
        x = np.random.default_rng(0).standard_normal((4, 1, 28, 28), dtype=np.float32)
        print(sess.run(None, {"image": x})[0].argmax(1))


if __name__ == "__main__":
    main()
