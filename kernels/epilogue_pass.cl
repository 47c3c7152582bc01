/*
 * A convolution's epilogue as a pass of its own over a channels-last output, in place (the unfused form that the
 * bench compares the fused store with): output[i] = epilogue_value(output[i]) of epilogue.cl, with c = i % channels,
 * in the order and float32 operations of org.convcl.backend.internal.HostEpilogue.apply. Compiled after
 * activation.cl and epilogue.cl, whose options (ACTIVATION, EPI_SCALE, EPI_SHIFT, EPI_RESIDUAL) say which parts the
 * epilogue has; an operand it does not have is a placeholder argument, never read. Each work-item reads every
 * operand of its element before writing it, so a residual (or a scale or shift, when channels == length) that is
 * the output itself gives what the host's loop gives.
 *
 * output and residual are storage_t (storage.cl, compiled in front: a 16-bit type widened on load, the result
 * rounded once to nearest even on store); scale and shift are float32 whatever it is.
 *
 * Launch: global = round_up(length, local), 1-d: one work-item per element, neighbours on neighbouring floats.
 */
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
    /* The modulo is dead code, dropped by the compiler, unless a per-channel operand is read. */
    const float y = epilogue_value(STORAGE_LOAD(1, output + i), i % channels, i, scale, shift, residual);
    STORAGE_STORE(1, y, output + i);
}
