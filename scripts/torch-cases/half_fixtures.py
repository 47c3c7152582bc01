#!/usr/bin/python3
"""NumPy as the outside check of convcl's float16 and bfloat16 conversions (issue 26).

Writes src/test/resources/half/, which HalfFloatsTest reads:
- half_to_float32.bin.gz: for every one of the 65,536 binary16 bit patterns h (in order, h = 0 .. 0xffff), the bits
  of NumPy's float32 value of it (np.uint16 -> view float16 -> astype float32), as little-endian uint32.
- float32_sweep.bin.gz: N float32 inputs (their bits, little-endian uint32), then NumPy's float16 bits of each
  (astype float16, little-endian uint16), then the bfloat16 bits of each (little-endian uint16). N is the file's
  size / 8.
- numpy_float16.npy, numpy_float16_big_endian.npy and numpy_float32.npy: one (3, 5) array of binary16 values (zeros,
  subnormals, normals, the largest finite, infinities, NaN) saved by np.save as '<f2', as '>f2', and widened to
  float32, for NpyFloat16Test.

The sweep: ties to even at every binary16 exponent (the midpoint between neighbouring binary16 values, which float32
holds exactly, and the float32 values just below and above it), every midpoint of the binary16 subnormal range, the
overflow boundary (65504, 65520 and their neighbours), bfloat16 ties at every float32 exponent (lower half 0x8000
with an even and an odd kept part, and 0x7fff / 0x8001 / 0xffff beside them), float32 subnormals, signed zeros,
infinities, NaNs with payloads (quiet and signalling, payloads that survive the narrowing and ones that vanish), and
random bit patterns and random values within binary16's range, with a fixed seed.

NumPy has no bfloat16: its reference here is the definition, computed on integers from the float32 bits alone
(independent of the Java code): keep the upper 16 bits, add one when the lower 16 bits exceed 0x8000 or equal it
with the kept part odd (round to nearest, ties to even; a carry into the exponent is the correct rounding, up to
infinity); a NaN keeps its sign and top payload bits and gets the quiet bit (0x0040), as Intel's VCVTNEPS2BF16.

NumPy's float16 NaN rule (npy_floatbits_to_halfbits, a software conversion in NumPy 1.x): the top 10 payload bits
are kept, the quiet bit is not forced, and a payload that would vanish becomes 1. A NumPy that converts with F16C
instructions instead would quiet signalling NaNs; the script checks the rule and refuses to write otherwise.

Needs numpy; run from the repository root:
    /usr/bin/python3 scripts/torch-cases/half_fixtures.py
CI does not run this: the files it writes are committed.
"""
import gzip
import os

import numpy as np

OUT = os.path.join("src", "test", "resources", "half")
SEED = 26


def half_to_float32_table():
    halves = np.arange(1 << 16, dtype=np.uint32).astype(np.uint16)
    return halves.view(np.float16).astype(np.float32).view(np.uint32)


def binary16_midpoints(half_bits):
    """For each positive finite binary16 h (h + 1 finite too), the float32 midpoint of h and h + 1, and its
    float32 neighbours below and above."""
    low = np.asarray(half_bits, dtype=np.uint16).view(np.float16).astype(np.float64)
    high = (np.asarray(half_bits, dtype=np.uint16) + 1).view(np.float16).astype(np.float64)
    middle = ((low + high) / 2).astype(np.float32)
    assert np.all(middle.astype(np.float64) == (low + high) / 2), "a midpoint is not exact in float32"
    bits = middle.view(np.uint32)
    return np.concatenate([bits, bits - 1, bits + 1])


