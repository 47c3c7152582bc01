#!/usr/bin/env python3
"""Exports the convcl benchmark suite (batch_cpu) as ONNX models for scripts/bench-vs-peers.

One model per shape, each a single ONNX node in NCHW (channels-first): a Conv with the suite's strides, kernel
dilation, groups and flax's padding resolved to explicit (lo, hi) pairs (asymmetric pairs go into the node's
pads, with no Pad node in front), or, for input dilation, a ConvTranspose with stride = input dilation, the
kernel flipped and its channel axes swapped, and pads extent - 1 - (lo, hi), which computes the same output.
The models are written by PyTorch's exporter (torch.onnx.export) from a module whose op carries its own
symbolic, so that the exported graph is exactly that one node with the weights as initializers.

For each shape it also writes a random input (uniform in [-1, 1), float32, NCHW, little-endian) and the
expected output, computed by PyTorch in float64 the direct way (zeros inserted between input elements for
input dilation, then flax's padding, then a plain convolution), which the timing program compares the
model's output with before it times anything.

Writes DIR/NAME.onnx, DIR/NAME.in, DIR/NAME.ref and prints one tab-separated line per shape:
    name  batch  model  input  reference  input_shape  output_shape  gflop
(shapes comma-separated, NCHW; gflop as the suite counts it: 2 * N * prod(out spatial) * Cout * Cin/groups *
prod(kernel)). Run it with Debian's python3 (/usr/bin/python3) and its python3-torch package.
"""
import argparse
import json
import math
import os
import sys
import warnings

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from torch_bench import resolve_padding  # noqa: E402  (scripts/torch_bench.py: flax's padding rules)


def fail(message):
    print(f"export_onnx: {message}", file=sys.stderr)
    sys.exit(1)


class ConvNode(torch.autograd.Function):
    """A convolution that exports as one ONNX Conv with explicit, possibly asymmetric, pads."""

    @staticmethod
    def forward(ctx, x, w, b, strides, pairs, dilations, groups):
        n = len(strides)
        conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[n]
        flat = []
        for lo, hi in reversed(pairs):
            flat += [lo, hi]
        return conv(F.pad(x, flat), w, b, stride=strides, dilation=dilations, groups=groups)

    @staticmethod
    def symbolic(g, x, w, b, strides, pairs, dilations, groups):
        kernel = [int(k) for k in w.type().sizes()[2:]]
        return g.op("Conv", x, w, b, kernel_shape_i=kernel, strides_i=list(strides),
                    pads_i=[lo for lo, _ in pairs] + [hi for _, hi in pairs],
                    dilations_i=list(dilations), group_i=groups)


class ConvTransposeNode(torch.autograd.Function):
    """An input-dilated convolution as one ONNX ConvTranspose (wt: the flipped kernel, channels swapped)."""

    @staticmethod
    def forward(ctx, x, wt, b, idil, tpairs, dilations):
        n = len(idil)
        transpose = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}[n]
        full = transpose(x, wt, b, stride=idil, dilation=dilations)  # no padding: crop (lo, hi) after
        index = [slice(None), slice(None)]
        for d, (lo, hi) in enumerate(tpairs):
            index.append(slice(lo, full.shape[2 + d] - hi))
        return full[tuple(index)]

    @staticmethod
    def symbolic(g, x, wt, b, idil, tpairs, dilations):
        kernel = [int(k) for k in wt.type().sizes()[2:]]
        return g.op("ConvTranspose", x, wt, b, kernel_shape_i=kernel, strides_i=list(idil),
                    pads_i=[lo for lo, _ in tpairs] + [hi for _, hi in tpairs],
                    dilations_i=list(dilations), group_i=1)


class Layer(torch.nn.Module):
    def __init__(self, shape, w, b):
        super().__init__()
        self.shape = shape
        n = len(shape["spatial"])
        self.pairs = [tuple(p) for p in resolve_padding(shape)]
        self.idil = list(shape["input_dilation"])
        self.kdil = list(shape["kernel_dilation"])
        self.strides = list(shape["strides"])
        self.groups = shape["groups"]
        if any(v != 1 for v in self.idil):
            if self.groups != 1 or any(s != 1 for s in self.strides):
                fail(f"{shape['name']}: input dilation with groups or strides is not mapped to ONNX")
            extents = [(k - 1) * kd + 1 for k, kd in zip(shape["kernel"], self.kdil)]
            self.tpairs = [(e - 1 - lo, e - 1 - hi) for e, (lo, hi) in zip(extents, self.pairs)]
            if any(p < 0 for pair in self.tpairs for p in pair):
                fail(f"{shape['name']}: padding wider than the kernel with input dilation is not mapped to ONNX")
            # lhs-dilated conv == conv_transpose(stride = dilation) with the kernel flipped, Cin/Cout swapped.
            wt = torch.flip(w, dims=list(range(2, 2 + n))).transpose(0, 1).contiguous()
            self.weight = torch.nn.Parameter(wt, requires_grad=False)
        else:
            if any(lo < 0 or hi < 0 for lo, hi in self.pairs):
                fail(f"{shape['name']}: negative padding is not mapped to ONNX")
            self.weight = torch.nn.Parameter(w, requires_grad=False)
        self.bias = torch.nn.Parameter(b, requires_grad=False)

    def forward(self, x):
        if any(v != 1 for v in self.idil):
            return ConvTransposeNode.apply(x, self.weight, self.bias, self.idil, self.tpairs, self.kdil)
        return ConvNode.apply(x, self.weight, self.bias, self.strides, self.pairs, self.kdil, self.groups)


