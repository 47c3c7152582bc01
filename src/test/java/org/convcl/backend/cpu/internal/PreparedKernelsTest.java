package org.convcl.backend.cpu.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.SplittableRandom;
import org.convcl.ConvGeometry;
import org.convcl.EdgeMode;
import org.convcl.Precision;
import org.convcl.Tensor;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.nn.Conv;
import org.junit.jupiter.api.Test;

/**
 * The prepared kernels the Java path keeps across calls ({@link PreparedKernels}): a kernel changed in place between
 * calls, without telling anyone, gives the results of a fresh array holding the same values (bit for bit), on each
 * prepared form (Winograd tiles, Winograd phases, packed direct rows) and under TF32; a form is kept from a
 * kernel's second call on; a kernel made non-finite goes the direct way with its NaN, and is not kept; one form
 * serves every batch; the cache stays within its bound and counts what it holds.
 */
class PreparedKernelsTest {
    /** Output channels of one register block: packed panels and Winograd tiles need multiples of it. */
    private static final int BLOCK = 4 * VectorConvKernel.lanes();
    private static final CpuBackend CPU = CpuBackend.instance();

    @Test
    void winogradTilesFollowAKernelChangedInPlace() {
        checkFollowsInPlaceChanges(geometry(3, 1, 1, 1, Precision.HIGHEST), PreparedKernels.Form.WINOGRAD_TILES);
    }

    @Test
    void winogradPhasesFollowAKernelChangedInPlace() {
        // 29 x 29 at stride 2: 15 x 15 outputs, more than the patch matrix multiply goes first for.
        checkFollowsInPlaceChanges(geometry(3, 2, 1, 1, Precision.HIGHEST, 29), PreparedKernels.Form.WINOGRAD_PHASES);
    }

    @Test
    void patchPanelsFollowAKernelChangedInPlace() {
        // 9 x 9 at stride 2: 5 x 5 outputs, few enough for the patch matrix multiply (PatchGemmTasks) first.
        checkFollowsInPlaceChanges(geometry(3, 2, 1, 1, Precision.HIGHEST), PreparedKernels.Form.PATCH_PANELS);
    }

    @Test
    void packedDirectRowsFollowAKernelChangedInPlace() {
        // Padded: an unpadded 1x1 kernel is a matrix multiply, with a form of its own (below).
        checkFollowsInPlaceChanges(geometry(1, 2, 1, 1, Precision.HIGHEST), PreparedKernels.Form.DIRECT_ROWS);
    }

    @Test
    void pointwisePanelsFollowAKernelChangedInPlace() {
        checkFollowsInPlaceChanges(geometry(1, 2, 0, 1, Precision.HIGHEST), PreparedKernels.Form.POINTWISE_PANELS);
    }

    @Test
    void tf32FormsFollowAKernelChangedInPlace() {
        checkFollowsInPlaceChanges(geometry(3, 1, 1, 1, Precision.TF32), PreparedKernels.Form.WINOGRAD_TILES);
        checkFollowsInPlaceChanges(geometry(1, 1, 1, 1, Precision.TF32), PreparedKernels.Form.DIRECT_ROWS);
        checkFollowsInPlaceChanges(geometry(1, 1, 0, 1, Precision.TF32), PreparedKernels.Form.POINTWISE_PANELS);
    }

    @Test
    void aLayerFollowsItsKernelChangedInPlaceWithoutBeingTold() {
        SplittableRandom random = new SplittableRandom(13);
        Tensor kernel = Tensor.of(uniform(random, 3 * 3 * BLOCK * BLOCK), 3, 3, BLOCK, BLOCK);
        Conv layer = Conv.builder(kernel).backend(CPU).build();
        Tensor x = Tensor.of(uniform(random, 9 * 9 * BLOCK), 1, 9, 9, BLOCK);
        float[] before = layer.apply(x).data();
        assertArrayEquals(before, layer.apply(x).data());
        kernel.data()[7] -= 0.5f;
        float[] after = layer.apply(x).data();
        assertFalse(Arrays.equals(before, after), "the change shows in the output");
        Conv fresh = Conv.builder(Tensor.of(kernel.data().clone(), kernel.shape())).backend(CPU).build();
        assertArrayEquals(fresh.apply(x).data(), after, "host calls use the kernel's current values");
    }

