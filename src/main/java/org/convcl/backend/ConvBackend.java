package org.convcl.backend;

import org.convcl.ConvGeometry;

/**
 * A place where convolutions run: the pure-Java {@link CpuBackend} or an OpenCL device. Arrays are laid out
 * row-major in the geometry's shapes: input {@code (*batch, *spatial, Cin)}, kernel
 * {@code (*k, Cin/groups, Cout)}, bias {@code (Cout)}, output {@code (*batch, *outSpatial, Cout)}.
 *
 * <p>Implementations are thread-safe: one backend may serve many threads at once.
 */
public interface ConvBackend extends AutoCloseable {

    /** A short name for logs and the CLI, e.g. {@code cpu} or {@code opencl (NVIDIA H100)}. */
    String name();

    /**
     * Computes {@code output = conv(input, kernel) + bias}, overwriting every element of {@code output}.
     * The geometry has been validated; {@code bias} may be null.
     */
    void forward(ConvGeometry geometry, float[] input, float[] kernel, float[] bias, float[] output);

    /** Releases what the backend holds; the CPU backend holds nothing. */
    @Override
    void close();
}
