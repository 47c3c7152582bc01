#!/usr/bin/env python3
"""Writes a ResNet's distinct convolution shapes as a convcl benchmark suite (src/main/resources/bench/NAME.json).

    /usr/bin/python3 scripts/resnet_suite.py resnet50 > src/main/resources/bench/resnet50.json

The shapes are read off torchvision's own model, not derived by hand: forward hooks on every Conv2d (and the final
Linear, which convcl's ResNet runs as a 1x1 convolution) of the model at 224x224 record each layer's input size,
channels, kernel, stride and padding; equal shapes are merged, with a count of how often they occur, in the order
of their first use. Names say stage, kernel, stride and channels (l2_3x3s2_128: layer2's strided 3x3, 128 -> 128;
l3_1x1_1024_256: a 1x1, 1024 -> 256; l2_ds1x1s2_512: layer2's downsample to 512). ResNetSuiteTest derives the
same shapes and counts in Java from the architecture, so the file cannot drift from either.
Run it with Debian's python3 (/usr/bin/python3) and its python3-torch and python3-torchvision packages.
"""
import json
import sys

import torch
import torchvision

ABOUT = ("{arch}'s distinct convolution shapes (torchvision, 224x224 input, each stride where torchvision puts it), "
         "written by scripts/resnet_suite.py from torchvision's model; 'count' is how often each occurs in the "
         "network (the final linear layer is the 1x1 fc shape), so that sum(count x ms) is the network's "
         "convolution time. Format as bench/shapes.json: channels-last (N, H, W, C), kernels (kh, kw, Cin, Cout), "
         "explicit padding as PyTorch pads.")


def shape_name(module_name, conv, cin, cout):
    kernel = f"{conv['kernel'][0]}x{conv['kernel'][1]}"
    stride = "s2" if conv["strides"] != [1, 1] else ""
    if module_name == "conv1":
        return f"stem_{kernel}{stride}_{cout}"
    if module_name == "fc":
        return f"fc_{kernel}_{cin}_{cout}"
    stage = module_name.split(".")[0].replace("layer", "l")
    if ".downsample." in module_name:
        return f"{stage}_ds{kernel}{stride}_{cout}"
    if conv["kernel"] == [3, 3] and cin == cout:
        return f"{stage}_{kernel}{stride}_{cout}"
    return f"{stage}_{kernel}{stride}_{cin}_{cout}"


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in ("resnet50", "resnet18"):
        sys.exit("usage: resnet_suite.py resnet50|resnet18")
    arch = sys.argv[1]
    model = getattr(torchvision.models, arch)().eval()
    rows = {}

    def record(module_name):
        def hook(module, inputs, _output):
            x = inputs[0]
            if isinstance(module, torch.nn.Linear):
                # The classifier as convcl runs it: a 1x1 convolution over the pooled 1x1 map.
                spatial, cin, cout = [1, 1], module.in_features, module.out_features
                kernel, strides, padding, groups = [1, 1], [1, 1], [[0, 0], [0, 0]], 1
            else:
                spatial, cin, cout = list(x.shape[2:]), module.in_channels, module.out_channels
                kernel, strides = list(module.kernel_size), list(module.stride)
                padding, groups = [[p, p] for p in module.padding], module.groups
                assert list(module.dilation) == [1, 1] and module.padding_mode == "zeros", module_name
            conv = {"spatial": spatial, "cin": cin, "cout": cout, "kernel": kernel, "strides": strides,
                    "kernel_dilation": [1, 1], "input_dilation": [1, 1], "padding": padding, "groups": groups}
            key = json.dumps(conv, sort_keys=True)
            if key in rows:
                rows[key]["count"] += 1
            else:
                rows[key] = {"name": shape_name(module_name, conv, cin, cout), **conv,
                             "batch_cpu": 1, "batch_gpu": 32, "count": 1}
        return hook

    for module_name, module in model.named_modules():
        if isinstance(module, (torch.nn.Conv2d, torch.nn.Linear)):
            module.register_forward_hook(record(module_name))
    with torch.no_grad():
        model(torch.zeros(1, 3, 224, 224))
    names = [row["name"] for row in rows.values()]
    assert len(set(names)) == len(names), f"shape names collide: {names}"
    # One shape per line, as bench/shapes.json, so that a diff shows which shape changed.
    lines = [json.dumps(row) for row in rows.values()]
    print("{")
    print(f'  "about": {json.dumps(ABOUT.format(arch=arch))},')
    print('  "shapes": [')
    print(",\n".join("    " + line for line in lines))
    print("  ]")
    print("}")


if __name__ == "__main__":
    main()
