/*
 * Convolution of rank 1 to 3 as an implicit GEMM, channels-last, flax nnx.Conv semantics.
 *
 * Per feature group g the convolution is C = A * B with
 *   M = batch * out_pixels      (rows: one output position of one batch element)
 *   N = COUT / GROUPS           (columns: the group's output channels)
 *   K = taps * CIN / GROUPS     (k = tap * CIN_G + ci, the kernel's own row order)
 * A[m, k] is the input element that output row m reads through tap/channel k (zero in padding and in
 * the holes of input dilation); it is gathered into local memory tile by tile and never materialised as
 * an im2col matrix. B is the kernel (*k, CIN_G, COUT) read in place.
 *
 * A work-group computes a TILE_M x TILE_N block of C, staging TILE_M x TILE_K slices of A and
 * TILE_K x TILE_N slices of B through local memory; each work-item accumulates a WPT_M x WPT_N register
 * block (rows tm + i * RTM, columns tn + j * RTN, strided so that neighbouring work-items touch
 * neighbouring local-memory words).
 *
 * Ranks 1 and 2 run as rank 3 with leading spatial dims of size 1 (every D/H constant is then 1 or 0 and
 * folds away). Every size, stride, dilation and padding is a -D constant so that index arithmetic is
 * division by constants; only the batch and the buffer offsets are run-time arguments, so one program
 * serves every batch size and every chunk of a split batch.
 *
 * Launch: global = (ceil(M / TILE_M) * RTM, ceil(N / TILE_N) * GROUPS * RTN), local = (RTM, RTN).
 */

/* Tiling: chosen per plan by the host (a tuner's business later); these defaults are only a fallback. */
#ifndef TILE_M
#define TILE_M 32
#endif
#ifndef TILE_N
#define TILE_N 32
#endif
#ifndef TILE_K
#define TILE_K 16
#endif
#ifndef WPT_M
#define WPT_M 4
#endif
#ifndef WPT_N
#define WPT_N 4
#endif

/* Geometry: input (batch, IN_D, IN_H, IN_W, CIN), kernel (K_D, K_H, K_W, CIN / GROUPS, COUT). */
#ifndef IN_D
#define IN_D 1
#endif
#ifndef IN_H
#define IN_H 1
#endif
#ifndef IN_W
#define IN_W 1
#endif
#ifndef K_D
#define K_D 1
#endif
#ifndef K_H
#define K_H 1
#endif
#ifndef K_W
#define K_W 1
#endif
#ifndef OUT_D
#define OUT_D 1
#endif
#ifndef OUT_H
#define OUT_H 1
#endif
#ifndef OUT_W
#define OUT_W 1
#endif
#ifndef STRIDE_D
#define STRIDE_D 1
#endif
#ifndef STRIDE_H
#define STRIDE_H 1
#endif
#ifndef STRIDE_W
#define STRIDE_W 1
#endif
/* Input (lhs) dilation: IDIL - 1 zeros between input elements. */
#ifndef IDIL_D
#define IDIL_D 1
#endif
#ifndef IDIL_H
#define IDIL_H 1
#endif
#ifndef IDIL_W
#define IDIL_W 1
#endif
/* Kernel (rhs) dilation: KDIL - 1 gaps between taps. */
#ifndef KDIL_D
#define KDIL_D 1
#endif
#ifndef KDIL_H
#define KDIL_H 1
#endif
#ifndef KDIL_W
#define KDIL_W 1
#endif
/* Low padding in dilated-input coordinates; negative crops. (High padding only shapes OUT_*.) */
#ifndef PAD_D
#define PAD_D 0
#endif
#ifndef PAD_H
#define PAD_H 0
#endif
#ifndef PAD_W
#define PAD_W 0
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
/* 0: zeros outside the input; 1: wrap around (CIRCULAR); 2: mirror without the edge (REFLECT). */
#ifndef EDGE_MODE
#define EDGE_MODE 0
#endif
#ifndef HAS_BIAS
#define HAS_BIAS 0
#endif

#define RTM (TILE_M / WPT_M)
#define RTN (TILE_N / WPT_N)
#define THREADS (RTM * RTN)
#define CIN_G (CIN / GROUPS)
#define COUT_G (COUT / GROUPS)
#define TAPS (K_D * K_H * K_W)
#define K_TOTAL (TAPS * CIN_G)
#define OUT_PIXELS (OUT_D * OUT_H * OUT_W)
#define IN_PIXELS (IN_D * IN_H * IN_W)
#define N_TILES ((COUT_G + TILE_N - 1) / TILE_N)

#if TILE_M % WPT_M != 0 || TILE_N % WPT_N != 0
#error "TILE_M must be a multiple of WPT_M and TILE_N a multiple of WPT_N"
#endif

/*
 * The input index that padded coordinate q (0 = the first input element, counted in dilated-input units)
 * reads along a dim of `length` elements, or -1 for a zero. The same rule as org.convcl.EdgeMode.
 */
