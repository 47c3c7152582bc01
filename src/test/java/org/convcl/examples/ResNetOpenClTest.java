package org.convcl.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import org.convcl.DType;
import org.convcl.Layout;
import org.convcl.Tensor;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.opencl.AllocatorCounts;
import org.convcl.opencl.DeviceTensor;
import org.convcl.opencl.OpenClBackend;
import org.convcl.testing.OpenClBackendPerClass;
import org.convcl.testing.TorchResNet;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link ResNet} on OpenCL against the float64 torchvision network, both layouts: every convolution alone, the
 * forward on the device end to end, and a second batch through the pooled buffers (none created) giving the same
 * logits; and the network in float16 on 16-bit device tensors near the float32 one and the Java path's float16 one.
 */
class ResNetOpenClTest {
    @RegisterExtension
    static final OpenClBackendPerClass OPENCL = new OpenClBackendPerClass();

    @TempDir
    Path folder;

    @ParameterizedTest
    @EnumSource(Layout.class)
    void resnet18LikeMatchesTorchvisionOnTheDevice(Layout layout) throws IOException {
        TorchResNet reference = ResNetChecks.writeFolder(folder, "resnet18", 18);
        ResNetWeights weights = ResNetWeights.read(folder, ResNetArch.RESNET18);
        OpenClBackend backend = OPENCL.backend();
        try (ResNet net = ResNetChecks.build(weights, layout, backend)) {
            // First a fresh network's forward, whose layers upload their weights as they first run, between the
            // activations: a weight that took a buffer an activation had given back left the second batch short.
            Tensor first = ResNetChecks.assertLogitsMatch(net, weights);
            // The device path proper: the images uploaded once, the logits left on the device until read. Every
            // intermediate of the first batch went back to the allocator, so this one creates no buffer.
            long created = AllocatorCounts.buffersCreated(backend);
            try (DeviceTensor images = backend.upload(net.imagesInLayout(weights.referenceInput()));
                    DeviceTensor logits = net.forward(images)) {
                assertArrayEquals(first.data(), logits.download().data(), "a second batch, the same logits");
            }
            assertEquals(created, AllocatorCounts.buffersCreated(backend), "a second batch reuses pooled buffers");
            ResNetChecks.assertEveryLayerMatches(net, reference, weights.referenceInput());
        }
    }

    /** Under the exhaustive run only (20 s of PoCL compiles); ResNetTest runs the 16-bit network on the Java path. */
    @Tag("exhaustive")
    @Test
    void float16Resnet18LikeStaysNearFloat32AndTheJavaPath() throws IOException {
        // ResNet-18's shapes, fewer than ResNet-50's: each new one is a kernel for PoCL to compile in float16.
        ResNetChecks.writeFolder(folder, "resnet18", 18);
        ResNetWeights weights = ResNetWeights.read(folder, ResNetArch.RESNET18);
        OpenClBackend backend = OPENCL.backend();
        Tensor images = weights.referenceInput();
        try (ResNet float32 = ResNetChecks.build(weights, Layout.CHANNELS_LAST, CpuBackend.instance());
                ResNet half = ResNetChecks.build(weights, Layout.CHANNELS_LAST, DType.FLOAT16, backend);
                ResNet javaPath = ResNetChecks.build(weights, Layout.CHANNELS_LAST, DType.FLOAT16,
                        CpuBackend.instance())) {
            Tensor reference = float32.forward(float32.imagesInLayout(images));
            Tensor logits = ResNetChecks.assertHalfLogitsNear(half, reference, weights);
            // The two paths round at the same points; their float32 sums differ in order only, so an activation
            // may differ by one rounding and that difference travels, but the paths stay no farther apart than
            // float16 is from float32 (a path that skipped or doubled a rounding would not).
            double paths = LogitsComparison.of(javaPath.forward(javaPath.imagesInLayout(images)), logits)
                    .maxRelErr();
            double apart = LogitsComparison.of(logits, reference).maxRelErr();
            assertTrue(paths <= apart, "the Java path's float16 logits against the device's: " + paths
                    + "; against float32 " + apart);
            long created = AllocatorCounts.buffersCreated(backend);
            try (DeviceTensor x = DeviceTensor.upload(backend, half.imagesInLayout(images), DType.FLOAT16);
                    DeviceTensor again = half.forward(x)) {
                assertEquals(DType.FLOAT16, again.dtype(), "the logits on the device hold the network's type");
                assertArrayEquals(logits.data(), again.download().data(), "a second batch, the same logits");
            }
            assertEquals(created, AllocatorCounts.buffersCreated(backend), "a second batch reuses pooled buffers");
        }
    }
}
