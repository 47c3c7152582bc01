/*
 * flax's pooling (org.convcl.PoolGeometry): max_pool, avg_pool and min_pool over a channels-last input
 * (batch, *in, channels) into (batch, *out, channels), any spatial rank, batch dims flattened, and their input
 * gradients as jax differentiates lax.reduce_window. The arithmetic is the host's (HostPooling) in its order,
 * divisions correctly rounded as Java's (see DIVIDE), so both give the same bits on devices with cl_khr_fp64; on
 * others avg's divisions may differ by OpenCL's float division error (2.5 ulp):
 *   pool_forward   one work-item per output element: the window's real (non-padding) elements in row-major
 *                  order, max/min with NaN propagating (lax.max), or a sum then divided by the window's size
 *                  (COUNT_INCLUDE_PAD) or its count of real elements.
 *   pool_select    (max, min) one work-item per output element: the input position its gradient goes to, as
 *                  XLA's select_and_scatter chooses with ge (max) or le (min): starting at the window's first
 *                  real element, the choice moves to a later one whenever `chosen >= x` (`<=`) is false. -1 for
 *                  a window of padding alone.
 *   pool_backward  one work-item per input element, a gather (no atomics, one fixed order): over the windows
 *                  holding the element, in row-major output order (the host's order of adds), the sum of
 *                  dy for the windows whose selection is this element (max, min), or of dy / divisor (avg).
 *
 * Only the rank, the operation and count_include_pad are compile-time (-D) constants; the sizes are run-time
 * arguments, so one program serves every pooling of a rank. `dims` holds five ints per spatial dim: input size,
 * output size, window size, stride, padding before. Padding counts as -inf (max), +inf (min) or 0 (avg) by
 * being left out.
 *
 * Values (input, output, the gradients) are storage_t (storage.cl, compiled in front): a 16-bit type is widened
 * on load, compared, summed and divided in float32, and rounded once to nearest even on store (max and min store
 * an input value, so exactly).
 *
 * Launch: global = round_up(batch * out_pixels * channels, local), 1-d, for pool_forward and pool_select;
 * round_up(batch * in_pixels * channels, local) for pool_backward.
 */

#ifndef RANK
#define RANK 1
#endif
/* 0: max, 1: avg, 2: min (the order of org.convcl.PoolOp). */
#ifndef POOL_OP
#define POOL_OP 0
#endif
#ifndef COUNT_INCLUDE_PAD
#define COUNT_INCLUDE_PAD 1
#endif

#define POOL_MAX 0
#define POOL_AVG 1
#define POOL_MIN 2

#define IN_SIZE(d) dims[5 * (d)]
#define OUT_SIZE(d) dims[5 * (d) + 1]
#define WINDOW(d) dims[5 * (d) + 2]
#define STRIDE(d) dims[5 * (d) + 3]
#define PAD_LO(d) dims[5 * (d) + 4]

#ifdef cl_khr_fp64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
/*
 * a / b correctly rounded, as Java's float division: OpenCL's float division may be 2.5 ulp off unless a build
 * option asks otherwise, its double division is correctly rounded, and rounding that double quotient of two
 * floats to float is the correctly rounded float quotient (53 >= 2 * 24 + 2 bits: double rounding is innocuous).
 */
#define DIVIDE(a, b) ((float) ((double) (a) / (double) (b)))
#else
#define DIVIDE(a, b) ((a) / (b))
#endif

/* Whether the forward divisor is the window's count of real elements. */
#define DIVIDES_BY_TAPS (POOL_OP == POOL_AVG && !COUNT_INCLUDE_PAD)

/*
 * The window of output position m (row-major over the output's spatial dims), clipped to the real elements:
 * input coordinates [begin[d], end[d]) per dim. Returns whether it holds any.
 */
static bool window_of(int m, __global const int* restrict dims, int* begin, int* end) {
    bool any = true;
    for (int d = RANK - 1; d >= 0; d--) {
        const int o = m % OUT_SIZE(d);
        m /= OUT_SIZE(d);
        /* In long: o * stride - lo + window may pass int's range for large paddings. */
        const long start = (long) o * STRIDE(d) - PAD_LO(d);
        begin[d] = (int) clamp(start, 0L, (long) IN_SIZE(d));
        end[d] = (int) clamp(start + WINDOW(d), 0L, (long) IN_SIZE(d));
        any = any && begin[d] < end[d];
    }
    return any;
}

/* Moves cursor to the next row-major position of the box [begin, end); false after its last. */
static bool next_position(int* cursor, const int* begin, const int* end) {
    for (int d = RANK - 1; d >= 0; d--) {
        if (++cursor[d] < end[d]) {
            return true;
        }
        cursor[d] = begin[d];
    }
    return false;
}

/* The flat spatial index of an input coordinate. */
static int input_pixel(const int* cursor, __global const int* restrict dims) {
    int q = 0;
    for (int d = 0; d < RANK; d++) {
        q = q * IN_SIZE(d) + cursor[d];
    }
    return q;
}