    @Test
    void oneFormServesEveryBatch() {
        SplittableRandom random = new SplittableRandom(11);
        ConvGeometry one = geometry(3, 1, 1, 1, Precision.HIGHEST);
        ConvGeometry three = geometry(3, 1, 1, 3, Precision.HIGHEST);
        float[] kernel = uniform(random, Tensor.elementCount(one.kernelShape()));
        float[] x1 = uniform(random, Tensor.elementCount(one.inputShape()));
        forward(one, x1, kernel);
        forward(one, x1, kernel);
        assertTrue(PreparedKernels.shared().holds(three, PreparedKernels.Form.WINOGRAD_TILES, kernel),
                "the form kept for batch 1 is the one batch 3 uses");
        float[] x = uniform(random, Tensor.elementCount(three.inputShape()));
        assertArrayEquals(forward(three, x, kernel.clone()), forward(three, x, kernel));
    }

    /**
     * A fixed kernel ({@link PreparedKernels#fix}) is prepared on its first call and trusted: a change in place is
     * not looked for (the kept form's results stay, as the promise says), and {@link PreparedKernels#release} drops
     * the form, so the next call computes with the current values again.
     */
    @Test
    void aFixedKernelIsTrustedUntilReleased() {
        for (PreparedKernels.Form form : new PreparedKernels.Form[] {PreparedKernels.Form.WINOGRAD_TILES,
                PreparedKernels.Form.POINTWISE_PANELS}) {
            ConvGeometry g = form == PreparedKernels.Form.WINOGRAD_TILES ? geometry(3, 1, 1, 1, Precision.HIGHEST)
                    : geometry(1, 2, 0, 1, Precision.HIGHEST);
            SplittableRandom random = new SplittableRandom(g.hashCode() + 1);
            float[] x = uniform(random, Tensor.elementCount(g.inputShape()));
            float[] kernel = uniform(random, Tensor.elementCount(g.kernelShape()));
            float[] fresh = forward(g, x, kernel.clone());
            CPU.fixKernel(kernel);
            try {
                assertArrayEquals(fresh, forward(g, x, kernel), form + ": the first call of a fixed kernel");
                assertTrue(PreparedKernels.shared().holds(g, form, kernel), form + " kept from the first call");
                kernel[kernel.length / 2] += 1f;
                assertArrayEquals(fresh, forward(g, x, kernel), form + ": the kept form, trusted, is used as it is");
            } finally {
                CPU.releaseKernel(kernel);
            }
            assertFalse(PreparedKernels.shared().holds(g, form, kernel), form + ": released with its kernel");
            assertArrayEquals(forward(g, x, kernel.clone()), forward(g, x, kernel),
                    form + ": after the release, the current values");
        }
    }

    @Test
    void staysWithinItsBoundLeastRecentlyUsedOut() {
        SplittableRandom random = new SplittableRandom(12);
        ConvGeometry g = geometry(1, 1, 0, 1, Precision.HIGHEST);
        float[] first = uniform(random, Tensor.elementCount(g.kernelShape()));
        float[] second = uniform(random, first.length);
        // Room for one kernel's packed form (its own values, then the panels: twice the kernel), not two.
        PreparedKernels cache = new PreparedKernels(3L * first.length);
        for (int call = 0; call < 2; call++) {
            RowTasks.of(new ConvRows(g), new KernelOperand(g, first, cache), 256);
        }
        assertTrue(cache.holds(g, PreparedKernels.Form.DIRECT_ROWS, first));
        for (int call = 0; call < 2; call++) {
            RowTasks.of(new ConvRows(g), new KernelOperand(g, second, cache), 256);
        }
        assertTrue(cache.holds(g, PreparedKernels.Form.DIRECT_ROWS, second));
        assertFalse(cache.holds(g, PreparedKernels.Form.DIRECT_ROWS, first), "the older form made room");
    }

