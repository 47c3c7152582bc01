package org.convcl.opencl.internal.runtime;

import java.util.concurrent.atomic.AtomicLong;
import org.jocl.cl_event;

/**
 * Moves Java float arrays to and from device buffers through pinned staging memory ({@link StagingPool}), in
 * pieces that pipeline: the CPU copies piece i+1 into (or piece i-1 out of) staging while the link carries
 * piece i. Copies run on the context's upload and download queues, ordered against the compute queue by
 * events, and each call returns once its data has arrived. Where staging does not pay ({@link StagingPolicy}:
 * a CPU device), the arrays are copied directly, in one blocking copy each.
 *
 * <p>Thread-safe; each call uses its own staging buffers.
 */
public final class HostTransfers {
    /** Staging buffers a transfer cycles through: one being filled or drained while the other is in flight. */
    private static final int SLOTS = 2;

    private final OpenClContext context;
    private final StagingPool staging;
    private final int pieceFloats;
    private final boolean staged;
    private final AtomicLong uploadedFloats = new AtomicLong();

    public HostTransfers(OpenClContext context, StagingPool staging, int pieceBytes, boolean staged) {
        this.context = context;
        this.staging = staging;
        this.pieceFloats = Math.max(1, pieceBytes / Float.BYTES);
        this.staged = staged;
    }

    /** Floats uploaded through {@link #upload} since this was made (for tests: what a call sends). */
    public long uploadedFloats() {
        return uploadedFloats.get();
    }

    /**
     * Copies {@code source[from, from + count)} into {@code buffer} from element {@code offset}, after every
     * command already on the compute queue (the buffer may have just been given back by work still running
     * there), and returns once the copy has completed.
     */
    public void upload(float[] source, int from, int count, ClBuffer buffer, long offset) {
        if (count == 0) {
            return;
        }
        uploadedFloats.addAndGet(count);
        if (!staged) {
            // On the compute queue, so after whatever still uses the buffer there.
            context.write(buffer, offset, source, from, count);
            return;
        }
        PinnedBuffer[] slots = new PinnedBuffer[SLOTS];
        cl_event[] copied = new cl_event[SLOTS];
        cl_event after = context.marker();
        boolean done = false;
        try {
            for (int i = 0, sent = 0; sent < count; i++) {
                int slot = i % SLOTS;
                int piece = Math.min(pieceFloats, count - sent);
                if (copied[slot] != null) {
                    await(copied[slot], "upload to " + buffer.describe());
                    ClEvents.release(copied[slot]);
                    copied[slot] = null;
                }
                if (slots[slot] == null) {
                    slots[slot] = staging.acquire(4L * Math.min(pieceFloats, count));
                }
                HostCopy.toStaging(source, from + sent, slots[slot].host(), piece);
                copied[slot] = context.writeAsync(context.uploadQueue(), buffer, offset + sent, slots[slot].host(),
                        piece, after);
                sent += piece;
            }
            for (cl_event event : copied) {
                if (event != null) {
                    await(event, "upload to " + buffer.describe());
                }
            }
            done = true;
        } finally {
            finishTransfer(done, after, copied, slots);
        }
    }

    /**
     * Copies {@code count} floats of {@code buffer} from element {@code offset} into {@code target[from..]} and
     * returns when they have arrived. The caller has waited for whatever wrote them (a device tensor's producing
     * work), so the copies wait for nothing else on the device.
     */
    public void download(ClBuffer buffer, long offset, float[] target, int from, int count) {
        if (count == 0) {
            return;
        }
        if (!staged) {
            context.read(context.downloadQueue(), buffer, offset, target, from, count);
            return;
        }
        PinnedBuffer[] slots = new PinnedBuffer[SLOTS];
        cl_event[] arrived = new cl_event[SLOTS];
        boolean done = false;
        try {
            int pieces = (count + pieceFloats - 1) / pieceFloats;
            for (int i = 0; i < Math.min(SLOTS, pieces); i++) {
                slots[i] = staging.acquire(4L * Math.min(pieceFloats, count));
                arrived[i] = readPiece(buffer, offset, count, i, slots[i]);
            }
            for (int i = 0; i < pieces; i++) {
                int slot = i % SLOTS;
                int start = i * pieceFloats;
                await(arrived[slot], "download from " + buffer.describe());
                ClEvents.release(arrived[slot]);
                arrived[slot] = null;
                HostCopy.fromStaging(slots[slot].host(), target, from + start, Math.min(pieceFloats, count - start));
                if (i + SLOTS < pieces) {
                    arrived[slot] = readPiece(buffer, offset, count, i + SLOTS, slots[slot]);
                }
            }
            done = true;
        } finally {
            finishTransfer(done, null, arrived, slots);
        }
    }

    private cl_event readPiece(ClBuffer buffer, long offset, int count, int piece, PinnedBuffer slot) {
        int start = piece * pieceFloats;
        return context.readAsync(context.downloadQueue(), buffer, offset + start, slot.host(),
                Math.min(pieceFloats, count - start));
    }

    /** Waits for {@code event}; a failed copy is thrown as an error of {@code operation}. */
    public static void await(cl_event event, String operation) {
        ClEvents.awaitAll(operation, event);
    }

    /**
     * Releases a transfer's events and staging; after a failure only once the device has let go of the staging
     * memory ({@link OpenClContext#drainAfterFailure}).
     */
    private void finishTransfer(boolean done, cl_event start, cl_event[] events, PinnedBuffer[] slots) {
        boolean quiet = done || context.drainAfterFailure();
        ClEvents.release(start);
        ClEvents.releaseAll(events);
        for (PinnedBuffer slot : slots) {
            if (quiet) {
                staging.release(slot);
            }
        }
    }
}
