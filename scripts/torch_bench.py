#!/usr/bin/env python3
"""Times PyTorch's CPU convolution (oneDNN) on the convcl benchmark suite, batch_cpu.

Prints one JSON object per line: {"name", "batch", "ms", "gflop"}. Used by scripts/bench-vs-torch; run it
with Debian's python3 (/usr/bin/python3) and its python3-torch package.

Each shape is expressed the way a PyTorch user would write it: explicit (lo, hi) padding resolved with
flax's rules via F.pad, and input dilation (which torch's conv lacks) as conv_transpose with stride =
input dilation, which is the same operation.
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F


def resolve_padding(shape):
    """flax's padding as explicit (lo, hi) per spatial dim (the suite uses SAME, VALID, CAUSAL, pairs)."""
    pad = shape["padding"]
    n = len(shape["spatial"])
    pairs = []
    for d in range(n):
        k, s, kd = shape["kernel"][d], shape["strides"][d], shape["kernel_dilation"][d]
        extent = (k - 1) * kd + 1
        length = shape["spatial"][d]
        if pad == "SAME":
            out = -(-length // s)
            total = max((out - 1) * s + extent - length, 0)
            pairs.append((total // 2, total - total // 2))
        elif pad == "VALID":
            pairs.append((0, 0))
        elif pad == "CAUSAL":
            pairs.append(((k - 1) * kd, 0))
        else:
            pairs.append(tuple(pad[d]))
    return pairs


def make_call(shape, batch):
    n = len(shape["spatial"])
    cin, cout, groups = shape["cin"], shape["cout"], shape["groups"]
    x = torch.rand(batch, cin, *shape["spatial"]) * 2 - 1
    w = torch.rand(cout, cin // groups, *shape["kernel"]) * 2 - 1
    b = torch.rand(cout) * 2 - 1
    pairs = resolve_padding(shape)
    conv = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}[n]
    if any(v != 1 for v in shape["input_dilation"]):
        if groups != 1 or any(s != 1 for s in shape["strides"]):
            raise SystemExit(f"{shape['name']}: input dilation with groups or strides is not mapped to torch")
        transpose = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}[n]
        # lhs-dilated conv == conv_transpose(stride=dilation) with the kernel flipped and channels swapped;
        # padding p' = extent - 1 - lo, assuming symmetric pairs (as in the suite).
        wt = torch.flip(w, dims=list(range(2, 2 + n))).transpose(0, 1).contiguous()
        extents = [(k - 1) * kd + 1 for k, kd in zip(shape["kernel"], shape["kernel_dilation"])]
        if any(lo != hi for lo, hi in pairs):
            raise SystemExit(f"{shape['name']}: asymmetric padding with input dilation is not mapped to torch")
        tpad = [e - 1 - lo for e, (lo, _) in zip(extents, pairs)]
        return lambda: transpose(x, wt, b, stride=shape["input_dilation"], padding=tpad,
                                 dilation=shape["kernel_dilation"])
    flat = []
    for lo, hi in reversed(pairs):
        flat += [lo, hi]
    symmetric = all(lo == hi for lo, hi in pairs)
    if symmetric:
        return lambda: conv(x, w, b, stride=shape["strides"], padding=[lo for lo, _ in pairs],
                            dilation=shape["kernel_dilation"], groups=groups)
    return lambda: conv(F.pad(x, flat), w, b, stride=shape["strides"], dilation=shape["kernel_dilation"],
                        groups=groups)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--suite", required=True)
    parser.add_argument("--shapes", default="")
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    wanted = [s for s in args.shapes.split(",") if s]
    with open(args.suite) as f:
        suite = json.load(f)["shapes"]
    for shape in suite:
        if wanted and shape["name"] not in wanted:
            continue
        batch = shape["batch_cpu"]
        call = make_call(shape, batch)
        with torch.no_grad():
            for _ in range(args.warmup):
                call()
            times = []
            for _ in range(args.reps):
                start = time.perf_counter()
                y = call()
                times.append((time.perf_counter() - start) * 1e3)
        print(json.dumps({"name": shape["name"], "batch": batch, "ms": statistics.median(times),
                          "out_shape": list(y.shape)}), flush=True)
        print(f"torch: {shape['name']} {statistics.median(times):.2f} ms", file=sys.stderr)


if __name__ == "__main__":
    main()