    @Test
    void heldCountsEachKeptKernelsValuesApartFromTheRestOfItsForm() {
        SplittableRandom random = new SplittableRandom(13);
        ConvGeometry g = geometry(3, 1, 1, 1, Precision.HIGHEST);
        int n = (int) Tensor.elementCount(g.kernelShape());
        float[] transformed = uniform(random, n);
        float[] packed = uniform(random, n);
        // A form unlike its kernel (a transform) keeps a copy of the kernel; a packed one that starts with the
        // kernel's values is its own copy. Either way the kernel's n floats are counted as what is compared.
        float[] transform = uniform(random, 2L * n);
        float[] packing = Arrays.copyOf(packed, 3 * n);
        // A form compared with its kernel through its own order (panels alone) keeps nothing else.
        float[] rearranged = uniform(random, n);
        float[] reversed = new float[n];
        for (int i = 0; i < n; i++) {
            reversed[i] = rearranged[n - 1 - i];
        }
        PreparedKernels.Holds reversedHolds = (form, values) -> {
            for (int i = 0; i < n; i++) {
                if (Float.floatToIntBits(form[i]) != Float.floatToIntBits(values[n - 1 - i])) {
                    return false;
                }
            }
            return true;
        };
        PreparedKernels cache = new PreparedKernels(Long.MAX_VALUE);
        for (int call = 0; call < 2; call++) {
            cache.get(g, PreparedKernels.Form.WINOGRAD_TILES, transformed, () -> transform, () -> true);
            cache.get(g, PreparedKernels.Form.POINTWISE_PANELS, packed, () -> packing, () -> true);
            cache.get(g, PreparedKernels.Form.DIRECT_ROWS, rearranged, () -> reversed, () -> true, reversedHolds);
        }
        assertEquals(new PreparedKernels.Held((transform.length + packing.length - n + n) * (long) Float.BYTES,
                2L * n * Float.BYTES), cache.held());
        assertTrue(cache.holds(g, PreparedKernels.Form.DIRECT_ROWS, rearranged), "compared through its order");
        rearranged[1] += 1f;
        assertFalse(cache.holds(g, PreparedKernels.Form.DIRECT_ROWS, rearranged), "and a change is seen");
    }

    /**
     * Runs {@code g} on one kernel array through a change of one weight, then of one weight to NaN: each result is
     * that of a fresh copy of the kernel, which the cache has never seen.
     */
    private static void checkFollowsInPlaceChanges(ConvGeometry g, PreparedKernels.Form form) {
        SplittableRandom random = new SplittableRandom(g.hashCode());
        float[] x = uniform(random, Tensor.elementCount(g.inputShape()));
        float[] kernel = uniform(random, Tensor.elementCount(g.kernelShape()));
        float[] first = forward(g, x, kernel);
        assertFalse(PreparedKernels.shared().holds(g, form, kernel), "a kernel seen once is only marked");
        assertArrayEquals(first, forward(g, x, kernel), "the second call, which keeps the form, gives the same bits");
        assertTrue(PreparedKernels.shared().holds(g, form, kernel), "the second call kept its " + form + " form");
        assertArrayEquals(first, forward(g, x, kernel), "the kept form gives the first call's bits");

        kernel[kernel.length / 2] += 1f;
        float[] changed = forward(g, x, kernel);
        assertFalse(Arrays.equals(first, changed), "the change shows in the output");
        assertArrayEquals(forward(g, x, kernel.clone()), changed, form + " after an in-place change");
        assertTrue(PreparedKernels.shared().holds(g, form, kernel), "the changed kernel's form replaced the old");

        kernel[kernel.length / 3] = Float.NaN;
        float[] poisoned = forward(g, x, kernel);
        assertTrue(hasNaN(poisoned), "a NaN weight reaches the output");
        assertArrayEquals(forward(g, x, kernel.clone()), poisoned, form + " after a weight became NaN");
        assertFalse(PreparedKernels.shared().holds(g, form, kernel), "a non-finite kernel is not kept");
    }

    /** A 2-d convolution of {@code BLOCK} to {@code 2 * BLOCK} channels on a 9x9 image. */
    private static ConvGeometry geometry(int kernel, int stride, int padding, int batch, Precision precision) {
        return geometry(kernel, stride, padding, batch, precision, 9);
    }

    private static ConvGeometry geometry(int kernel, int stride, int padding, int batch, Precision precision,
            int size) {
        return ConvGeometry.explicit(new int[] {batch}, new int[] {size, size}, BLOCK, new int[] {kernel, kernel},
                2 * BLOCK, 1, new int[] {stride, stride}, new int[] {1, 1}, new int[] {1, 1},
                new int[] {padding, padding}, new int[] {padding, padding}, EdgeMode.ZERO, precision);
    }

    private static float[] forward(ConvGeometry g, float[] x, float[] kernel) {
        float[] y = new float[(int) Tensor.elementCount(g.outputShape())];
        CPU.forward(g, x, kernel, null, y);
        return y;
    }

    private static boolean hasNaN(float[] values) {
        for (float v : values) {
            if (Float.isNaN(v)) {
                return true;
            }
        }
        return false;
    }

    private static float[] uniform(SplittableRandom random, long n) {
        float[] values = new float[(int) n];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (random.nextDouble() * 2 - 1);
        }
        return values;
    }
}
