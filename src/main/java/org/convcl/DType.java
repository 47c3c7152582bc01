package org.convcl;

import java.util.Arrays;
import java.util.Locale;

/**
 * How a tensor's elements are stored: IEEE binary32, IEEE binary16 or bfloat16 (issue 26).
 *
 * <p>The two 16-bit types hold the upper part of what float32 would: binary16 ({@link #FLOAT16}) keeps 10
 * mantissa bits and a 5-bit exponent (largest finite value 65504), bfloat16 ({@link #BFLOAT16}) keeps float32's
 * 8-bit exponent and 7 mantissa bits. Host data of either comes as {@code short} bit patterns, as ONNX Runtime's
 * Java API passes them; {@link HalfFloats} converts between them and float32.
 */
public enum DType {
    /** IEEE 754 binary32. */
    FLOAT32(4),
    /** IEEE 754 binary16 (NumPy's {@code float16}, {@code '<f2'} in a {@code .npy} file). */
    FLOAT16(2),
    /** bfloat16: the upper 16 bits of a binary32, rounded to nearest even. NumPy has no such dtype. */
    BFLOAT16(2);

    private final int bytes;

    DType(int bytes) {
        this.bytes = bytes;
    }

    /** Bytes one element takes in memory: 4 or 2. */
    public int bytes() {
        return bytes;
    }

    /** The name the CLI and the bench JSON use: {@code float32}, {@code float16} or {@code bfloat16}. */
    public String cliName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * The type named {@code text} ({@code float32}, {@code float16} or {@code bfloat16}) in any letter case,
     * surrounding white space ignored.
     *
     * @throws IllegalArgumentException naming the parameter, the value and the accepted names
     */
    public static DType parse(String text) {
        if (text != null) {
            for (DType type : values()) {
                if (type.cliName().equalsIgnoreCase(text.trim())) {
                    return type;
                }
            }
        }
        throw new IllegalArgumentException("dtype: got " + (text == null ? "null" : "'" + text + "'")
                + "; expected one of " + String.join(", ", Arrays.stream(values()).map(DType::cliName).toList()));
    }
}
