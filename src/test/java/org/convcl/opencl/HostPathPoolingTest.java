package org.convcl.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.convcl.nn.Conv;
import org.convcl.ConvGeometry;
import org.convcl.nn.ConvGradients;
import org.convcl.ConvSpec;
import org.convcl.nn.ConvTranspose;
import org.convcl.ConvTransposeSpec;
import org.convcl.nn.DeviceGradients;
import org.convcl.EdgePadding;
import org.convcl.Padding;
import org.convcl.Tensor;
import org.convcl.backend.ConvBackend;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.testing.OpenClBackendPerTest;
import org.convcl.testing.RandomTensors;
import org.convcl.testing.Tolerance;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Host-array backward work on an OpenCL backend runs the device path over the caching allocator: after a
 * warm-up it creates no device buffer and keeps none, it uses the parameters' current values (not a layer's
 * stale resident copies), and it computes what the Java path computes.
 */
class HostPathPoolingTest {
    @RegisterExtension
    final OpenClBackendPerTest opencl = new OpenClBackendPerTest();

    @Test
    void hostBackwardPassesReuseMemoryAndFollowParametersChangedInPlace() {
        SplittableRandom random = new SplittableRandom(11);
        Tensor kernel = RandomTensors.uniform(random, 3, 3, 2, 6);
        Tensor bias = RandomTensors.uniform(random, 6);
        Tensor mask = mask(random, 3, 3, 2, 6);
        Tensor transposeKernel = RandomTensors.uniform(random, 3, 3, 6, 4); // (*k, Cout, Cin): transposed
        Tensor transposeBias = RandomTensors.uniform(random, 6);
        ConvSpec spec = ConvSpec.builder().padding(Padding.CIRCULAR).strides(2).groups(2).build();
        ConvTransposeSpec transposeSpec = ConvTransposeSpec.builder().padding(Padding.CIRCULAR).strides(2)
                .transposeKernel(true).build();
        Tensor x = RandomTensors.uniform(random, 2, 9, 10, 4);
        try (Conv conv = Conv.builder(kernel).bias(bias).mask(mask).spec(spec).backend(opencl.backend()).build();
                Conv convOnCpu = Conv.builder(kernel).bias(bias).mask(mask).spec(spec)
                        .backend(CpuBackend.instance()).build();
                ConvTranspose transpose = ConvTranspose.builder(transposeKernel).bias(transposeBias)
                        .spec(transposeSpec).backend(opencl.backend()).build();
                ConvTranspose transposeOnCpu = ConvTranspose.builder(transposeKernel).bias(transposeBias)
                        .spec(transposeSpec).backend(CpuBackend.instance()).build()) {
            Tensor dy = RandomTensors.uniform(random, conv.geometry(x.shape()).outputShape());
            Tensor transposeDy = RandomTensors.uniform(random, transpose.geometry(x.shape()).outputShape());
            // Device passes first: the layers now keep resident copies, which the in-place changes below make
            // stale (no parametersChanged()); host passes must not use them.
            try (DeviceTensor deviceX = opencl.backend().upload(x); DeviceTensor deviceDy = opencl.backend().upload(dy);
                    DeviceTensor deviceTransposeDy = opencl.backend().upload(transposeDy);
                    DeviceGradients convGradients = conv.backward(deviceX, deviceDy);
                    DeviceGradients transposeGradients = transpose.backward(deviceX, deviceTransposeDy)) {
                convGradients.download();
                transposeGradients.download();
            }
            conv.backward(x, dy);
            transpose.backward(x, transposeDy);
            long created = opencl.backend().buffersCreated();
            long inUse = opencl.backend().buffersInUse();
            for (int call = 0; call < 50; call++) {
                kernel.data()[call % kernel.size()] += 0.5f;
                transposeKernel.data()[(7 * call) % transposeKernel.size()] -= 0.5f;
                assertClose("conv call " + call, convOnCpu.backward(x, dy), conv.backward(x, dy));
                assertClose("transpose call " + call, transposeOnCpu.backward(x, transposeDy),
                        transpose.backward(x, transposeDy));
            }
            assertEquals(created, opencl.backend().buffersCreated(), "50 host backward passes create no device buffer");
            assertEquals(inUse, opencl.backend().buffersInUse(), "and keep none: their tensors went back to the pool");

            // One execution path: told of the changes, the device pass gives the host pass's bits.
            conv.parametersChanged();
            ConvGradients host = conv.backward(x, dy);
            try (DeviceTensor deviceX = opencl.backend().upload(x); DeviceTensor deviceDy = opencl.backend().upload(dy);
                    DeviceGradients onDevice = conv.backward(deviceX, deviceDy)) {
                ConvGradients device = onDevice.download();
                assertArrayEquals(host.dx().data(), device.dx().data());
                assertArrayEquals(host.dkernel().data(), device.dkernel().data());
                assertArrayEquals(host.dbias().data(), device.dbias().data());
            }
        }
    }

