/*
 * The kernel gradient of a convolution of any rank, channels-last, every padding mode: the first pass of a
 * deterministic two-pass reduction (reductions.cl sums the passes' partials in a fixed order).
 *
 * Per feature group g it is the GEMM dW_g = A_g^T * DY_g with
 *   M = batch * out_pixels      (the reduction: one output position of one batch element)
 *   K = taps * cin / groups     (rows of dW: k = tap * cin_g + ci, the kernel's own row order)
 *   N = cout / groups           (columns of dW: the group's output channels)
 * A_g[m, k] is the input element that output position m reads through tap/channel k (zero in padding and
 * in the holes of input dilation; wrapped and mirrored padding read the element they copy), gathered tile by
 * tile into local memory and never materialised. DY_g is the group's columns of the output gradient.
 *
 * Where each (output position, tap) pair reads is resolved on the host into one source-index table per
 * spatial dim (org.convcl.ConvGeometry.sourceIndexTable), exactly as in conv_general.cl: entry
 * [o * k[d] + t] is the input coordinate output o reads through tap t along dim d, or -1. `dims` holds four
 * ints per dim: output size, kernel size, the input's row-major stride in pixels, the table's offset.
 *
 * Work-group (i, j, s) owns a TILE_K x TILE_N block of dW and reduces the rows [s * rows_per_split,
 * (s + 1) * rows_per_split) of M into split s of `partials` (K * cout floats per split). Each work-item
 * accumulates a WPT_K x WPT_N register block over one TILE_M step in plain float, then adds the block into a
 * compensated (Kahan) sum: rounding grows with TILE_M, not with the length of the reduction, which may be
 * millions of positions. No atomics; every sum is taken in a fixed order, so results repeat bit for bit.
 *
 * Only the rank and the blocking are compile-time (-D) constants: the sizes are run-time arguments, used
 * only where a tile row or column is decoded (a few integer divisions per TILE_M x TILE_K x TILE_N
 * multiply-adds), so one program serves every shape of a rank and the backward pass of a new shape costs
 * no compilation. TF32 = 1 rounds both operands of each product as they are staged (tf32.cl, compiled in front).
 * input and output_gradient are storage_t (storage.cl, compiled in front), widened to float32 as they are staged;
 * the partials are float32 whatever the storage, so a 16-bit gradient is rounded once, by sum_partials.
 *
 * Launch: global = (ceil(K / TILE_K) * RTK, ceil(N / TILE_N) * groups * RTN, splits), local = (RTK, RTN, 1).
 */

/* Whether x is finite, tested on its bits: a compiler that assumes finite math may fold isfinite to true. */
#define FINITE(x) ((as_uint(x) & 0x7f800000u) != 0x7f800000u)

#ifndef RANK
#define RANK 1
#endif

/* Blocking: rows of M per step, the dW block of a work-group, and each work-item's register block. */
#ifndef TILE_M
#define TILE_M 16
#endif
#ifndef TILE_K
#define TILE_K 32
#endif
#ifndef TILE_N
#define TILE_N 32
#endif
#ifndef WPT_K
#define WPT_K 4
#endif
#ifndef WPT_N
#define WPT_N 4
#endif

#define RTK (TILE_K / WPT_K)
#define RTN (TILE_N / WPT_N)
#define ITEMS (RTK * RTN)

/*
 * rows = batch * out_pixels. in_pixels and out_pixels are the pixels of one batch element's input and output
 * (out_pixels at least 1: it only divides row numbers). taps is the product of the kernel's spatial sizes.
 */
