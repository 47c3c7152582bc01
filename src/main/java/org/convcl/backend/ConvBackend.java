package org.convcl.backend;

import org.convcl.backend.internal.CpuGradients;
import org.convcl.backend.internal.CpuEdges;
import org.convcl.backend.internal.HostPooling;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.ConvGeometry;
import org.convcl.DType;
import org.convcl.backend.internal.DecodedHalfForward;
import org.convcl.backend.internal.HalfHostEpilogue;
import org.convcl.backend.internal.HalfHostGradients;
import org.convcl.backend.internal.HostOperands;
import org.convcl.EdgePadding;
import org.convcl.Epilogue;
import org.convcl.backend.internal.HostEpilogue;
import org.convcl.PoolGeometry;
import org.convcl.PoolOp;

/**
 * A place where convolutions run: the pure-Java {@link CpuBackend} or an OpenCL device. Arrays are laid out
 * row-major in the geometry's shapes: input {@code (*batch, *spatial, Cin)}, kernel
 * {@code (*k, Cin/groups, Cout)}, bias {@code (Cout)}, output {@code (*batch, *outSpatial, Cout)}.
 *
 * <p>Gradients and transposed convolutions need {@link #forward} (the input gradient is a convolution of
 * the output gradient on the adjoint geometry) and four more operations: the kernel and bias
 * gradient reductions and the two {@link EdgePadding} maps. Their default implementations run the pure-Java
 * code on the host: backends without a kernel for an operation run it on the host, so a new backend works
 * before it accelerates them.
 *
 * <p>Implementations are thread-safe: one backend may serve many threads at once.
 *
 * <p>Ownership: close only the backends you own. Every backend {@link org.convcl.nn.Backends} hands out is shared
 * ({@link #isShared()}): one instance per device for the whole JVM, used by every layer that selected it, so
 * its {@link #close()} throws {@link IllegalStateException} and it stays open; {@link org.convcl.nn.Backends} releases the
 * OpenCL ones at JVM exit or in {@link org.convcl.nn.Backends#closeShared()}. A private backend, made with
 * {@link org.convcl.opencl.OpenClBackend#create}, belongs to its caller, who closes it (try-with-resources).
 */
public interface ConvBackend extends AutoCloseable {

    /** A short name for logs and the CLI, e.g. {@code cpu} or {@code opencl (NVIDIA H100)}. */
    String name();

    /**
     * Computes {@code output = conv(input, kernel) + bias}, overwriting every element of {@code output}.
     * The geometry has been validated; {@code bias} may be null.
     */
    void forward(ConvGeometry geometry, float[] input, float[] kernel, float[] bias, float[] output);

    /**
     * The forward on 16-bit host data (issue 26): {@code input}, {@code kernel}, {@code bias} (may be null) and
     * {@code output} hold the bits of {@code dtype}, {@link DType#FLOAT16} (IEEE binary16) or {@link DType#BFLOAT16},
     * in the shapes above, as ONNX Runtime's Java API passes them. The products of the 16-bit values are summed in
     * float32 with the bias, and each output is rounded to {@code dtype}, nearest even ({@link org.convcl.HalfFloats}):
     * the semantics of the OpenCL forward on 16-bit device tensors. Every element of {@code output} is overwritten.
     * {@code g} is stored in float32 (the default) or in {@code dtype}; its precision changes nothing, since 16-bit
     * values are exact in TF32.
     *
     * <p>The Java path converts inside its parallel tasks; the OpenCL backend uploads the bits and converts on the
     * device. This default, for other backends, decodes the operands to float32 arrays, runs the float32 forward and
     * rounds its output ({@code DecodedHalfForward}).
     *
     * @throws IllegalArgumentException for a {@code dtype} that is not 16-bit, a geometry stored in the other 16-bit
     *     type, or an array whose length is not its shape's, naming the operand
     */
    default void forward(ConvGeometry g, DType dtype, short[] input, short[] kernel, short[] bias, short[] output) {
        HostOperands.forward(g, dtype, input, kernel, bias, output);
        DecodedHalfForward.forward(this::forward, g, dtype, input, kernel, bias, output);
    }

