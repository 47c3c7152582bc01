package org.convcl.backend.cpu.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import org.convcl.Activation;
import org.convcl.ConvGeometry;
import org.convcl.ConvSpec;
import org.convcl.EdgePadding;
import org.convcl.Epilogue;
import org.convcl.Padding;
import org.convcl.Tensor;
import org.convcl.backend.cpu.CpuBackend;
import org.junit.jupiter.api.Test;

/**
 * The Java path's fused forward and fold refuse an epilogue whose parts do not fit the output (a residual of
 * another length, a scale or shift with another number of channels) with an {@link IllegalArgumentException}
 * naming the part, its length and the rule, before anything is written.
 */
class FusedEpilogueRefusalTest {
    private static final float SENTINEL = 1234.5f;

    /** A wrong epilogue for an output of {@code length} elements and {@code channels} channels, and what must be said. */
    private record Wrong(Epilogue<float[]> epilogue, String part, int length, String rule) {
    }

    private static List<Wrong> wrongs(int channels, int length) {
        Activation relu = Activation.relu();
        return List.of(
                new Wrong(new Epilogue<>(relu, null, null, new float[length - 1]), "residual", length - 1,
                        "output's shape"),
                new Wrong(new Epilogue<>(relu, null, null, new float[length + channels]), "residual",
                        length + channels, "output's shape"),
                new Wrong(new Epilogue<>(relu, new float[channels + 1], null, null), "scale", channels + 1,
                        "one value per output channel"),
                new Wrong(new Epilogue<>(relu, null, new float[channels - 1], new float[length]), "shift",
                        channels - 1, "one value per output channel"));
    }

    @Test
    void forwardRefusesPartsThatDoNotFitAndWritesNothing() {
        ConvGeometry g = ConvSpec.builder().padding(Padding.SAME).build().resolve(new int[] {2, 5, 6, 3},
                new int[] {3, 3, 3, 4});
        float[] x = new float[(int) Tensor.elementCount(g.inputShape())];
        float[] w = new float[(int) Tensor.elementCount(g.kernelShape())];
        int length = (int) Tensor.elementCount(g.outputShape());
        for (CpuBackend backend : new CpuBackend[] {CpuBackend.instance(), CpuBackend.sequential()}) {
            for (Wrong wrong : wrongs(g.outChannels(), length)) {
                assertRefused(wrong, length, output -> backend.forward(g, x, w, null, wrong.epilogue(), output));
            }
        }
    }

    @Test
    void foldRefusesPartsThatDoNotFitAndWritesNothing() {
        ConvGeometry g = ConvSpec.builder().padding(Padding.CIRCULAR).build().resolve(new int[] {2, 7, 3},
                new int[] {3, 3, 4});
        EdgePadding padding = EdgePadding.ofInput(g);
        int paddedLength = padding.batch() * padding.paddedSpatial()[0] * padding.channels();
        int length = padding.batch() * padding.sourceSpatial()[0] * padding.channels();
        for (Wrong wrong : wrongs(padding.channels(), length)) {
            assertRefused(wrong, length, source -> CpuBackend.instance().fold(padding, new float[paddedLength], null,
                    wrong.epilogue(), source));
        }
    }

    private static void assertRefused(Wrong wrong, int length, Consumer<float[]> call) {
        float[] output = new float[length];
        Arrays.fill(output, SENTINEL);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> call.accept(output),
                wrong.part() + " of length " + wrong.length());
        String message = e.getMessage();
        assertTrue(message.startsWith(wrong.part() + ":"), "names the part: " + message);
        assertTrue(message.contains(" " + wrong.length() + " "), "names its length " + wrong.length() + ": "
                + message);
        assertTrue(message.contains(wrong.rule()), "states the rule: " + message);
        float[] untouched = new float[length];
        Arrays.fill(untouched, SENTINEL);
        assertArrayEquals(untouched, output, "nothing written before the refusal");
    }
}
