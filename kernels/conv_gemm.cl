/*
 * Convolution of rank 1 to 3 as an implicit GEMM, channels-last, flax nnx.Conv semantics.
 *
 * Per feature group the convolution is C = A * B with
 *   M = batch * out_pixels      (rows: one output position of one batch element)
 *   N = COUT / GROUPS           (columns: the group's output channels)
 *   K = taps * CIN / GROUPS     (k = tap * CIN_G + ci, the kernel's own row order)
 * A[m, k] is the input element that row m reads through tap/channel k (zero in padding); it is gathered
 * into local memory tile by tile and never materialised as an im2col matrix. B is the kernel
 * (*k, CIN_G, COUT) read in place. Device memory per call: input + kernel + output, nothing else.
 *
 * Input dilation without multiplying inserted zeros (transposed-convolution style). With input dilation
 * IDIL, output o along a dim reads dilated coordinate q = o * STRIDE - PAD + t * KDIL through tap t, and
 * only q % IDIL == 0 is a real input element. (o * STRIDE - PAD) mod IDIL repeats with period
 * PH = IDIL / gcd(STRIDE, IDIL) in o, so the outputs split into PH phases per dim; within phase ph the
 * real taps are t0 + u * TSTEP (TSTEP = IDIL / gcd(KDIL, IDIL)) and output j of the phase
 * (o = ph + j * PH) reads input element origin + j * SSTRIDE + u * TDIL, where SSTRIDE = PH * STRIDE / IDIL
 * and TDIL = TSTEP * KDIL / IDIL. The host bounds PH by OUT and TSTEP by K (a larger period leaves one output
 * per phase, a larger step one tap: the same visits), so that a huge stride or dilation over a few positions
 * costs neither a grid of empty phases nor a loop over a whole period, and no product here overflows an int.
 * Each phase is thus an ordinary convolution over a subset of the taps,
 * with no input dilation: the work done is the useful work. Phases run in one launch (grid dim 1 carries
 * the phase); without input dilation there is one phase and every phase quantity is a constant. The skipped
 * products are 0 * w, which jax forms (it inserts the zeros): they matter only where w is NaN or infinite,
 * and phase_bias (end of file) puts that NaN into per-phase bias rows that the store adds (BIAS_ROW).
 *
 * Blocking (CLBlast style; the tuner's knobs): a work-group computes a TILE_M x TILE_N block of C walking
 * K in steps of TILE_K, staging A (k-major, TILE_M + VWM words a row to spread local-memory banks) and B
 * through local memory. Its RTM x RTN work-items each own WPT_M rows and WPT_N columns, interleaved by
 * vector: rows (i * RTM + tm) * VWM + v and columns (j * RTN + tn) * VWN + w, so that neighbouring
 * work-items read neighbouring local vectors and write neighbouring output vectors. Accumulators are
 * VWN-wide vectors, which a CPU compiler maps onto SIMD registers and a GPU compiler onto scalars. STAGES = 2
 * double-buffers the tiles: the next tile's global loads are issued into registers before the current
 * tile's product and stored to the other buffer after it (one barrier per tile instead of two).
 *
 * Loading A. CHANNEL_TILES = 1 (host: CIN_G % TILE_K == 0): every K tile lies inside one tap, so TILE_K
 * consecutive channels of a row's source pixel are loaded as VEC_K-wide vectors. Otherwise K tiles cross
 * taps (few channels, e.g. an RGB stem): element by element. K tiles are numbered in one flat sequence
 * over the phase's taps (and channel chunks), so both modes share one pipeline.
 * POINTWISE = 1 (1x1 kernel, stride 1, no padding, no dilation): A is the input matrix itself, a plain GEMM.
 *
 * Precision (tf32.cl, compiled in front). TF32 = 1 rounds both operands to TensorFloat-32 as the tiles are staged
 * (float32 accumulation). MMA = 1 (TF32 operands, or 16-bit ones) computes the product with warp-level matrix
 * multiplies instead of the register-blocked FMAs: see "Warp-level mma" below. On float32 storage they are m16n8k8
 * in TF32: MMA_PTX = 1 issues NVIDIA's mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 through inline PTX
 * (tensor cores, compute capability >= 8.0), the operands converted by cvt.rna.tf32.f32 as the fragments are loaded.
 * On 16-bit storage they are m16n8k16 with .f16 or .bf16 operands and float32 accumulation
 * (mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32, .bf16 alike; compute capability >= 8.0), the fragments packed
 * pairs of 16-bit values; the operands need no rounding, as they are values of the type. MMA_PTX = 0 is the portable
 * twin of either, which packs and loads the same per-lane fragments and multiplies them through local memory, so a
 * CPU driver runs (and the tests check) the fragment indexing and packing that the tensor-core path uses.
 *
 * Storage (storage.cl, compiled in front). STORAGE = 1 (float16) or 2 (bfloat16): input, kernel, bias and output are
 * 16-bit in memory, widened to float as the tiles are loaded and rounded to nearest even as the output is stored;
 * the tiles and sums stay float32, and the products of two 16-bit values are exact in float32 (but for bfloat16
 * products beyond float32's exponent range), whether FMAs or an mma form them.
 *
 * Store. Each output gets the bias (or its phase's bias row), then the epilogue of epilogue.cl (activation.cl and
 * epilogue.cl are compiled in front) when EPILOGUE: scale, shift, residual and activation, lane by lane of the
 * vector it is stored with. The residual is read at the output's own element, residual_offset elements into its
 * buffer. It may be the output buffer itself (the in-place residual add): each element's residual is read by the
 * work-item that stores that element, and the store depends on the read, so output and epi_residual are not
 * restrict (which would promise the compiler they never alias).
 *
 * Ranks 1 and 2 run as rank 3 with leading dims of size 1. Every size, stride, dilation, padding and phase
 * quantity is a -D constant (loops unroll, divisions by constants vanish); only the batch and the buffer
 * offsets are run-time arguments, so one program serves every batch size. Vector accesses assume the
 * buffers' element offsets are multiples of the vector widths (the host checks).
 * The geometry's defaults and source_index come from conv_geometry.cl, which the host compiles in front
 * of this file; coordinates here count input elements (the phases took input dilation out), so every
 * source_index call passes dilation 1.
 *
 * Launch: local = (RTM * RTN), global = (ceil(batch * max_phase_rows / TILE_M) * RTM * RTN,
 *         ceil(COUT_G / TILE_N) * GROUPS * PHASES).
 */