    /**
     * The 16-bit forward above with an epilogue fused (issue 26), as on 16-bit device tensors: {@code epilogue}'s
     * activation, {@code scale} and {@code shift} (float32, one value per output channel; its own residual must be
     * null), and {@code residual} (may be null), the bits of a tensor of the output's shape in {@code dtype}. The
     * epilogue runs in float32 on the float32 sum, {@code ((conv * scale) + shift) + residual} then the activation,
     * and each output is rounded to {@code dtype} once: the float32 forward on the decoded operands, its epilogue
     * with the decoded residual, rounded. A null or {@link Epilogue#none()} epilogue with no residual is the plain
     * 16-bit forward.
     *
     * <p>The Java path applies it in its tasks, on each block of output before rounding it; the OpenCL backend in
     * its kernels' stores. This default, for other backends, decodes every operand to float32 arrays
     * ({@code DecodedHalfForward}).
     *
     * @throws IllegalArgumentException as the plain 16-bit forward, and for an epilogue that does not fit the
     *     output, or that holds a float32 residual, naming the part
     */
    default void forward(ConvGeometry g, DType dtype, short[] input, short[] kernel, short[] bias,
            Epilogue<float[]> epilogue, short[] residual, short[] output) {
        HostOperands.forward(g, dtype, input, kernel, bias, output);
        HalfHostEpilogue.check(epilogue, dtype, residual, g.outChannels(), output.length);
        DecodedHalfForward.forward(this::forward, g, dtype, input, kernel, bias, epilogue, residual, output);
    }

    /**
     * Computes {@code output = epilogue(conv(input, kernel) + bias)} (see {@link Epilogue}), overwriting every
     * element of {@code output}; {@code bias} may be null, {@code epilogue} null or {@link Epilogue#none()} is the
     * plain forward. The epilogue's operands are checked against the output first ({@code scale}, {@code shift}:
     * one value per output channel; {@code residual}: the output's length). The residual may be {@code output}
     * itself: the result is then as if the residual had been read in full before anything was written.
     *
     * <p>The Java and OpenCL backends apply the epilogue in the convolution's store. This default, for other
     * backends, runs the plain forward and then the epilogue as a pass over the output ({@code HostEpilogue}).
     */
    default void forward(ConvGeometry geometry, float[] input, float[] kernel, float[] bias,
            Epilogue<float[]> epilogue, float[] output) {
        HostEpilogue.check(epilogue, geometry.outChannels(), output.length);
        Epilogue<float[]> readFirst = HostEpilogue.residualReadFirst(epilogue, output);
        forward(geometry, input, kernel, bias, output);
        HostEpilogue.apply(readFirst, geometry.outChannels(), output);
    }

    /**
     * A promise that {@code kernel}'s values stay as they are until {@link #releaseKernel}{@code (kernel)}: a
     * backend that keeps forms prepared from a host kernel across calls (the Java path's packed panels and Winograd
     * transforms) may then use them without checking the array against the values they were made from, which
     * otherwise costs a read of the whole kernel per call. Changing the values in place before the release may give
     * results computed from the old ones. By default nothing: a backend that keeps nothing has nothing to check.
     */
    default void fixKernel(float[] kernel) {
    }

    /** Ends {@link #fixKernel}{@code (kernel)}: what was prepared from it is dropped. By default nothing. */
    default void releaseKernel(float[] kernel) {
    }

    /**
     * Overwrites {@code kernelGradient} {@code (*k, Cin/groups, Cout)} with the gradient of
     * {@code sum(conv(input, K) * outputGradient)} with respect to K: for group j, tap t,
     * {@code dK[t][ci][co] = sum over batch and output positions o of input[source(o, t)][j * Cin/groups + ci]
     * * outputGradient[o][co]}, where {@code source(o, t)} is the input element the forward product reads
     * ({@link ConvGeometry#sourceIndexTable}; wrapped and mirrored padding resolve to the element they copy,
     * zeros contribute nothing). {@code outputGradient} has the geometry's output shape.
     *
     * <p>Backends without a kernel for this run it on the host ({@code CpuGradients.kernelGradient}).
     */
    default void kernelGradient(ConvGeometry geometry, float[] input, float[] outputGradient, float[] kernelGradient) {
        CpuGradients.kernelGradient(geometry, input, outputGradient, kernelGradient);
    }

