package org.convcl.opencl.internal.plan;

import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicLong;
import org.convcl.ConvGeometry;
import org.convcl.opencl.internal.runtime.BufferPool;
import org.convcl.opencl.internal.runtime.ClBuffer;
import org.convcl.opencl.internal.runtime.ClEvents;
import org.convcl.opencl.internal.runtime.HostCopy;
import org.convcl.opencl.internal.runtime.HostTransfers;
import org.convcl.opencl.internal.runtime.OpenClContext;
import org.convcl.opencl.internal.runtime.PinnedBuffer;
import org.convcl.opencl.internal.runtime.StagingPolicy;
import org.convcl.opencl.internal.runtime.StagingPool;
import org.jocl.cl_event;

/**
 * A host-array convolution whose batch runs in chunks that overlap: while the device computes chunk i, the
 * upload queue carries chunk i+1 in, the download queue carries chunk i-1 out, and the CPU copies between the
 * Java arrays and pinned staging. Each chunk cycles through one of a few slots (a pinned input and output
 * staging buffer, a device input and output buffer); a slot is reused once its previous chunk's output has
 * been copied out, which implies that chunk's upload and kernels are done too. The results are those of one
 * unchunked call: every chunk runs the same plan on its batch elements.
 *
 * <p>Stateless; one instance serves a backend's calls from any thread.
 */
public final class PipelinedForward {
    private final OpenClContext context;
    private final BufferPool pool;
    private final StagingPool staging;
    private final AtomicLong uploadedFloats = new AtomicLong();

    public PipelinedForward(OpenClContext context, BufferPool pool, StagingPool staging) {
        this.context = context;
        this.pool = pool;
        this.staging = staging;
    }

    /**
     * {@code output = conv(input, weights) + bias} with direct, blocking copies between the Java arrays and the
     * device buffers, {@code chunk} batch elements at a time: for devices where staging does not pay
     * ({@link StagingPolicy}), whose copies could not overlap the kernels anyway.
     */
    public void runDirect(ConvPlan plan, ConvGeometry g, float[] input, ClBuffer weights, ClBuffer bias, float[] output,
            int chunk) {
        int inputPerElement = g.inputSpatialSize() * g.inChannels();
        int outputPerElement = g.outputSpatialSize() * g.outChannels();
        ClBuffer in = null;
        ClBuffer out = null;
        ClBuffer rows = null;
        try {
            in = pool.acquire(4L * chunk * inputPerElement, () -> "input chunk of " + g);
            out = pool.acquire(4L * chunk * outputPerElement, () -> "output chunk of " + g);
            // A phased plan's bias rows depend on the weights only: once per call, not per chunk.
            rows = plan.phaseBiasRows(context, pool, weights, bias);
            for (int first = 0; first < g.batch(); first += chunk) {
                stopIfInterrupted(g, first);
                int count = Math.min(chunk, g.batch() - first);
                uploadedFloats.addAndGet((long) count * inputPerElement);
                context.write(in, 0, input, first * inputPerElement, count * inputPerElement);
                plan.enqueue(context, count, in, 0, weights, bias, rows, out, 0);
                context.read(context.queue(), out, 0, output, first * outputPerElement, count * outputPerElement);
            }
        } finally {
            pool.release(in);
            pool.release(out);
            pool.release(rows);
        }
    }

    /**
     * Between chunks, an interrupted caller stops the call (a chunk already launched runs to its end; the caller's
     * cleanup waits for it).
     */
    private static void stopIfInterrupted(ConvGeometry g, int done) {
        if (Thread.currentThread().isInterrupted()) {
            throw new CancellationException("convolution interrupted after " + done + " of " + g.batch()
                    + " batch elements: " + g);
        }
    }

    /** Input floats uploaded since this was made (for tests: what the calls sent). */
    public long uploadedFloats() {
        return uploadedFloats.get();
    }

