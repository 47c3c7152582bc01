package org.convcl.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.convcl.Layout;
import org.convcl.Padding;
import org.convcl.PoolOp;
import org.convcl.PoolSpec;
import org.convcl.Tensor;
import org.convcl.backend.ConvBackend;
import org.convcl.io.Npy;
import org.convcl.opencl.DeviceTensor;
import org.convcl.opencl.OpenClBackend;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * PyTorch as an outside check of pooling: cases that {@code scripts/torch-cases/pool.py} computed with
 * {@code F.max_pool1d/2d/3d}, {@code F.avg_pool1d/2d/3d} (both {@code count_include_pad}), min pooling as
 * {@code -max_pool(-x)} and {@code F.adaptive_avg_pool2d(x, 1)} in float64, with autograd's gradient dx
 * (src/test/resources/torch/pool), run through channels-first {@link Pool} layers with torch's symmetric padding as
 * explicit (lo, hi) pairs, on the Java path and on OpenCL when a device is present (host arrays, and device tensors
 * there). The inputs hold no ties, so the max and min gradients do not depend on a tie rule.
 *
 * <p>Max and min outputs are elements of the input: they must equal torch's exactly, and so must their gradients
 * where no two windows overlap (each element then gets one cotangent or none). Everything else is a float32 sum:
 * an average of at most {@code W} (the window's size) inputs, or a gradient summing the cotangents (divided by a
 * divisor >= 1 for averages) of at most {@code n = prod(ceil(window / stride))} overlapping windows. A float32 sum
 * of {@code m} terms of magnitude at most {@code M} is within {@code (m - 1) * m * u * M} of the exact sum
 * ({@code u = 2^-24}); the bound used, {@code m * (m + 1) * u * M}, adds the division's and torch's own rounding to
 * float32 (M is the largest magnitude of x for outputs, of dy for gradients). A wrong divisor, window placement or
 * layout is off by far more.
 */
class TorchPoolTest {
    private static final String ROOT = "/torch/pool/";
    private static final double UNIT_ROUNDOFF = 0x1p-24;

    record TorchCase(String name, PoolOp op, String torchCall, int[] window, int[] strides, int[][] padding,
            Boolean countIncludePad, int[] xShape, int[] yShape) {
        @Override
        public String toString() {
            return name;
        }

        PoolSpec spec() {
            PoolSpec.Builder builder = PoolSpec.builder().window(window).strides(strides)
                    .padding(Padding.pairs(padding));
            if (countIncludePad != null) {
                builder.countIncludePad(countIncludePad);
            }
            return builder.build();
        }

        /** The most windows that hold one input element: the terms of its gradient's sum. */
        int overlap() {
            int count = 1;
            for (int d = 0; d < window.length; d++) {
                count *= (window[d] + strides[d] - 1) / strides[d];
            }
            return count;
        }

        int windowSize() {
            int size = 1;
            for (int w : window) {
                size *= w;
            }
            return size;
        }
    }

