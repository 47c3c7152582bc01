package org.convcl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.convcl.internal.Tf32;
import org.junit.jupiter.api.Test;

/** The precision setting: its names, where it lives, what TF32 rounding does and which products it applies to. */
class PrecisionTest {

    @Test
    void parsesEitherNameInAnyCaseAndRefusesOthersNamingTheChoices() {
        for (Precision precision : Precision.values()) {
            assertSame(precision, Precision.parse(precision.cliName()));
            assertSame(precision, Precision.parse(precision.name()));
        }
        for (String bad : new String[] {"fp16", "", "highest2", "bf16"}) {
            IllegalArgumentException refusal = assertThrows(IllegalArgumentException.class, () -> Precision.parse(bad));
            assertTrue(refusal.getMessage().startsWith("precision: got '" + bad + "'"), refusal.getMessage());
            assertTrue(refusal.getMessage().contains("highest, tf32"), refusal.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> Precision.parse(null));
    }

    @Test
    void specsDefaultToHighestKeepTheSettingAndRefuseNull() {
        assertEquals(Precision.HIGHEST, ConvSpec.defaults().precision());
        assertEquals(Precision.HIGHEST, ConvTransposeSpec.defaults().precision());
        ConvSpec tf32 = ConvSpec.builder().strides(2).precision(Precision.TF32).build();
        assertEquals(Precision.TF32, tf32.precision());
        assertEquals(tf32, tf32.toBuilder().build(), "toBuilder keeps the precision");
        assertNotEquals(tf32, tf32.toBuilder().precision(Precision.HIGHEST).build());
        ConvTransposeSpec transpose = ConvTransposeSpec.builder().precision(Precision.TF32).build();
        assertEquals(transpose, transpose.toBuilder().build());
        assertNotEquals(transpose, ConvTransposeSpec.defaults());
        IllegalArgumentException refusal = assertThrows(IllegalArgumentException.class,
                () -> ConvSpec.builder().precision(null).build());
        assertTrue(refusal.getMessage().startsWith("precision: got null"), refusal.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ConvTransposeSpec.builder().precision(null).build());
    }

    @Test
    void geometriesCarryThePrecisionAndDepthwiseStaysFloat32() {
        ConvSpec spec = ConvSpec.builder().precision(Precision.TF32).build();
        ConvGeometry dense = spec.resolve(new int[] {1, 5, 5, 4}, new int[] {3, 3, 4, 8});
        assertEquals(Precision.TF32, dense.productPrecision());
        ConvGeometry depthwise = spec.toBuilder().groups(4).build().resolve(new int[] {1, 5, 5, 4},
                new int[] {3, 3, 1, 8});
        assertEquals(Precision.TF32, depthwise.precision());
        assertEquals(Precision.HIGHEST, depthwise.productPrecision(), "one input channel per group: float32");
        assertEquals(Precision.TF32, AdjointGeometry.inputGradient(dense).precision(), "the backward pass's too");
        ConvTransposeGeometry transpose = ConvTransposeSpec.builder().precision(Precision.TF32).build()
                .resolve(new int[] {1, 5, 5, 4}, new int[] {3, 3, 4, 8});
        assertEquals(Precision.TF32, transpose.conv().productPrecision());
    }

    @Test
    void roundingMatchesRoundHalfAwayToElevenSignificantBits() {
        SplittableRandom random = new SplittableRandom(16);
        for (int i = 0; i < 200_000; i++) {
            float value = Float.intBitsToFloat(random.nextInt());
            if (Float.isFinite(value)) {
                assertEquals(reference(value), Tf32.round(value), 0f, "rounding " + value);
            }
        }
        // Exact ties (only the highest dropped bit set) round away from zero, in both signs.
        for (int i = 0; i < 1000; i++) {
            int tie = (random.nextInt() & ~0x1fff) | 0x1000;
            float value = Float.intBitsToFloat(tie & 0x7fffffff) == Float.POSITIVE_INFINITY ? 1f
                    : Float.intBitsToFloat(tie);
            if (Float.isFinite(value) && Float.isFinite(reference(value))) {
                assertEquals(reference(value), Tf32.round(value), 0f, "tie " + value);
                assertTrue(Math.abs(Tf32.round(value)) > Math.abs(value), "a tie moves away from zero: " + value);
            }
        }
        for (float special : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f}) {
            assertEquals(Float.floatToRawIntBits(special), Float.floatToRawIntBits(Tf32.round(special)));
        }
    }

    /** A copy large enough to be rounded in parallel pieces: every element as rounded alone, the source untouched. */
    @Test
    void largeRoundedCopiesRoundEveryElement() {
        SplittableRandom random = new SplittableRandom(17);
        float[] values = new float[300_001];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) (random.nextDouble() * 2 - 1);
        }
        float[] source = values.clone();
        float[] rounded = Tf32.roundedCopy(values);
        assertArrayEquals(source, values, "the source is left as it was");
        for (int i = 0; i < values.length; i++) {
            assertEquals(reference(values[i]), rounded[i], 0f, "element " + i);
        }
    }

    /**
     * Round to nearest, ties away from zero, keeping 11 significant bits (10 stored), computed in double from the
     * value's binary exponent: an independent statement of cvt.rna.tf32.f32 for the finite floats.
     */
    private static float reference(float value) {
        if (value == 0) {
            return value;
        }
        int exponent = Math.max(Math.getExponent(value), Float.MIN_EXPONENT);
        double quantum = Math.scalb(1.0, exponent - 10);
        double steps = Math.abs(value) / quantum;
        double rounded = Math.floor(steps + 0.5) * quantum;
        return (float) Math.copySign(rounded, value);
    }
}