def direct_reference(shape, x, w, b):
    """The suite's convolution computed the plain way in float64: dilate the input, pad (flax), convolve."""
    n = len(shape["spatial"])
    x, w, b = x.double(), w.double(), b.double()
    idil = shape["input_dilation"]
    if any(v != 1 for v in idil):
        sizes = [(length - 1) * d + 1 for length, d in zip(shape["spatial"], idil)]
        dilated = x.new_zeros(x.shape[0], x.shape[1], *sizes)
        dilated[(slice(None), slice(None)) + tuple(slice(None, None, d) for d in idil)] = x
        x = dilated
    flat = []
    for lo, hi in reversed(resolve_padding(shape)):
        flat += [lo, hi]
    conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[n]
    return conv(F.pad(x, flat), w, b, stride=shape["strides"], dilation=shape["kernel_dilation"],
                groups=shape["groups"])


def node_types(path):
    """The op_type of every node of an ONNX model's graph, read from the protobuf without the onnx package."""
    def fields(buf):
        i = 0
        while i < len(buf):
            key, i = varint(buf, i)
            number, wire = key >> 3, key & 7
            if wire == 0:
                value, i = varint(buf, i)
            elif wire == 1:
                value, i = buf[i:i + 8], i + 8
            elif wire == 2:
                length, i = varint(buf, i)
                value, i = buf[i:i + length], i + length
            elif wire == 5:
                value, i = buf[i:i + 4], i + 4
            else:
                raise ValueError(f"unexpected protobuf wire type {wire}")
            yield number, value

    def varint(buf, i):
        result = shift = 0
        while True:
            byte = buf[i]
            i += 1
            result |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return result, i

    with open(path, "rb") as f:
        model = f.read()
    graphs = [v for k, v in fields(model) if k == 7]           # ModelProto.graph
    nodes = [v for k, v in fields(graphs[0]) if k == 1]        # GraphProto.node
    return [bytes(v).decode() for node in nodes for k, v in fields(node) if k == 4]  # NodeProto.op_type


def main():
    warnings.filterwarnings("ignore", category=FutureWarning)  # 1.13's notice about g.op()
    parser = argparse.ArgumentParser()
    parser.add_argument("--suite", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--shapes", default="")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    with open(args.suite) as f:
        suite = json.load(f)["shapes"]
    wanted = [s for s in args.shapes.split(",") if s]
    unknown = sorted(set(wanted) - {s["name"] for s in suite})
    if unknown:
        fail(f"unknown shape(s): {', '.join(unknown)}")
    for shape in suite:
        if wanted and shape["name"] not in wanted:
            continue
        name, batch = shape["name"], shape["batch_cpu"]
        cin, cout, groups = shape["cin"], shape["cout"], shape["groups"]
        x = torch.rand(batch, cin, *shape["spatial"]) * 2 - 1
        w = torch.rand(cout, cin // groups, *shape["kernel"]) * 2 - 1
        b = torch.rand(cout) * 2 - 1
        layer = Layer(shape, w, b).eval()
        reference = direct_reference(shape, x, w, b)
        with torch.no_grad():
            exported = layer(x)  # the formulation the ONNX node encodes, run by torch
        if list(exported.shape) != list(reference.shape):
            fail(f"{name}: the exported formulation gives {list(exported.shape)}, "
                 f"the direct one {list(reference.shape)}")
        err = (exported.double() - reference).abs().max().item() / max(reference.abs().max().item(), 1e-30)
        if not err < 1e-4:
            fail(f"{name}: the exported formulation differs from the direct one (max rel err {err:.3g})")
        model = os.path.join(args.out, f"{name}.onnx")
        with torch.no_grad():
            torch.onnx.export(layer, (x,), model, input_names=["x"], output_names=["y"], opset_version=13,
                              do_constant_folding=False)
        ops = node_types(model)
        expected = "ConvTranspose" if any(v != 1 for v in shape["input_dilation"]) else "Conv"
        if ops != [expected]:
            fail(f"{name}: the exported graph has nodes {ops}, not one {expected}")
        inp, ref = os.path.join(args.out, f"{name}.in"), os.path.join(args.out, f"{name}.ref")
        x.contiguous().numpy().astype("<f4").tofile(inp)
        reference.float().contiguous().numpy().astype("<f4").tofile(ref)
        out_shape = list(reference.shape)
        gflop = 2 * batch * math.prod(out_shape[2:]) * cout * (cin // groups) * math.prod(shape["kernel"]) / 1e9
        print("\t".join([name, str(batch), model, inp, ref, ",".join(map(str, x.shape)),
                         ",".join(map(str, out_shape)), f"{gflop:.6f}"]), flush=True)
        print(f"export_onnx: {name} -> {expected} {out_shape} (torch formulation max rel err {err:.2e})",
              file=sys.stderr)


if __name__ == "__main__":
    main()