/* ---- Tiling: chosen per plan (defaults, tuner database); these values are only a fallback. ---- */
#ifndef TILE_M
#define TILE_M 32
#endif
#ifndef TILE_N
#define TILE_N 32
#endif
#ifndef TILE_K
#define TILE_K 16
#endif
#ifndef WPT_M
#define WPT_M 4
#endif
#ifndef WPT_N
#define WPT_N 4
#endif
/* Vector widths: rows per local read of A, columns per access of B and C, channels per global load of A. */
#ifndef VWM
#define VWM 1
#endif
#ifndef VWN
#define VWN 1
#endif
#ifndef VEC_K
#define VEC_K 1
#endif
#ifndef CHANNEL_TILES
#define CHANNEL_TILES 0
#endif
/* 1: load a tile, then multiply it; 2: fetch the next tile while multiplying the current one. */
#ifndef STAGES
#define STAGES 1
#endif
#ifndef POINTWISE
#define POINTWISE 0
#endif
/* Warp-level mma (TF32 or 16-bit operands) and whether it runs as inline PTX on tensor cores (else emulated). */
#ifndef MMA
#define MMA 0
#endif
#ifndef MMA_PTX
#define MMA_PTX 0
#endif

/* ---- Geometry beyond conv_geometry.cl's: phases and groups. ---- */
/* Phase decomposition (see above); the host computes them. The defaults are those of IDIL = 1. */
#ifndef PH_D
#define PH_D 1
#endif
#ifndef PH_H
#define PH_H 1
#endif
#ifndef PH_W
#define PH_W 1
#endif
#ifndef TSTEP_D
#define TSTEP_D 1
#endif
#ifndef TSTEP_H
#define TSTEP_H 1
#endif
#ifndef TSTEP_W
#define TSTEP_W 1
#endif
#ifndef SSTRIDE_D
#define SSTRIDE_D STRIDE_D
#endif
#ifndef SSTRIDE_H
#define SSTRIDE_H STRIDE_H
#endif
#ifndef SSTRIDE_W
#define SSTRIDE_W STRIDE_W
#endif
#ifndef TDIL_D
#define TDIL_D KDIL_D
#endif
#ifndef TDIL_H
#define TDIL_H KDIL_H
#endif
#ifndef TDIL_W
#define TDIL_W KDIL_W
#endif
#ifndef GROUPS
#define GROUPS 1
#endif
#ifndef HAS_BIAS
#define HAS_BIAS 0
#endif
/* epilogue.cl, compiled in front only for a store with an epilogue, defines EPILOGUE; a plain program has none. */
#ifndef EPILOGUE
#define EPILOGUE 0
#endif

#define RTM (TILE_M / WPT_M)
#define RTN (TILE_N / WPT_N)
#define THREADS (RTM * RTN)
#define CIN_G (CIN / GROUPS)
/* For divisions in code that runs only when there are channels (no division by a zero constant). */
#define CIN_G_DIV (CIN_G > 0 ? CIN_G : 1)
/* K tiles per tap with CHANNEL_TILES (at least 1, for the same reason). */
#define CHUNKS (CIN_G / TILE_K > 0 ? CIN_G / TILE_K : 1)
#define COUT_G (COUT / GROUPS)
#define N_TILES ((COUT_G + TILE_N - 1) / TILE_N)
#define PHASED (IDIL_D != 1 || IDIL_H != 1 || IDIL_W != 1)
/*
 * With phases, `bias` holds one row of COUT values per phase, which phase_bias (below) computes before the launch:
 * the layer's bias (or zero) plus the products the phase skips, those of its taps with the zeros of input
 * dilation. Each is 0 * w: a signed zero, which changes no sum, unless w is NaN or infinite, where jax's inserted
 * zeros give 0 * Inf = NaN; so skipping them stays exact.
 */
#if PHASED
#define ADD_BIAS 1
#define BIAS_ROW (phase * COUT)
/* The rows are phase_bias's float32 sums, whatever the operands' storage. */
typedef float bias_t;
#define LOAD_BIAS_1(p) (*(p))
#define LOAD_BIAS_N(p) (*((__global const floatN*) (p)))
#else
#define ADD_BIAS HAS_BIAS
#define BIAS_ROW 0
typedef storage_t bias_t;
#define LOAD_BIAS_1(p) STORAGE_LOAD(1, p)
#define LOAD_BIAS_N(p) STORAGE_LOAD(VWN, p)
#endif
/* Most real taps any phase has per dim, and in all. */
#define NT_D ((K_D + TSTEP_D - 1) / TSTEP_D)
#define NT_H ((K_H + TSTEP_H - 1) / TSTEP_H)
#define NT_W ((K_W + TSTEP_W - 1) / TSTEP_W)
#define NT_ALL (NT_D * NT_H * NT_W)
/*
 * Warp-level mma. A work-group's RTM x RTN work-items form (RTM / 8) x (RTN / 4) warps of 32 lanes; a warp
 * computes a WARP_M x WARP_N = (8 * WPT_M) x (4 * WPT_N) block of the tile as MMA_TILES_M x MMA_TILES_N
 * 16 x 8 products per MMA_K k (8 in TF32, 16 on 16-bit operands), so each lane still owns WPT_M x WPT_N
 * accumulators. Per-lane fragments follow the PTX ISA, with groupID = lane >> 2 and threadID_in_group = lane % 4
 * (tig). mma.m16n8k8 with .tf32 operands, one word per register:
 *   A (16 x 8, row-major): a0 (groupID, tig), a1 (groupID + 8, tig), a2 (groupID, tig + 4), a3 (groupID + 8, tig + 4)
 *   B (8 x 8, col-major):  b0 (k = tig, n = groupID), b1 (k = tig + 4, n = groupID)
 * mma.m16n8k16 with .f16 or .bf16 operands, two values per 32-bit register (.f16x2 / .bf16x2, the first of the pair
 * in the lower 16 bits):
 *   A (16 x 16, row-major): register 0 (groupID, 2 tig and 2 tig + 1), 1 (groupID + 8, the same k),
 *                           2 (groupID, 2 tig + 8 and 2 tig + 9), 3 (groupID + 8, the same k)
 *   B (16 x 8, col-major):  register 0 (k = 2 tig and 2 tig + 1, n = groupID), 1 (k = 2 tig + 8 and 2 tig + 9)
 * Both:
 *   C (16 x 8):            c0 (groupID, 2 tig), c1 (groupID, 2 tig + 1), c2 (groupID + 8, 2 tig), c3 (groupID + 8, 2 tig + 1)
 * The tiles' rows are padded by 8 words: a TF32 fragment load then reads 8 * tig + groupID modulo 32 banks, all
 * distinct (a 16-bit one reads 16 * tig + groupID, two lanes a bank).
 */
/* The k of one mma: m16n8k8 in TF32, m16n8k16 on 16-bit operands. */
#define MMA_K (STORAGE == 0 ? 8 : 16)
#if MMA
#define WARP_SIZE 32
#define WARP_M (8 * WPT_M)
#define WARP_N (4 * WPT_N)
#define WARPS_N (RTN / 4)
#define WARPS (THREADS / WARP_SIZE)
#define MMA_TILES_M (WARP_M / 16)
#define MMA_TILES_N (WARP_N / 8)
/* Words an emulated mma exchanges fragments through, per warp: its A and B blocks (16 x 8 and 8 x 8 in TF32). */
#define MMA_SCRATCH_WORDS (STORAGE == 0 ? 192 : 384)
#define A_PITCH (TILE_M + 8)
#define B_PITCH (TILE_N + 8)
#else
#define A_PITCH (TILE_M + VWM)
#define B_PITCH TILE_N
#endif