def sweep_bits():
    rng = np.random.default_rng(SEED)
    parts = []
    # Ties at every binary16 exponent: mantissas at both ends, the middle, and a few random ones.
    edges = [0, 1, 2, 3, 0x1FE, 0x1FF, 0x200, 0x201, 0x3FC, 0x3FD, 0x3FE]
    for exponent in range(31):
        mantissas = edges + list(rng.integers(0, 0x3FF, 4))
        halves = [(exponent << 10) | m for m in mantissas if ((exponent << 10) | m) < 0x7BFF]
        parts.append(binary16_midpoints(halves))
    # Every midpoint of the subnormal range (and the one to the smallest normal).
    parts.append(binary16_midpoints(range(0x400)))
    # The overflow boundary and the underflow boundary, with neighbours.
    boundaries = np.array([65504.0, 65519.0, 65520.0, 65536.0, 2.0 ** -24, 2.0 ** -25, 2.0 ** -14, 3 * 2.0 ** -26,
                           65504.0 + 8.0, 1.0, 2.0, 2048.0, 2049.0, 4097.0], dtype=np.float32).view(np.uint32)
    parts.append(np.concatenate([boundaries, boundaries - 1, boundaries + 1]))
    # bfloat16 ties at every float32 exponent (0: subnormals), kept parts even and odd.
    kept = np.array([0x00, 0x01, 0x7E, 0x7F], dtype=np.uint32)
    lower = np.array([0x0000, 0x0001, 0x7FFF, 0x8000, 0x8001, 0xFFFF], dtype=np.uint32)
    exponents = np.arange(255, dtype=np.uint32)
    grid = (exponents[:, None, None] << 23) | (kept[None, :, None] << 16) | lower[None, None, :]
    parts.append(grid.ravel())
    # Infinities, the largest float32, and NaNs: quiet and signalling, payloads kept, shortened and vanishing.
    parts.append(np.array([0x7F800000, 0x7F7FFFFF, 0x7F7F8000, 0x7F7F7FFF, 0x00000001, 0x007FFFFF, 0x00800000,
                           0x7FC00000, 0x7FC00001, 0x7F800001, 0x7F801FFF, 0x7F802000, 0x7FA00000, 0x7FBFFFFF,
                           0x7FFFFFFF, 0x7FD55555, 0x7FAAAAAA, 0x7F80C000, 0x7F808000], dtype=np.uint32))
    # Random bit patterns (any class), and random values within binary16's range.
    parts.append(rng.integers(0, 1 << 31, 4096, dtype=np.uint32))
    in_range = (rng.uniform(-1, 1, 4096) * np.exp2(rng.uniform(-26, 16.5, 4096))).astype(np.float32)
    parts.append(np.abs(in_range).view(np.uint32))
    positive = np.concatenate(parts).astype(np.uint32)
    # Every value with both signs (signed zeros included).
    return np.concatenate([positive, positive | np.uint32(0x80000000)])


def bfloat16_reference(bits):
    out = []
    for b in (int(x) for x in bits):
        upper, lower = b >> 16, b & 0xFFFF
        if (b & 0x7FFFFFFF) > 0x7F800000:
            out.append(upper | 0x0040)
        elif lower > 0x8000 or (lower == 0x8000 and upper & 1):
            out.append(upper + 1)
        else:
            out.append(upper)
    return np.array(out, dtype=np.uint32).astype(np.uint16)


def check_numpy_nan_rule():
    quiet, signalling, vanishing = np.array([0x7FC00001, 0x7FA00000, 0x7F800001], dtype=np.uint32).view(np.float32)
    got = [int(x) for x in np.array([quiet, signalling, vanishing]).astype(np.float16).view(np.uint16)]
    if got != [0x7E00, 0x7D00, 0x7C01]:
        raise SystemExit("this NumPy (%s) narrows NaNs to %s, not as npy_floatbits_to_halfbits does; the fixtures "
                         "and HalfFloats follow that rule" % (np.__version__, [hex(x) for x in got]))


def write(name, *arrays):
    data = b"".join(a.astype(a.dtype.newbyteorder("<")).tobytes() for a in arrays)
    # mtime 0: the same inputs give the same bytes, so regenerating leaves git clean.
    with open(os.path.join(OUT, name), "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as out:
        out.write(data)


def save_npy_files():
    bits = np.array([0x0000, 0x8000, 0x0001, 0x03FF, 0x0400, 0x3C00, 0xBC01, 0x3555, 0x7BFF, 0xFBFF, 0x7C00, 0xFC00,
                     0x7E00, 0x4248, 0xC900], dtype=np.uint16)
    values = bits.view(np.float16).reshape(3, 5)
    np.save(os.path.join(OUT, "numpy_float16.npy"), values)
    np.save(os.path.join(OUT, "numpy_float16_big_endian.npy"), values.astype(">f2"))
    np.save(os.path.join(OUT, "numpy_float32.npy"), values.astype(np.float32))


def main():
    check_numpy_nan_rule()
    os.makedirs(OUT, exist_ok=True)
    save_npy_files()
    write("half_to_float32.bin.gz", half_to_float32_table())
    bits = sweep_bits()
    with np.errstate(over="ignore"):
        halves = bits.view(np.float32).astype(np.float16).view(np.uint16)
    write("float32_sweep.bin.gz", bits, halves, bfloat16_reference(bits))
    print("wrote %d half values and a sweep of %d float32 values to %s" % (1 << 16, len(bits), OUT))


if __name__ == "__main__":
    main()
