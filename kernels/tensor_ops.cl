/*
 * Small element-wise rearrangements the backward pass needs on device-resident tensors, so that a layer's
 * uploaded kernel never travels back to the host.
 *
 * flip_swap: org.convcl.internal.KernelLayout.flipSwap on the device. A kernel (*k, A, groups * B) becomes
 *   (*k, B, groups * A) with every spatial axis flipped and the channel axes swapped within each group:
 *   result[taps - 1 - t][j][g * A + i] = kernel[t][i][g * B + j]. Flipping every axis of a row-major tap
 *   index t is taps - 1 - t, so the rank never matters. One work-item per result element.
 * multiply_in_place: values[i] *= factors[i] (a kernel mask applied to a kernel gradient).
 *
 * Operands are storage_t (storage.cl, compiled in front): float32, or a 16-bit type widened on load and rounded
 * to nearest even on store, so flip_swap copies a 16-bit value exactly and the product is rounded once.
 *
 * Launch: global = round_up(element count, local), 1-d.
 */

__kernel void flip_swap(const int taps, const int a, const int b, const int groups,
                        __global const storage_t* restrict kernel_values,
                        __global storage_t* restrict result) {
    const int element = get_global_id(0);
    const int tap_size = a * groups * b;
    if (element >= taps * tap_size) {
        return;
    }
    const int flipped = element / tap_size;
    const int rest = element % tap_size;
    const int j = rest / (groups * a);
    const int column = rest % (groups * a);
    const int g = column / a;
    const int i = column % a;
    const int t = taps - 1 - flipped;
    STORAGE_STORE(1, STORAGE_LOAD(1, kernel_values + t * tap_size + i * (groups * b) + g * b + j),
                  result + element);
}

__kernel void multiply_in_place(const int length,
                                __global storage_t* restrict values,
                                __global const storage_t* restrict factors) {
    const int i = get_global_id(0);
    if (i < length) {
        STORAGE_STORE(1, STORAGE_LOAD(1, values + i) * STORAGE_LOAD(1, factors + i), values + i);
    }
}