#if TILE_M % WPT_M != 0 || TILE_N % WPT_N != 0
#error "TILE_M must be a multiple of WPT_M and TILE_N a multiple of WPT_N"
#endif
#if WPT_M % VWM != 0 || WPT_N % VWN != 0 || TILE_K % VEC_K != 0
#error "vector widths must divide the work per item (VWM, VWN) and the K tile (VEC_K)"
#endif
#if COUT_G % VWN != 0
#error "VWN must divide COUT / GROUPS: output vectors never straddle a group"
#endif
#if CHANNEL_TILES && CIN_G % TILE_K != 0
#error "CHANNEL_TILES needs TILE_K to divide CIN / GROUPS"
#endif
#if VEC_K > 1 && !CHANNEL_TILES
#error "VEC_K > 1 needs CHANNEL_TILES"
#endif
#if STAGES != 1 && STAGES != 2
#error "STAGES must be 1 or 2"
#endif
#if MMA && STORAGE == 0 && !TF32
#error "MMA on float32 storage multiplies TF32 operands: it needs TF32 = 1"
#endif
#if MMA && (RTM % 8 != 0 || RTN % 4 != 0 || WPT_M % 2 != 0 || WPT_N % 2 != 0)
#error "MMA needs warps of 8 x 4 work-items each owning an even number of rows and columns (16 x 8 per mma)"
#endif
#if MMA && (TILE_K % MMA_K != 0 || VWM != 1 || VWN > 8)
#error "MMA needs TILE_K a multiple of 8 (16 on 16-bit storage), VWM = 1 and VWN <= 8"
#endif
#if MMA_PTX && !MMA
#error "MMA_PTX needs MMA"
#endif

/* Vector types and component access by a constant index (folds away once loops unroll). */
#define PICK2(v, x) ((x) == 0 ? (v).s0 : (v).s1)
#define PICK4(v, x) ((x) < 2 ? PICK2((v).s01, (x)) : PICK2((v).s23, (x) - 2))
#define PICK8(v, x) ((x) < 4 ? PICK4((v).s0123, (x)) : PICK4((v).s4567, (x) - 4))
#define PICK16(v, x) ((x) < 8 ? PICK8((v).s01234567, (x)) : PICK8((v).s89abcdef, (x) - 8))
#if VWM == 1
typedef float floatM;
#define PICK_M(v, x) (v)
#elif VWM == 2
typedef float2 floatM;
#define PICK_M(v, x) PICK2(v, x)
#elif VWM == 4
typedef float4 floatM;
#define PICK_M(v, x) PICK4(v, x)
#elif VWM == 8
typedef float8 floatM;
#define PICK_M(v, x) PICK8(v, x)
#else
#error "VWM must be 1, 2, 4 or 8"
#endif
#if VWN == 1
typedef float floatN;
typedef uint uintN;
#define AS_UINT_N as_uint
#define AS_FLOAT_N as_float
#define TO_LANES_N(v, a) ((a)[0] = (v))
#define FROM_LANES_N(a) ((a)[0])
#define VLOAD_N(p) (*(p))
#elif VWN == 2
typedef float2 floatN;
typedef uint2 uintN;
#define AS_UINT_N as_uint2
#define AS_FLOAT_N as_float2
#define TO_LANES_N(v, a) vstore2(v, 0, a)
#define FROM_LANES_N(a) vload2(0, a)
#define VLOAD_N(p) vload2(0, p)
#elif VWN == 4
typedef float4 floatN;
typedef uint4 uintN;
#define AS_UINT_N as_uint4
#define AS_FLOAT_N as_float4
#define TO_LANES_N(v, a) vstore4(v, 0, a)
#define FROM_LANES_N(a) vload4(0, a)
#define VLOAD_N(p) vload4(0, p)
#elif VWN == 8
typedef float8 floatN;
typedef uint8 uintN;
#define AS_UINT_N as_uint8
#define AS_FLOAT_N as_float8
#define TO_LANES_N(v, a) vstore8(v, 0, a)
#define FROM_LANES_N(a) vload8(0, a)
#define VLOAD_N(p) vload8(0, p)
#elif VWN == 16
typedef float16 floatN;
typedef uint16 uintN;
#define AS_UINT_N as_uint16
#define AS_FLOAT_N as_float16
#define TO_LANES_N(v, a) vstore16(v, 0, a)
#define FROM_LANES_N(a) vload16(0, a)
#define VLOAD_N(p) vload16(0, p)
#else
#error "VWN must be 1, 2, 4, 8 or 16"
#endif
#if EPILOGUE && EPILOGUE_ON_VECTORS && !MMA
/* epilogue.cl's epilogue on the output vector of the register-blocked store (see EPILOGUE_VECTOR there). */
EPILOGUE_VECTOR(epilogue_vector, floatN, VLOAD_N, VWN)
#endif
#if VEC_K == 1
typedef float floatK;
#define PICK_K(v, x) (v)
#elif VEC_K == 2
typedef float2 floatK;
#define PICK_K(v, x) PICK2(v, x)
#elif VEC_K == 4
typedef float4 floatK;
#define PICK_K(v, x) PICK4(v, x)
#elif VEC_K == 8
typedef float8 floatK;
#define PICK_K(v, x) PICK8(v, x)
#else
#error "VEC_K must be 1, 2, 4 or 8"
#endif

/*
 * Where TF32 operands are rounded: as the tiles are staged (each element once), except on tensor cores, where
 * cvt.rna.tf32.f32 converts the fragments as they are loaded.
 */
#define STAGED_TF32 (TF32 && !MMA_PTX)

#if STAGED_TF32
/* tf32_round of every component of a kernel-tile vector. */
static inline floatN tf32_round_n(const floatN x) {
    const uintN bits = AS_UINT_N(x);
    const uintN rounded = (bits + 0x1000u) & 0xffffe000u;
    return AS_FLOAT_N(select(rounded, bits, (bits & 0x7f800000u) == 0x7f800000u));
}

#define STAGE_A(x) tf32_round(x)
#define STAGE_B(x) tf32_round_n(x)
#else
#define STAGE_A(x) (x)
#define STAGE_B(x) (x)
#endif

/* Where load l of the kernel tile goes: its row of B_PITCH words (dense unless MMA pads it). */
static inline int b_slot(const int l) {
    return (l / (TILE_N / VWN)) * (B_PITCH / VWN) + l % (TILE_N / VWN);
}

