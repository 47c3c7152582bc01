#!/usr/bin/python3
"""PyTorch as an outside check of the layers' epilogue (issue 25).

Writes a few cases of act(conv(x) * scale + shift + residual) in PyTorch's channels-first layout, with fixed seeds,
into src/test/resources/torch/epilogue/<case>/ as float32 .npy files (x, kernel, bias, scale, shift, residual, dy,
y and the autograd gradients dx, dkernel, dbias, dscale, dshift, dresidual; a part the case lacks has no file), and
a manifest.json beside them that TorchEpilogueTest reads. The values are computed in float64 from the float32
inputs, so the saved outputs are the exact results rounded once.

Needs PyTorch (Debian's python3-torch) and numpy; run from the repository root:
    /usr/bin/python3 scripts/torch-cases/epilogue.py
CI does not run this: the files it writes are committed.
"""
import json
import os

import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.join("src", "test", "resources", "torch", "epilogue")

# name in the manifest (convcl's Activation.parse form) -> the torch function
ACTIVATIONS = {
    "relu": F.relu,
    "relu6": F.relu6,
    "gelu": lambda z: F.gelu(z),  # erf form, jax.nn.gelu(approximate=False)
    "gelu_tanh": lambda z: F.gelu(z, approximate="tanh"),
    "silu": F.silu,
    "hard_swish": F.hardswish,
    "leaky_relu:0.1": lambda z: F.leaky_relu(z, 0.1),
    "elu:0.5": lambda z: F.elu(z, 0.5),
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
}

# (name, op, activation, x shape, kernel shape (torch's), stride, padding, output_padding, parts)
CASES = [
    ("conv_relu_bn_residual", "conv", "relu", (2, 3, 5, 5), (4, 3, 3, 3), 1, 1, 0, "bias scale shift residual"),
    ("conv_relu6_strided", "conv", "relu6", (1, 2, 6, 6), (3, 2, 3, 3), 2, 0, 0, "bias scale shift"),
    ("conv_gelu_residual", "conv", "gelu", (1, 4, 4, 4), (2, 4, 2, 2), 1, 0, 0, "shift residual"),
    ("conv_gelu_tanh", "conv", "gelu_tanh", (1, 2, 4, 5), (3, 2, 3, 3), 1, 1, 0, "bias scale"),
    ("conv_silu_bn", "conv", "silu", (2, 2, 4, 4), (2, 2, 3, 3), 1, 1, 0, "scale shift residual"),
    ("conv_leaky_relu", "conv", "leaky_relu:0.1", (1, 3, 5, 4), (2, 3, 3, 2), 2, 1, 0, "bias residual"),
    ("conv_elu", "conv", "elu:0.5", (1, 2, 5, 5), (3, 2, 3, 3), 1, 1, 0, "bias scale shift residual"),
    ("convt_hardswish_residual", "conv_transpose", "hard_swish", (1, 3, 3, 3), (3, 2, 3, 3), 2, 1, 1,
     "bias scale shift residual"),
    ("convt_sigmoid", "conv_transpose", "sigmoid", (2, 2, 3, 3), (2, 3, 3, 3), 1, 1, 0, "scale shift"),
    ("convt_tanh_strided", "conv_transpose", "tanh", (1, 2, 3, 2), (2, 2, 2, 3), 2, 0, 0, "bias residual"),
]


def uniform(generator, shape, magnitude=1.0):
    values = (torch.rand(shape, generator=generator, dtype=torch.float32) * 2 - 1) * magnitude
    return values


def save(directory, name, tensor):
    np.save(os.path.join(directory, name + ".npy"), tensor.detach().to(torch.float32).numpy())


def make(index, name, op, activation, x_shape, w_shape, stride, padding, output_padding, parts):
    generator = torch.Generator().manual_seed(2500 + index)
    parts = parts.split()
    out_channels = w_shape[1] if op == "conv_transpose" else w_shape[0]
    inputs = {
        "x": uniform(generator, x_shape),
        "kernel": uniform(generator, w_shape),
        "bias": uniform(generator, (out_channels,)) if "bias" in parts else None,
        # Scales past 1 in magnitude, so that relu6 and the saturating activations meet both of their sides.
        "scale": uniform(generator, (out_channels,), 4.0) if "scale" in parts else None,
        "shift": uniform(generator, (out_channels,)) if "shift" in parts else None,
    }
    leaves = {key: value.double().requires_grad_() for key, value in inputs.items() if value is not None}
    if op == "conv":
        conv = F.conv2d(leaves["x"], leaves["kernel"], leaves.get("bias"), stride=stride, padding=padding)
    else:
        conv = F.conv_transpose2d(leaves["x"], leaves["kernel"], leaves.get("bias"), stride=stride,
                                  padding=padding, output_padding=output_padding)
    per_channel = (1, -1, 1, 1)
    z = conv
    if "scale" in leaves:
        z = z * leaves["scale"].reshape(per_channel)
    if "shift" in leaves:
        z = z + leaves["shift"].reshape(per_channel)
    if "residual" in parts:
        inputs["residual"] = uniform(generator, tuple(conv.shape))
        leaves["residual"] = inputs["residual"].double().requires_grad_()
        z = z + leaves["residual"]
    y = ACTIVATIONS[activation](z)
    dy = uniform(generator, tuple(y.shape))
    y.backward(dy.double())

    directory = os.path.join(OUT, name)
    os.makedirs(directory, exist_ok=True)
    for key, value in inputs.items():
        if value is not None:
            save(directory, key, value)
            save(directory, "d" + key, leaves[key].grad)
    save(directory, "dy", dy)
    save(directory, "y", y)
    return {"name": name, "op": op, "activation": activation, "stride": stride, "padding": padding,
            "output_padding": output_padding, "parts": parts}


def main():
    torch.manual_seed(0)
    cases = [make(i, *case) for i, case in enumerate(CASES)]
    with open(os.path.join(OUT, "manifest.json"), "w") as manifest:
        json.dump({"generator": "scripts/torch-cases/epilogue.py", "torch": torch.__version__,
                   "layout": "channels-first (N, C, H, W); ConvTranspose weights (Cin, Cout, kh, kw)",
                   "cases": cases}, manifest, indent=1)
        manifest.write("\n")


if __name__ == "__main__":
    main()
