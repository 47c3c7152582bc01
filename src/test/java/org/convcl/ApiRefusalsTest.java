package org.convcl;

import org.convcl.nn.Conv;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.FloatBuffer;
import java.util.Arrays;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.opencl.DeviceTensor;
import org.convcl.opencl.OpenClBackend;
import org.convcl.testing.OpenClTesting;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.function.Executable;

/**
 * The refusals of issue 23's "smaller" list, message by message: each names the parameter, the value and the rule,
 * as an {@link IllegalArgumentException} (or {@link IllegalStateException} for a closed operand), before any work.
 */
@Timeout(60)
class ApiRefusalsTest {

    @Test
    void nullShapesAreNamed() {
        refused(IllegalArgumentException.class, "shape: got null", () -> Tensor.of(new float[1], (int[]) null));
        refused(IllegalArgumentException.class, "shape: got null", () -> Tensor.zeros(1).reshape((int[]) null));
        refused(IllegalArgumentException.class, "shape: got null", () -> Tensor.zeros((int[]) null));
        Conv layer = Conv.builder(Tensor.zeros(1, 1, 1)).backend(CpuBackend.sequential()).build();
        refused(IllegalArgumentException.class, "input: got a null shape", () -> layer.geometry((int[]) null));
        refused(IllegalArgumentException.class, "kernel: got a null shape",
                () -> ConvSpec.defaults().resolve(new int[] {1, 1, 1}, null));
        refused(IllegalArgumentException.class, "amounts: got null", () -> Padding.perDim((int[]) null));
        refused(IllegalArgumentException.class, "loHi: got null", () -> Padding.pairs((int[][]) null));
        refused(IllegalArgumentException.class, "loHi: pair 0 is null", () -> Padding.pairs((int[]) null));
    }

    @Test
    void nullUploadShapeIsNamed() {
        OpenClBackend backend = openCl();
        refused(IllegalArgumentException.class, "shape: got null",
                () -> backend.upload(FloatBuffer.allocate(1), (int[]) null));
        refused(IllegalArgumentException.class, "tensor: got null", () -> backend.upload((Tensor) null));
    }

    @Test
    void explicitGeometryRefusesZeroStridesEmptyKernelsAndNegativeChannels() {
        refused(IllegalArgumentException.class, "strides: [0] has 0 in spatial dim 0; each must be >= 1",
                () -> explicit(new int[] {3}, 2, new int[] {0}, new int[] {1}));
        refused(IllegalArgumentException.class, "kernelSpatial: [0] has 0 in spatial dim 0; each must be >= 1",
                () -> explicit(new int[] {0}, 2, new int[] {1}, new int[] {1}));
        refused(IllegalArgumentException.class, "inputDilation: [-1] has -1 in spatial dim 0; each must be >= 1",
                () -> explicit(new int[] {3}, 2, new int[] {1}, new int[] {-1}));
        refused(IllegalArgumentException.class, "channels: got Cin -2 and Cout 2; channel counts must be >= 0",
                () -> explicit(new int[] {3}, -2, new int[] {1}, new int[] {1}));
        refused(IllegalArgumentException.class, "strides: per-dim setting null",
                () -> explicit(new int[] {3}, 2, null, new int[] {1}));
        refused(IllegalArgumentException.class, "edgeMode: got null; expected one of [ZERO, WRAP, MIRROR]",
                () -> ConvGeometry.explicit(new int[] {1}, new int[] {5}, 2, new int[] {3}, 2, 1, new int[] {1},
                        new int[] {1}, new int[] {1}, new int[] {0}, new int[] {0}, null));
        refused(IllegalArgumentException.class, "precision: got null; expected Precision.HIGHEST or Precision.TF32",
                () -> ConvGeometry.explicit(new int[] {1}, new int[] {5}, 2, new int[] {3}, 2, 1, new int[] {1},
                        new int[] {1}, new int[] {1}, new int[] {0}, new int[] {0}, EdgeMode.ZERO, null));
    }

    private static ConvGeometry explicit(int[] kernel, int cin, int[] strides, int[] inputDilation) {
        return ConvGeometry.explicit(new int[] {1}, new int[] {5}, cin, kernel, 2, 1, strides, inputDilation,
                new int[] {1}, new int[] {0}, new int[] {0}, EdgeMode.ZERO);
    }

