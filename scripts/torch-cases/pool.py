#!/usr/bin/python3
"""PyTorch as an outside check of convcl's pooling (issue 25).

Writes a few cases of max, average and min pooling in PyTorch's channels-first layout, with fixed seeds, into
src/test/resources/torch/pool/<case>/ as float32 .npy files (x, dy, y and autograd's gradient dx), and a
manifest.json beside them that TorchPoolTest reads: the op (convcl's PoolOp name), the torch call, the window,
strides, padding as (lo, hi) pairs per spatial dim, count_include_pad (null for max and min) and the shapes.
The values are computed in float64 from the float32 inputs, so the saved outputs are the exact results rounded once.

How torch's pooling maps onto flax's (and so convcl's):
- torch pads symmetrically (lo = hi = padding) and requires padding <= window / 2, so no window is all padding;
  max pooling pads with -inf, as flax does. ceil_mode stays False: flax rounds the output size down.
- avg_pool's count_include_pad=True divides by the window's size, as flax's default; False divides by the number of
  real elements in each window (convcl's countIncludePad(false)).
- min pooling is -max_pool(-x): torch has no min pool; the padding becomes +inf, as flax's min_pool pads.
- global average pooling is F.adaptive_avg_pool2d(x, 1): a VALID average with the window equal to the input.

The inputs' values are all distinct within each tensor (checked below), and hold no NaN. A max (or min) pool's
gradient goes to one element per window, and which one on ties is each library's own rule: jax's (XLA's
select_and_scatter_add with >=, which convcl follows: the first in row-major window order, moving past NaN) is
not promised by torch, whose kernels pick their own index. So these cases hold no ties, and only the untied
gradient is compared; PoolTest checks convcl's tie and NaN rule against its own reference.

Needs PyTorch (Debian's python3-torch) and numpy; run from the repository root:
    /usr/bin/python3 scripts/torch-cases/pool.py
CI does not run this: the files it writes are committed.
"""
import json
import os

import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.join("src", "test", "resources", "torch", "pool")

# (name, op, x shape (channels-first; no batch dim when it has rank + 1 dims), window, strides, padding (torch's,
# per spatial dim), count_include_pad (avg only))
CASES = [
    ("max1d_strided_padded", "MAX", (2, 3, 9), (3,), (2,), (1,), None),
    ("max1d_unbatched", "MAX", (3, 7), (2,), (1,), (1,), None),
    ("max2d_overlapping", "MAX", (2, 2, 5, 6), (3, 3), (1, 1), (1, 1), None),
    ("max2d_rectangular", "MAX", (1, 3, 6, 7), (3, 2), (2, 1), (1, 0), None),
    ("max3d", "MAX", (1, 2, 4, 5, 4), (2, 3, 2), (2, 1, 2), (1, 1, 0), None),
    ("avg1d_include_pad", "AVG", (2, 2, 8), (3,), (1,), (1,), True),
    ("avg1d_exclude_pad", "AVG", (2, 2, 8), (4,), (3,), (2,), False),
    ("avg2d_include_pad", "AVG", (1, 3, 5, 6), (3, 3), (2, 2), (1, 1), True),
    ("avg2d_exclude_pad", "AVG", (1, 3, 5, 6), (3, 3), (2, 2), (1, 1), False),
    ("avg3d_exclude_pad", "AVG", (1, 2, 4, 4, 5), (2, 3, 2), (1, 2, 2), (1, 1, 0), False),
    ("avg3d_include_pad", "AVG", (2, 1, 3, 4, 4), (3, 2, 2), (1, 1, 2), (1, 1, 1), True),
    ("min1d", "MIN", (1, 2, 10), (3,), (2,), (1,), None),
    ("min2d_overlapping", "MIN", (2, 2, 5, 5), (3, 2), (1, 1), (1, 1), None),
    ("min3d", "MIN", (1, 1, 4, 4, 4), (2, 2, 2), (2, 2, 2), (1, 0, 1), None),
    ("global_avg2d", "GLOBAL_AVG", (2, 3, 4, 5), None, None, None, None),
]

MAX_POOLS = {1: F.max_pool1d, 2: F.max_pool2d, 3: F.max_pool3d}
AVG_POOLS = {1: F.avg_pool1d, 2: F.avg_pool2d, 3: F.avg_pool3d}


def uniform(generator, shape):
    return torch.rand(shape, generator=generator, dtype=torch.float32) * 2 - 1


def distinct(generator, shape):
    values = uniform(generator, shape)
    if torch.unique(values).numel() != values.numel():
        raise ValueError("the input of shape %s holds ties; pick another seed" % (shape,))
    return values


def save(directory, name, tensor):
    np.save(os.path.join(directory, name + ".npy"), tensor.detach().to(torch.float32).numpy())


def make(index, name, op, x_shape, window, strides, padding, count_include_pad):
    generator = torch.Generator().manual_seed(2600 + index)
    x = distinct(generator, x_shape)
    leaf = x.double().requires_grad_()
    if op == "GLOBAL_AVG":
        rank = 2
        window, strides, padding = tuple(x_shape[-rank:]), (1,) * rank, (0,) * rank
        call = "F.adaptive_avg_pool2d(x, 1)"
        y = F.adaptive_avg_pool2d(leaf, 1)
        op, count_include_pad = "AVG", True
    else:
        rank = len(window)
        if op == "AVG":
            call = "F.avg_pool%dd(x, %s, %s, %s, count_include_pad=%s)" % (rank, window, strides, padding,
                                                                           count_include_pad)
            y = AVG_POOLS[rank](leaf, window, strides, padding, count_include_pad=count_include_pad)
        elif op == "MAX":
            call = "F.max_pool%dd(x, %s, %s, %s)" % (rank, window, strides, padding)
            y = MAX_POOLS[rank](leaf, window, strides, padding)
        else:
            call = "-F.max_pool%dd(-x, %s, %s, %s)" % (rank, window, strides, padding)
            y = -MAX_POOLS[rank](-leaf, window, strides, padding)
    dy = uniform(generator, tuple(y.shape))
    y.backward(dy.double())

    directory = os.path.join(OUT, name)
    os.makedirs(directory, exist_ok=True)
    save(directory, "x", x)
    save(directory, "dy", dy)
    save(directory, "y", y)
    save(directory, "dx", leaf.grad)
    return {"name": name, "op": op, "torch": call, "window": list(window), "strides": list(strides),
            "padding": [[p, p] for p in padding], "count_include_pad": count_include_pad,
            "x_shape": list(x_shape), "y_shape": list(y.shape)}


def main():
    cases = [make(i, *case) for i, case in enumerate(CASES)]
    with open(os.path.join(OUT, "manifest.json"), "w") as manifest:
        json.dump({"generator": "scripts/torch-cases/pool.py", "torch": torch.__version__,
                   "layout": "channels-first ((N,) C, *spatial)", "cases": cases}, manifest, indent=1)
        manifest.write("\n")


if __name__ == "__main__":
    main()
