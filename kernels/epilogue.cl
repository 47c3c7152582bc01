/*
 * The epilogue of a convolution's store (org.convcl.Epilogue; org.convcl.backend.internal.HostEpilogue.apply is its
 * host twin): y = activation(((conv * scale[c]) + shift[c]) + residual[i]), in that order in float32, where conv is
 * the value the kernel stores today (bias included, after its +0 fix-up), c its output channel and i its element
 * in the output (the residual has the output's shape and layout). Compiled after activation.cl and in front of
 * every kernel that stores a convolution's output (conv_gemm.cl, conv_depthwise.cl, conv_general.cl and the fold of
 * edge_padding.cl) and of the element-wise epilogue kernels (epilogue_pass.cl, epilogue_gradient.cl), selected by
 * compile-time constants:
 *   EPI_SCALE     1: multiply by scale[c]
 *   EPI_SHIFT     1: add shift[c]
 *   EPI_RESIDUAL  1: add residual[i]
 *   ACTIVATION, ACTIVATION_PARAM: activation.cl's
 * EPILOGUE is 1 when any part is on. A store applies the epilogue only under #if EPILOGUE, so with every option 0
 * (a plain convolution) its compiled code is what it was without an epilogue; the kernels' scale, shift and
 * residual arguments are then never read (the host binds any buffer there). The residual has the output's storage
 * type (storage.cl, compiled in front: a 16-bit one widened on load); scale and shift are float32 whatever it is.
 */
#ifndef EPI_SCALE
#define EPI_SCALE 0
#endif
#ifndef EPI_SHIFT
#define EPI_SHIFT 0
#endif
#ifndef EPI_RESIDUAL
#define EPI_RESIDUAL 0
#endif

#define EPILOGUE (EPI_SCALE || EPI_SHIFT || EPI_RESIDUAL || ACTIVATION != 0)

/*
 * The pre-activation of one stored value, z = ((conv * scale[c]) + shift[c]) + residual[i]: conv of output channel
 * `channel`, element `element` of the residual (which the caller has moved to the call's first output element).
 * Contraction is off so that v * scale + shift is two roundings, as the host computes it, never an fma. It only
 * reads, so a caller may pass a residual that is also the tensor it writes (the unfused pass does).
 */
static inline float epilogue_preactivation(const float conv, const int channel, const int element,
                                           __global const float* restrict scale, __global const float* restrict shift,
                                           __global const storage_t* restrict residual) {
#pragma OPENCL FP_CONTRACT OFF
    float v = conv;
#if EPI_SCALE
    v = v * scale[channel];
#endif
#if EPI_SHIFT
    v = v + shift[channel];
#endif
#if EPI_RESIDUAL
    v = v + STORAGE_LOAD(1, residual + element);
#endif
    return v;
}

/* The epilogue of one stored value: its pre-activation through the activation. */
static inline float epilogue_value(const float conv, const int channel, const int element,
                                   __global const float* restrict scale, __global const float* restrict shift,
                                   __global const storage_t* restrict residual) {
    return activation_apply(epilogue_preactivation(conv, channel, element, scale, shift, residual));
}

/*
 * epilogue_value of `count` consecutive values in place: lanes[v] is channel channel + v and element element + v
 * (a vector store's lanes, unpacked into private memory and packed again by the caller).
 */
static inline void epilogue_lanes(float* lanes, const int count, const int channel, const int element,
                                  __global const float* restrict scale, __global const float* restrict shift,
                                  __global const storage_t* restrict residual) {
    for (int v = 0; v < count; v++) {
        lanes[v] = epilogue_value(lanes[v], channel + v, element + v, scale, shift, residual);
    }
}

/*
 * The epilogue on a vector of consecutive channels, for the piecewise-linear activations (ACTIVATION <= 3: identity,
 * relu, relu6, leaky_relu) that select can write lane by lane: a store that unpacks its vector into a private
 * array for epilogue_lanes costs a CPU driver (PoCL) the vectorisation of the whole kernel. The operations are
 * epilogue_value's, in the same order and with contraction off, so each lane is bit-identical to it; relu and relu6
 * select NaN through as activation_apply lets it pass (fmax alone would drop it).
 *
 * OpenCL C has no templates and a kernel's vector type is defined after this file, so a kernel instantiates it
 * for its own type: EPILOGUE_VECTOR(name, floatT, LOAD) defines
 *   floatT name(floatT conv, int channel, int element, scale, shift, residual)
 * the epilogue of channels channel .. channel + WIDTH - 1 at residual elements element .., where LOAD(p) reads a
 * floatT from a __global const float* p of any float alignment (vloadN(0, p), or *(p) for a scalar floatT), and a
 * 16-bit residual is read with STORAGE_LOAD(WIDTH, p).
 */
#define EPILOGUE_ON_VECTORS (ACTIVATION <= 3)

#if EPI_SCALE
#define EPI_VECTOR_SCALE(v, LOAD, scale, channel) ((v) * LOAD((scale) + (channel)))
#else
#define EPI_VECTOR_SCALE(v, LOAD, scale, channel) (v)
#endif
#if EPI_SHIFT
#define EPI_VECTOR_SHIFT(v, LOAD, shift, channel) ((v) + LOAD((shift) + (channel)))
#else
#define EPI_VECTOR_SHIFT(v, LOAD, shift, channel) (v)
#endif
/* The residual has the output's storage (storage.cl): float through LOAD, 16-bit types widened by STORAGE_LOAD. */
#if EPI_RESIDUAL && STORAGE == 0
#define EPI_VECTOR_RESIDUAL(v, LOAD, WIDTH, residual, element) ((v) + LOAD((residual) + (element)))
#elif EPI_RESIDUAL
#define EPI_VECTOR_RESIDUAL(v, LOAD, WIDTH, residual, element) ((v) + STORAGE_LOAD(WIDTH, (residual) + (element)))
#else
#define EPI_VECTOR_RESIDUAL(v, LOAD, WIDTH, residual, element) (v)
#endif
/* activation_apply's piecewise-linear cases; for a scalar floatT, select and the relational built-ins are the same. */
#if ACTIVATION == 1
#define EPI_VECTOR_ACTIVATION(floatT, v) select((floatT) 0.0f, (v), isgreater((v), (floatT) 0.0f) | isnan(v))
#elif ACTIVATION == 2
#define EPI_VECTOR_ACTIVATION(floatT, v) select(fmin(fmax((v), (floatT) 0.0f), (floatT) 6.0f), (v), isnan(v))
#elif ACTIVATION == 3
#define EPI_VECTOR_ACTIVATION(floatT, v) select(ACTIVATION_PARAM * (v), (v), isgreaterequal((v), (floatT) 0.0f))
#else
#define EPI_VECTOR_ACTIVATION(floatT, v) (v)
#endif

/* One statement per operation, as epilogue_value has them: with contraction off, each is rounded on its own. */
#define EPILOGUE_VECTOR(name, floatT, LOAD, WIDTH)                                                                   \
    static inline floatT name(const floatT conv, const int channel, const int element,                             \
                              __global const float* restrict scale, __global const float* restrict shift,          \
                              __global const storage_t* restrict residual) {                                       \
        _Pragma("OPENCL FP_CONTRACT OFF")                                                                            \
        floatT v = EPI_VECTOR_SCALE(conv, LOAD, scale, channel);                                                    \
        v = EPI_VECTOR_SHIFT(v, LOAD, shift, channel);                                                               \
        v = EPI_VECTOR_RESIDUAL(v, LOAD, WIDTH, residual, element);                                                  \
        return EPI_VECTOR_ACTIVATION(floatT, v);                                                                     \
    }
