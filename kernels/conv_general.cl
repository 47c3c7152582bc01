/*
 * Convolution of any rank, channels-last, flax nnx.Conv semantics: the reference kernel for ranks the
 * implicit-GEMM kernel (conv_gemm.cl) does not specialise, and a cross-check for the ranks it does.
 *
 * Every padding mode, stride and both dilations are resolved on the host into one source-index table per
 * spatial dim (org.convcl.ConvGeometry.sourceIndexTable): entry [o * k[d] + t] is the input coordinate
 * that output position o reads through tap t along dim d, or -1 for a zero. The tables of all dims are
 * concatenated in `tables`; `dims` holds four ints per dim: output size, kernel size, the input's
 * row-major stride in pixels, and the offset of the dim's table in `tables`.
 *
 * One work-item per output element; consecutive work-items take consecutive output channels, so writes
 * are contiguous. TF32 = 1 rounds both operands of each product (tf32.cl, compiled in front). The store applies the
 * epilogue of epilogue.cl (compiled in front, after activation.cl) when EPILOGUE, the residual read at the output's
 * own element, residual_offset elements into its buffer; it may be the output buffer itself (see conv_gemm.cl:
 * output and epi_residual are not restrict for that). The operands are stored as storage.cl (compiled in front)
 * says: 16-bit ones are widened to float on load and the output rounded to nearest even on store.
 * Launch: global = round_up(batch * OUT_PIXELS * COUT, local), 1-d.
 */

#ifndef RANK
#define RANK 4
#endif
#ifndef CIN
#define CIN 1
#endif
#ifndef COUT
#define COUT 1
#endif
#ifndef GROUPS
#define GROUPS 1
#endif
/* Product of the kernel's spatial sizes. */
#ifndef TAPS
#define TAPS 1
#endif
#ifndef IN_PIXELS
#define IN_PIXELS 1
#endif
#ifndef OUT_PIXELS
#define OUT_PIXELS 1
#endif
#ifndef HAS_BIAS
#define HAS_BIAS 0
#endif
/* epilogue.cl, compiled in front only for a store with an epilogue, defines EPILOGUE; a plain program has none. */
#ifndef EPILOGUE
#define EPILOGUE 0
#endif

#define CIN_G (CIN / GROUPS)
#define COUT_G (COUT / GROUPS)

__kernel void conv_general(const int batch,
                           __global const storage_t* restrict input, const int input_offset,
                           __global const storage_t* restrict weights,
                           __global const storage_t* restrict bias,
                           __global storage_t* output, const int output_offset,
                           __global const int* restrict tables,
                           __global const int* restrict dims,
                           __global const float* restrict epi_scale, __global const float* restrict epi_shift,
                           __global const storage_t* epi_residual, const int residual_offset) {
    const int element = (int) get_global_id(0);
    if (element >= batch * (OUT_PIXELS * COUT)) {
        return;
    }
    const int co = element % COUT;
    const int m = element / COUT;
    const int b = m / OUT_PIXELS;
    const int group = co / COUT_G;

    int out_position[RANK];
    int rest = m % OUT_PIXELS;
    for (int d = RANK - 1; d >= 0; d--) {
        out_position[d] = rest % dims[4 * d];
        rest /= dims[4 * d];
    }
    int tap_position[RANK];
    for (int d = 0; d < RANK; d++) {
        tap_position[d] = 0;
    }

    const int input_base = input_offset + b * (IN_PIXELS * CIN) + group * CIN_G;
    float acc = 0.0f;
    for (int tap = 0; tap < TAPS; tap++) {
        int source = 0;
        for (int d = 0; d < RANK && source >= 0; d++) {
            const int k = dims[4 * d + 1];
            const int index = tables[dims[4 * d + 3] + out_position[d] * k + tap_position[d]];
            source = index < 0 ? -1 : source + index * dims[4 * d + 2];
        }
        /* A zero of the padding or of input dilation is multiplied too, as jax's inserted zeros are: a NaN or
           infinite weight over one gives 0 * Inf = NaN. */
        const int row = input_base + source * CIN;
        for (int ci = 0; ci < CIN_G; ci++) {
            const float x = source >= 0 ? OPERAND(STORAGE_LOAD(1, input + row + ci)) : 0.0f;
            acc = fma(x, OPERAND(STORAGE_LOAD(1, weights + (tap * CIN_G + ci) * COUT + co)), acc);
        }
        /* Advance the tap's row-major multi-index. */
        for (int d = RANK - 1; d >= 0; d--) {
            if (++tap_position[d] < dims[4 * d + 1]) {
                break;
            }
            tap_position[d] = 0;
        }
    }
#if HAS_BIAS
    const float sum = acc + STORAGE_LOAD(1, bias + co);
#else
    const float sum = acc;
#endif
    // A zero result is stored as +0, as XLA's sums, which start at +0, give it for -0 products: a compiler that
    // drops the signed zero of 0.0f + x (Mesa's, given SPIR-V without the flag that keeps it) would leave -0.
    // (A tiny negative sum that rounds to zero is -0 in IEEE arithmetic, in an fma too; it becomes +0 as well,
    // equal as a value.) The integer bits, which no float folding touches, do it.
    const float value = as_float(as_uint(sum) == 0x80000000u ? 0u : as_uint(sum));
#if EPILOGUE
    STORAGE_STORE(1, epilogue_value(value, co, element, epi_scale, epi_shift, epi_residual + residual_offset),
                  output + output_offset + element);
#else
    STORAGE_STORE(1, value, output + output_offset + element);
#endif
}
