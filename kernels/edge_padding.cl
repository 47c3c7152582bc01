/*
 * The two maps of an explicit padding (org.convcl.EdgePadding), channels-last, any rank: edge_pad gathers the
 * padded array (batch, *padded, channels) from its source (batch, *source, channels), and edge_fold, its
 * adjoint, sums every padded element back onto the source element it copies, plus an optional bias. The
 * fold carries gradients back through CIRCULAR and REFLECT padding and is the period wrap-sum of flax's
 * CIRCULAR ConvTranspose.
 *
 * Both are gathers over their output, one work-item per output element with consecutive work-items on
 * consecutive channels: no two work-items write the same element, so no atomics, and each fold sum is taken
 * in a fixed order. The host resolves the padding into per-dim tables:
 *   edge_pad:  `tables` holds, per dim, the source coordinate each padded coordinate copies (or -1 for a
 *              zero); `dims` four ints per dim: padded size, (unused), source stride in pixels, table offset.
 *   edge_fold: per dim a CSR inverse of that table: the padded coordinates copying source coordinate s are
 *              copies[starts[s] .. starts[s + 1]) (offsets per dim); `dims` four ints per dim: source size,
 *              padded stride in pixels, starts offset, copies offset.
 *
 * The fold stores the output of a CIRCULAR ConvTranspose (its period wrap-sum), so it applies the epilogue of
 * epilogue.cl (activation.cl and epilogue.cl are compiled in front) when EPILOGUE, the residual read at the source's
 * own element; it may be the source buffer itself (see conv_gemm.cl: source and epi_residual are not restrict).
 *
 * Values (source, padded, bias) are storage_t (storage.cl, compiled in front): a 16-bit type is widened on load,
 * the fold sums in float32 and rounds once on store (to nearest even), and the pad copies a value exactly.
 *
 * Only the rank, whether the fold adds a bias and the epilogue's options are compile-time (-D) constants; the sizes are run-time
 * arguments (source_pixels and padded_pixels at least 1: they divide element numbers), so one program serves
 * every shape of a rank.
 *
 * Launch: global = round_up(batch * pixels * channels, local), 1-d, where pixels is padded_pixels for
 * edge_pad and source_pixels for edge_fold.
 */

#ifndef RANK
#define RANK 1
#endif
#ifndef HAS_BIAS
#define HAS_BIAS 0
#endif
/* epilogue.cl, compiled in front only for a store with an epilogue, defines EPILOGUE; a plain program has none. */
#ifndef EPILOGUE
#define EPILOGUE 0
#endif

__kernel void edge_pad(const int batch, const int channels, const int source_pixels, const int padded_pixels,
                       __global const storage_t* restrict source,
                       __global storage_t* restrict padded,
                       __global const int* restrict tables,
                       __global const int* restrict dims) {
    const int element = get_global_id(0);
    if (element >= batch * (padded_pixels * channels)) {
        return;
    }
    const int c = element % channels;
    const int m = element / channels;
    const int b = m / padded_pixels;
    int rest = m % padded_pixels;
    int from = 0;
    for (int d = RANK - 1; d >= 0; d--) {
        const int index = tables[dims[4 * d + 3] + rest % dims[4 * d]];
        rest /= dims[4 * d];
        from = (from < 0 || index < 0) ? -1 : from + index * dims[4 * d + 2];
    }
    STORAGE_STORE(1, from < 0 ? 0.0f : STORAGE_LOAD(1, source + (b * source_pixels + from) * channels + c),
                  padded + element);
}

__kernel void edge_fold(const int batch, const int channels, const int source_pixels, const int padded_pixels,
                        __global const storage_t* restrict padded,
                        __global const storage_t* restrict bias,
                        __global storage_t* source,
                        __global const int* restrict starts,
                        __global const int* restrict copies,
                        __global const int* restrict dims,
                        __global const float* restrict epi_scale, __global const float* restrict epi_shift,
                        __global const storage_t* epi_residual) {
    const int element = get_global_id(0);
    if (element >= batch * (source_pixels * channels)) {
        return;
    }
    const int c = element % channels;
    const int m = element / channels;
    const int b = m / source_pixels;
    int rest = m % source_pixels;
    int begin[RANK];
    int end[RANK];
    int cursor[RANK];
    bool any = true;
    for (int d = RANK - 1; d >= 0; d--) {
        const int s = rest % dims[4 * d];
        rest /= dims[4 * d];
        begin[d] = starts[dims[4 * d + 2] + s];
        end[d] = starts[dims[4 * d + 2] + s + 1];
        cursor[d] = begin[d];
        any = any && begin[d] < end[d];
    }
#if HAS_BIAS
    float acc = STORAGE_LOAD(1, bias + c);
#else
    float acc = 0.0f;
#endif
    /* Every padded position copying this source position: one list entry per dim, odometer order. */
    const int padded_base = b * padded_pixels;
    while (any) {
        int q = 0;
        for (int d = 0; d < RANK; d++) {
            q += copies[dims[4 * d + 3] + cursor[d]] * dims[4 * d + 1];
        }
        acc += STORAGE_LOAD(1, padded + (padded_base + q) * channels + c);
        any = false;
        for (int d = RANK - 1; d >= 0; d--) {
            if (++cursor[d] < end[d]) {
                any = true;
                break;
            }
            cursor[d] = begin[d];
        }
    }
#if EPILOGUE
    STORAGE_STORE(1, epilogue_value(acc, c, element, epi_scale, epi_shift, epi_residual), source + element);
#else
    STORAGE_STORE(1, acc, source + element);
#endif
}
