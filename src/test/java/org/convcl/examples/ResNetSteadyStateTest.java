package org.convcl.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.SplittableRandom;
import org.convcl.Layout;
import org.convcl.Tensor;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.testing.RandomTensors;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link ResNet}'s forward on the Java path at steady state: a batch of a shape seen before takes every activation
 * from the arrays the network keeps, so it creates none and gives the first batch's logits bit for bit, whatever
 * the reused arrays held before, and holds at most two of its largest activations at once.
 *
 * <p>(A count of all the bytes a forward allocates, {@code ThreadMXBean#getThreadAllocatedBytes} over every
 * thread, was tried here and is no test in a short run: until C2 has compiled the kernels, the Vector API boxes its
 * vectors, megabytes a forward, far above a small network's activations. docs/PERFORMANCE.md has the measurement
 * on ResNet-50 after warm-up.)
 */
class ResNetSteadyStateTest {
    @TempDir
    Path folder;

    @ParameterizedTest
    @EnumSource(Layout.class)
    void aSecondBatchCreatesNoActivationArray(Layout layout) throws IOException {
        ResNetChecks.writeFolder(folder, "resnet50", 31);
        ResNetWeights weights = ResNetWeights.read(folder, ResNetArch.RESNET50);
        try (ResNet net = ResNetChecks.build(weights, layout, CpuBackend.instance())) {
            Tensor images = net.imagesInLayout(RandomTensors.uniform(new SplittableRandom(32), 3, 3, 48, 48));
            Tensor first = net.forward(images);
            ResNet.ActivationMemory afterFirst = net.hostActivations();
            Tensor second = net.forward(images);

            assertEquals(afterFirst, net.hostActivations(), "no activation array created, none more held");
            assertArrayEquals(first.data(), second.data(), "the reused arrays give the same logits");
            long stemOutputBytes = Tensor.elementCount(net.convs().get(0).outputShape(images.shape())) * Float.BYTES;
            assertTrue(afterFirst.arraysCreated() > 0 && afterFirst.peakInUseBytes() >= stemOutputBytes
                    && afterFirst.heldBytes() >= afterFirst.peakInUseBytes(), afterFirst.toString());
            // Issue 27's bound: the stem's output, as large as the first stage's, is ResNet-50's largest activation,
            // and the blocks write their outputs over their shortcuts, so no more than two such are ever in use (the
            // first block of a stage holds its input, its first intermediate and its projected shortcut at once).
            assertTrue(afterFirst.peakInUseBytes() <= 2 * stemOutputBytes, afterFirst + " against a stem output of "
                    + stemOutputBytes + " bytes");
        }
    }
}
