/*
 * Moves axes of device-resident tensors, so that channels-first data (PyTorch's and ONNX's layout) reaches the
 * channels-last kernels, and their results go back, without a trip through the host.
 *
 * batched_transpose: the values viewed as (batch, rows, cols), row-major, become (batch, cols, rows):
 *   target[b][c][r] = source[b][r][c]. Every axis move the layers need is one or two of these (channels-first
 *   activations (B, C, S) <-> (B, S, C); kernels (O, I, K) <-> (K, I, O) in two steps).
 *   A work-group moves one TILE x TILE tile through local memory, reading rows and writing columns of the
 *   source both along consecutive addresses (the +1 column keeps the local reads free of bank conflicts).
 *   Tiles are numbered along dimension 0 alone, batch outermost, since some devices allow far fewer
 *   work-groups along dimensions 1 and 2.
 *
 * Launch: local = (TILE, TILE), global = (tiles * TILE, TILE) with tiles = batch * ceil(rows / TILE) *
 *   ceil(cols / TILE).
 *
 * Compiled behind storage.cl, per storage type (STORAGE): a move converts nothing, so a 16-bit type's elements
 * move as their bits, ushort words, for float16 and bfloat16 alike. Loading and storing them through
 * STORAGE_LOAD / STORAGE_STORE would widen and round again, which keeps every value but not a NaN's payload
 * (bfloat16's store sets the quiet bit), and half itself cannot be held in a variable without cl_khr_fp16.
 */

#if defined(STORAGE) && STORAGE != 0
typedef ushort layout_word;
#else
typedef float layout_word;
#endif

#ifndef TILE
#define TILE 16
#endif

__kernel __attribute__((reqd_work_group_size(TILE, TILE, 1)))
void batched_transpose(const int rows, const int cols,
                       __global const layout_word* restrict source,
                       __global layout_word* restrict target) {
    __local layout_word tile[TILE][TILE + 1];
    const int tiles_across = (cols + TILE - 1) / TILE;
    const int tiles_down = (rows + TILE - 1) / TILE;
    const int group = get_group_id(0);
    const int tiles_per_batch = tiles_across * tiles_down;
    const int batch = group / tiles_per_batch;
    const int tile_index = group % tiles_per_batch;
    const int first_row = (tile_index / tiles_across) * TILE;
    const int first_col = (tile_index % tiles_across) * TILE;
    const int x = get_local_id(0);
    const int y = get_local_id(1);
    const long offset = (long) batch * rows * cols;

    const int row = first_row + y;
    const int col = first_col + x;
    if (row < rows && col < cols) {
        tile[y][x] = source[offset + (long) row * cols + col];
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    // Work-item (x, y) now writes source column first_col + y, source row first_row + x.
    const int target_row = first_col + y;
    const int target_col = first_row + x;
    if (target_row < cols && target_col < rows) {
        target[offset + (long) target_row * rows + target_col] = tile[x][y];
    }
}