__kernel void pool_forward(const int batch, const int channels, const int in_pixels, const int out_pixels,
                           const int window_size,
                           __global const storage_t* restrict input,
                           __global storage_t* restrict output,
                           __global const int* restrict dims) {
    const int element = get_global_id(0);
    if (element >= batch * (out_pixels * channels)) {
        return;
    }
    const int c = element % channels;
    const int m = element / channels;
    const int b = m / out_pixels;
    int begin[RANK];
    int end[RANK];
    int cursor[RANK];
    bool any = window_of(m % out_pixels, dims, begin, end);
    for (int d = 0; d < RANK; d++) {
        cursor[d] = begin[d];
    }
#if POOL_OP == POOL_MAX
    float acc = -INFINITY;
#elif POOL_OP == POOL_MIN
    float acc = INFINITY;
#else
    float acc = 0.0f;
#endif
#if DIVIDES_BY_TAPS
    int taps = 0;
#endif
    const int base = b * in_pixels;
    while (any) {
        const float x = STORAGE_LOAD(1, input + (base + input_pixel(cursor, dims)) * channels + c);
#if POOL_OP == POOL_MAX
        /* lax.max: NaN propagates, and a NaN once taken stays. */
        if (isnan(x) || x > acc) {
            acc = x;
        }
#elif POOL_OP == POOL_MIN
        if (isnan(x) || x < acc) {
            acc = x;
        }
#else
        acc += x;
#endif
#if DIVIDES_BY_TAPS
        taps++;
#endif
        any = next_position(cursor, begin, end);
    }
#if DIVIDES_BY_TAPS
    /* A window of padding alone: 0 / 0 = NaN, as flax's. */
    STORAGE_STORE(1, DIVIDE(acc, (float) taps), output + element);
#elif POOL_OP == POOL_AVG
    STORAGE_STORE(1, DIVIDE(acc, (float) window_size), output + element);
#else
    STORAGE_STORE(1, acc, output + element);
#endif
}

__kernel void pool_select(const int batch, const int channels, const int in_pixels, const int out_pixels,
                          __global const storage_t* restrict input,
                          __global int* restrict picks,
                          __global const int* restrict dims) {
    const int element = get_global_id(0);
    if (element >= batch * (out_pixels * channels)) {
        return;
    }
    const int c = element % channels;
    const int m = element / channels;
    const int b = m / out_pixels;
    int begin[RANK];
    int end[RANK];
    int cursor[RANK];
    bool any = window_of(m % out_pixels, dims, begin, end);
    for (int d = 0; d < RANK; d++) {
        cursor[d] = begin[d];
    }
    int chosen = -1;
    float chosen_value = 0.0f;
    const int base = b * in_pixels;
    while (any) {
        const int q = input_pixel(cursor, dims);
        const float x = STORAGE_LOAD(1, input + (base + q) * channels + c);
        /* Any comparison with NaN is false, so the choice moves onto a NaN and off it again. */
#if POOL_OP == POOL_MIN
        if (chosen < 0 || !(chosen_value <= x)) {
#else
        if (chosen < 0 || !(chosen_value >= x)) {
#endif
            chosen = q;
            chosen_value = x;
        }
        any = next_position(cursor, begin, end);
    }
    picks[element] = chosen;
}

__kernel void pool_backward(const int batch, const int channels, const int in_pixels, const int out_pixels,
                            const int window_size,
                            __global const storage_t* restrict output_gradient,
                            __global const int* restrict picks,
                            __global storage_t* restrict input_gradient,
                            __global const int* restrict dims) {
    const int element = get_global_id(0);
    if (element >= batch * (in_pixels * channels)) {
        return;
    }
    const int c = element % channels;
    const int m = element / channels;
    const int b = m / in_pixels;
    const int q = m % in_pixels;
    /* The outputs whose windows hold input coordinate i: o * stride - lo <= i < o * stride - lo + window. */
    int begin[RANK];
    int end[RANK];
    int cursor[RANK];
    bool any = true;
    int rest = q;
    for (int d = RANK - 1; d >= 0; d--) {
        const long i = rest % IN_SIZE(d);
        rest /= IN_SIZE(d);
        const long last = (i + PAD_LO(d)) / STRIDE(d);
        const long reach = i + PAD_LO(d) - WINDOW(d) + 1;
        const long first = reach <= 0 ? 0 : (reach + STRIDE(d) - 1) / STRIDE(d);
        begin[d] = (int) min(first, (long) OUT_SIZE(d));
        end[d] = (int) min(last + 1, (long) OUT_SIZE(d));
        cursor[d] = begin[d];
        any = any && begin[d] < end[d];
    }
    float acc = 0.0f;
    const int base = b * out_pixels;
    while (any) {
        int o = 0;
        for (int d = 0; d < RANK; d++) {
            o = o * OUT_SIZE(d) + cursor[d];
        }
        const int at = (base + o) * channels + c;
#if POOL_OP == POOL_AVG
#if COUNT_INCLUDE_PAD
        acc += DIVIDE(STORAGE_LOAD(1, output_gradient + at), (float) window_size);
#else
        int taps = 1;
        for (int d = 0; d < RANK; d++) {
            const long start = (long) cursor[d] * STRIDE(d) - PAD_LO(d);
            taps *= (int) (clamp(start + WINDOW(d), 0L, (long) IN_SIZE(d)) - clamp(start, 0L, (long) IN_SIZE(d)));
        }
        acc += DIVIDE(STORAGE_LOAD(1, output_gradient + at), (float) taps);
#endif
#else
        if (picks[at] == q) {
            acc += STORAGE_LOAD(1, output_gradient + at);
        }
#endif
        any = next_position(cursor, begin, end);
    }
    STORAGE_STORE(1, acc, input_gradient + element);
}
