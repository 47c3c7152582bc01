package org.convcl.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.convcl.DType;
import org.convcl.Layout;
import org.convcl.Precision;
import org.convcl.Tensor;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.io.Npy;
import org.convcl.testing.NpyBytes;
import org.convcl.testing.TorchResNet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link ResNet} on the Java path against a float64 torchvision network ({@link TorchResNet}), small and random:
 * both architectures and both layouts end to end, every convolution alone; and the weights folder's refusals.
 */
class ResNetTest {
    @TempDir
    Path folder;

    @ParameterizedTest
    @EnumSource(Layout.class)
    void resnet18LikeMatchesTorchvisionLayerByLayer(Layout layout) throws IOException {
        TorchResNet reference = ResNetChecks.writeFolder(folder, "resnet18", 18);
        ResNetWeights weights = ResNetWeights.read(folder, ResNetArch.RESNET18);
        try (ResNet net = ResNetChecks.build(weights, layout, CpuBackend.instance())) {
            ResNetChecks.assertEveryLayerMatches(net, reference, weights.referenceInput());
            ResNetChecks.assertLogitsMatch(net, weights);
        }
    }

    @ParameterizedTest
    @EnumSource(Layout.class)
    void resnet50LikeMatchesTorchvisionLayerByLayer(Layout layout) throws IOException {
        TorchResNet reference = ResNetChecks.writeFolder(folder, "resnet50", 50);
        ResNetWeights weights = ResNetWeights.read(folder, null);
        assertEquals(ResNetArch.RESNET50, weights.plan().arch(), "the manifest's arch when none is asked for");
        try (ResNet net = ResNetChecks.build(weights, layout, CpuBackend.instance())) {
            ResNetChecks.assertEveryLayerMatches(net, reference, weights.referenceInput());
            ResNetChecks.assertLogitsMatch(net, weights);
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT16", "BFLOAT16"})
    void halfPrecisionResnet50LikeStaysNearFloat32(DType dtype) throws IOException {
        ResNetChecks.writeFolder(folder, "resnet50", 50);
        ResNetWeights weights = ResNetWeights.read(folder, ResNetArch.RESNET50);
        try (ResNet float32 = ResNetChecks.build(weights, Layout.CHANNELS_LAST, CpuBackend.instance());
                ResNet half = ResNetChecks.build(weights, Layout.CHANNELS_LAST, dtype, CpuBackend.instance())) {
            Tensor reference = float32.forward(float32.imagesInLayout(weights.referenceInput()));
            ResNetChecks.assertHalfLogitsNear(half, reference, weights);
        }
    }

    @Test
    void refusesTf32WithA16BitType() throws IOException {
        ResNetChecks.writeFolder(folder, "resnet18", 9);
        ResNetWeights weights = ResNetWeights.read(folder, ResNetArch.RESNET18);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ResNet.build(weights,
                Layout.CHANNELS_LAST, Precision.TF32, DType.FLOAT16, CpuBackend.instance()));
        assertTrue(e.getMessage().contains("precision: got TF32 with dtype float16"), e.getMessage());
    }

    @Test
    void bothLayoutsGiveTheSameLogits() throws IOException {
        ResNetChecks.writeFolder(folder, "resnet18", 7);
        ResNetWeights weights = ResNetWeights.read(folder, ResNetArch.RESNET18);
        try (ResNet first = ResNetChecks.build(weights, Layout.CHANNELS_FIRST, CpuBackend.instance());
                ResNet last = ResNetChecks.build(weights, Layout.CHANNELS_LAST, CpuBackend.instance())) {
            Tensor a = first.forward(first.imagesInLayout(weights.referenceInput()));
            Tensor b = last.forward(last.imagesInLayout(weights.referenceInput()));
            assertArrayEquals(new int[] {2, ResNetChecks.CLASSES}, a.shape());
            // A channels-first layer computes channels-last inside (Layout's contract): the same values.
            assertArrayEquals(b.data(), a.data());
        }
    }

    @Test
    void refusesAMissingTensorNamingTheFile() throws IOException {
        ResNetChecks.writeFolder(folder, "resnet18", 1);
        Files.delete(folder.resolve("layer2.0.downsample.0.weight.npy"));
        String message = refusal(ResNetArch.RESNET18);
        assertTrue(message.contains("layer2.0.downsample.0.weight.npy") && message.contains("missing")
                && message.contains("[8, 4, 1, 1]"), message);
    }

    @Test
    void refusesATensorOfTheWrongShapeNamingBothShapes() throws IOException {
        ResNetChecks.writeFolder(folder, "resnet18", 2);
        Npy.write(folder.resolve("layer1.1.bn2.running_var.npy"), Tensor.zeros(5));
        String message = refusal(ResNetArch.RESNET18);
        assertTrue(message.contains("layer1.1.bn2.running_var.npy") && message.contains("shape [5]")
                && message.contains("expected [4]"), message);
    }

    @Test
    void refusesATensorOfAnotherDtypeNamingTheFile() throws IOException {
        ResNetChecks.writeFolder(folder, "resnet18", 3);
        Files.write(folder.resolve("fc.bias.npy"),
                NpyBytes.file(1, NpyBytes.dict("<i4", "(10,)"), new byte[40]));
        String message = refusal(ResNetArch.RESNET18);
        assertTrue(message.contains("fc.bias.npy") && message.contains("<i4"), message);
    }

    @Test
    void readsFloat64Tensors() throws IOException {
        ResNetChecks.writeFolder(folder, "resnet18", 4);
        Files.write(folder.resolve("fc.bias.npy"), NpyBytes.file(1, NpyBytes.dict("<f8", "(10,)"),
                NpyBytes.doubles(java.nio.ByteOrder.LITTLE_ENDIAN, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0.1)));
        ResNetWeights weights = ResNetWeights.read(folder, ResNetArch.RESNET18);
        assertEquals(0.1f, weights.tensor("fc.bias").data()[9]);
    }

    @Test
    void refusesAnotherArchitectureNamingBoth() throws IOException {
        ResNetChecks.writeFolder(folder, "resnet18", 5);
        String message = refusal(ResNetArch.RESNET50);
        assertTrue(message.contains("resnet50") && message.contains("resnet18")
                && message.contains("manifest.json"), message);
    }

    @Test
    void refusesAFolderWithoutManifest() throws IOException {
        ResNetChecks.writeFolder(folder, "resnet18", 6);
        Files.delete(folder.resolve("manifest.json"));
        String message = refusal(null);
        assertTrue(message.contains("manifest.json") && message.contains("missing"), message);
    }

    @Test
    void refusesImagesOfAnotherLayout() throws IOException {
        ResNetChecks.writeFolder(folder, "resnet18", 8);
        ResNetWeights weights = ResNetWeights.read(folder, ResNetArch.RESNET18);
        try (ResNet net = ResNetChecks.build(weights, Layout.CHANNELS_LAST, CpuBackend.instance())) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> net.forward(weights.referenceInput()));
            assertTrue(e.getMessage().contains("(N, H, W, 3)"), e.getMessage());
        }
    }

    private String refusal(ResNetArch arch) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ResNetWeights.read(folder, arch));
        assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
        return e.getMessage();
    }
}
