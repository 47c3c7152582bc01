/*
 * The geometry of a convolution of rank 1 to 3 run as rank 3 (leading dims of size 1), channels-last, flax
 * nnx.Conv semantics, and the rule that maps a padded coordinate to the input element it reads: shared by
 * conv_gemm.cl and conv_depthwise.cl. It is not a program of its own: the host compiles it in front of the
 * kernel's file, as one text (ConvPlan.GEMM_SOURCES, ConvPlan.DEPTHWISE_SOURCES), so these defaults and
 * helpers stand before the kernel's code. The host defines every size as a -D constant; the defaults below
 * (one 1x1x1 pixel, one channel) only let the sources compile without options, for checks.
 *
 * Input (batch, IN_D, IN_H, IN_W, CIN), kernel (K_D, K_H, K_W, CIN / groups, COUT), output
 * (batch, OUT_D, OUT_H, OUT_W, COUT).
 */

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
/* 0: zeros outside the input; 1: wrap around (CIRCULAR); 2: mirror without the edge (REFLECT).
   The host uses 1 and 2 only without input dilation. */
#ifndef EDGE_MODE
#define EDGE_MODE 0
#endif

#define IN_PIXELS (IN_D * IN_H * IN_W)

/*
 * The input index that dilated, padded coordinate q (0 = the first input element) reads along a dim of
 * `length` elements with input dilation `input_dilation`, or -1 for a zero (padding, or a hole between
 * dilated elements). The same rule as org.convcl.EdgeMode. Code whose coordinates already count input
 * elements (conv_gemm.cl's phases take the dilation out) passes 1.
 */
static inline int source_index(const int q, const int length, const int input_dilation) {
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
    if (q < 0 || q > (length - 1) * input_dilation) {
        return -1;
    }
    if (input_dilation != 1 && q % input_dilation != 0) {
        return -1;
    }
    return q / input_dilation;
#endif
}
