/*
 * Depthwise convolution of rank 1 to 3 (groups == CIN: one input channel per group, MULT = COUT / CIN
 * output channels per input channel), channels-last, flax nnx.Conv semantics.
 *
 * There is no reduction over channels, so this is bandwidth bound: each work-item computes VEC
 * consecutive output channels (one vector load or store each) for WPT_W consecutive output positions
 * along W. Along W it loads the input window those outputs share once into registers (sliding-window
 * reuse: (WPT_W - 1) * STRIDE_W + (K_W - 1) * KDIL_W + 1 positions instead of WPT_W * K_W, when that is
 * fewer), so the input
 * comes from device memory about once and the output is written once: one pass over the data.
 * Neighbouring work-items take neighbouring channel vectors of the same pixels, so accesses coalesce.
 *
 * Taps landing in padding or in the holes of input dilation issue no load but are multiplied, as zeros: jax
 * inserts those zeros into the operand (lax.pad), so a NaN or infinite weight over one gives 0 * Inf = NaN.
 * The store applies the epilogue of epilogue.cl (compiled in front, after activation.cl) when EPILOGUE, lane by lane
 * of the channel vector, the residual read at the output's own element, residual_offset elements into its buffer;
 * it may be the output buffer itself (see conv_gemm.cl: output and epi_residual are not restrict for that).
 * The operands are stored as storage.cl (compiled in front) says: 16-bit ones are widened to float on load and the
 * output rounded to nearest even on store; the arithmetic is float32 throughout.
 * Every size is a -D constant; the batch and buffer offsets are run-time arguments. Vector accesses
 * assume element offsets that are multiples of VEC (the host checks). The geometry's defaults and
 * source_index come from conv_geometry.cl, which the host compiles in front of this file.
 *
 * Launch: 1-d, global = round_up(batch * OUT_D * OUT_H * ceil(OUT_W / WPT_W) * COUT / VEC, WG), local = WG.
 */

#ifndef VEC
#define VEC 1
#endif
#ifndef WPT_W
#define WPT_W 1
#endif
#ifndef HAS_BIAS
#define HAS_BIAS 0
#endif
/* epilogue.cl, compiled in front only for a store with an epilogue, defines EPILOGUE; a plain program has none. */
#ifndef EPILOGUE
#define EPILOGUE 0
#endif

#define MULT (COUT / CIN)
#define CHANNEL_VECTORS (COUT / VEC)
#define W_BLOCKS ((OUT_W + WPT_W - 1) / WPT_W)
#define SPAN ((WPT_W - 1) * STRIDE_W + (K_W - 1) * KDIL_W + 1)

#if COUT % VEC != 0
#error "VEC must divide COUT"
#endif

#if VEC == 1
typedef float floatV;
typedef uint uintV;
#define AS_UINT_V as_uint
#define AS_FLOAT_V as_float
#define VLOAD_V(p) (*(p))
#define LOAD_LANES(a) ((a)[0])
#define STORE_LANES(v, a) ((a)[0] = (v))
#elif VEC == 2
typedef float2 floatV;
typedef uint2 uintV;
#define AS_UINT_V as_uint2
#define AS_FLOAT_V as_float2
#define VLOAD_V(p) vload2(0, p)
#define LOAD_LANES(a) vload2(0, a)
#define STORE_LANES(v, a) vstore2(v, 0, a)
#elif VEC == 4
typedef float4 floatV;
typedef uint4 uintV;
#define AS_UINT_V as_uint4
#define AS_FLOAT_V as_float4
#define VLOAD_V(p) vload4(0, p)
#define LOAD_LANES(a) vload4(0, a)
#define STORE_LANES(v, a) vstore4(v, 0, a)
#elif VEC == 8
typedef float8 floatV;
typedef uint8 uintV;
#define AS_UINT_V as_uint8
#define AS_FLOAT_V as_float8
#define VLOAD_V(p) vload8(0, p)
#define LOAD_LANES(a) vload8(0, a)
#define STORE_LANES(v, a) vstore8(v, 0, a)
#elif VEC == 16
typedef float16 floatV;
typedef uint16 uintV;
#define AS_UINT_V as_uint16
#define AS_FLOAT_V as_float16
#define VLOAD_V(p) vload16(0, p)
#define LOAD_LANES(a) vload16(0, a)
#define STORE_LANES(v, a) vstore16(v, 0, a)
#else
#error "VEC must be 1, 2, 4, 8 or 16"
#endif

#if EPILOGUE && EPILOGUE_ON_VECTORS
/* epilogue.cl's epilogue on the channel vector (see EPILOGUE_VECTOR there). */
EPILOGUE_VECTOR(epilogue_vector, floatV, VLOAD_V, VEC)
#endif

/* VEC input channels feeding output channels co .. co + VEC - 1 at one input pixel. */
static inline floatV load_input(__global const storage_t* restrict pixel, const int co) {
#if MULT == 1
    return STORAGE_LOAD(VEC, pixel + co);
#else
    float lanes[VEC];
#pragma unroll
    for (int v = 0; v < VEC; v++) {
        lanes[v] = STORAGE_LOAD(1, pixel + (co + v) / MULT);
    }
    return LOAD_LANES(lanes);
#endif
}