    /**
     * Overwrites {@code biasGradient} {@code (C)} with the column sums of {@code outputGradient} read as a
     * {@code (rows, C)} matrix: the sum over batch and output positions of a channels-last output gradient.
     *
     * <p>Backends without a kernel for this run it on the host ({@code CpuGradients.biasGradient}).
     */
    default void biasGradient(int rows, int channels, float[] outputGradient, float[] biasGradient) {
        CpuGradients.biasGradient(rows, channels, outputGradient, biasGradient);
    }

    /**
     * {@link #kernelGradient(ConvGeometry, float[], float[], float[])} on 16-bit host data (issue 26): {@code input},
     * {@code outputGradient} and {@code kernelGradient} hold the bits of {@code dtype}, float16 or bfloat16; the
     * products are summed in float32 and each result rounded once to nearest even in the type, as on 16-bit device
     * tensors.
     *
     * <p>By default the operands are decoded to float32 arrays (whole-array copies, {@code HalfHostGradients}) for
     * the float32 reduction, whose result is rounded; the Java path converts inside its reduction's workers; an
     * OpenCL backend uploads the bits and runs its 16-bit kernels.
     *
     * @throws IllegalArgumentException for a {@code dtype} that is not 16-bit, a geometry stored in the other
     *     16-bit type, or an array whose length is not its shape's, naming the operand
     */
    default void kernelGradient(ConvGeometry g, DType dtype, short[] input, short[] outputGradient,
            short[] kernelGradient) {
        HalfHostGradients.checkKernelGradient(g, dtype, input, outputGradient, kernelGradient);
        HalfHostGradients.kernelGradient(this::kernelGradient, g, dtype, input, outputGradient, kernelGradient);
    }

    /**
     * {@link #biasGradient(int, int, float[], float[])} of a 16-bit output gradient (issue 26): {@code outputGradient}
     * holds {@code dtype}'s bits, the column sums are float32 sums and {@code biasGradient} stays float32 (a sum
     * over a whole batch), as on 16-bit device tensors. By default the output gradient is decoded to a float32
     * array ({@code HalfHostGradients}); the Java path decodes as its workers read; an OpenCL backend runs its
     * kernels on the uploaded bits.
     *
     * @throws IllegalArgumentException for a {@code dtype} that is not 16-bit, negative counts or wrong lengths
     */
    default void biasGradient(int rows, int channels, DType dtype, short[] outputGradient, float[] biasGradient) {
        HalfHostGradients.checkBiasGradient(rows, channels, dtype, outputGradient, biasGradient);
        HalfHostGradients.biasGradient(this::biasGradient, rows, channels, dtype, outputGradient, biasGradient);
    }

    /**
     * Overwrites {@code padded} {@code (batch, *paddedSpatial, C)} with the padding of {@code source}
     * {@code (batch, *sourceSpatial, C)}: each element copies {@code source[mode.sourceIndex(q - padLo)]}, or
     * is zero.
     *
     * <p>Backends without a kernel for this run it on the host ({@code CpuEdges.pad}).
     */
    default void pad(EdgePadding padding, float[] source, float[] padded) {
        CpuEdges.pad(padding, source, padded);
    }

    /**
     * The adjoint of {@link #pad}, plus a bias: overwrites {@code source} with, for each source element, the
     * sum of the padded elements that copy it, plus {@code bias[channel]} when {@code bias} (length C) is not
     * null. Carries gradients back through wrap-around and mirrored padding (no bias), and is the period
     * wrap-sum of flax's CIRCULAR {@code ConvTranspose} (which adds its bias after the sum).
     *
     * <p>Backends without a kernel for this run it on the host ({@code CpuEdges.fold}).
     */
    default void fold(EdgePadding padding, float[] padded, float[] bias, float[] source) {
        CpuEdges.fold(padding, padded, bias, source);
    }

