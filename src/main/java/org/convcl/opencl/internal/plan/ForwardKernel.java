package org.convcl.opencl.internal.plan;

import java.util.List;
import java.util.function.IntFunction;
import org.convcl.opencl.device.OpenClDevice;
import org.convcl.opencl.internal.runtime.ClBuffer;
import org.convcl.opencl.internal.runtime.ClKernel;

/**
 * A forward variant compiled for one geometry and config ({@link ForwardVariant#compile}): what {@link ConvPlan}
 * launches. Every forward kernel takes {@code (batch, input, inputOffset, weights, bias, output, outputOffset)},
 * followed by the variant's own {@code extraArguments}, then the epilogue's {@code (scale, shift, residual,
 * residualOffset)} ({@link EpilogueBuffers}; read only by a program compiled with an {@link EpilogueShape}).
 *
 * @param config          the config as compiled (vector widths, or a work-group size, fitted)
 * @param options         the {@code -D} options the program was built with
 * @param kernel          the kernel object
 * @param extraArguments  buffers passed after the common arguments (the general kernel's source-index tables), owned
 *                        by the plan
 * @param global          global sizes for a batch
 * @param local           local sizes
 * @param inputAlignment  floats the kernel loads at once, which the input offset must be a multiple of
 * @param outputAlignment floats it stores at once, likewise for the output offset
 * @param phaseBias       the GEMM's {@code phase_bias} kernel when it skips input-dilation zeros (it computes the
 *                        per-phase bias rows the kernel takes in place of the bias), else null
 * @param phaseBiasLength how many floats those rows take, 0 without them
 */
public record ForwardKernel(KernelConfig config, String options, ClKernel kernel, List<ClBuffer> extraArguments,
        IntFunction<long[]> global, long[] local, int inputAlignment, int outputAlignment, ClKernel phaseBias,
        long phaseBiasLength) {

    public ForwardKernel {
        extraArguments = List.copyOf(extraArguments);
    }

    /** A kernel with no extra arguments and no phase-bias rows. */
    ForwardKernel(KernelConfig config, String options, ClKernel kernel, IntFunction<long[]> global, long[] local,
            int inputAlignment, int outputAlignment) {
        this(config, options, kernel, List.of(), global, local, inputAlignment, outputAlignment, null, 0);
    }

    void close() {
        kernel.close();
        if (phaseBias != null) {
            phaseBias.close();
        }
        extraArguments.forEach(ClBuffer::close);
    }

    /**
     * Refuses (and releases) a kernel the compiled program cannot launch with {@code workGroupSize} items; a
     * failed query releases it too.
     */
    static void checkKernelLimit(ClKernel kernel, OpenClDevice device, long workGroupSize, String what) {
        long kernelLimit;
        try {
            kernelLimit = kernel.maxWorkGroupSize(device.handle());
        } catch (RuntimeException e) {
            kernel.close();
            throw e;
        }
        if (workGroupSize > kernelLimit) {
            kernel.close();
            throw new IllegalArgumentException(what + ": the compiled kernel runs at most " + kernelLimit
                    + " work-items per group on " + device.describe() + ", fewer than the " + workGroupSize
                    + " it needs");
        }
    }
}
