/*
 * Deterministic sums for the backward pass, without atomics: a reduction over many rows is split into
 * `splits` contiguous row ranges, each summed into its own partial (first pass), and the partials are then
 * added in split order (second pass). Every sum is taken in a fixed order, so results repeat bit for bit,
 * and each is compensated (Kahan) over blocks of BLOCK_ROWS plain float additions, so rounding grows with
 * the block, not with the millions of rows a reduction may have. A sum that has become infinite or NaN
 * keeps no carry, whose Inf - Inf would turn an infinite sum NaN.
 *
 * column_partials: the first pass of the bias gradient, column sums of a (rows, channels) matrix. Launch:
 *   global = (round_up(channels, local), splits), 1 row range per global id 1.
 * The summed values (column_partials' `values`, sum_partials' `result`) are storage_t (storage.cl, compiled in
 * front): a 16-bit type is widened on load and the result rounded once to nearest even; partials stay float32,
 * so a 16-bit reduction accumulates in float32 throughout. A float32 result of 16-bit values (the bias gradient)
 * takes column_partials of the 16-bit program and sum_partials of the float32 one.
 *
 * sum_partials: the second pass of both gradients: result[i] = sum over s of partials[s * length + i].
 *   Launch: global = round_up(length, local), 1-d.
 */

/* Whether x is finite, tested on its bits: a compiler that assumes finite math may fold isfinite to true. */
#define FINITE(x) ((as_uint(x) & 0x7f800000u) != 0x7f800000u)

#ifndef BLOCK_ROWS
#define BLOCK_ROWS 16
#endif

__kernel void column_partials(const int rows, const int channels, const int rows_per_split,
                              __global const storage_t* restrict values,
                              __global float* restrict partials) {
    const int column = get_global_id(0);
    const int split = get_global_id(1);
    if (column >= channels) {
        return;
    }
    const int first = split * rows_per_split;
    const int last = min(rows, first + rows_per_split);
    float sum = 0.0f;
    float carry = 0.0f;
    for (int start = first; start < last; start += BLOCK_ROWS) {
        const int end = min(last, start + BLOCK_ROWS);
        float block = 0.0f;
        for (int row = start; row < end; row++) {
            block += STORAGE_LOAD(1, values + row * channels + column);
        }
        const float y = block - carry;
        const float t = sum + y;
        carry = FINITE(t) ? (t - sum) - y : 0.0f; /* no Inf - Inf = NaN carry */
        sum = t;
    }
    partials[split * channels + column] = sum;
}

__kernel void sum_partials(const int splits, const int length,
                           __global const float* restrict partials,
                           __global storage_t* restrict result) {
    const int i = get_global_id(0);
    if (i >= length) {
        return;
    }
    float sum = 0.0f;
    float carry = 0.0f;
    for (int s = 0; s < splits; s++) {
        const float y = partials[s * length + i] - carry;
        const float t = sum + y;
        carry = FINITE(t) ? (t - sum) - y : 0.0f; /* no Inf - Inf = NaN carry */
        sum = t;
    }
    STORAGE_STORE(1, sum, result + i);
}
