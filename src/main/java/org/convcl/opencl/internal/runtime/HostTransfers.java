package org.convcl.opencl.internal.runtime;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.ShortBuffer;
import java.util.concurrent.atomic.AtomicLong;
import org.jocl.cl_event;

/**
 * Moves Java float arrays (and the short arrays of float16 / bfloat16 bits) to and from device buffers through pinned staging memory ({@link StagingPool}), in
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
    /** Bytes per piece of a staged transfer. */
    private final int pieceBytes;
    private final boolean staged;
    private final AtomicLong uploadedFloats = new AtomicLong();

    public HostTransfers(OpenClContext context, StagingPool staging, int pieceBytes, boolean staged) {
        this.context = context;
        this.staging = staging;
        this.pieceBytes = Math.max(Float.BYTES, pieceBytes);
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
        uploadStaged(Float.BYTES, count, buffer, offset,
                (sent, staging, piece) -> HostCopy.toStaging(source, from + sent, staging, piece));
    }

    /**
     * As {@link #upload(float[], int, int, ClBuffer, long)} for 16-bit elements (float16 or bfloat16 bits), which
     * reach the device as they are.
     */
    public void upload(short[] source, int from, int count, ClBuffer buffer, long offset) {
        if (count == 0) {
            return;
        }
        if (!staged) {
            // Through direct memory: JOCL offers no short[] copy with an element offset; a CPU device only.
            ShortBuffer direct = directShorts(count);
            direct.put(source, from, count).flip();
            context.write(buffer, offset, direct);
            return;
        }
        uploadStaged(Short.BYTES, count, buffer, offset,
                (sent, staging, piece) -> HostCopy.toStaging(source, from + sent, staging, piece));
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
        downloadStaged(Float.BYTES, count, buffer, offset,
                (start, staging, piece) -> HostCopy.fromStaging(staging, target, from + start, piece));
    }

    /** As {@link #download(ClBuffer, long, float[], int, int)} for 16-bit elements (float16 or bfloat16 bits). */
    public void download(ClBuffer buffer, long offset, short[] target, int from, int count) {
        if (count == 0) {
            return;
        }
        if (!staged) {
            // Through direct memory: reads into Java arrays can be lost on some JVMs (ArrayWriteBack).
            ShortBuffer direct = directShorts(count);
            context.read(buffer, offset, direct);
            direct.get(target, from, count);
            return;
        }
        downloadStaged(Short.BYTES, count, buffer, offset,
                (start, staging, piece) -> HostCopy.fromStaging(staging, target, from + start, piece));
    }

    /** The CPU's side of one piece of a staged transfer: elements {@code [start, start + piece)} of the array. */
    private interface PieceCopy {
        void copy(int start, ByteBuffer staging, int piece);
    }

    private void uploadStaged(int elementBytes, int count, ClBuffer buffer, long offset, PieceCopy fill) {
        int pieceElements = Math.max(1, pieceBytes / elementBytes);
        PinnedBuffer[] slots = new PinnedBuffer[SLOTS];
        cl_event[] copied = new cl_event[SLOTS];
        cl_event after = context.marker();
        boolean done = false;
        try {
            for (int i = 0, sent = 0; sent < count; i++) {
                int slot = i % SLOTS;
                int piece = Math.min(pieceElements, count - sent);
                if (copied[slot] != null) {
                    await(copied[slot], "upload to " + buffer.describe());
                    ClEvents.release(copied[slot]);
                    copied[slot] = null;
                }
                if (slots[slot] == null) {
                    slots[slot] = staging.acquire((long) elementBytes * Math.min(pieceElements, count));
                }
                fill.copy(sent, slots[slot].host(), piece);
                copied[slot] = context.writeBytesAsync(context.uploadQueue(), buffer, (offset + sent) * elementBytes,
                        slots[slot].host(), (long) piece * elementBytes, after);
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

    private void downloadStaged(int elementBytes, int count, ClBuffer buffer, long offset, PieceCopy drain) {
        int pieceElements = Math.max(1, pieceBytes / elementBytes);
        PinnedBuffer[] slots = new PinnedBuffer[SLOTS];
        cl_event[] arrived = new cl_event[SLOTS];
        boolean done = false;
        try {
            int pieces = (count + pieceElements - 1) / pieceElements;
            for (int i = 0; i < Math.min(SLOTS, pieces); i++) {
                slots[i] = staging.acquire((long) elementBytes * Math.min(pieceElements, count));
                arrived[i] = readPiece(buffer, offset, elementBytes, pieceElements, count, i, slots[i]);
            }
            for (int i = 0; i < pieces; i++) {
                int slot = i % SLOTS;
                int start = i * pieceElements;
                await(arrived[slot], "download from " + buffer.describe());
                ClEvents.release(arrived[slot]);
                arrived[slot] = null;
                drain.copy(start, slots[slot].host(), Math.min(pieceElements, count - start));
                if (i + SLOTS < pieces) {
                    arrived[slot] = readPiece(buffer, offset, elementBytes, pieceElements, count, i + SLOTS,
                            slots[slot]);
                }
            }
            done = true;
        } finally {
            finishTransfer(done, null, arrived, slots);
        }
    }

    private cl_event readPiece(ClBuffer buffer, long offset, int elementBytes, int pieceElements, int count,
            int piece, PinnedBuffer slot) {
        int start = piece * pieceElements;
        return context.readBytesAsync(context.downloadQueue(), buffer, (offset + start) * elementBytes, slot.host(),
                (long) Math.min(pieceElements, count - start) * elementBytes);
    }

    private static ShortBuffer directShorts(int count) {
        return ByteBuffer.allocateDirect(count * Short.BYTES).order(ByteOrder.nativeOrder()).asShortBuffer();
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