#if MMA && STORAGE != 0
/*
 * 16-bit fragments: two staged words packed as one .f16x2 or .bf16x2 register, `low` in the lower 16 bits as the PTX
 * ISA packs a fragment's pairs. The words are values of the type (loaded from 16-bit memory, or the zeros of padding
 * and edges), so packing them is exact; the PTX and the emulated form share it, so the tests check its conversions.
 * (Both A's and B's pairs run along k, so the order within a pair changes which k a product is added at, not its
 * terms.)
 */
typedef uint mma_pair;
static inline mma_pair mma_pack(const float low, const float high) {
#if STORAGE == 1
    ushort2 bits;
    vstore_half2_rte((float2) (low, high), 0, (__private half*) &bits);
    return as_uint(bits);
#else
    return (as_uint(low) >> 16) | (as_uint(high) & 0xffff0000u);
#endif
}

#if MMA_PTX
/* d = a * b + d for the warp's 16 x 8 x 16 block, on tensor cores; every lane of the warp takes part. */
static inline void mma_16x8x16(float* d, const mma_pair* a, const mma_pair* b, __local float* scratch,
                               const int lane) {
#if STORAGE == 1
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, "
                 "{%8, %9}, {%10, %11, %12, %13};"
                 : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "f"(d[0]), "f"(d[1]), "f"(d[2]),
                   "f"(d[3]));
#else
    asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, "
                 "{%8, %9}, {%10, %11, %12, %13};"
                 : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "f"(d[0]), "f"(d[1]), "f"(d[2]),
                   "f"(d[3]));
#endif
}
#else
/* The pair a register holds, low half first. */
static inline float2 mma_unpack(const mma_pair word) {
#if STORAGE == 1
    return vload_half2(0, (__private const half*) &word);
#else
    return (float2) (as_float(word << 16), as_float(word & 0xffff0000u));
#endif
}

/*
 * The emulated 16-bit mma: the lanes unpack their fragments where the PTX layout puts them in the warp's 16 x 16 A
 * and 16 x 8 B (scratch, 384 words per warp), then each lane computes its own four C elements from them: the 16
 * products of 16-bit values, exact in float32, added to the accumulator one by one in float32. Every work-item of
 * the work-group calls it the same number of times (the barriers need that).
 */
static inline void mma_16x8x16(float* d, const mma_pair* a, const mma_pair* b, __local float* scratch,
                               const int lane) {
    __local float* const warp_a = scratch;        /* [16 rows][16 k] */
    __local float* const warp_b = scratch + 256;  /* [16 k][8 n] */
    const int group_id = lane >> 2;
    const int thread_in_group = lane & 3;
    barrier(CLK_LOCAL_MEM_FENCE); /* the previous product's reads are done */
#pragma unroll
    for (int r = 0; r < 4; r++) {
        const float2 pair = mma_unpack(a[r]);
        const int at = (group_id + (r & 1) * 8) * 16 + 2 * thread_in_group + (r >> 1) * 8;
        warp_a[at] = pair.x;
        warp_a[at + 1] = pair.y;
    }
#pragma unroll
    for (int r = 0; r < 2; r++) {
        const float2 pair = mma_unpack(b[r]);
        const int k = 2 * thread_in_group + r * 8;
        warp_b[k * 8 + group_id] = pair.x;
        warp_b[(k + 1) * 8 + group_id] = pair.y;
    }
    barrier(CLK_LOCAL_MEM_FENCE);
#pragma unroll
    for (int c = 0; c < 4; c++) {
        const int row = group_id + (c >> 1) * 8;
        const int column = 2 * thread_in_group + (c & 1);
        float total = d[c];
#pragma unroll
        for (int k = 0; k < 16; k++) {
            total = fma(warp_a[row * 16 + k], warp_b[k * 8 + column], total);
        }
        d[c] = total;
    }
}
#endif
#elif MMA
#if MMA_PTX
/* A fragment operand: the word's TF32 bits, rounded as the tensor core's own conversion does. */
typedef uint mma_operand;
static inline mma_operand mma_load(const float x) {
    uint bits;
    asm volatile("cvt.rna.tf32.f32 %0, %1;" : "=r"(bits) : "f"(x));
    return bits;
}

/* d = a * b + d for the warp's 16 x 8 x 8 block, on tensor cores; every lane of the warp takes part. */
static inline void mma_16x8x8(float* d, const mma_operand* a, const mma_operand* b, __local float* scratch,
                              const int lane) {
    asm volatile("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, "
                 "{%8, %9}, {%10, %11, %12, %13};"
                 : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
                 : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "f"(d[0]), "f"(d[1]), "f"(d[2]),
                   "f"(d[3]));
}
#else
/* The words were rounded when staged. */
typedef float mma_operand;
static inline mma_operand mma_load(const float x) {
    return x;
}

/*
 * The emulated mma: the lanes write their fragments where the PTX layout puts them in the warp's 16 x 8 A and
 * 8 x 8 B (scratch, 192 words per warp), then each lane computes its own four C elements from them. Every
 * work-item of the work-group calls it the same number of times (the barriers need that).
 */
static inline void mma_16x8x8(float* d, const mma_operand* a, const mma_operand* b, __local float* scratch,
                              const int lane) {
    __local float* const warp_a = scratch;        /* [16][8] */
    __local float* const warp_b = scratch + 128;  /* [8 k][8 n] */
    const int group_id = lane >> 2;
    const int thread_in_group = lane & 3;
    barrier(CLK_LOCAL_MEM_FENCE); /* the previous product's reads are done */
    warp_a[group_id * 8 + thread_in_group] = a[0];
    warp_a[(group_id + 8) * 8 + thread_in_group] = a[1];
    warp_a[group_id * 8 + thread_in_group + 4] = a[2];
    warp_a[(group_id + 8) * 8 + thread_in_group + 4] = a[3];
    warp_b[thread_in_group * 8 + group_id] = b[0];
    warp_b[(thread_in_group + 4) * 8 + group_id] = b[1];
    barrier(CLK_LOCAL_MEM_FENCE);
#pragma unroll
    for (int i = 0; i < 4; i++) {
        const int row = group_id + (i >> 1) * 8;
        const int col = 2 * thread_in_group + (i & 1);
        float sum = d[i];
#pragma unroll
        for (int k = 0; k < 8; k++) {
            sum = fma(warp_a[row * 8 + k], warp_b[k * 8 + col], sum);
        }
        d[i] = sum;
    }
}
#endif
#endif

/* One dim of one phase: its first real tap, how many real taps, the input element its output 0 reads
   through that tap, and how many outputs it has. */
typedef struct {
    int first_tap;
    int taps;
    int origin;
    int outputs;
} phase_dim;