    /**
     * {@link #fold} followed by {@code epilogue} on {@code source} (a CIRCULAR ConvTranspose's last step, where its
     * epilogue belongs): the fold's kernel applies it in its store on the OpenCL backend; this default, after.
     */
    default void fold(EdgePadding padding, float[] padded, float[] bias, Epilogue<float[]> epilogue,
            float[] source) {
        int channels = padding.channels();
        HostEpilogue.check(epilogue, channels, source.length);
        Epilogue<float[]> readFirst = HostEpilogue.residualReadFirst(epilogue, source);
        fold(padding, padded, bias, source);
        HostEpilogue.apply(readFirst, channels, source);
    }

    /**
     * Overwrites {@code output} {@code (*batch, *outSpatial, C)} with the pooling {@code op} of {@code input}
     * {@code (*batch, *spatial, C)}, both channels-last, as {@link PoolGeometry} defines it (flax's
     * {@code max_pool}, {@code avg_pool}, {@code min_pool}).
     *
     * <p>By default on the host ({@code HostPooling.forward}); an OpenCL backend runs it in kernels.
     */
    default void poolForward(PoolOp op, PoolGeometry geometry, float[] input, float[] output) {
        HostPooling.forward(op, geometry, input, output);
    }

    /**
     * {@link #poolForward(PoolOp, PoolGeometry, float[], float[])} on 16-bit host data (issue 26): {@code input} and
     * {@code output} hold the bits of {@code dtype}, float16 or bfloat16, as the device pooling on 16-bit tensors
     * computes it: MAX and MIN store an input value exactly; AVG sums in float32, divides in float32 and rounds
     * once to nearest even.
     *
     * <p>By default on the host, converting as it reads and writes ({@code HostPooling.forward}); an OpenCL backend
     * uploads the bits and runs its kernels.
     *
     * @throws IllegalArgumentException for a {@code dtype} that is not 16-bit or an array whose length is not its
     *     shape's, naming the operand
     */
    default void poolForward(PoolOp op, PoolGeometry geometry, DType dtype, short[] input, short[] output) {
        HostPooling.forward(op, geometry, dtype, input, output);
    }

    /**
     * Overwrites {@code inputGradient} (the input's shape) with the gradient of
     * {@code sum(pool(input) * outputGradient)} with respect to {@code input}, as jax differentiates the
     * pooling ({@link PoolGeometry} says which element of a window a MAX or MIN gradient goes to).
     *
     * <p>By default on the host ({@code HostPooling.backward}); an OpenCL backend runs it in kernels.
     */
    default void poolBackward(PoolOp op, PoolGeometry geometry, float[] input, float[] outputGradient,
            float[] inputGradient) {
        HostPooling.backward(op, geometry, input, outputGradient, inputGradient);
    }

    /**
     * {@link #poolBackward(PoolOp, PoolGeometry, float[], float[], float[])} on 16-bit host data (issue 26):
     * {@code input}, {@code outputGradient} and {@code inputGradient} hold the bits of {@code dtype}, float16 or
     * bfloat16; each input-gradient element is summed in float32 and rounded once to nearest even, as on 16-bit
     * device tensors.
     *
     * <p>By default on the host, converting inside its tasks ({@code HostPooling.backward}: each decodes its block
     * of the operands, sums the block's gradient in float32 and rounds it once); an OpenCL backend uploads the bits
     * and runs its kernels.
     *
     * @throws IllegalArgumentException for a {@code dtype} that is not 16-bit or an array whose length is not its
     *     shape's, naming the operand
     */
    default void poolBackward(PoolOp op, PoolGeometry geometry, DType dtype, short[] input, short[] outputGradient,
            short[] inputGradient) {
        HostPooling.backward(op, geometry, dtype, input, outputGradient, inputGradient);
    }

    /**
     * Whether this is a JVM-wide shared instance (every backend {@link org.convcl.nn.Backends} hands out, and both
     * {@link CpuBackend}s), which its users may not close. False for a backend its caller made and owns.
     */
    default boolean isShared() {
        return false;
    }

    /**
     * Releases what a backend you own holds; layers built on it stop working.
     *
     * @throws IllegalStateException when the backend is shared ({@link #isShared()}): it stays open and working
     */
    @Override
    void close();
}
