/*
 * For scripts/lint-kernels only: the OpenCL built-ins conv_gemm.cl's kernels (conv_gemm, phase_bias) call,
 * defined for NVIDIA's PTX target with clang's NVVM built-ins, so that clang (which has no libclc here) can emit
 * PTX that ptxas assembles. Not a kernel: the host never compiles it.
 */
size_t __attribute__((overloadable)) get_local_id(uint dim) {
    return dim == 0 ? __nvvm_read_ptx_sreg_tid_x() : dim == 1 ? __nvvm_read_ptx_sreg_tid_y() : __nvvm_read_ptx_sreg_tid_z();
}

size_t __attribute__((overloadable)) get_group_id(uint dim) {
    return dim == 0 ? __nvvm_read_ptx_sreg_ctaid_x()
                    : dim == 1 ? __nvvm_read_ptx_sreg_ctaid_y() : __nvvm_read_ptx_sreg_ctaid_z();
}

size_t __attribute__((overloadable)) get_global_id(uint dim) {
    const size_t size = dim == 0 ? __nvvm_read_ptx_sreg_ntid_x()
                                 : dim == 1 ? __nvvm_read_ptx_sreg_ntid_y() : __nvvm_read_ptx_sreg_ntid_z();
    return get_group_id(dim) * size + get_local_id(dim);
}

void __attribute__((overloadable)) barrier(cl_mem_fence_flags flags) {
    __nvvm_bar_sync(0);
}

/* The 16-bit storage's conversions and vector loads (storage.cl, the 16-bit mma's packing), by integer arithmetic:
   ptxas needs a definition, not these values' last bit. */
static float lint_half_to_float(const ushort h) {
    const uint sign = (uint) (h & 0x8000u) << 16;
    const uint exponent = (h >> 10) & 0x1fu;
    const uint mantissa = h & 0x3ffu;
    if (exponent == 0) {
        return as_float(sign) + (float) mantissa * 0x1p-24f;
    }
    return as_float(sign | (exponent == 31 ? 0x7f800000u : (exponent + 112) << 23) | mantissa << 13);
}

static ushort lint_float_to_half(const float x) {
    const uint bits = as_uint(x);
    const uint sign = (bits >> 16) & 0x8000u;
    const uint magnitude = bits & 0x7fffffffu;
    if (magnitude >= 0x47800000u) {
        return (ushort) (sign | (magnitude > 0x7f800000u ? 0x7e00u : 0x7c00u));
    }
    if (magnitude < 0x38800000u) {
        return (ushort) (sign | (uint) (as_float(magnitude) * 0x1p24f + 0.5f));
    }
    const uint rounded = magnitude + 0xfffu + ((magnitude >> 13) & 1u) - 0x38000000u;
    return (ushort) (sign | rounded >> 13);
}

float __attribute__((overloadable)) vload_half(size_t offset, const __global half* p) {
    return lint_half_to_float(((const __global ushort*) p)[offset]);
}

float2 __attribute__((overloadable)) vload_half2(size_t offset, const __global half* p) {
    return (float2) (vload_half(2 * offset, p), vload_half(2 * offset + 1, p));
}

float4 __attribute__((overloadable)) vload_half4(size_t offset, const __global half* p) {
    return (float4) (vload_half2(2 * offset, p), vload_half2(2 * offset + 1, p));
}

void __attribute__((overloadable)) vstore_half_rte(float value, size_t offset, __global half* p) {
    ((__global ushort*) p)[offset] = lint_float_to_half(value);
}

void __attribute__((overloadable)) vstore_half2_rte(float2 value, size_t offset, half* p) {
    ((ushort*) p)[2 * offset] = lint_float_to_half(value.x);
    ((ushort*) p)[2 * offset + 1] = lint_float_to_half(value.y);
}

uint2 __attribute__((overloadable)) convert_uint2(ushort2 value) {
    return (uint2) (value.x, value.y);
}

uint4 __attribute__((overloadable)) convert_uint4(ushort4 value) {
    return (uint4) (value.x, value.y, value.z, value.w);
}

ushort2 __attribute__((overloadable)) vload2(size_t offset, const __global ushort* p) {
    return (ushort2) (p[2 * offset], p[2 * offset + 1]);
}

ushort4 __attribute__((overloadable)) vload4(size_t offset, const __global ushort* p) {
    return (ushort4) (vload2(2 * offset, p), vload2(2 * offset + 1, p));
}
