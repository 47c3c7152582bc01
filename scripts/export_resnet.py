"""Writes torchvision's ResNet with random weights as the folder `convcl resnet --weights` reads.

Run through scripts/export-resnet (which installs PyTorch when missing); see there for the folder's contents.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import torchvision

# The folder's format; org.convcl.examples.ResNetWeights reads it.
FORMAT = "convcl-resnet-1"
REFERENCE_BATCH = 2
IMAGE_SIZE = 224
# Random batches in train mode give the batch norms running statistics of the activations they really see,
# so that the network's activations keep a sane scale through all its blocks with random weights.
CALIBRATION_BATCHES = 3
CALIBRATION_IMAGES = 4


def fail(message):
    print(f"export-resnet: {message}", file=sys.stderr)
    sys.exit(2)


def build(arch, seed):
    torch.manual_seed(seed)
    model = getattr(torchvision.models, arch)(weights=None)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                # Not torchvision's 1 and 0: a folded scale and shift of 1 and 0 would hide a wrong fold.
                module.weight.uniform_(0.5, 1.5)
                module.bias.normal_(0.0, 0.1)
                module.reset_running_stats()
                module.momentum = None  # a cumulative average over the calibration batches
        model.train()
        for _ in range(CALIBRATION_BATCHES):
            model(torch.randn(CALIBRATION_IMAGES, 3, IMAGE_SIZE, IMAGE_SIZE))
    model.eval()
    return model


def save(folder, name, array):
    np.save(os.path.join(folder, name + ".npy"), np.ascontiguousarray(array, dtype=np.float32))


def main():
    parser = argparse.ArgumentParser(prog="export-resnet")
    parser.add_argument("folder")
    parser.add_argument("--arch", default="resnet50")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.arch not in ("resnet50", "resnet18"):
        fail(f"--arch: got '{args.arch}'; expected resnet50 or resnet18")
    os.makedirs(args.folder, exist_ok=True)

    model = build(args.arch, args.seed)
    tensors = {}
    for name, value in model.state_dict().items():
        if not value.is_floating_point():
            continue  # num_batches_tracked: a counter, not used in eval mode
        save(args.folder, name, value.numpy())
        tensors[name] = list(value.shape)

    generator = torch.Generator().manual_seed(args.seed + 1)
    images = torch.randn(REFERENCE_BATCH, 3, IMAGE_SIZE, IMAGE_SIZE, generator=generator)
    with torch.no_grad():
        # The reference in float64, so that it measures convcl's float32 error rather than PyTorch's.
        logits = model.double()(images.double())
        model.float()
    save(args.folder, "input", images.numpy())
    save(args.folder, "logits", logits.numpy())

    manifest = {
        "format": FORMAT,
        "arch": args.arch,
        "num_classes": int(model.fc.out_features),
        "width": int(model.conv1.out_channels),
        "input_shape": list(images.shape),
        "logits_shape": list(logits.shape),
        "seed": args.seed,
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "tensors": tensors,
    }
    with open(os.path.join(args.folder, "manifest.json"), "w") as out:
        json.dump(manifest, out, indent=1)
        out.write("\n")

    onnx_path = os.path.join(args.folder, "model.onnx")
    try:
        torch.onnx.export(model, images, onnx_path, input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}}, opset_version=13)
    except ModuleNotFoundError as missing:
        print(f"export-resnet: wrote everything but model.onnx: torch.onnx.export needs the module "
              f"'{missing.name}' (pip install onnx, or Debian's python3-onnx)", file=sys.stderr)
    print(f"export-resnet: {args.arch} ({len(tensors)} tensors, input {list(images.shape)}, "
          f"logits {list(logits.shape)}) in {args.folder}", file=sys.stderr)


if __name__ == "__main__":
    main()
