/*
 * The backward of a convolution's epilogue y = act(((conv * scale[c]) + shift[c]) + residual), element-wise over
 * channels-last tensors, as org.convcl.backend.internal.HostEpilogue.gradient computes it: the pre-activation z
 * recomputed from conv exactly as the store forms it, then
 *   dz[i]      = dy[i] * activation_derivative(z)   (the residual's gradient; its column sums are the shift's)
 *   dz_conv[i] = dz[i] * conv[i]                    (only with HAS_DZ_CONV; its column sums are the scale's)
 *   dconv[i]   = dz[i] * scale[c]                   (or dz[i] without a scale)
 * with c = i % channels and z epilogue.cl's epilogue_preactivation. Compiled after activation.cl and epilogue.cl,
 * whose options (ACTIVATION, EPI_SCALE, EPI_SHIFT, EPI_RESIDUAL) say which parts the epilogue has (an operand it
 * does not have is a placeholder argument, never read); its own option:
 *   HAS_DZ_CONV   1 where dz_conv is written, 0 where its argument is a placeholder
 * Each work-item does its element's steps in the host loop's order, reading and writing through pointers that
 * may alias (no restrict), so outputs that are also operands (dz == dconv without a scale, as the host allows)
 * get what the host gives.
 *
 * conv, dy, residual, dz, dz_conv and dconv are storage_t (storage.cl, compiled in front: a 16-bit type widened on
 * load, each result rounded once to nearest even on store, from the float32 d);
 * scale and shift are float32 whatever it is.
 *
 * Launch: global = round_up(length, local), 1-d: one work-item per element, neighbours on neighbouring floats.
 */
#pragma OPENCL FP_CONTRACT OFF /* no a * b + c fused into one rounding: the host rounds each operation */

#ifndef HAS_DZ_CONV
#define HAS_DZ_CONV 0
#endif

__kernel void epilogue_gradient(const int length, const int channels,
                                __global const storage_t* conv,
                                __global const storage_t* dy,
                                __global const float* scale,
                                __global const float* shift,
                                __global const storage_t* residual,
                                __global storage_t* dz,
                                __global storage_t* dz_conv,
                                __global storage_t* dconv) {
    /* size_t: the rounded-up global size may pass INT_MAX when length is close to it. */
    const size_t id = get_global_id(0);
    if (id >= (size_t) length) {
        return;
    }
    const int i = (int) id;
    /* The modulo is dead code, dropped by the compiler, unless a per-channel operand is read. */
    const int c = i % channels;
    const float z = epilogue_preactivation(STORAGE_LOAD(1, conv + i), c, i, scale, shift, residual);
    const float d = STORAGE_LOAD(1, dy + i) * activation_derivative(z);
    STORAGE_STORE(1, d, dz + i);
#if HAS_DZ_CONV
    STORAGE_STORE(1, d * STORAGE_LOAD(1, conv + i), dz_conv + i);
#endif
#if EPI_SCALE
    STORAGE_STORE(1, d * scale[c], dconv + i);
#else
    STORAGE_STORE(1, d, dconv + i);
#endif
}
