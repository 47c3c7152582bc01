package org.convcl.bench;

/**
 * A convolution whose input, kernel and output stay resident on a device, so that the benchmark can time
 * the kernel alone ({@code kernel_ms}) apart from transfers.
 */
public interface DeviceCall extends AutoCloseable {

    /** Fills the device output with NaN so that a run that writes nothing cannot pass. */
    void poisonOutput();

    /** Runs the convolution once and waits until the device has finished. */
    void run();

    /** Copies the device output to the host. */
    float[] download();

    @Override
    void close();
}
