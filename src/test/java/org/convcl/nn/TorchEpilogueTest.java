package org.convcl.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.convcl.Activation;
import org.convcl.ConvSpec;
import org.convcl.ConvTransposeSpec;
import org.convcl.Layout;
import org.convcl.Padding;
import org.convcl.Tensor;
import org.convcl.backend.ConvBackend;
import org.convcl.io.Npy;
import org.convcl.testing.CiShare;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * PyTorch as an outside check of the layers' epilogue: cases that {@code scripts/torch-cases/epilogue.py} computed
 * with {@code F.conv2d} / {@code F.conv_transpose2d} and torch's activations in float64, with autograd's gradients
 * (src/test/resources/torch/epilogue), run through channels-first {@link Conv} and {@link ConvTranspose} layers
 * (PyTorch's ConvTranspose is the layer with {@code transposeKernel} and padding
 * {@code (k - 1 - p, k - 1 - p + output_padding)}), on the Java path and on OpenCL when a device is present. Every
 * element must be within {@code 1e-4} of the largest magnitude of its tensor: the tight, per-element checks are
 * {@link EpilogueLayerTest}'s; this one catches a different reading of the operation (layout, order, definitions).
 */
class TorchEpilogueTest {
    private static final String ROOT = "/torch/epilogue/";
    private static final double RELATIVE_TO_MAX = 1e-4;

    record TorchCase(String name, String op, Activation activation, int stride, int padding, int outputPadding,
            List<String> parts) {
        @Override
        public String toString() {
            return name;
        }
    }

    static List<TorchCase> all() {
        try (InputStream in = TorchEpilogueTest.class.getResourceAsStream(ROOT + "manifest.json")) {
            if (in == null) {
                throw new IllegalStateException(ROOT + "manifest.json is missing; scripts/torch-cases/epilogue.py "
                        + "writes it");
            }
            List<TorchCase> cases = new ArrayList<>();
            for (Object raw : (List<?>) JSON.std.mapFrom(in).get("cases")) {
                Map<?, ?> json = (Map<?, ?>) raw;
                List<String> parts = new ArrayList<>();
                for (Object part : (List<?>) json.get("parts")) {
                    parts.add((String) part);
                }
                cases.add(new TorchCase((String) json.get("name"), (String) json.get("op"),
                        Activation.parse((String) json.get("activation")), number(json, "stride"),
                        number(json, "padding"), number(json, "output_padding"), parts));
            }
            return cases;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Every other case (CI's share, {@link CiShare}) on every backend; the rest under {@code -Pexhaustive}. */
    static Stream<Arguments> cases() {
        List<TorchCase> all = all();
        assertFalse(all.isEmpty(), "the manifest lists no case");
        List<TorchCase> share = CiShare.defaultRun(all, 2).toList();
        return EpilogueLayerTest.backends().flatMap(backend -> share.stream().map(c -> Arguments.of(backend, c)));
    }

    static Stream<Arguments> otherCases() {
        List<TorchCase> others = CiShare.exhaustiveRun(all(), 2).toList();
        return EpilogueLayerTest.backends().flatMap(backend -> others.stream().map(c -> Arguments.of(backend, c)));
    }

    @ParameterizedTest(name = "{0} {1}", autoCloseArguments = false)
    @MethodSource("cases")
    void layerMatchesPyTorch(ConvBackend backend, TorchCase c) {
        checkLayerMatchesPyTorch(backend, c);
    }

    @Tag("exhaustive")
    @ParameterizedTest(name = "{0} {1}", autoCloseArguments = false)
    @MethodSource("otherCases")
    void layerMatchesPyTorchOnTheOtherCases(ConvBackend backend, TorchCase c) {
        checkLayerMatchesPyTorch(backend, c);
    }

    private static void checkLayerMatchesPyTorch(ConvBackend backend, TorchCase c) {
        Tensor x = array(c, "x");
        Tensor kernel = array(c, "kernel");
        Tensor residual = c.parts().contains("residual") ? array(c, "residual") : null;
        Tensor dy = array(c, "dy");
        ConvGradients got;
        Tensor y;
        if (c.op().equals("conv")) {
            ConvSpec spec = ConvSpec.builder().strides(c.stride(), c.stride())
                    .padding(Padding.pairs(new int[] {c.padding(), c.padding()}, new int[] {c.padding(),
                            c.padding()})).build();
            try (Conv layer = Conv.builder(kernel).bias(part(c, "bias")).scale(part(c, "scale"))
                    .shift(part(c, "shift")).activation(c.activation()).spec(spec).layout(Layout.CHANNELS_FIRST)
                    .backend(backend).build()) {
                y = layer.apply(x, residual);
                got = layer.backward(x, residual, dy);
            }
        } else {
            int[] k = {kernel.dim(2), kernel.dim(3)};
            int[][] pairs = new int[2][];
            for (int d = 0; d < 2; d++) {
                int lo = k[d] - 1 - c.padding();
                pairs[d] = new int[] {lo, lo + c.outputPadding()};
            }
            ConvTransposeSpec spec = ConvTransposeSpec.builder().strides(c.stride(), c.stride())
                    .padding(Padding.pairs(pairs)).transposeKernel(true).build();
            try (ConvTranspose layer = ConvTranspose.builder(kernel).bias(part(c, "bias")).scale(part(c, "scale"))
                    .shift(part(c, "shift")).activation(c.activation()).spec(spec).layout(Layout.CHANNELS_FIRST)
                    .backend(backend).build()) {
                y = layer.apply(x, residual);
                got = layer.backward(x, residual, dy);
            }
        }
        assertMatches(c + " y", array(c, "y"), y);
        assertMatches(c + " dx", array(c, "dx"), got.dx());
        assertMatches(c + " dkernel", array(c, "dkernel"), got.dkernel());
        assertPart(c, "bias", got.dbias());
        assertPart(c, "scale", got.dscale());
        assertPart(c, "shift", got.dshift());
        assertPart(c, "residual", got.dresidual());
    }

    private static void assertPart(TorchCase c, String part, Tensor gradient) {
        if (!c.parts().contains(part)) {
            assertNull(gradient, c + ": no " + part + ", no d" + part);
            return;
        }
        assertMatches(c + " d" + part, array(c, "d" + part), gradient);
    }

    private static void assertMatches(String what, Tensor expected, Tensor actual) {
        assertArrayEquals(expected.shape(), actual.shape(), what + ": shape");
        double max = 0;
        for (float v : expected.data()) {
            max = Math.max(max, Math.abs(v));
        }
        double bound = RELATIVE_TO_MAX * max + 1e-7;
        for (int i = 0; i < expected.data().length; i++) {
            double error = Math.abs(actual.data()[i] - expected.data()[i]);
            if (!(error <= bound)) {
                fail(what + ": element " + i + " is " + actual.data()[i] + ", PyTorch gives " + expected.data()[i]
                        + " (error " + error + " > " + bound + ")");
            }
        }
    }

    private static Tensor part(TorchCase c, String name) {
        return c.parts().contains(name) ? array(c, name) : null;
    }

    private static Tensor array(TorchCase c, String name) {
        try (InputStream in = TorchEpilogueTest.class.getResourceAsStream(ROOT + c.name() + "/" + name + ".npy")) {
            if (in == null) {
                throw new IllegalStateException(c + ": " + name + ".npy is missing");
            }
            return Npy.read(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int number(Map<?, ?> json, String key) {
        return ((Number) json.get(key)).intValue();
    }
}
