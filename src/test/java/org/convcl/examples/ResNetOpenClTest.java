package org.convcl.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Path;
import org.convcl.Layout;
import org.convcl.Tensor;
import org.convcl.opencl.AllocatorCounts;
import org.convcl.opencl.DeviceTensor;
import org.convcl.opencl.OpenClBackend;
import org.convcl.testing.OpenClBackendPerClass;
import org.convcl.testing.TorchResNet;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link ResNet} on OpenCL against the float64 torchvision network, both layouts: every convolution alone, the
 * forward on the device end to end, and a second batch through the pooled buffers (none created) giving the same
 * logits.
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
}