__kernel __attribute__((reqd_work_group_size(RTK, RTN, 1)))
void kernel_gradient(const int rows, const int rows_per_split,
                     const int cin, const int cout, const int groups, const int taps,
                     const int in_pixels, const int out_pixels,
                     __global const storage_t* restrict input,
                     __global const storage_t* restrict output_gradient,
                     __global float* restrict partials,
                     __global const int* restrict tables,
                     __global const int* restrict dims) {
    __local float a_tile[TILE_M][TILE_K];
    __local float b_tile[TILE_M][TILE_N];
    /* The taps a work-group's columns span (TILE_K at most; one or two when CIN / GROUPS is large), their
       coordinates, and per column which of them it is and which input channel it reads. Per step, the input
       element behind each (tile row, spanned tap) pair, channel aside: resolved once for all the pair's
       columns instead of once per column. */
    __local int tap_coordinates[TILE_K * RANK];
    __local int column_tap[TILE_K];
    __local int column_channel[TILE_K];
    __local int row_source[TILE_M][TILE_K];

    const int cin_g = cin / groups;
    const int cout_g = cout / groups;
    const int k_g = taps * cin_g;
    const int n_tiles = (cout_g + TILE_N - 1) / TILE_N;
    const int tk = get_local_id(0);
    const int tn = get_local_id(1);
    const int item = tn * RTK + tk;
    const int k0 = get_group_id(0) * TILE_K;
    const int group = get_group_id(1) / n_tiles;
    const int n0 = (get_group_id(1) % n_tiles) * TILE_N;
    const int first = get_group_id(2) * rows_per_split;
    const int last = min(rows, first + rows_per_split);
    const int first_tap = k0 / cin_g;
    const int spanned_taps = min(taps - 1, (k0 + TILE_K - 1) / cin_g) - first_tap + 1;

    /* The columns are fixed for the work-group: decode them, and the taps they span, once. */
    for (int c = item; c < TILE_K; c += ITEMS) {
        const int k = k0 + c;
        column_tap[c] = k / cin_g - first_tap;
        column_channel[c] = k < k_g ? group * cin_g + k % cin_g : -1;
    }
    for (int j = item; j < spanned_taps; j += ITEMS) {
        int tap = first_tap + j;
        for (int d = RANK - 1; d >= 0; d--) {
            tap_coordinates[j * RANK + d] = tap % dims[4 * d + 1];
            tap /= dims[4 * d + 1];
        }
    }

    float block[WPT_K][WPT_N];
    float sum[WPT_K][WPT_N];
    float carry[WPT_K][WPT_N];
    for (int i = 0; i < WPT_K; i++) {
        for (int j = 0; j < WPT_N; j++) {
            block[i][j] = 0.0f;
            sum[i][j] = 0.0f;
            carry[i][j] = 0.0f;
        }
    }
    barrier(CLK_LOCAL_MEM_FENCE);

    for (int m0 = first; m0 < last; m0 += TILE_M) {
        /* Where each (row, tap) pair reads: the offset of channel 0 of its input pixel, or -1 for a zero. */
        for (int e = item; e < TILE_M * spanned_taps; e += ITEMS) {
            const int r = e / spanned_taps;
            const int j = e % spanned_taps;
            const int m = m0 + r;
            int source = -1;
            if (m < last) {
                int rest = m % out_pixels;
                source = 0;
                for (int d = RANK - 1; d >= 0; d--) {
                    const int o = rest % dims[4 * d];
                    rest /= dims[4 * d];
                    const int index = tables[dims[4 * d + 3] + o * dims[4 * d + 1] + tap_coordinates[j * RANK + d]];
                    source = (source < 0 || index < 0) ? -1 : source + index * dims[4 * d + 2];
                }
                if (source >= 0) {
                    source = ((m / out_pixels) * in_pixels + source) * cin;
                }
            }
            row_source[r][j] = source;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        /* Consecutive work-items take consecutive k: consecutive input channels of one tap. */
        for (int e = item; e < TILE_M * TILE_K; e += ITEMS) {
            const int r = e / TILE_K;
            const int c = e % TILE_K;
            const int channel = column_channel[c];
            const int source = channel < 0 ? -1 : row_source[r][column_tap[c]];
            a_tile[r][c] = source < 0 ? 0.0f : OPERAND(STORAGE_LOAD(1, input + source + channel));
        }
        /* Consecutive work-items take consecutive output channels: contiguous reads of the output gradient. */
        for (int e = item; e < TILE_M * TILE_N; e += ITEMS) {
            const int r = e / TILE_N;
            const int c = e % TILE_N;
            const int m = m0 + r;
            const int n = n0 + c;
            b_tile[r][c] = (m < last && n < cout_g) ? OPERAND(STORAGE_LOAD(1, output_gradient + m * cout + group * cout_g + n)) : 0.0f;
        }
        barrier(CLK_LOCAL_MEM_FENCE);

        for (int r = 0; r < TILE_M; r++) {
            float a[WPT_K];
            float b[WPT_N];
            for (int i = 0; i < WPT_K; i++) {
                a[i] = a_tile[r][tk + i * RTK];
            }
            for (int j = 0; j < WPT_N; j++) {
                b[j] = b_tile[r][tn + j * RTN];
            }
            for (int i = 0; i < WPT_K; i++) {
                for (int j = 0; j < WPT_N; j++) {
                    block[i][j] = fma(a[i], b[j], block[i][j]);
                }
            }
        }
        /* Kahan: carry holds what the running sum failed to absorb last time. Once the sum is infinite or NaN
           the carry would be Inf - Inf = NaN, turning an infinite sum NaN: it is dropped there. */
        for (int i = 0; i < WPT_K; i++) {
            for (int j = 0; j < WPT_N; j++) {
                const float y = block[i][j] - carry[i][j];
                const float t = sum[i][j] + y;
                carry[i][j] = FINITE(t) ? (t - sum[i][j]) - y : 0.0f;
                sum[i][j] = t;
                block[i][j] = 0.0f;
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    __global float* split = partials + get_group_id(2) * (k_g * cout);
    for (int i = 0; i < WPT_K; i++) {
        const int k = k0 + tk + i * RTK;
        for (int j = 0; j < WPT_N; j++) {
            const int n = n0 + tn + j * RTN;
            if (k < k_g && n < cout_g) {
                split[k * cout + group * cout_g + n] = sum[i][j];
            }
        }
    }
}