static inline phase_dim phase_of(const int ph, const int k, const int kdil, const int idil, const int stride,
                                 const int pad, const int out, const int phases, const int tstep) {
    phase_dim p;
    const int base = ph * stride - pad;
    int first = k; /* none: no tap of this phase lands on a real element */
    for (int t = tstep - 1; t >= 0; t--) {
        const int residue = (base + t * kdil) % idil;
        if (residue == 0) {
            first = t;
        }
    }
    p.first_tap = first;
    p.taps = first < k ? (k - 1 - first) / tstep + 1 : 0;
    /* Exact: base + first * kdil is a multiple of idil whenever the phase has a tap. */
    p.origin = p.taps > 0 ? (base + first * kdil) / idil : 0;
    p.outputs = ph < out ? (out - 1 - ph) / phases + 1 : 0;
    return p;
}

/* Where K tile t lies. CHANNEL_TILES: the phase tap (ud, uh, uw), its kernel tap and the first channel;
   otherwise the tile's first k. */
typedef struct {
    int k0;
    int ud;
    int uh;
    int uw;
    int tap;
    int c0;
} k_tile;

/* The flat output pixel of GEMM row m of phase (ph_d, ph_h, ph_w): its batch element, then its place among the
 * phase's outputs, every PH_* output along each dim. */
static inline int output_pixel(const int m, const int ph_d, const int ph_h, const int ph_w, const phase_dim pd,
                               const phase_dim phh, const phase_dim pw) {
    const int hw_outputs = phh.outputs * pw.outputs;
    const int phase_outputs = pd.outputs * hw_outputs;
    const int b = m / phase_outputs;
    const int p = m % phase_outputs;
    const int od = ph_d + (p / hw_outputs) * PH_D;
    const int oh = ph_h + ((p / pw.outputs) % phh.outputs) * PH_H;
    const int ow = ph_w + (p % pw.outputs) * PH_W;
    return ((b * OUT_D + od) * OUT_H + oh) * OUT_W + ow;
}

static inline k_tile k_tile_at(const int t, const phase_dim pd, const phase_dim phh, const phase_dim pw) {
    k_tile kt;
#if CHANNEL_TILES
    const int u = t / CHUNKS;
    kt.c0 = (t % CHUNKS) * TILE_K;
    kt.ud = u / (phh.taps * pw.taps);
    kt.uh = (u / pw.taps) % phh.taps;
    kt.uw = u % pw.taps;
    kt.tap = ((pd.first_tap + kt.ud * TSTEP_D) * K_H + phh.first_tap + kt.uh * TSTEP_H) * K_W + pw.first_tap
            + kt.uw * TSTEP_W;
    kt.k0 = 0;
#else
    kt.k0 = t * TILE_K;
    kt.ud = 0;
    kt.uh = 0;
    kt.uw = 0;
    kt.tap = 0;
    kt.c0 = 0;
#endif
    return kt;
}

/* Loads per tile, and per work-item (rounded up). */
#define A_LOADS (TILE_M * TILE_K / VEC_K)
#define B_LOADS (TILE_K * TILE_N / VWN)
#define A_PER_ITEM ((A_LOADS + THREADS - 1) / THREADS)
#define B_PER_ITEM ((B_LOADS + THREADS - 1) / THREADS)

/*
 * Load l of the A tile: for CHANNEL_TILES a VEC_K-vector of consecutive channels of one row (consecutive l:
 * consecutive vectors of a row, so contiguous channels), else one element (consecutive l: consecutive rows
 * of one k). Zero in padding and past the last row or k.
 */
static inline floatK load_a(__global const storage_t* restrict input, __local const int* row_base,
                            __local const int* row_d, __local const int* row_h, __local const int* row_w,
                            __local const int* tap_d, __local const int* tap_h, __local const int* tap_w,
                            const k_tile kt, const int k_phase, const int l) {
#if CHANNEL_TILES
    const int r = l / (TILE_K / VEC_K);
    const int kk = (l % (TILE_K / VEC_K)) * VEC_K;
    const int base = row_base[r];
    if (base < 0) {
        return (floatK) 0.0f;
    }
#if POINTWISE
    return STORAGE_LOAD(VEC_K, input + base + kt.c0 + kk);
#else
    const int id = source_index(row_d[r] + kt.ud * TDIL_D, IN_D, 1);
    const int ih = source_index(row_h[r] + kt.uh * TDIL_H, IN_H, 1);
    const int iw = source_index(row_w[r] + kt.uw * TDIL_W, IN_W, 1);
    if (id < 0 || ih < 0 || iw < 0) {
        return (floatK) 0.0f;
    }
    return STORAGE_LOAD(VEC_K, input + base + ((id * IN_H + ih) * IN_W + iw) * CIN + kt.c0 + kk);
#endif
#else
    const int r = l % TILE_M;
    const int k = kt.k0 + l / TILE_M;
    const int base = row_base[r];
    if (base < 0 || k >= k_phase) {
        return 0.0f;
    }
    const int ci = k % CIN_G_DIV;
#if POINTWISE
    return STORAGE_LOAD(1, input + base + ci);
#else
    const int u = k / CIN_G_DIV;
#if PHASED
    const int id = source_index(row_d[r] + tap_d[u], IN_D, 1);
    const int ih = source_index(row_h[r] + tap_h[u], IN_H, 1);
    const int iw = source_index(row_w[r] + tap_w[u], IN_W, 1);
#else
    const int id = source_index(row_d[r] + (u / (K_H * K_W)) * KDIL_D, IN_D, 1);
    const int ih = source_index(row_h[r] + ((u / K_W) % K_H) * KDIL_H, IN_H, 1);
    const int iw = source_index(row_w[r] + (u % K_W) * KDIL_W, IN_W, 1);
#endif
    if (id < 0 || ih < 0 || iw < 0) {
        return 0.0f;
    }
    return STORAGE_LOAD(1, input + base + ((id * IN_H + ih) * IN_W + iw) * CIN + ci);
#endif
#endif
}

/* Stores load l of the A tile k-major (transposed), where the product reads it. */
static inline void store_a(__local float* a_words, const int l, const floatK value) {
#if CHANNEL_TILES
    const int r = l / (TILE_K / VEC_K);
    const int kk = (l % (TILE_K / VEC_K)) * VEC_K;
#pragma unroll
    for (int v = 0; v < VEC_K; v++) {
        a_words[(kk + v) * A_PITCH + r] = STAGE_A(PICK_K(value, v));
    }
#else
    a_words[(l / TILE_M) * A_PITCH + l % TILE_M] = STAGE_A(value);
#endif
}

/* Load l of the B tile: VWN consecutive output channels of one kernel row (zero past the group's channels
   or past the last k). */
