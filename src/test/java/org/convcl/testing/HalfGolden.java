package org.convcl.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import org.convcl.ConvGeometry;
import org.convcl.DType;
import org.convcl.HalfFloats;
import org.convcl.Tensor;

/**
 * A golden forward case in float16 or bfloat16 (issue 26): its operands rounded to the type, as bits for a 16-bit
 * forward, and the check of that forward's output bits against float64 on the rounded operands within
 * {@link HalfBound}'s bound.
 */
public record HalfGolden(GoldenCase golden, DType dtype, Tensor x, Tensor kernel, Tensor bias, ConvGeometry geometry) {

    /** {@code golden}'s operands rounded to {@code dtype}; its bias null when it has none. */
    public static HalfGolden of(GoldenCase golden, DType dtype) {
        Tensor x = HalfBound.rounded(golden.array("x"), dtype);
        Tensor w = HalfBound.rounded(golden.array("kernel"), dtype);
        Tensor b = golden.has("bias") ? HalfBound.rounded(golden.array("bias"), dtype) : null;
        return new HalfGolden(golden, dtype, x, w, b, golden.spec().resolve(x.shape(), w.shape()));
    }

    public short[] inputBits() {
        return HalfFloats.encode(dtype, x.data());
    }

    public short[] kernelBits() {
        return HalfFloats.encode(dtype, kernel.data());
    }

    /** The bias's bits, or null. */
    public short[] biasBits() {
        return bias == null ? null : HalfFloats.encode(dtype, bias.data());
    }

    /** Room for the output's bits. */
    public short[] outputBits() {
        return new short[(int) Tensor.elementCount(geometry.outputShape())];
    }

    /** Asserts that {@code got}, the output's bits, is within the bound of float64 on the rounded operands. */
    public void assertWithinBound(String what, short[] got) {
        GoldenCase c = golden;
        NaiveConv.Result reference = Reference.forward(Tolerance.toDouble(x.data()), x.shape(),
                Tolerance.toDouble(kernel.data()), kernel.shape(), bias == null ? null
                        : Tolerance.toDouble(bias.data()), c.strides(), c.inputDilation(), c.kernelDilation(),
                c.libraryPadding(), c.groups());
        assertArrayEquals(reference.shape(), geometry.outputShape(), c.name());
        int products = kernel.size() / kernel.shape()[kernel.rank() - 1];
        HalfBound.assertWithin(what + " " + c.name(), dtype, products, reference, HalfFloats.decode(dtype, got));
    }
}
