package org.convcl.opencl.internal.plan;

import org.convcl.opencl.internal.compile.BuildOptions;
import org.convcl.opencl.internal.runtime.ClBuffer;
import org.convcl.opencl.internal.runtime.ClKernel;
import org.convcl.opencl.internal.runtime.ClProgram;
import org.convcl.opencl.internal.runtime.OpenClContext;

/**
 * The batched transpose of {@code kernels/layout.cl}, compiled once per backend on the first channels-first call
 * and shared by every later one (sizes are run-time arguments). Thread-safe: {@link ClKernel#launch} serialises
 * argument setting per kernel object. Closed with its backend.
 */
public final class LayoutKernel implements AutoCloseable {
    static final String SOURCE = "layout.cl";
    /** The side of the square tile a work-group moves; the kernel requires exactly this work-group shape. */
    static final int TILE = 16;

    private final ClKernel transpose;

    private LayoutKernel(ClKernel transpose) {
        this.transpose = transpose;
    }

    public static LayoutKernel create(OpenClContext context) {
        ClProgram program = context.program(SOURCE, new BuildOptions().define("TILE", TILE).toString());
        return new LayoutKernel(context.kernel(program, "batched_transpose"));
    }

    /** Enqueues {@code target (batch, cols, rows) = source (batch, rows, cols)} with its last two axes swapped. */
    public void transpose(OpenClContext context, int batch, int rows, int cols, ClBuffer source, ClBuffer target) {
        long tiles = (long) batch * ((rows + TILE - 1) / TILE) * ((cols + TILE - 1) / TILE);
        transpose.launch(context.queue(), new long[] {tiles * TILE, TILE}, new long[] {TILE, TILE}, rows, cols,
                source, target);
    }

    @Override
    public void close() {
        transpose.close();
    }
}