    @Test
    void javaPathChecksItsArraysBeforeWritingAnything() {
        CpuBackend cpu = CpuBackend.sequential();
        ConvGeometry g = ConvSpec.defaults().resolve(new int[] {2, 6, 3}, new int[] {3, 3, 4});
        float[] kernel = new float[36];
        float[] output = new float[2 * 6 * 4];
        Arrays.fill(output, 7f);
        refused(IllegalArgumentException.class, "input: has 35 elements but the shape [2, 6, 3] holds 36",
                () -> cpu.forward(g, new float[35], kernel, null, output));
        refused(IllegalArgumentException.class, "input: has 37 elements but the shape [2, 6, 3] holds 36",
                () -> cpu.forward(g, new float[37], kernel, null, output));
        refused(IllegalArgumentException.class, "bias: has 3 elements but the shape [4] holds 4",
                () -> cpu.forward(g, new float[36], kernel, new float[3], output));
        float[] untouched = new float[output.length];
        Arrays.fill(untouched, 7f);
        assertArrayEquals(untouched, output, "a refused call writes nothing");
        refused(IllegalArgumentException.class, "output: has 47 elements but the shape [2, 6, 4] holds 48",
                () -> cpu.forward(g, new float[36], kernel, null, new float[47]));
        refused(IllegalArgumentException.class, "kernelGradient: has 35 elements but the shape [3, 3, 4] holds 36",
                () -> cpu.kernelGradient(g, new float[36], new float[48], new float[35]));
        refused(IllegalArgumentException.class, "outputGradient: has 49 elements but the shape [2, 6, 4] holds 48",
                () -> cpu.kernelGradient(g, new float[36], new float[49], new float[36]));
        refused(IllegalArgumentException.class, "rows: got -1; the bias gradient's row count must be >= 0",
                () -> cpu.biasGradient(-1, 4, new float[0], new float[4]));
        refused(IllegalArgumentException.class, "channels: got -4; the bias gradient's channel count must be >= 0",
                () -> cpu.biasGradient(2, -4, new float[0], new float[0]));
        refused(IllegalArgumentException.class, "outputGradient: has 7 elements but the shape [2, 4] holds 8",
                () -> cpu.biasGradient(2, 4, new float[7], new float[4]));
        refused(IllegalArgumentException.class, "geometry: got null",
                () -> cpu.forward(null, new float[36], kernel, null, output));
    }

    @Test
    void closedDeviceOperandsAreNamed() {
        OpenClBackend backend = openCl();
        Conv layer = Conv.builder(Tensor.zeros(3, 2, 2)).backend(backend).build();
        try (layer; DeviceTensor x = backend.upload(Tensor.zeros(1, 5, 2));
                DeviceTensor dy = backend.upload(Tensor.zeros(1, 5, 2));
                DeviceTensor out = backend.allocate(1, 5, 2)) {
            DeviceTensor closed = backend.allocate(1, 5, 2);
            closed.close();
            refused(IllegalStateException.class, "x: DeviceTensor[1, 5, 2]", () -> layer.apply(closed));
            refused(IllegalStateException.class, "output: DeviceTensor[1, 5, 2]", () -> layer.apply(x, closed));
            refused(IllegalStateException.class, "dy: DeviceTensor[1, 5, 2]", () -> layer.backward(x, closed));
            refused(IllegalStateException.class, "x: DeviceTensor[1, 5, 2]", () -> layer.backward(closed, dy));
            layer.apply(x, out); // the open ones still work
        }
    }

    @Test
    void maxAllocationBytesBindsEveryBuffer() {
        OpenClBackend shared = openCl();
        String property = "convcl.opencl.maxAllocationBytes";
        System.setProperty(property, "4096");
        OpenClBackend backend;
        try {
            backend = OpenClBackend.create(shared.device());
        } finally {
            System.clearProperty(property);
        }
        try (backend) {
            String limit = "the device allows 4096 bytes per buffer (its CL_DEVICE_MAX_MEM_ALLOC_SIZE, lowered by "
                    + "convcl.opencl.maxAllocationBytes when set)";
            refused(IllegalArgumentException.class, "tensor [1025]: needs a buffer of 4100 bytes but " + limit,
                    () -> backend.allocate(1025));
            refused(IllegalArgumentException.class, "tensor [2, 1024]: needs a buffer of 8192 bytes but " + limit,
                    () -> backend.upload(Tensor.zeros(2, 1024)));
            // The host backward pass (its input is 8 KiB) and a device apply (its output is 8 KiB).
            ConvGeometry g = ConvSpec.defaults().resolve(new int[] {1, 1024, 2}, new int[] {1, 2, 2});
            refused(IllegalArgumentException.class, "tensor [1, 1024, 2]: needs a buffer of 8192 bytes",
                    () -> backend.kernelGradient(g, new float[2048], new float[2048], new float[4]));
            Conv layer = Conv.builder(Tensor.zeros(1, 1, 2048)).backend(backend).build();
            try (layer; DeviceTensor x = backend.upload(Tensor.zeros(1, 1, 1))) {
                refused(IllegalArgumentException.class, "tensor [1, 1, 2048]: needs a buffer of 8192 bytes",
                        () -> layer.apply(x));
            }
            try (DeviceTensor fits = backend.allocate(1024)) {
                assertTrue(fits.size() == 1024, "a buffer within the limit is made");
            }
        }
    }

    private static OpenClBackend openCl() {
        OpenClTesting.device(); // skipped without OpenCL (a failure in CI)
        return (OpenClBackend) OpenClTesting.sharedBackendIfAvailable().orElseThrow();
    }

    private static void refused(Class<? extends RuntimeException> type, String start, Executable call) {
        RuntimeException e = assertThrows(type, call);
        assertTrue(e.getMessage() != null && e.getMessage().startsWith(start),
                () -> "expected a message starting with '" + start + "', got: " + e.getMessage());
    }
}
