package org.convcl.opencl.internal.plan;

import java.util.List;
import org.convcl.DType;
import org.convcl.opencl.internal.runtime.BuildOptions;
import org.convcl.opencl.internal.runtime.ClBuffer;
import org.convcl.opencl.internal.runtime.ClKernel;
import org.convcl.opencl.internal.runtime.ClProgram;
import org.convcl.opencl.internal.runtime.OpenClContext;

/**
 * The batched transpose of {@code kernels/layout.cl}, compiled once per backend and storage type on the first
 * channels-first call in that type and shared by every later one (sizes are run-time arguments); a 16-bit type's
 * elements move as their bits, unchanged. Thread-safe: {@link ClKernel#launch} serialises
 * argument setting per kernel object. Closed with its backend.
 */
public final class LayoutKernel implements AutoCloseable {
    static final String SOURCE = "layout.cl";
    /**
     * The side of the square tile a work-group moves, where the compiled kernel allows its square; the kernel
     * requires exactly that work-group shape.
     */
    static final int TILE = 16;

    private final ClKernel transpose;
    private final int tile;

    private LayoutKernel(ClKernel transpose, int tile) {
        this.transpose = transpose;
        this.tile = tile;
    }

    /**
     * Compiles the transpose with the largest power-of-two tile, at most {@link #TILE}, whose square the
     * compiled kernel runs: a driver may compile it for fewer items than the device allows (rusticl on llvmpipe
     * runs 32 of 256), and a smaller tile is slower but correct. Moves elements of {@code storage}.
     */
    public static LayoutKernel create(OpenClContext context, DType storage) {
        int tile = TILE;
        while (true) {
            ClProgram program = context.program(List.of(StorageOption.SOURCE, SOURCE),
                    StorageOption.define(new BuildOptions().define("TILE", tile), storage).toString());
            ClKernel kernel = context.kernel(program, "batched_transpose");
            long limit;
            try {
                limit = kernel.maxWorkGroupSize(context.device().handle());
            } catch (RuntimeException e) {
                kernel.close();
                throw e;
            }
            if ((long) tile * tile <= limit || tile == 1) {
                return new LayoutKernel(kernel, tile);
            }
            kernel.close();
            while ((long) tile * tile > limit && tile > 1) {
                tile /= 2;
            }
        }
    }

    /** Enqueues {@code target (batch, cols, rows) = source (batch, rows, cols)} with its last two axes swapped. */
    public void transpose(OpenClContext context, int batch, int rows, int cols, ClBuffer source, ClBuffer target) {
        long tiles = (long) batch * ((rows + tile - 1) / tile) * ((cols + tile - 1) / tile);
        transpose.launch(context.queue(), new long[] {tiles * tile, tile}, new long[] {tile, tile}, rows, cols,
                source, target);
    }

    @Override
    public void close() {
        transpose.close();
    }
}
