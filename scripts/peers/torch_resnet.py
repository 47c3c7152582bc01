#!/usr/bin/env python3
"""Times PyTorch eager on torchvision's ResNet for scripts/bench-vs-peers --model.

    torch_resnet.py --weights DIR --arch resnet50 --batch N --reps R --warmup W --threads T

The model is torchvision's, in eval mode, with the weights scripts/export-resnet wrote into DIR (one .npy per
state_dict tensor, under torchvision's names), in channels_last memory format, run under no_grad with
torch.set_num_threads(T): what a PyTorch user runs for CPU inference. The batch is N images taken from DIR's
input.npy in turn (image i is input[i % len(input)]), so that every tool times the same batch; before timing, the
logits are checked against DIR/logits.npy (max |y - ref| / max |ref| under 1e-4: exit 1 if not). Prints one JSON
object: tool, arch, batch, median_ms, images_per_s, max_rel_err, reps; progress on stderr. Run it with Debian's
python3 (/usr/bin/python3) and its python3-torch and python3-torchvision packages.
"""
import argparse
import json
import os
import statistics
import sys
import time

import numpy as np
import torch
import torchvision

TOLERANCE = 1e-4


def fail(message):
    print(f"torch_resnet: {message}", file=sys.stderr)
    sys.exit(1)


def load(path):
    if not os.path.isfile(path):
        fail(f"{path}: no such file (run scripts/export-resnet into the folder first)")
    return np.load(path)


def main():
    parser = argparse.ArgumentParser(prog="torch_resnet")
    parser.add_argument("--weights", required=True)
    parser.add_argument("--arch", choices=["resnet50", "resnet18"], required=True)
    parser.add_argument("--batch", type=int, required=True)
    parser.add_argument("--reps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    model = getattr(torchvision.models, args.arch)()
    state = {}
    for name, tensor in model.state_dict().items():
        if name.endswith("num_batches_tracked"):
            state[name] = tensor  # a counter that eval mode never reads; scripts/export-resnet skips it
            continue
        array = load(os.path.join(args.weights, name + ".npy"))
        if tuple(array.shape) != tuple(tensor.shape):
            fail(f"{name}.npy has shape {list(array.shape)}; {args.arch} needs {list(tensor.shape)}")
        state[name] = torch.from_numpy(array.astype(np.dtype(str(tensor.dtype).replace("torch.", ""))))
    model.load_state_dict(state)
    model = model.eval().to(memory_format=torch.channels_last)

    images = load(os.path.join(args.weights, "input.npy")).astype(np.float32)
    reference = load(os.path.join(args.weights, "logits.npy")).astype(np.float64)
    picks = [i % images.shape[0] for i in range(args.batch)]
    x = torch.from_numpy(images[picks]).contiguous(memory_format=torch.channels_last)

    with torch.no_grad():
        logits = model(x).double().numpy()
        err = float(np.abs(logits - reference[picks]).max() / max(np.abs(reference[picks]).max(), 1e-30))
        if not err < TOLERANCE:
            fail(f"PyTorch's logits differ from DIR/logits.npy: max rel err {err:.3g} (weights not loaded as "
                 f"exported?)")
        for _ in range(args.warmup):
            model(x)
        times = []
        for _ in range(args.reps):
            start = time.perf_counter()
            model(x)
            times.append((time.perf_counter() - start) * 1e3)
    median = statistics.median(times)
    print(f"torch: {args.arch} batch {args.batch}: {median:.2f} ms, {args.batch / median * 1e3:.1f} images/s",
          file=sys.stderr)
    print(json.dumps({"tool": "pytorch", "arch": args.arch, "batch": args.batch, "median_ms": median,
                      "images_per_s": args.batch / median * 1e3, "max_rel_err": err, "reps": args.reps}))


if __name__ == "__main__":
    main()
