/*
 * The activation of a convolution's epilogue, with jax.nn's definitions (org.convcl.Activation is the Java twin
 * and documents each one). Compiled in front of the kernels that store a convolution's output (and of the epilogue
 * gradient), selected by two compile-time constants:
 *   ACTIVATION        the function's code (org.convcl.Activation.Kind.code): 0 identity, 1 relu, 2 relu6,
 *                     3 leaky_relu, 4 elu, 5 gelu (erfc, jax's form), 6 gelu_tanh, 7 silu, 8 sigmoid, 9 tanh, 10 hard_swish
 *   ACTIVATION_PARAM  leaky_relu's negative slope or elu's alpha, as an exact float literal (0x1.47ae14p-7f)
 * NaN propagates as in jax (maximum/minimum keep NaN, comparisons select the other branch); infinities follow the
 * formulas, so silu(-inf) = -inf * 0 = NaN as in jax. Written with plain operations (no native_ or half_ maths),
 * so that the kernels and the Java path agree to float32 rounding.
 */
#ifndef ACTIVATION
#define ACTIVATION 0
#endif
#ifndef ACTIVATION_PARAM
#define ACTIVATION_PARAM 0.0f
#endif

#define GELU_K 0.7978845608028654f /* sqrt(2 / pi) */
#define GELU_C 0.044715f

static inline float act_relu6(const float z) {
    return isnan(z) ? z : fmin(fmax(z, 0.0f), 6.0f);
}

/*
 * tanh, exactly +-1 beyond 9.1 (float32 rounds tanh to +-1 from 9.011 on) and at the infinities, as OpenCL C
 * requires and Java and jax give: PoCL's tanh stops one ulp short of +-1 at any magnitude, which gelu_tanh's 1 + tanh
 * would multiply by a huge z (gelu_tanh(-1e10) = -298 instead of -0). NaN goes through tanh.
 */
static inline float act_tanh(const float x) {
    return fabs(x) > 9.1f ? copysign(1.0f, x) : tanh(x);
}

static inline float act_sigmoid(const float z) {
    return 1.0f / (1.0f + exp(-z));
}

/* The activation of a pre-activation z. */
static inline float activation_apply(const float z) {
#if ACTIVATION == 0
    return z;
#elif ACTIVATION == 1
    return z > 0.0f ? z : (isnan(z) ? z : 0.0f);
#elif ACTIVATION == 2
    return act_relu6(z);
#elif ACTIVATION == 3
    return z >= 0.0f ? z : ACTIVATION_PARAM * z;
#elif ACTIVATION == 4
    return z > 0.0f ? z : ACTIVATION_PARAM * expm1(z);
#elif ACTIVATION == 5
    return 0.5f * z * erfc(-z * 0.70710678118654752f);
#elif ACTIVATION == 6
    return z * (0.5f * (1.0f + act_tanh(GELU_K * (z + GELU_C * (z * z * z)))));
#elif ACTIVATION == 7
    return z * act_sigmoid(z);
#elif ACTIVATION == 8
    return act_sigmoid(z);
#elif ACTIVATION == 9
    return act_tanh(z);
#elif ACTIVATION == 10
    return z * act_relu6(z + 3.0f) / 6.0f;
#else
#error "unknown ACTIVATION"
#endif
}

/* d activation_apply(z) / dz as jax's autodiff gives it (relu's subgradient at 0 is 0; see Activation.derivative). */
static inline float activation_derivative(const float z) {
#if ACTIVATION == 0
    return 1.0f;
#elif ACTIVATION == 1
    return z > 0.0f ? 1.0f : 0.0f;
#elif ACTIVATION == 2
    return z > 0.0f && z < 6.0f ? 1.0f : 0.0f;
#elif ACTIVATION == 3
    return z >= 0.0f ? 1.0f : ACTIVATION_PARAM;
#elif ACTIVATION == 4
    return z > 0.0f ? 1.0f : ACTIVATION_PARAM * exp(z);
#elif ACTIVATION == 5
    return 0.5f * erfc(-z * 0.70710678118654752f) + z * exp(-z * z / 2.0f) * 0.3989422804014327f;
#elif ACTIVATION == 6
    const float t = act_tanh(GELU_K * (z + GELU_C * (z * z * z)));
    return 0.5f * (1.0f + t) + 0.5f * z * (1.0f - t * t) * GELU_K * (1.0f + 3.0f * GELU_C * z * z);
#elif ACTIVATION == 7
    const float s = act_sigmoid(z);
    return s + z * s * (1.0f - s);
#elif ACTIVATION == 8
    const float s = act_sigmoid(z);
    return s * (1.0f - s);
#elif ACTIVATION == 9
    const float t = act_tanh(z);
    return 1.0f - t * t;
#elif ACTIVATION == 10
    const float u = z + 3.0f;
    return act_relu6(u) / 6.0f + (u > 0.0f && u < 6.0f ? z / 6.0f : 0.0f * z);
#else
#error "unknown ACTIVATION"
#endif
}
