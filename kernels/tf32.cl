/*
 * TF32 precision (TF32 = 1): both operands of every product are rounded to TensorFloat-32 before they are
 * multiplied, and products are accumulated in float32. Rounding is NVIDIA's cvt.rna.tf32.f32: to nearest, ties away
 * from zero, keeping 10 of the 23 mantissa bits (the low 13 become zero); infinities and NaNs pass unchanged. The
 * Java path's twin is org.convcl.internal.Tf32: devices without tensor cores and the Java path compute the same
 * numbers up to the order of accumulation. Compiled in front of the kernels whose products it rounds.
 */
#ifndef TF32
#define TF32 0
#endif

static inline float tf32_round(const float x) {
    const uint bits = as_uint(x);
    /* Sign-magnitude: adding half of the last kept bit to the magnitude and truncating rounds half away. */
    return (bits & 0x7f800000u) == 0x7f800000u ? x : as_float((bits + 0x1000u) & 0xffffe000u);
}

/* An operand of a product as the precision takes it. */
#if TF32
#define OPERAND(x) tf32_round(x)
#else
#define OPERAND(x) (x)
#endif
