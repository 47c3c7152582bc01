/*
 * Conversions between float32 and the 16-bit storage types on device buffers (issue 26), giving
 * org.convcl.HalfFloats's bits on every device.
 *
 * float16: vstore_half_rte (round to nearest even) and vload_half, core OpenCL: no cl_khr_fp16, which NVIDIA's
 *   OpenCL lacks. OpenCL leaves a NaN's payload to the implementation (PoCL narrows every NaN to 0x7fff and quiets
 *   signalling ones when widening), so NaNs are converted here by integer arithmetic, by NumPy's rule: to binary16
 *   the sign and top 10 payload bits (1 where none would remain, so the result stays a NaN); to float32 the payload
 *   shifted into place.
 * bfloat16: integer arithmetic on the float32 bits alone: adding 0x7fff plus the kept part's lowest bit rounds to
 *   nearest even (a carry into the exponent is the correct rounding, up to infinity); a NaN keeps its sign and top
 *   payload bits and gets the quiet bit, as Intel's VCVTNEPS2BF16.
 *
 * float32 values travel as uint: the bits are tested and moved as integers, so no float load, store or compare
 * (which a device may flush, or a finite-math option may fold away) touches a NaN or a subnormal.
 *
 * Launch: global = round_up(length, local), 1-d; one element per work-item.
 */

#define FLOAT_MAGNITUDE 0x7fffffffu
#define FLOAT_INFINITY 0x7f800000u

__kernel void float_to_half(const int length,
                            __global const uint* restrict source,
                            __global ushort* restrict target) {
    const int i = get_global_id(0);
    if (i >= length) {
        return;
    }
    const uint bits = source[i];
    if ((bits & FLOAT_MAGNITUDE) > FLOAT_INFINITY) {
        const uint payload = (bits & 0x007fffffu) >> 13;
        target[i] = (ushort) (((bits >> 16) & 0x8000u) | 0x7c00u | max(payload, 1u));
    } else {
        vstore_half_rte(as_float(bits), i, (__global half*) target);
    }
}

__kernel void half_to_float(const int length,
                            __global const ushort* restrict source,
                            __global uint* restrict target) {
    const int i = get_global_id(0);
    if (i >= length) {
        return;
    }
    const uint bits = source[i];
    if ((bits & 0x7fffu) > 0x7c00u) {
        target[i] = ((bits & 0x8000u) << 16) | FLOAT_INFINITY | ((bits & 0x03ffu) << 13);
    } else {
        target[i] = as_uint(vload_half(i, (__global const half*) source));
    }
}

__kernel void float_to_bfloat16(const int length,
                                __global const uint* restrict source,
                                __global ushort* restrict target) {
    const int i = get_global_id(0);
    if (i >= length) {
        return;
    }
    const uint bits = source[i];
    target[i] = (bits & FLOAT_MAGNITUDE) > FLOAT_INFINITY ? (ushort) ((bits >> 16) | 0x0040u)
            : (ushort) ((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
}

__kernel void bfloat16_to_float(const int length,
                                __global const ushort* restrict source,
                                __global uint* restrict target) {
    const int i = get_global_id(0);
    if (i < length) {
        target[i] = (uint) source[i] << 16;
    }
}
