/*
 * How a convolution's operands are stored in device memory (org.convcl.DType, issue 26), compiled in front of the
 * forward kernels (conv_gemm.cl, conv_depthwise.cl, conv_general.cl), selected by STORAGE:
 *   0  float32 (the default): the macros expand to the plain float loads and stores the kernels had before
 *   1  float16: core OpenCL's vload_half / vstore_half_rte (round to nearest even); no cl_khr_fp16, which NVIDIA's
 *      OpenCL lacks: the values are widened to float on load and narrowed on store, never computed in half
 *   2  bfloat16, held as ushort: a load shifts the bits into a float's upper half; a store rounds the float's
 *      bits to nearest even by integer arithmetic and keeps a NaN a quiet NaN of the same sign, exactly as
 *      convert.cl (and org.convcl.HalfFloats) convert
 * Products and sums stay in float32 whatever the storage (cuDNN's default for FP16 convolution); only memory holds
 * 16-bit values. storage_t is the element type of an operand's buffer. STORAGE_LOAD(n, p) reads the n (1, 2, 4, 8
 * or 16) consecutive elements at p as a float or floatn; STORAGE_STORE(n, v, p) writes a float or floatn there.
 * n may be a macro (VEC, VWN): it is expanded before it is pasted.
 */

/* Compiled once where the epilogue's files (epilogue.cl, which reads a residual of the output's type) put it in
   front of a kernel that also lists it. */
#ifndef STORAGE_CL
#define STORAGE_CL

#ifndef STORAGE
#define STORAGE 0
#endif

#define STORAGE_CAT_(a, b) a##b
#define STORAGE_CAT(a, b) STORAGE_CAT_(a, b)
#define STORAGE_LOAD(n, p) STORAGE_CAT(storage_load, n)(p)
#define STORAGE_STORE(n, v, p) STORAGE_CAT(storage_store, n)(v, p)

#if STORAGE == 0

typedef float storage_t;
#define storage_load1(p) (*(p))
#define storage_load2(p) (*((__global const float2*) (p)))
#define storage_load4(p) (*((__global const float4*) (p)))
#define storage_load8(p) (*((__global const float8*) (p)))
#define storage_load16(p) (*((__global const float16*) (p)))
#define storage_store1(v, p) (*(p) = (v))
#define storage_store2(v, p) (*((__global float2*) (p)) = (v))
#define storage_store4(v, p) (*((__global float4*) (p)) = (v))
#define storage_store8(v, p) (*((__global float8*) (p)) = (v))
#define storage_store16(v, p) (*((__global float16*) (p)) = (v))

#elif STORAGE == 1

typedef half storage_t;
#define storage_load1(p) vload_half(0, p)
#define storage_load2(p) vload_half2(0, p)
#define storage_load4(p) vload_half4(0, p)
#define storage_load8(p) vload_half8(0, p)
#define storage_load16(p) vload_half16(0, p)
#define storage_store1(v, p) vstore_half_rte(v, 0, p)
#define storage_store2(v, p) vstore_half2_rte(v, 0, p)
#define storage_store4(v, p) vstore_half4_rte(v, 0, p)
#define storage_store8(v, p) vstore_half8_rte(v, 0, p)
#define storage_store16(v, p) vstore_half16_rte(v, 0, p)

#elif STORAGE == 2

typedef ushort storage_t;

static inline float storage_load1(__global const ushort* p) {
    return as_float((uint) *p << 16);
}

/* Adding 0x7fff plus the kept part's lowest bit rounds to nearest even; a carry into the exponent is the correct
   rounding, up to infinity. A NaN keeps its sign and top payload bits and gets the quiet bit. */
static inline void storage_store1(const float value, __global ushort* p) {
    const uint bits = as_uint(value);
    *p = (bits & 0x7fffffffu) > 0x7f800000u ? (ushort) ((bits >> 16) | 0x0040u)
            : (ushort) ((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
}

/* storage_load1 and storage_store1 lane by lane, on vectors of n lanes. */
#define STORAGE_BFLOAT16_VECTOR(n) \
    static inline float##n storage_load##n(__global const ushort* p) { \
        return as_float##n(convert_uint##n(vload##n(0, p)) << 16); \
    } \
    static inline void storage_store##n(const float##n value, __global ushort* p) { \
        const uint##n bits = as_uint##n(value); \
        const uint##n rounded = (bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16; \
        const uint##n quiet = (bits >> 16) | 0x0040u; \
        vstore##n(convert_ushort##n(select(rounded, quiet, (bits & 0x7fffffffu) > 0x7f800000u)), 0, p); \
    }
STORAGE_BFLOAT16_VECTOR(2)
STORAGE_BFLOAT16_VECTOR(4)
STORAGE_BFLOAT16_VECTOR(8)
STORAGE_BFLOAT16_VECTOR(16)

#else
#error "STORAGE must be 0 (float32), 1 (float16) or 2 (bfloat16)"
#endif

#endif /* STORAGE_CL */