__kernel void conv_depthwise(const int batch,
                             __global const storage_t* restrict input, const int input_offset,
                             __global const storage_t* restrict weights,
                             __global const storage_t* restrict bias,
                             __global storage_t* output, const int output_offset,
                             __global const float* restrict epi_scale, __global const float* restrict epi_shift,
                             __global const storage_t* epi_residual, const int residual_offset) {
    int item = get_global_id(0);
    if (item >= batch * (OUT_D * OUT_H * W_BLOCKS * CHANNEL_VECTORS)) {
        return;
    }
    const int co = (item % CHANNEL_VECTORS) * VEC;
    item /= CHANNEL_VECTORS;
    const int ow0 = (item % W_BLOCKS) * WPT_W;
    item /= W_BLOCKS;
    const int oh = item % OUT_H;
    item /= OUT_H;
    const int od = item % OUT_D;
    const int b = item / OUT_D;

    floatV acc[WPT_W];
#pragma unroll
    for (int o = 0; o < WPT_W; o++) {
        acc[o] = (floatV) 0.0f;
    }
    __global const storage_t* const image = input + input_offset + b * (IN_PIXELS * CIN);

#pragma unroll
    for (int kd = 0; kd < K_D; kd++) {
        const int id = source_index(od * STRIDE_D - PAD_D + kd * KDIL_D, IN_D, IDIL_D);
#pragma unroll
        for (int kh = 0; kh < K_H; kh++) {
            const int ih = source_index(oh * STRIDE_H - PAD_H + kh * KDIL_H, IN_H, IDIL_H);
            /* A row of zeros (padding or a hole) is still multiplied: rare, at the edges only. */
            const bool real_row = id >= 0 && ih >= 0;
            __global const storage_t* const row = image + (real_row ? (id * IN_H + ih) * (IN_W * CIN) : 0);
#if SPAN <= WPT_W * K_W
            /* The window of input positions the WPT_W outputs read along W, loaded once. */
            floatV window[SPAN];
#pragma unroll
            for (int x = 0; x < SPAN; x++) {
                const int iw = source_index(ow0 * STRIDE_W - PAD_W + x, IN_W, IDIL_W);
                window[x] = real_row && iw >= 0 ? load_input(row + iw * CIN, co) : (floatV) 0.0f;
            }
#pragma unroll
            for (int kw = 0; kw < K_W; kw++) {
                const floatV w = STORAGE_LOAD(VEC, weights + ((kd * K_H + kh) * K_W + kw) * COUT + co);
#pragma unroll
                for (int o = 0; o < WPT_W; o++) {
                    acc[o] = fma(window[o * STRIDE_W + kw * KDIL_W], w, acc[o]);
                }
            }
#else
            /* Sparse window (large kernel dilation): load only the positions some output reads. */
#pragma unroll
            for (int kw = 0; kw < K_W; kw++) {
                const floatV w = STORAGE_LOAD(VEC, weights + ((kd * K_H + kh) * K_W + kw) * COUT + co);
#pragma unroll
                for (int o = 0; o < WPT_W; o++) {
                    const int iw = source_index((ow0 + o) * STRIDE_W - PAD_W + kw * KDIL_W, IN_W, IDIL_W);
                    const floatV x = real_row && iw >= 0 ? load_input(row + iw * CIN, co) : (floatV) 0.0f;
                    acc[o] = fma(x, w, acc[o]);
                }
            }
#endif
        }
    }

#if HAS_BIAS
    const floatV shift = STORAGE_LOAD(VEC, bias + co);
#endif
    __global storage_t* const out_row = output + output_offset + ((b * OUT_D + od) * OUT_H + oh) * (OUT_W * COUT);
#pragma unroll
    for (int o = 0; o < WPT_W; o++) {
        if (ow0 + o < OUT_W) {
#if HAS_BIAS
            const floatV sum = acc[o] + shift;
#else
            const floatV sum = acc[o];
#endif
            // A zero result is stored as +0, as XLA's sums, which start at +0, give it for -0 products: a
            // compiler that drops the signed zero of fma(x, w, +0) (Mesa's, given SPIR-V without the flag that
            // keeps it) would leave -0. (A tiny negative product that rounds to zero in the fma is -0 in IEEE
            // arithmetic; it becomes +0 as well, equal as a value.) The integer bits, which no float folding
            // touches, do it.
            const uintV bits = AS_UINT_V(sum);
            const floatV fixed = AS_FLOAT_V(select(bits, (uintV) 0u, bits == (uintV) 0x80000000u));
#if EPILOGUE && EPILOGUE_ON_VECTORS
            /* The piecewise-linear activations on the vector itself (epilogue_value's operations, lane by lane):
               unpacking the lanes into a private array costs a CPU driver its vectorisation of the kernel. */
            const floatV value = epilogue_vector(fixed, co, (((b * OUT_D + od) * OUT_H + oh) * OUT_W + ow0 + o) * COUT
                                                 + co, epi_scale, epi_shift, epi_residual + residual_offset);
#elif EPILOGUE
            float lanes[VEC];
            STORE_LANES(fixed, lanes);
            epilogue_lanes(lanes, VEC, co, (((b * OUT_D + od) * OUT_H + oh) * OUT_W + ow0 + o) * COUT + co,
                           epi_scale, epi_shift, epi_residual + residual_offset);
            const floatV value = LOAD_LANES(lanes);
#else
            const floatV value = fixed;
#endif
            STORAGE_STORE(VEC, value, out_row + (ow0 + o) * COUT + co);
        }
    }
}