static inline floatN load_b(__global const storage_t* restrict weights, __local const int* tap_kernel, const int group,
                            const int n0, const k_tile kt, const int k_phase, const int l) {
    const int kk = l / (TILE_N / VWN);
    const int n = n0 + (l % (TILE_N / VWN)) * VWN;
#if CHANNEL_TILES
    const int row = kt.tap * CIN_G + kt.c0 + kk;
    const bool inside = n < COUT_G;
#else
    const int k = kt.k0 + kk;
    const bool inside = n < COUT_G && k < k_phase;
#if PHASED && !POINTWISE
    const int row = inside ? tap_kernel[k / CIN_G_DIV] * CIN_G + k % CIN_G_DIV : 0;
#else
    const int row = k;
#endif
#endif
    return inside ? STORAGE_LOAD(VWN, weights + row * COUT + group * COUT_G + n) : (floatN) 0.0f;
}

__kernel __attribute__((reqd_work_group_size(THREADS, 1, 1)))
void conv_gemm(const int batch,
               __global const storage_t* restrict input, const int input_offset,
               __global const storage_t* restrict weights,
               __global const bias_t* restrict bias,
               __global storage_t* output, const int output_offset,
               __global const float* restrict epi_scale, __global const float* restrict epi_shift,
               __global const storage_t* epi_residual, const int residual_offset) {
    /* STAGES buffers of each tile: with two, the next tile is stored while the current one is used. */
    __local floatM a_tile[STAGES][TILE_K * A_PITCH / VWM];
    __local floatN b_tile[STAGES][TILE_K * B_PITCH / VWN];
#if MMA && !MMA_PTX
    __local float mma_scratch[WARPS][MMA_SCRATCH_WORDS];
#endif
    /* Per row of the tile: input base (batch element and group; -1 past the last row of the phase) and the
       input coordinates its phase's first tap reads. */
    __local int row_base[TILE_M];
    __local int row_d[TILE_M];
    __local int row_h[TILE_M];
    __local int row_w[TILE_M];
    /* The phase's taps (used with phases and K tiles across taps): kernel tap and input offsets per dim. */
    __local int tap_kernel[NT_ALL];
    __local int tap_d[NT_ALL];
    __local int tap_h[NT_ALL];
    __local int tap_w[NT_ALL];

    const int tid = get_local_id(0);
#if !MMA
    const int tn = tid % RTN;
    const int tm = tid / RTN;
#endif
    int rest = get_group_id(1);
    const int n0 = (rest % N_TILES) * TILE_N;
    rest /= N_TILES;
    const int group = rest % GROUPS;
    const int phase = rest / GROUPS;
    const int m0 = get_group_id(0) * TILE_M;

    const int ph_d = phase / (PH_W * PH_H);
    const int ph_h = (phase / PH_W) % PH_H;
    const int ph_w = phase % PH_W;
    phase_dim pd = phase_of(ph_d, K_D, KDIL_D, IDIL_D, STRIDE_D, PAD_D, OUT_D, PH_D, TSTEP_D);
    const phase_dim phh = phase_of(ph_h, K_H, KDIL_H, IDIL_H, STRIDE_H, PAD_H, OUT_H, PH_H, TSTEP_H);
    const phase_dim pw = phase_of(ph_w, K_W, KDIL_W, IDIL_W, STRIDE_W, PAD_W, OUT_W, PH_W, TSTEP_W);
    const int hw_outputs = phh.outputs * pw.outputs;
    const int phase_outputs = pd.outputs * hw_outputs;
    const int rows = batch * phase_outputs;
    if (m0 >= rows) {
        /* A work-group past the rows of its phase (phases differ in size) has nothing to add up. It still
           runs to the end rather than returning: no barrier is skipped, which PoCL's work-group compiler
           requires, and every loop below has a trip count uniform across the work-group. */
        pd.taps = 0;
    }
    const int phase_taps = pd.taps * phh.taps * pw.taps;
    const int k_phase = phase_taps * CIN_G;
#if CHANNEL_TILES
    const int k_tiles = phase_taps * (CIN_G / TILE_K);
#else
    const int k_tiles = (k_phase + TILE_K - 1) / TILE_K;
#endif

    for (int r = tid; r < TILE_M; r += THREADS) {
        const int m = m0 + r;
        int base = -1;
        int origin_d = 0;
        int origin_h = 0;
        int origin_w = 0;
        if (m < rows) {
            const int b = m / phase_outputs;
            const int p = m % phase_outputs;
#if POINTWISE
            base = input_offset + (b * IN_PIXELS + p) * CIN + group * CIN_G;
#else
            base = input_offset + b * (IN_PIXELS * CIN) + group * CIN_G;
            origin_d = pd.origin + (p / hw_outputs) * SSTRIDE_D;
            origin_h = phh.origin + ((p / pw.outputs) % phh.outputs) * SSTRIDE_H;
            origin_w = pw.origin + (p % pw.outputs) * SSTRIDE_W;
#endif
        }
        row_base[r] = base;
        row_d[r] = origin_d;
        row_h[r] = origin_h;
        row_w[r] = origin_w;
    }
    for (int u = tid; u < phase_taps; u += THREADS) {
        const int ud = u / (phh.taps * pw.taps);
        const int uh = (u / pw.taps) % phh.taps;
        const int uw = u % pw.taps;
        tap_kernel[u] = ((pd.first_tap + ud * TSTEP_D) * K_H + phh.first_tap + uh * TSTEP_H) * K_W
                + pw.first_tap + uw * TSTEP_W;
        tap_d[u] = ud * TDIL_D;
        tap_h[u] = uh * TDIL_H;
        tap_w[u] = uw * TDIL_W;
    }
    barrier(CLK_LOCAL_MEM_FENCE);

#if MMA
    /* This lane's place in its warp, and the warp's block of the tile. */
    const int lane = tid % WARP_SIZE;
    const int warp = tid / WARP_SIZE;
    const int group_id = lane >> 2;
    const int thread_in_group = lane & 3;
    const int warp_m0 = (warp / WARPS_N) * WARP_M;
    const int warp_n0 = (warp % WARPS_N) * WARP_N;
#if MMA_PTX
    __local float* const warp_scratch = 0;
#else
    __local float* const warp_scratch = mma_scratch[warp];
#endif
    float acc[MMA_TILES_M][MMA_TILES_N][4];
#pragma unroll
    for (int i = 0; i < MMA_TILES_M; i++) {
#pragma unroll
        for (int j = 0; j < MMA_TILES_N; j++) {
#pragma unroll
            for (int c = 0; c < 4; c++) {
                acc[i][j][c] = 0.0f;
            }
        }
    }
#else
    floatN acc[WPT_M][WPT_N / VWN];
#pragma unroll
    for (int i = 0; i < WPT_M; i++) {
#pragma unroll
        for (int j = 0; j < WPT_N / VWN; j++) {
            acc[i][j] = (floatN) 0.0f;
        }
    }
#endif

#if STAGES == 2
    /* Software pipeline: tile t + 1 is fetched from global memory into registers before tile t's product
       and stored to the other buffer after it, so its latency hides behind the arithmetic; one barrier per
       tile. */
    floatK a_next[A_PER_ITEM];
    floatN b_next[B_PER_ITEM];
    if (k_tiles > 0) {
        const k_tile first = k_tile_at(0, pd, phh, pw);
        for (int l = tid; l < A_LOADS; l += THREADS) {
            store_a((__local float*) a_tile[0], l,
                    load_a(input, row_base, row_d, row_h, row_w, tap_d, tap_h, tap_w, first, k_phase, l));
        }
        for (int l = tid; l < B_LOADS; l += THREADS) {
            b_tile[0][b_slot(l)] = STAGE_B(load_b(weights, tap_kernel, group, n0, first, k_phase, l));
        }
    }
    barrier(CLK_LOCAL_MEM_FENCE);
#endif

    for (int t = 0; t < k_tiles; t++) {
#if STAGES == 2
        const int stage = t & 1;
        const bool more = t + 1 < k_tiles;
        if (more) {
            const k_tile next = k_tile_at(t + 1, pd, phh, pw);
#pragma unroll
            for (int s = 0; s < A_PER_ITEM; s++) {
                const int l = tid + s * THREADS;
                a_next[s] = l < A_LOADS
                        ? load_a(input, row_base, row_d, row_h, row_w, tap_d, tap_h, tap_w, next, k_phase, l)
                        : (floatK) 0.0f;
            }
#pragma unroll
            for (int s = 0; s < B_PER_ITEM; s++) {
                const int l = tid + s * THREADS;
                b_next[s] = l < B_LOADS ? load_b(weights, tap_kernel, group, n0, next, k_phase, l) : (floatN) 0.0f;
            }
        }
#else
        const int stage = 0;
        const k_tile current = k_tile_at(t, pd, phh, pw);
        for (int l = tid; l < A_LOADS; l += THREADS) {
            store_a((__local float*) a_tile[0], l,
                    load_a(input, row_base, row_d, row_h, row_w, tap_d, tap_h, tap_w, current, k_phase, l));
        }
        for (int l = tid; l < B_LOADS; l += THREADS) {
            b_tile[0][b_slot(l)] = STAGE_B(load_b(weights, tap_kernel, group, n0, current, k_phase, l));
        }
        barrier(CLK_LOCAL_MEM_FENCE);
#endif

#if MMA
        /* The warp's product of the two tiles, MMA_K k at a time: fragments from the staged tiles, then mma. */
        __local const float* const a_words = (__local const float*) a_tile[stage];
        __local const float* const b_words = (__local const float*) b_tile[stage];
#pragma unroll
        for (int ks = 0; ks < TILE_K; ks += MMA_K) {
#if STORAGE != 0
            mma_pair a_frag[MMA_TILES_M][4];
            mma_pair b_frag[MMA_TILES_N][2];
            const int k = ks + 2 * thread_in_group;
#pragma unroll
            for (int i = 0; i < MMA_TILES_M; i++) {
                const int row = warp_m0 + i * 16 + group_id;
                a_frag[i][0] = mma_pack(a_words[k * A_PITCH + row], a_words[(k + 1) * A_PITCH + row]);
                a_frag[i][1] = mma_pack(a_words[k * A_PITCH + row + 8], a_words[(k + 1) * A_PITCH + row + 8]);
                a_frag[i][2] = mma_pack(a_words[(k + 8) * A_PITCH + row], a_words[(k + 9) * A_PITCH + row]);
                a_frag[i][3] = mma_pack(a_words[(k + 8) * A_PITCH + row + 8], a_words[(k + 9) * A_PITCH + row + 8]);
            }
#pragma unroll
            for (int j = 0; j < MMA_TILES_N; j++) {
                const int column = warp_n0 + j * 8 + group_id;
                b_frag[j][0] = mma_pack(b_words[k * B_PITCH + column], b_words[(k + 1) * B_PITCH + column]);
                b_frag[j][1] = mma_pack(b_words[(k + 8) * B_PITCH + column], b_words[(k + 9) * B_PITCH + column]);
            }
#pragma unroll
            for (int i = 0; i < MMA_TILES_M; i++) {
#pragma unroll
                for (int j = 0; j < MMA_TILES_N; j++) {
                    mma_16x8x16(acc[i][j], a_frag[i], b_frag[j], warp_scratch, lane);
                }
            }
#else
            mma_operand a_frag[MMA_TILES_M][4];
            mma_operand b_frag[MMA_TILES_N][2];
            const int k = ks + thread_in_group;
#pragma unroll
            for (int i = 0; i < MMA_TILES_M; i++) {
                const int row = warp_m0 + i * 16 + group_id;
                a_frag[i][0] = mma_load(a_words[k * A_PITCH + row]);
                a_frag[i][1] = mma_load(a_words[k * A_PITCH + row + 8]);
                a_frag[i][2] = mma_load(a_words[(k + 4) * A_PITCH + row]);
                a_frag[i][3] = mma_load(a_words[(k + 4) * A_PITCH + row + 8]);
            }
#pragma unroll
            for (int j = 0; j < MMA_TILES_N; j++) {
                const int column = warp_n0 + j * 8 + group_id;
                b_frag[j][0] = mma_load(b_words[k * B_PITCH + column]);
                b_frag[j][1] = mma_load(b_words[(k + 4) * B_PITCH + column]);
            }
#pragma unroll
            for (int i = 0; i < MMA_TILES_M; i++) {
#pragma unroll
                for (int j = 0; j < MMA_TILES_N; j++) {
                    mma_16x8x8(acc[i][j], a_frag[i], b_frag[j], warp_scratch, lane);
                }
            }
#endif
        }
#else
        /* The register-blocked product of the two tiles. */
        __local const floatM* const a_stage = a_tile[stage];
        __local const floatN* const b_stage = b_tile[stage];
#pragma unroll
        for (int kk = 0; kk < TILE_K; kk++) {
            floatM a_reg[WPT_M / VWM];
            floatN b_reg[WPT_N / VWN];
#pragma unroll
            for (int i = 0; i < WPT_M / VWM; i++) {
                a_reg[i] = a_stage[kk * (A_PITCH / VWM) + i * RTM + tm];
            }
#pragma unroll
            for (int j = 0; j < WPT_N / VWN; j++) {
                b_reg[j] = b_stage[kk * (TILE_N / VWN) + j * RTN + tn];
            }
#pragma unroll
            for (int i = 0; i < WPT_M / VWM; i++) {
#pragma unroll
                for (int v = 0; v < VWM; v++) {
                    const floatN a = (floatN) PICK_M(a_reg[i], v);
#pragma unroll
                    for (int j = 0; j < WPT_N / VWN; j++) {
                        acc[i * VWM + v][j] = fma(a, b_reg[j], acc[i * VWM + v][j]);
                    }
                }
            }
        }
#endif

#if STAGES == 2
        if (more) {
#pragma unroll
            for (int s = 0; s < A_PER_ITEM; s++) {
                const int l = tid + s * THREADS;
                if (l < A_LOADS) {
                    store_a((__local float*) a_tile[stage ^ 1], l, a_next[s]);
                }
            }
#pragma unroll
            for (int s = 0; s < B_PER_ITEM; s++) {
                const int l = tid + s * THREADS;
                if (l < B_LOADS) {
                    b_tile[stage ^ 1][b_slot(l)] = STAGE_B(b_next[s]);
                }
            }
        }
#endif
        barrier(CLK_LOCAL_MEM_FENCE);
    }

#if MMA
    /* Store: each accumulator where the C fragment layout puts it, one channel per store. */
#pragma unroll
    for (int i = 0; i < MMA_TILES_M; i++) {
#pragma unroll
        for (int upper = 0; upper < 2; upper++) {
            const int m = m0 + warp_m0 + i * 16 + group_id + upper * 8;
            if (m < rows) {
                const int pixel = output_pixel(m, ph_d, ph_h, ph_w, pd, phh, pw);
                __global storage_t* const row_out = output + output_offset + pixel * COUT + group * COUT_G;
#pragma unroll
                for (int j = 0; j < MMA_TILES_N; j++) {
#pragma unroll
                    for (int c = 0; c < 2; c++) {
                        const int n = n0 + warp_n0 + j * 8 + 2 * thread_in_group + c;
                        if (n < COUT_G) {
#if ADD_BIAS
                            const float value = acc[i][j][upper * 2 + c] + LOAD_BIAS_1(bias + BIAS_ROW + group * COUT_G + n);
#else
                            const float value = acc[i][j][upper * 2 + c];
#endif
#if EPILOGUE
                            STORAGE_STORE(1, epilogue_value(value, group * COUT_G + n,
                                                            pixel * COUT + group * COUT_G + n, epi_scale, epi_shift,
                                                            epi_residual + residual_offset), row_out + n);
#else
                            STORAGE_STORE(1, value, row_out + n);
#endif
                        }
                    }
                }
            }
        }
    }
#else
    /* Store: each row's output pixel from its phase position; VWN channels per store. */
#pragma unroll
    for (int i = 0; i < WPT_M / VWM; i++) {
#pragma unroll
        for (int v = 0; v < VWM; v++) {
            const int m = m0 + (i * RTM + tm) * VWM + v;
            if (m < rows) {
                const int pixel = output_pixel(m, ph_d, ph_h, ph_w, pd, phh, pw);
                __global storage_t* const row_out = output + output_offset + pixel * COUT + group * COUT_G;
#pragma unroll
                for (int j = 0; j < WPT_N / VWN; j++) {
                    const int n = n0 + (j * RTN + tn) * VWN;
                    if (n < COUT_G) {
#if ADD_BIAS
                        const floatN value = acc[i * VWM + v][j]
                                + LOAD_BIAS_N(bias + BIAS_ROW + group * COUT_G + n);
#else
                        const floatN value = acc[i * VWM + v][j];
#endif
#if EPILOGUE && EPILOGUE_ON_VECTORS
                        /* On the vector itself: unpacking it into a private array (epilogue_lanes) costs a CPU
                           driver the vectorisation of the kernel. */
                        STORAGE_STORE(VWN, epilogue_vector(value, group * COUT_G + n,
                                pixel * COUT + group * COUT_G + n, epi_scale, epi_shift,
                                epi_residual + residual_offset), row_out + n);
#elif EPILOGUE
                        float lanes[VWN];
                        TO_LANES_N(value, lanes);
                        epilogue_lanes(lanes, VWN, group * COUT_G + n, pixel * COUT + group * COUT_G + n,
                                       epi_scale, epi_shift, epi_residual + residual_offset);
                        STORAGE_STORE(VWN, FROM_LANES_N(lanes), row_out + n);
#else
                        STORAGE_STORE(VWN, value, row_out + n);
#endif
                    }
                }
            }
        }
    }
#endif
}

