package org.convcl.bench;

/**
 * A convolution whose input, kernel, bias and output stay resident on a device, so that the benchmark can time
 * the device apart from host transfers: the kernels alone ({@code device_ms}), one synchronised call into the
 * reused output ({@code call_ms}) and a chain of layer calls with one wait ({@code chain_ms}).
 */
public interface DeviceCall extends AutoCloseable {

    /** Fills the (reused) device output with NaN so that a run that writes nothing cannot pass. */
    void poisonOutput();

    /**
     * Runs the convolution once into the output, waits until its kernels have finished, and returns their
     * device time in milliseconds.
     */
    double deviceMillis();

    /**
     * Applies a layer holding the same kernel and bias to the device input {@code calls} times back to back, as
     * a user chains layers, waits once, and returns the wall time per call in milliseconds. The last call's
     * result stays available to {@link #downloadChained()}.
     */
    double chainMillisPerCall(int calls);

    /**
     * Runs the convolution once with {@code residual} (the output's shape) added and ReLU applied in its store,
     * waits, and returns the wall time in milliseconds; the result stays available to {@link #downloadEpilogue()}.
     *
     * @throws UnsupportedOperationException where the device has no fused epilogue yet
     */
    double fusedEpilogueMillis(float[] residual);

    /**
     * The same work as {@link #fusedEpilogueMillis} done unfused: the bare convolution, then the residual add and
     * the ReLU as passes of their own over the output; waits, and returns the wall time in milliseconds.
     *
     * @throws UnsupportedOperationException where the device has no epilogue pass yet
     */
    double unfusedEpilogueMillis(float[] residual);

    /**
     * Runs the convolution once with a per-channel {@code scale} and {@code shift} (the output's channels) and ReLU
     * applied in its store, no residual, waits, and returns the wall time in milliseconds; the result stays
     * available to {@link #downloadEpilogue()}.
     *
     * @throws UnsupportedOperationException where the device has no fused epilogue yet
     */
    double activationEpilogueMillis(float[] scale, float[] shift);

    /**
     * Runs the {@link #fusedEpilogueMillis} call with its output written over the residual: fills the epilogue
     * output with {@code residual} (before the clock starts, as {@link #poisonOutput} fills the bare call's), then
     * runs the convolution with that buffer as both the residual and the output, waits, and returns the wall time
     * in milliseconds; the result stays available to {@link #downloadEpilogue()}.
     *
     * @throws UnsupportedOperationException where the device has no fused epilogue yet
     */
    double inPlaceEpilogueMillis(float[] residual);

    /** Copies the last epilogue call's result to the host. */
    float[] downloadEpilogue();

    /** Copies the device output to the host. */
    float[] download();

    /** Copies the last chained call's result to the host. */
    float[] downloadChained();

    @Override
    void close();
}
