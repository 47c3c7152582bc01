package org.convcl.opencl;

import org.convcl.ConvGeometry;
import org.convcl.Tensor;
import org.convcl.backend.internal.HostOperands;
import org.convcl.opencl.internal.plan.BatchChunks;
import org.convcl.opencl.internal.plan.ConvPlan;
import org.convcl.opencl.internal.plan.PipelinedForward;
import org.convcl.opencl.internal.runtime.ClBuffer;
import org.convcl.opencl.internal.runtime.OpenClContext;
import org.convcl.opencl.internal.runtime.StagingPolicy;

/**
 * The forward convolution of an {@link OpenClBackend} from and into host arrays: the batch runs in chunks that
 * pipeline through pinned staging memory, uploading one chunk while the device computes another and a third
 * comes back ({@link PipelinedForward}); on a CPU device, in as few chunks as fit, with direct copies
 * ({@link StagingPolicy}). Each call returns with its result. Thread-safe.
 */
final class HostForward {
    private final OpenClBackend backend;
    private final Lifecycle lifecycle;
    private final ForwardPlans plans;
    private final PipelinedForward pipelined;
    private final BatchChunks chunks;
    private final boolean staged;
    private final ClBuffer placeholder;

    HostForward(OpenClBackend backend, Lifecycle lifecycle, ForwardPlans plans, TensorTransfers tensors,
            OpenClContext context, BatchChunks chunks, ClBuffer placeholder) {
        this.backend = backend;
        this.lifecycle = lifecycle;
        this.plans = plans;
        this.pipelined = new PipelinedForward(context, tensors.pool(), tensors.staging());
        this.chunks = chunks;
        this.staged = tensors.staged();
        this.placeholder = placeholder;
    }

    /** With the kernel and bias uploaded for this call alone. */
    void forward(ConvGeometry g, float[] input, float[] kernel, float[] bias, float[] output) {
        HostOperands.forward(g, input, kernel, bias, output);
        if (output.length == 0) {
            return;
        }
        // Refused before anything is uploaded: a batch element or kernel the device cannot hold.
        chunks.pipeline(g, bias != null);
        try (DeviceTensor weights = backend.upload(Tensor.of(kernel, g.kernelShape()));
                DeviceTensor biasValues = bias == null ? null : backend.upload(Tensor.of(bias, g.outChannels()))) {
            forward(g, input, weights, biasValues, output);
        }
    }

    /** With the kernel and bias already on the device (a layer's resident copies); {@code bias} may be null. */
    void forward(ConvGeometry g, float[] input, DeviceTensor kernel, DeviceTensor bias, float[] output) {
        HostOperands.geometry(g);
        HostOperands.length("input", input, g.inputShape());
        OperandChecks.tensor(backend, "kernel", kernel, g.kernelShape());
        if (bias != null) {
            OperandChecks.tensor(backend, "bias", bias, new int[] {g.outChannels()});
        }
        HostOperands.length("output", output, g.outputShape());
        if (output.length == 0) {
            return;
        }
        BatchChunks.Pipeline pipeline = chunks.pipeline(g, bias != null);
        int wholeChunk = staged ? 0 : chunks.elementsPerChunk(g, bias != null);
        lifecycle.run(() -> {
            try (PlanCache.Lease<ConvPlan> plan = plans.defaultPlan(g, bias != null)) {
                ClBuffer biasBuffer = bias == null ? placeholder : bias.buffer();
                if (staged) {
                    pipelined.run(plan.plan(), g, input, kernel.buffer(), biasBuffer, output, pipeline);
                } else {
                    pipelined.runDirect(plan.plan(), g, input, kernel.buffer(), biasBuffer, output, wholeChunk);
                }
            }
        });
    }

    /** Input floats the pipeline copied to the device so far. */
    long uploadedFloats() {
        return pipelined.uploadedFloats();
    }
}
