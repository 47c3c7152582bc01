package org.convcl;

import org.convcl.nn.ConvTranspose;
import org.convcl.nn.Conv;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import org.convcl.backend.ConvBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Everything flax or jax refuses is refused before any work, with an IllegalArgumentException whose message
 * names the parameter and the offending value (and, in the library's words, the rule).
 */
class RefusalTest {

    /** A backend that counts calls: a refusal must come before the backend is asked to do anything. */
    private static final class CountingBackend implements ConvBackend {
        final AtomicInteger calls = new AtomicInteger();

        @Override
        public String name() {
            return "counting";
        }

        @Override
        public void forward(ConvGeometry geometry, float[] input, float[] kernel, float[] bias, float[] output) {
            calls.incrementAndGet();
        }

        @Override
        public void close() {
        }
    }

    /**
     * Builds a layer and applies it to zeros of {@code inputShape}; asserts the refusal names every one of
     * {@code mentioned} and that the backend was never called.
     */
    private static String refused(int[] inputShape, int[] kernelShape, Tensor bias, Tensor mask,
            ConvSpec.Builder spec, String... mentioned) {
        CountingBackend backend = new CountingBackend();
        IllegalArgumentException refusal = assertThrows(IllegalArgumentException.class,
                () -> Conv.builder(Tensor.zeros(kernelShape)).bias(bias).mask(mask).spec(spec.build())
                        .backend(backend).build().apply(Tensor.zeros(inputShape)));
        assertNamed(refusal, mentioned);
        assertTrue(backend.calls.get() == 0, "refused before any work");
        return refusal.getMessage();
    }

    private static String refused(int[] inputShape, int[] kernelShape, ConvSpec.Builder spec, String... mentioned) {
        return refused(inputShape, kernelShape, null, null, spec, mentioned);
    }

    /** Shape-only refusals, for sizes no test could allocate. */
    private static void refusedShapes(int[] inputShape, int[] kernelShape, ConvSpec.Builder spec,
            String... mentioned) {
        IllegalArgumentException refusal = assertThrows(IllegalArgumentException.class,
                () -> spec.build().resolve(inputShape, kernelShape));
        assertNamed(refusal, mentioned);
    }

    private static void assertNamed(IllegalArgumentException refusal, String... mentioned) {
        for (String text : mentioned) {
            assertTrue(refusal.getMessage().contains(text), "'" + text + "' in: " + refusal.getMessage());
        }
    }

    private static int[] shape(int... dims) {
        return dims;
    }

    private static ConvSpec.Builder spec() {
        return ConvSpec.builder();
    }

    @ParameterizedTest
    @EnumSource(Padding.Named.class)
    void everyStringPaddingWithInputDilation(Padding.Named padding) {
        // Rank 1, so that CAUSAL is refused for the input dilation and not for its rank.
        refused(shape(2, 10, 3), shape(3, 3, 4), spec().padding(padding).inputDilation(2),
                "padding", padding.name(), "inputDilation", "[2]");
    }

    @Test
    void stringPaddingWithInputDilationInOneDimOnly() {
        refused(shape(8, 8, 3), shape(3, 3, 3, 4), spec().padding(Padding.SAME).inputDilation(1, 3),
                "padding", "SAME", "inputDilation", "[1, 3]");
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 3, 4})
    void causalNeedsRankOne(int rank) {
        int[] input = new int[rank + 1];
        int[] kernel = new int[rank + 2];
        Arrays.fill(input, 4);
        Arrays.fill(kernel, 2);
        kernel[rank] = 4; // Cin, as the input has
        refused(input, kernel, spec().padding(Padding.CAUSAL), "padding", "CAUSAL", "rank " + rank);
        refusedShapes(input, kernel, spec().padding(Padding.CAUSAL), "padding", "CAUSAL", "rank " + rank);
    }

    @Test
    void inputChannelsNotDivisibleByGroups() {
        refused(shape(1, 9, 9, 6), shape(3, 3, 1, 4), spec().groups(4), "groups", "6", "4");
    }

    @Test
    void outputChannelsNotDivisibleByGroups() {
        refused(shape(1, 9, 9, 6), shape(3, 3, 2, 4), spec().groups(3), "groups", "4", "3");
    }

    /**
     * A channels-first array (N, C, H, W), the layout of other frameworks, is the usual cause of a channel
     * mismatch: the refusal says which layout convcl reads and shows the shape it got.
     */
    @Test
    void channelMismatchOfAChannelsFirstInputNamesTheLayout() {
        String layout = "inputs are channels-last (*batch, *spatial, C): C is the last dim of the input's shape "
                + "[2, 3, 12, 12]";
        refused(shape(2, 3, 12, 12), shape(3, 3, 3, 8), spec(), "has 3 input channels but the input has 12", layout);
        refused(shape(2, 3, 12, 12), shape(3, 3, 1, 8), spec().groups(8), "input channels 12", layout);
        IllegalArgumentException transposed = assertThrows(IllegalArgumentException.class,
                () -> ConvTranspose.builder(Tensor.zeros(3, 3, 3, 8)).backend(new CountingBackend()).build()
                        .apply(Tensor.zeros(2, 3, 12, 12)));
        assertNamed(transposed, "has 3 input channels but the input has 12", layout);
    }

    @Test
    void inputChannelsNotMatchingTheKernel() {
        refused(shape(1, 9, 9, 5), shape(3, 3, 4, 4), spec(), "kernel", "4", "5");
        refused(shape(1, 9, 9, 6), shape(3, 3, 6, 4), spec().groups(2), "kernel", "6", "Cin/groups = 3");
    }

    @ParameterizedTest
    @ValueSource(ints = {0, -1, Integer.MIN_VALUE})
    void settingsBelowOne(int value) {
        String shown = "[" + value + "]";
        assertNamed(assertThrows(IllegalArgumentException.class, () -> spec().strides(value).build()),
                "strides", shown);
        assertNamed(assertThrows(IllegalArgumentException.class, () -> spec().inputDilation(value).build()),
                "inputDilation", shown);
        assertNamed(assertThrows(IllegalArgumentException.class, () -> spec().kernelDilation(value).build()),
                "kernelDilation", shown);
        assertNamed(assertThrows(IllegalArgumentException.class, () -> spec().strides(2, value).build()),
                "strides", "[2, " + value + "]");
        assertNamed(assertThrows(IllegalArgumentException.class, () -> spec().groups(value).build()),
                "groups", Integer.toString(value));
    }

    @Test
    void perDimListsOfTheWrongLength() {
        int[] input = shape(1, 8, 8, 3);
        int[] kernel = shape(3, 3, 3, 4);
        refused(input, kernel, spec().strides(1, 2, 3), "strides", "[1, 2, 3]", "2-d");
        refused(input, kernel, spec().inputDilation(1, 2, 3).padding(Padding.perDim(0, 0)), "inputDilation",
                "[1, 2, 3]");
        refused(input, kernel, spec().kernelDilation(1, 2, 3), "kernelDilation", "[1, 2, 3]");
        refused(input, kernel, spec().padding(Padding.perDim(1, 2, 3)), "padding", "1:1,2:2,3:3");
        refused(input, kernel, spec().padding(Padding.pairs(new int[] {1, 2})), "padding", "1:2");
        refusedShapes(input, kernel, spec().strides(1, 2, 3), "strides", "[1, 2, 3]");
        refusedShapes(input, kernel, spec().padding(Padding.perDim(1, 2, 3)), "padding", "1:1,2:2,3:3");
    }

    @Test
    void kernelRankTheInputCannotHold() {
        refused(shape(8, 3), shape(3, 3, 3, 4), spec(), "input", "[8, 3]", "rank 2");
        refused(shape(3), shape(3, 3, 4), spec(), "input", "[3]");
        refused(shape(8, 3), shape(3, 4), spec(), "kernel", "[3, 4]");
    }

    @Test
    void biasOfTheWrongLengthOrRank() {
        refused(shape(8, 3), shape(3, 3, 4), Tensor.zeros(5), null, spec(), "bias", "[5]", "4");
        refused(shape(8, 3), shape(3, 3, 4), Tensor.zeros(1, 4), null, spec(), "bias", "[1, 4]");
    }

    @Test
    void maskOfTheWrongShape() {
        refused(shape(8, 3), shape(3, 3, 4), null, Tensor.zeros(3, 4, 3), spec(), "mask", "[3, 4, 3]",
                "[3, 3, 4]");
    }

    @Test
    void negativePaddingCroppingMoreThanTheInput() {
        refused(shape(5, 2), shape(1, 2, 2), spec().padding(Padding.pairs(new int[] {-3, -3})), "padding",
                "-3");
    }

    @Test
    void wrapOrMirrorOfAnEmptyDim() {
        refused(shape(0, 2), shape(3, 2, 2), spec().padding(Padding.CIRCULAR), "padding", "CIRCULAR");
        refused(shape(0, 2), shape(3, 2, 2), spec().padding(Padding.REFLECT), "padding", "REFLECT");
    }

    @Test
    void elementCountsThatOverflow() {
        refusedShapes(shape(70000, 70000, 1), shape(1, 1, 1), spec(), "input", "70000");
        refusedShapes(shape(65536, 65536, 1, 1), shape(1, 1, 1), spec(), "input", "65536");
        refusedShapes(shape(1, 1, 1), shape(1, 70000, 70000), spec(), "kernel", "70000");
        refusedShapes(shape(50000, 1), shape(1, 1, 50000), spec(), "output", "50000");
        // Per-dim spans that 32-bit indices cannot hold, whichever setting makes them large.
        refusedShapes(shape(2, 1), shape(1, 1, 1),
                spec().inputDilation(Integer.MAX_VALUE).padding(Padding.perDim(0)), "inputDilation 2147483647");
        refusedShapes(shape(100000, 1), shape(1, 1, 1),
                spec().inputDilation(100000).padding(Padding.perDim(0)), "inputDilation 100000", "9999900002");
        refusedShapes(shape(1, 1), shape(1, 1, 1), spec().padding(Padding.perDim(Integer.MAX_VALUE)),
                "padding (2147483647, 2147483647)");
        refusedShapes(shape(4, 1), shape(1, 1, 1),
                spec().padding(Padding.pairs(new int[] {Integer.MIN_VALUE, Integer.MAX_VALUE})),
                "padding (-2147483648, 2147483647)");
        for (Padding padding : new Padding[] {Padding.VALID, Padding.SAME, Padding.SAME_LOWER, Padding.CIRCULAR,
            Padding.REFLECT, Padding.CAUSAL}) {
            refusedShapes(shape(4, 1), shape(3, 1, 1), spec().kernelDilation(Integer.MAX_VALUE).padding(padding),
                    "kernelDilation 2147483647");
        }
        // SAME's ceil(L / stride) must not wrap around for a huge stride.
        ConvGeometry hugeStride = spec().strides(Integer.MAX_VALUE).build().resolve(shape(4, 1), shape(3, 1, 1));
        assertTrue(Arrays.equals(shape(1, 1), hugeStride.outputShape()) && hugeStride.padLo()[0] == 0
                && hugeStride.padHi()[0] == 0, hugeStride.toString());
    }
}