    static List<TorchCase> all() {
        try (InputStream in = TorchPoolTest.class.getResourceAsStream(ROOT + "manifest.json")) {
            if (in == null) {
                throw new IllegalStateException(ROOT + "manifest.json is missing; scripts/torch-cases/pool.py "
                        + "writes it");
            }
            List<TorchCase> cases = new ArrayList<>();
            for (Object raw : (List<?>) JSON.std.mapFrom(in).get("cases")) {
                Map<?, ?> json = (Map<?, ?>) raw;
                List<?> pairs = (List<?>) json.get("padding");
                int[][] padding = new int[pairs.size()][];
                for (int d = 0; d < padding.length; d++) {
                    padding[d] = ints(pairs.get(d));
                }
                cases.add(new TorchCase((String) json.get("name"), PoolOp.valueOf((String) json.get("op")),
                        (String) json.get("torch"), ints(json.get("window")), ints(json.get("strides")), padding,
                        (Boolean) json.get("count_include_pad"), ints(json.get("x_shape")),
                        ints(json.get("y_shape"))));
            }
            return cases;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Stream<Arguments> cases() {
        List<TorchCase> all = all();
        assertFalse(all.isEmpty(), "the manifest lists no case");
        return EpilogueLayerTest.backends().flatMap(backend -> all.stream().map(c -> Arguments.of(backend, c)));
    }

    @ParameterizedTest(name = "{0} {1}", autoCloseArguments = false)
    @MethodSource("cases")
    void poolMatchesPyTorch(ConvBackend backend, TorchCase c) {
        Tensor x = array(c, "x");
        Tensor dy = array(c, "dy");
        Tensor expectedY = array(c, "y");
        Tensor expectedDx = array(c, "dx");
        assertArrayEquals(c.xShape(), x.shape(), c + ": x.npy against the manifest's x_shape");
        assertArrayEquals(c.yShape(), expectedY.shape(), c + ": y.npy against the manifest's y_shape");
        Pool pool = Pool.builder(c.op(), c.spec()).layout(Layout.CHANNELS_FIRST).backend(backend).build();
        assertArrayEquals(c.yShape(), pool.outputShape(x.shape()), c + " (" + c.torchCall() + "): output shape");

        check(c, "", x, dy, expectedY, expectedDx, pool.apply(x), pool.backward(x, dy));
        if (backend instanceof OpenClBackend device) {
            try (DeviceTensor deviceX = device.upload(x);
                    DeviceTensor deviceDy = device.upload(dy);
                    DeviceTensor y = pool.apply(deviceX);
                    DeviceTensor dx = pool.backward(deviceX, deviceDy)) {
                check(c, " (device tensors)", x, dy, expectedY, expectedDx, y.download(), dx.download());
            }
        }
    }

    private static void check(TorchCase c, String path, Tensor x, Tensor dy, Tensor expectedY, Tensor expectedDx,
            Tensor y, Tensor dx) {
        String what = c + path + " " + c.torchCall();
        boolean selects = c.op() != PoolOp.AVG;
        if (selects) {
            assertExact(what + " y", expectedY, y);
        } else {
            assertClose(what + " y", expectedY, y, c.windowSize(), maxMagnitude(x));
        }
        if (selects && c.overlap() == 1) {
            assertExact(what + " dx", expectedDx, dx);
        } else {
            assertClose(what + " dx", expectedDx, dx, c.overlap(), maxMagnitude(dy));
        }
    }

    private static void assertExact(String what, Tensor expected, Tensor actual) {
        assertArrayEquals(expected.shape(), actual.shape(), what + ": shape");
        for (int i = 0; i < expected.data().length; i++) {
            // == rather than bits: torch's min pool, -max_pool(-x), gives -0.0 where convcl gives 0.0.
            if (actual.data()[i] != expected.data()[i]) {
                fail(what + ": element " + i + " is " + actual.data()[i] + ", PyTorch gives " + expected.data()[i]
                        + " (they must be equal)");
            }
        }
    }

    /** Every element within the rounding of a float32 sum of {@code terms} terms of magnitude at most {@code max}. */
    private static void assertClose(String what, Tensor expected, Tensor actual, int terms, double max) {
        assertArrayEquals(expected.shape(), actual.shape(), what + ": shape");
        double bound = (double) terms * (terms + 1) * UNIT_ROUNDOFF * max;
        for (int i = 0; i < expected.data().length; i++) {
            double error = Math.abs(actual.data()[i] - expected.data()[i]);
            if (!(error <= bound)) {
                fail(what + ": element " + i + " is " + actual.data()[i] + ", PyTorch gives " + expected.data()[i]
                        + " (error " + error + " > " + bound + ", the rounding of a sum of " + terms + " terms)");
            }
        }
    }

    private static double maxMagnitude(Tensor t) {
        double max = 0;
        for (float v : t.data()) {
            max = Math.max(max, Math.abs(v));
        }
        return max;
    }

    private static Tensor array(TorchCase c, String name) {
        try (InputStream in = TorchPoolTest.class.getResourceAsStream(ROOT + c.name() + "/" + name + ".npy")) {
            if (in == null) {
                throw new IllegalStateException(c + ": " + name + ".npy is missing");
            }
            return Npy.read(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int[] ints(Object json) {
        List<?> list = (List<?>) json;
        int[] values = new int[list.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = ((Number) list.get(i)).intValue();
        }
        return values;
    }
}