#if PHASED
/* Whether tap t is one of the phase's real taps along a dim (first_tap + u * tstep, u < taps). */
static inline bool real_tap(const int t, const phase_dim p, const int tstep) {
    return t >= p.first_tap && (t - p.first_tap) % tstep == 0 && (t - p.first_tap) / tstep < p.taps;
}

/*
 * The per-phase bias rows the phased conv_gemm adds (see BIAS_ROW): for phase ph and output channel co, the bias
 * (HAS_BIAS) plus 0 * w over every weight of co at a tap the phase skips, which is NaN when such a weight is NaN
 * or infinite and adds nothing otherwise. Sums start at +0, so a bias of -0.0 counts as +0.0, as in XLA's
 * (sum) + bias. Written with integer tests, not as 0.0f * w and bias + 0.0f: a compiler that assumes no NaN,
 * infinity or signed zero (Mesa's, which folds x * 0 to 0 and x + 0 to x) would drop both.
 * Launch: global = round_up(PH_D * PH_H * PH_W * COUT, local), 1-d.
 */
__kernel void phase_bias(__global const storage_t* restrict weights, __global const storage_t* restrict bias,
                         __global float* restrict rows) {
    const int item = get_global_id(0);
    if (item >= PH_D * PH_H * PH_W * COUT) {
        return;
    }
    const int co = item % COUT;
    const int phase = item / COUT;
    const phase_dim pd = phase_of(phase / (PH_W * PH_H), K_D, KDIL_D, IDIL_D, STRIDE_D, PAD_D, OUT_D, PH_D, TSTEP_D);
    const phase_dim phh = phase_of((phase / PH_W) % PH_H, K_H, KDIL_H, IDIL_H, STRIDE_H, PAD_H, OUT_H, PH_H, TSTEP_H);
    const phase_dim pw = phase_of(phase % PH_W, K_W, KDIL_W, IDIL_W, STRIDE_W, PAD_W, OUT_W, PH_W, TSTEP_W);
#if HAS_BIAS
    const float shift = STORAGE_LOAD(1, bias + co);
    float sum = as_uint(shift) == 0x80000000u ? 0.0f : shift;
#else
    float sum = 0.0f;
#endif
    for (int kd = 0; kd < K_D; kd++) {
        for (int kh = 0; kh < K_H; kh++) {
            for (int kw = 0; kw < K_W; kw++) {
                if (real_tap(kd, pd, TSTEP_D) && real_tap(kh, phh, TSTEP_H) && real_tap(kw, pw, TSTEP_W)) {
                    continue;
                }
                const int tap = (kd * K_H + kh) * K_W + kw;
                for (int ci = 0; ci < CIN_G; ci++) {
                    if ((as_uint(STORAGE_LOAD(1, weights + (tap * CIN_G + ci) * COUT + co)) & 0x7f800000u) == 0x7f800000u) {
                        sum = as_float(0x7fc00000u); /* 0 * (NaN or infinity) */
                    }
                }
            }
        }
    }
    rows[item] = sum;
}
#endif