int source_index(const int q, const int length, const int input_dilation) {
    if (length <= 0) {
        return -1;
    }
#if EDGE_MODE == 1
    const int wrapped = q % length;
    return wrapped < 0 ? wrapped + length : wrapped;
#elif EDGE_MODE == 2
    if (length == 1) {
        return 0;
    }
    const int period = 2 * (length - 1);
    int folded = q % period;
    if (folded < 0) {
        folded += period;
    }
    return folded < length ? folded : period - folded;
#else
    const int dilated = (length - 1) * input_dilation + 1;
    if (q < 0 || q >= dilated) {
        return -1;
    }
    if (input_dilation != 1 && q % input_dilation != 0) {
        return -1;
    }
    return q / input_dilation;
#endif
}

__kernel __attribute__((reqd_work_group_size(RTM, RTN, 1)))
void conv_gemm(const int batch,
               __global const float* restrict input, const int input_offset,
               __global const float* restrict weights,
               __global const float* restrict bias,
               __global float* restrict output, const int output_offset) {
    __local float a_tile[TILE_K][TILE_M];
    __local float b_tile[TILE_K][TILE_N];
    /* Per row of the tile: where its batch element and group start in the input (-1: past the last row),
       and the padded coordinate of its first tap in each dim. Computed once, reused for every k. */
    __local int row_base[TILE_M];
    __local int row_origin_d[TILE_M];
    __local int row_origin_h[TILE_M];
    __local int row_origin_w[TILE_M];

    const int tm = get_local_id(0);
    const int tn = get_local_id(1);
    const int tid = tn * RTM + tm;
    const int m0 = get_group_id(0) * TILE_M;
    const int group = get_group_id(1) / N_TILES;
    const int n0 = (get_group_id(1) % N_TILES) * TILE_N;
    const int rows = batch * OUT_PIXELS;

    for (int r = tid; r < TILE_M; r += THREADS) {
        const int m = m0 + r;
        if (m < rows) {
            const int b = m / OUT_PIXELS;
            const int p = m % OUT_PIXELS;
            const int od = p / (OUT_H * OUT_W);
            const int oh = (p / OUT_W) % OUT_H;
            const int ow = p % OUT_W;
            row_base[r] = input_offset + b * (IN_PIXELS * CIN) + group * CIN_G;
            row_origin_d[r] = od * STRIDE_D - PAD_D;
            row_origin_h[r] = oh * STRIDE_H - PAD_H;
            row_origin_w[r] = ow * STRIDE_W - PAD_W;
        } else {
            row_base[r] = -1;
        }
    }
    barrier(CLK_LOCAL_MEM_FENCE);

    float acc[WPT_M][WPT_N];
    for (int i = 0; i < WPT_M; i++) {
        for (int j = 0; j < WPT_N; j++) {
            acc[i][j] = 0.0f;
        }
    }

#if K_TOTAL > 0
    for (int k0 = 0; k0 < K_TOTAL; k0 += TILE_K) {
        /* Gather A: consecutive work-items take consecutive k, i.e. consecutive input channels. */
        for (int l = tid; l < TILE_M * TILE_K; l += THREADS) {
            const int r = l / TILE_K;
            const int kk = l % TILE_K;
            const int k = k0 + kk;
            const int base = row_base[r];
            float value = 0.0f;
            if (base >= 0 && k < K_TOTAL) {
                const int tap = k / CIN_G;
                const int ci = k % CIN_G;
                const int kd = tap / (K_H * K_W);
                const int kh = (tap / K_W) % K_H;
                const int kw = tap % K_W;
                const int id = source_index(row_origin_d[r] + kd * KDIL_D, IN_D, IDIL_D);
                const int ih = source_index(row_origin_h[r] + kh * KDIL_H, IN_H, IDIL_H);
                const int iw = source_index(row_origin_w[r] + kw * KDIL_W, IN_W, IDIL_W);
                if (id >= 0 && ih >= 0 && iw >= 0) {
                    value = input[base + ((id * IN_H + ih) * IN_W + iw) * CIN + ci];
                }
            }
            a_tile[kk][r] = value;
        }
        /* Load B: consecutive work-items take consecutive output channels (contiguous in the kernel). */
        for (int l = tid; l < TILE_K * TILE_N; l += THREADS) {
            const int kk = l / TILE_N;
            const int nn = l % TILE_N;
            const int k = k0 + kk;
            const int n = n0 + nn;
            b_tile[kk][nn] = (k < K_TOTAL && n < COUT_G) ? weights[k * COUT + group * COUT_G + n] : 0.0f;
        }
        barrier(CLK_LOCAL_MEM_FENCE);

        for (int kk = 0; kk < TILE_K; kk++) {
            float a_reg[WPT_M];
            for (int i = 0; i < WPT_M; i++) {
                a_reg[i] = a_tile[kk][tm + i * RTM];
            }
            for (int j = 0; j < WPT_N; j++) {
                const float b_value = b_tile[kk][tn + j * RTN];
                for (int i = 0; i < WPT_M; i++) {
                    acc[i][j] = fma(a_reg[i], b_value, acc[i][j]);
                }
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
#endif

    for (int i = 0; i < WPT_M; i++) {
        const int m = m0 + tm + i * RTM;
        if (m < rows) {
            for (int j = 0; j < WPT_N; j++) {
                const int n = n0 + tn + j * RTN;
                if (n < COUT_G) {
                    const int channel = group * COUT_G + n;
#if HAS_BIAS
                    output[output_offset + m * COUT + channel] = acc[i][j] + bias[channel];
#else
                    output[output_offset + m * COUT + channel] = acc[i][j];
#endif
                }
            }
        }
    }
}