    @Test
    void hostArrayBackwardOperationsReuseMemoryAndMatchTheJavaPath() {
        SplittableRandom random = new SplittableRandom(12);
        ConvGeometry g = ConvSpec.builder().padding(Padding.REFLECT).build().resolve(new int[] {3, 11, 5},
                new int[] {4, 5, 7});
        EdgePadding edges = EdgePadding.ofInput(g);
        float[] input = RandomTensors.uniform(random, g.inputShape()).data();
        float[] outputGradient = RandomTensors.uniform(random, g.outputShape()).data();
        float[] padded = RandomTensors.uniform(random, edges.paddedShape()).data();
        float[] bias = RandomTensors.uniform(random, edges.channels()).data();
        Results expected = run(CpuBackend.instance(), g, edges, input, outputGradient, padded, bias);
        run(opencl.backend(), g, edges, input, outputGradient, padded, bias);
        long created = opencl.backend().buffersCreated();
        long inUse = opencl.backend().buffersInUse();
        for (int round = 0; round < 50; round++) {
            Results got = run(opencl.backend(), g, edges, input, outputGradient, padded, bias);
            assertClose("kernel gradient", expected.kernelGradient(), got.kernelGradient());
            assertClose("bias gradient", expected.biasGradient(), got.biasGradient());
            assertArrayEquals(expected.padded(), got.padded(), "pad copies values");
            assertClose("fold", expected.folded(), got.folded());
        }
        assertEquals(created, opencl.backend().buffersCreated(),
                "50 rounds of host-array operations create no device buffer");
        assertEquals(inUse, opencl.backend().buffersInUse(), "and keep none");
    }

    private record Results(float[] kernelGradient, float[] biasGradient, float[] padded, float[] folded) {
    }

    private static Results run(ConvBackend on, ConvGeometry g, EdgePadding edges, float[] input,
            float[] outputGradient, float[] padded, float[] bias) {
        float[] kernelGradient = new float[(int) Tensor.elementCount(g.kernelShape())];
        on.kernelGradient(g, input, outputGradient, kernelGradient);
        float[] biasGradient = new float[g.outChannels()];
        on.biasGradient(outputGradient.length / g.outChannels(), g.outChannels(), outputGradient, biasGradient);
        float[] paddedInput = new float[padded.length];
        on.pad(edges, input, paddedInput);
        float[] folded = new float[input.length];
        on.fold(edges, padded, bias, folded);
        return new Results(kernelGradient, biasGradient, paddedInput, folded);
    }

    private static void assertClose(String what, ConvGradients expected, ConvGradients actual) {
        assertArrayEquals(expected.dx().shape(), actual.dx().shape(), what + ": dx shape");
        assertArrayEquals(expected.dkernel().shape(), actual.dkernel().shape(), what + ": dkernel shape");
        assertClose(what + ": dx", expected.dx().data(), actual.dx().data());
        assertClose(what + ": dkernel", expected.dkernel().data(), actual.dkernel().data());
        assertClose(what + ": dbias", expected.dbias().data(), actual.dbias().data());
    }

    private static void assertClose(String what, float[] expected, float[] actual) {
        assertEquals(expected.length, actual.length, what + ": length");
        double error = Tolerance.relativeL2(Tolerance.toDouble(expected), actual);
        assertTrue(error < Tolerance.RELATIVE, what + ": relative L2 error " + error);
    }

    private static Tensor mask(SplittableRandom random, int... shape) {
        float[] values = new float[(int) Tensor.elementCount(shape)];
        for (int i = 0; i < values.length; i++) {
            values[i] = random.nextInt(4) == 0 ? 0f : 1f;
        }
        return Tensor.of(values, shape);
    }
}