    /**
     * {@code output = conv(input, weights) + bias} over the whole batch, {@code chunk} elements at a time in
     * {@code slots} slots; {@code weights} and {@code bias} are device buffers (bias: the placeholder when none).
     */
    public void run(ConvPlan plan, ConvGeometry g, float[] input, ClBuffer weights, ClBuffer bias, float[] output,
            BatchChunks.Pipeline pipeline) {
        int inputPerElement = g.inputSpatialSize() * g.inChannels();
        int outputPerElement = g.outputSpatialSize() * g.outChannels();
        int chunk = pipeline.chunk();
        int chunks = (g.batch() + chunk - 1) / chunk;
        int slots = Math.min(pipeline.slots(), chunks);
        Slot[] slot = new Slot[slots];
        cl_event start = null;
        ClBuffer rows = null;
        boolean done = false;
        try {
            for (int i = 0; i < slots; i++) {
                slot[i] = new Slot(pool, staging, 4L * chunk * inputPerElement, 4L * chunk * outputPerElement, g);
            }
            // A phased plan's bias rows depend on the weights only: once per call, on the compute queue, before
            // every chunk's launch there.
            rows = plan.phaseBiasRows(context, pool, weights, bias);
            // Buffers from the allocator may have been given back by work still running on the compute queue
            // (another thread's temporaries, closed right after their kernels were enqueued): the uploads wait
            // for everything enqueued there until now, after the buffers were taken.
            start = context.marker();
            for (int i = 0; i < chunks; i++) {
                Slot s = slot[i % slots];
                if (i >= slots) {
                    finishChunk(g, i - slots, chunk, s, output, outputPerElement);
                }
                stopIfInterrupted(g, i * chunk);
                int first = i * chunk;
                int count = Math.min(chunk, g.batch() - first);
                int inFloats = count * inputPerElement;
                if (inFloats > 0) {
                    uploadedFloats.addAndGet(inFloats);
                    HostCopy.toStaging(input, first * inputPerElement, s.stagedInput.host(), inFloats);
                    s.uploaded = context.writeAsync(context.uploadQueue(), s.deviceInput, 0, s.stagedInput.host(),
                            inFloats, start);
                    context.barrier(s.uploaded);
                }
                plan.enqueue(context, count, s.deviceInput, 0, weights, bias, rows, s.deviceOutput, 0);
                s.computed = context.marker();
                s.downloaded = context.readAsync(context.downloadQueue(), s.deviceOutput, 0, s.stagedOutput.host(),
                        count * outputPerElement, s.computed);
            }
            for (int i = Math.max(0, chunks - slots); i < chunks; i++) {
                finishChunk(g, i, chunk, slot[i % slots], output, outputPerElement);
            }
            done = true;
        } finally {
            finish(done, start, rows, slot);
        }
    }

    /** Waits for chunk {@code index}'s output in {@code s} and copies it out; the slot is then free. */
    private void finishChunk(ConvGeometry g, int index, int chunk, Slot s, float[] output, int outputPerElement) {
        int first = index * chunk;
        int count = Math.min(chunk, g.batch() - first);
        HostTransfers.await(s.downloaded, "convolution " + g + ", batch elements " + first + ".." + (first + count - 1));
        HostCopy.fromStaging(s.stagedOutput.host(), output, first * outputPerElement, count * outputPerElement);
        s.releaseEvents();
    }

    /**
     * Releases the slots' events and buffers and the bias rows; after a failure only once the device has let go
     * of them.
     */
    private void finish(boolean done, cl_event start, ClBuffer rows, Slot[] slots) {
        boolean quiet = done || context.drainAfterFailure();
        ClEvents.release(start);
        if (quiet) {
            pool.release(rows);
        }
        for (Slot s : slots) {
            if (s != null) {
                s.releaseEvents();
                if (quiet) {
                    s.giveBack(pool, staging);
                }
            }
        }
    }

    /** One chunk's buffers, host and device, and the events of the chunk using them. */
    private static final class Slot {
        final PinnedBuffer stagedInput;
        final PinnedBuffer stagedOutput;
        final ClBuffer deviceInput;
        final ClBuffer deviceOutput;
        cl_event uploaded;
        cl_event computed;
        cl_event downloaded;

        Slot(BufferPool pool, StagingPool staging, long inputBytes, long outputBytes, ConvGeometry g) {
            PinnedBuffer in = null;
            PinnedBuffer out = null;
            ClBuffer deviceIn = null;
            ClBuffer deviceOut;
            try {
                in = staging.acquire(Math.max(4, inputBytes));
                out = staging.acquire(Math.max(4, outputBytes));
                deviceIn = pool.acquire(inputBytes, () -> "input chunk of " + g);
                deviceOut = pool.acquire(outputBytes, () -> "output chunk of " + g);
            } catch (RuntimeException e) {
                staging.release(in);
                staging.release(out);
                pool.release(deviceIn);
                throw e;
            }
            this.stagedInput = in;
            this.stagedOutput = out;
            this.deviceInput = deviceIn;
            this.deviceOutput = deviceOut;
        }

        void releaseEvents() {
            ClEvents.releaseAll(uploaded, computed, downloaded);
            uploaded = null;
            computed = null;
            downloaded = null;
        }

        void giveBack(BufferPool pool, StagingPool staging) {
            staging.release(stagedInput);
            staging.release(stagedOutput);
            pool.release(deviceInput);
            pool.release(deviceOutput);
        }
    }
}
