/*
 * A convolution's epilogue as a pass of its own over a channels-last output, in place (the unfused form that the
 * bench compares the fused store with): output[i] = activation_apply(((output[i] * scale[c]) + shift[c])
 * + residual[i]) with c = i % channels, each part only when the epilogue has it, in the order and float32
 * operations of org.convcl.backend.internal.HostEpilogue.apply. Compiled after activation.cl (ACTIVATION,
 * ACTIVATION_PARAM); the other options say which parts the epilogue has:
 *   EPI_SCALE, EPI_SHIFT, EPI_RESIDUAL   1 where that operand is read, 0 where its argument is a placeholder
 * Each work-item reads every operand of its element before writing it, so a residual (or a scale or shift, when
 * channels == length) that is the output itself gives what the host's loop gives.
 *
 * output and residual are storage_t (storage.cl, compiled in front: a 16-bit type widened on load, the result
 * rounded once to nearest even on store); scale and shift are float32 whatever it is.
 *
 * Launch: global = round_up(length, local), 1-d: one work-item per element, neighbours on neighbouring floats.
 */
#pragma OPENCL FP_CONTRACT OFF /* no a * b + c fused into one rounding: the host rounds each operation */

#ifndef EPI_SCALE
#define EPI_SCALE 0
#endif
#ifndef EPI_SHIFT
#define EPI_SHIFT 0
#endif
#ifndef EPI_RESIDUAL
#define EPI_RESIDUAL 0
#endif

__kernel void epilogue_pass(const int length, const int channels,
                            __global storage_t* output,
                            __global const float* scale,
                            __global const float* shift,
                            __global const storage_t* residual) {
    /* size_t: the rounded-up global size may pass INT_MAX when length is close to it. */
    const size_t id = get_global_id(0);
    if (id >= (size_t) length) {
        return;
    }
    const int i = (int) id;
#if EPI_SCALE || EPI_SHIFT
    const int c = i % channels; /* only where a per-channel operand needs it: a modulo costs */
#endif
    float v = STORAGE_LOAD(1, output + i);
#if EPI_SCALE
    v = v * scale[c];
#endif
#if EPI_SHIFT
    v = v + shift[c];
#endif
#if EPI_RESIDUAL
    v = v + STORAGE_LOAD(1, residual + i);
#endif
    STORAGE_STORE(1, activation_apply(v), output + i);
}
