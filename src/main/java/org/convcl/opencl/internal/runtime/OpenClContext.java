package org.convcl.opencl.internal.runtime;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.convcl.opencl.device.OpenClDevice;
import org.convcl.opencl.internal.driver.DriverSignalGuard;
import org.convcl.opencl.internal.driver.OpenClRuntime;
import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_command_queue;
import org.jocl.cl_context;
import org.jocl.cl_context_properties;
import org.jocl.cl_device_id;
import org.jocl.cl_event;

/**
 * One OpenCL context on one device with three in-order command queues, and everything created in them: it
 * owns every buffer, program and kernel it hands out, so closing the context releases whatever its users
 * left open (which then fail loudly if used).
 *
 * <ul>
 *   <li>The <em>compute</em> queue ({@link #queue()}) runs every kernel and the blocking transfers; commands from
 *       all threads run on it in submission order, which is what lets a buffer given back to the caching
 *       allocator be reused at once.</li>
 *   <li>The <em>upload</em> and <em>download</em> queues ({@link #uploadQueue()}, {@link #downloadQueue()}) carry
 *       the asynchronous copies of pipelined host transfers, so that a copy in each direction can run beside
 *       the kernels (GPUs have a copy engine per direction). Their commands are ordered against the compute
 *       queue only by events: {@link #marker()}, {@link #barrier} and the wait lists of
 *       {@link #writeAsync}/{@link #readAsync}.</li>
 *   <li>A fourth queue maps and unmaps pinned staging memory ({@link PinnedBuffer}), so that pinning never waits
 *       behind the kernels.</li>
 * </ul>
 *
 * <p>Thread-safe: OpenCL's context and queue calls may come from any thread.
 */
public final class OpenClContext extends NativeObject {
    private final OpenClDevice device;
    private final cl_context context;
    private final Queue queue;
    private final Queue uploads;
    private final Queue downloads;
    private final Queue mapping;
    private final ProgramCache programs;
    private final Set<NativeObject> owned = ConcurrentHashMap.newKeySet();

    private OpenClContext(OpenClDevice device, cl_context context, ProgramBinaryCache binaries) {
        super(NativeResources.Kind.CONTEXT);
        this.device = device;
        this.context = context;
        Queue[] created = new Queue[4];
        try {
            for (int i = 0; i < created.length; i++) {
                created[i] = new Queue(Cl.call("clCreateCommandQueue(" + device.name() + ")",
                        () -> createInOrderQueue(context, device)));
            }
        } catch (RuntimeException e) {
            for (Queue made : created) {
                if (made != null) {
                    made.close();
                }
            }
            close();
            throw e;
        }
        this.queue = created[0];
        this.uploads = created[1];
        this.downloads = created[2];
        this.mapping = created[3];
        this.programs = new ProgramCache(this, binaries);
    }

    /**
     * An in-order queue with profiling enabled, so that a caller can ask how long its kernels ran on the device
     * ({@link KernelEvents}); timestamps are only read for launches made while recording. The OpenCL 1.2 entry
     * point is used on purpose: it exists on every platform, while its 2.0 replacement is missing from
     * 1.2-only drivers.
     */
    @SuppressWarnings("deprecation")
    private static cl_command_queue createInOrderQueue(cl_context context, OpenClDevice device) {
        return CL.clCreateCommandQueue(context, device.handle(), CL.CL_QUEUE_PROFILING_ENABLE, null);
    }

    /** A context on {@code device} using the per-user program binary cache where the driver needs one. */
    public static OpenClContext create(OpenClDevice device) {
        return create(device, ProgramBinaryCache.forDevice(device));
    }

    public static OpenClContext create(OpenClDevice device, ProgramBinaryCache binaries) {
        OpenClRuntime.require();
        cl_context_properties properties = new cl_context_properties();
        properties.addProperty(CL.CL_CONTEXT_PLATFORM, device.platform());
        cl_context context = DriverSignalGuard.around("clCreateContext", () -> Cl.call("clCreateContext("
                + device.name() + ")", () -> CL.clCreateContext(properties, 1, new cl_device_id[] {device.handle()},
                null, null, null)));
        return new OpenClContext(device, context, binaries);
    }

    public OpenClDevice device() {
        return device;
    }

    public cl_context handle() {
        ensureOpen();
        return context;
    }

    /** The compute queue: kernels, blocking transfers, and the order device tensors rely on. */
    public cl_command_queue queue() {
        ensureOpen();
        return queue.handle();
    }

    /** The queue that maps and unmaps pinned memory; usable while the context is closing (buffers release then). */
    cl_command_queue mappingQueue() {
        return mapping.handle();
    }

    /** The queue of asynchronous host-to-device copies. */
    public cl_command_queue uploadQueue() {
        ensureOpen();
        return uploads.handle();
    }

    /** The queue of asynchronous device-to-host copies. */
    public cl_command_queue downloadQueue() {
        ensureOpen();
        return downloads.handle();
    }

    /** An event that completes when every command submitted to the compute queue so far has completed. */
    public cl_event marker() {
        cl_event event = new cl_event();
        Cl.run("clEnqueueMarkerWithWaitList", () -> CL.clEnqueueMarkerWithWaitList(queue(), 0, null, event));
        return event;
    }

    /** Makes the compute queue's later commands wait for {@code events} (null entries are skipped). */
    public void barrier(cl_event... events) {
        cl_event[] waitList = ClEvents.waitList(events);
        if (waitList.length > 0) {
            Cl.run("clEnqueueBarrierWithWaitList", () -> CL.clEnqueueBarrierWithWaitList(queue(), waitList.length,
                    waitList, null));
        }
    }

    /**
     * Enqueues, on {@code queue} and without waiting, a copy of {@code count} floats from the start of the direct,
     * native-order {@code source} (pinned staging memory, which must stay untouched until the returned event
     * completes) into {@code buffer} at element {@code offset}, after {@code waitFor}.
     */
    public cl_event writeAsync(cl_command_queue queue, ClBuffer buffer, long offset, ByteBuffer source, int count,
            cl_event... waitFor) {
        return writeBytesAsync(queue, buffer, offset * Sizeof.cl_float, source, (long) count * Sizeof.cl_float,
                waitFor);
    }

    /** As {@link #writeAsync}, in bytes: for elements of any size (float16 bits as well as floats). */
    public cl_event writeBytesAsync(cl_command_queue queue, ClBuffer buffer, long byteOffset, ByteBuffer source,
            long bytes, cl_event... waitFor) {
        cl_event[] waitList = ClEvents.waitList(waitFor);
        cl_event event = new cl_event();
        try {
            CL.clEnqueueWriteBuffer(queue, buffer.handle(), CL.CL_FALSE, byteOffset, bytes, Pointer.to(source),
                    waitList.length, waitList.length == 0 ? null : waitList, event);
        } catch (CLException e) {
            throw Cl.error("clEnqueueWriteBuffer (" + bytes + " bytes to " + buffer.describe() + ", asynchronous)", e);
        }
        return event;
    }

    /**
     * Enqueues, on {@code queue} and without waiting, a copy of {@code count} floats from {@code buffer} at element
     * {@code offset} into the start of the direct, native-order {@code target}, after {@code waitFor}; the values
     * are there once the returned event completes.
     */
    public cl_event readAsync(cl_command_queue queue, ClBuffer buffer, long offset, ByteBuffer target, int count,
            cl_event... waitFor) {
        return readBytesAsync(queue, buffer, offset * Sizeof.cl_float, target, (long) count * Sizeof.cl_float,
                waitFor);
    }

    /** As {@link #readAsync}, in bytes: for elements of any size (float16 bits as well as floats). */
    public cl_event readBytesAsync(cl_command_queue queue, ClBuffer buffer, long byteOffset, ByteBuffer target,
            long bytes, cl_event... waitFor) {
        cl_event[] waitList = ClEvents.waitList(waitFor);
        cl_event event = new cl_event();
        try {
            CL.clEnqueueReadBuffer(queue, buffer.handle(), CL.CL_FALSE, byteOffset, bytes, Pointer.to(target),
                    waitList.length, waitList.length == 0 ? null : waitList, event);
        } catch (CLException e) {
            throw Cl.error("clEnqueueReadBuffer (" + bytes + " bytes from " + buffer.describe() + ", asynchronous)", e);
        }
        return event;
    }

    /** Pinned host memory of {@code bytes} for staging transfers, mapped for the host; owned by this context. */
    PinnedBuffer allocatePinned(long bytes) {
        ensureOpen();
        return own(PinnedBuffer.allocate(this, bytes));
    }

    public ProgramCache programs() {
        return programs;
    }

    /** The program for a packaged (or overridden) kernel source built with {@code options}. */
    public ClProgram program(String sourceFile, String options) {
        return program(List.of(sourceFile), options);
    }

    /** The program built with {@code options} from {@code sourceFiles}, in order (shared code first). */
    public ClProgram program(List<String> sourceFiles, String options) {
        ensureOpen();
        return programs.program(KernelSources.load(sourceFiles), options);
    }

    /** A new kernel object of {@code name} from {@code program}, owned by this context. */
    public ClKernel kernel(ClProgram program, String name) {
        ensureOpen();
        return own(ClKernel.create(program, name, device.isPocl()));
    }

    /** A new buffer of {@code bytes}, refused when the device cannot allocate one that large. */
    public ClBuffer allocate(long bytes, String purpose) {
        ensureOpen();
        if (bytes < 0) {
            throw new IllegalArgumentException(purpose + ": buffer size " + bytes + " bytes is negative");
        }
        if (bytes > device.maxAllocationBytes()) {
            throw new IllegalArgumentException(purpose + ": needs a buffer of " + bytes + " bytes but " + device.describe()
                    + " allows at most " + device.maxAllocationBytes() + " bytes per buffer (CL_DEVICE_MAX_MEM_ALLOC_SIZE)");
        }
        return own(ClBuffer.allocate(this, bytes));
    }

    /** Tracks {@code object} so that closing the context releases it if its user did not. */
    public <T extends NativeObject> T own(T object) {
        owned.add(object);
        object.onClose(owned::remove);
        if (isClosed()) {
            object.close();
            ensureOpen();
        }
        return object;
    }

    /** Copies {@code count} floats from {@code source[sourceOffset..]} into the buffer at element {@code offset}. */
    public void write(ClBuffer buffer, long offset, float[] source, int sourceOffset, int count) {
        if (count == 0) {
            return;
        }
        try {
            CL.clEnqueueWriteBuffer(queue(), buffer.handle(), CL.CL_TRUE, offset * Sizeof.cl_float,
                    (long) count * Sizeof.cl_float, Pointer.to(source).withByteOffset((long) sourceOffset * Sizeof.cl_float),
                    0, null, null);
        } catch (CLException e) {
            throw Cl.error("clEnqueueWriteBuffer (" + count + " floats to " + buffer.describe() + ")", e);
        }
    }

    /** Copies the {@code remaining()} floats of a direct, native-order buffer into the buffer from its start. */
    public void write(ClBuffer buffer, FloatBuffer source) {
        int count = source.remaining();
        if (count == 0) {
            return;
        }
        try {
            // A slice starts at the source's position: JOCL passes the address of a direct buffer's start.
            CL.clEnqueueWriteBuffer(queue(), buffer.handle(), CL.CL_TRUE, 0, (long) count * Sizeof.cl_float,
                    Pointer.to(source.slice()), 0, null, null);
        } catch (CLException e) {
            throw Cl.error("clEnqueueWriteBuffer (" + count + " floats to " + buffer.describe() + ")", e);
        }
    }

    /**
     * Copies floats from the buffer's start into the {@code remaining()} floats of a direct, native-order buffer,
     * on the download queue: the caller has waited for the work that wrote them, and later kernels are not waited
     * for.
     */
    public void read(ClBuffer buffer, FloatBuffer target) {
        int count = target.remaining();
        if (count == 0) {
            return;
        }
        try {
            CL.clEnqueueReadBuffer(downloadQueue(), buffer.handle(), CL.CL_TRUE, 0, (long) count * Sizeof.cl_float,
                    Pointer.to(target.slice()), 0, null, null);
        } catch (CLException e) {
            throw Cl.error("clEnqueueReadBuffer (" + count + " floats from " + buffer.describe() + ")", e);
        }
    }

    /** Copies the {@code remaining()} shorts of a direct, native-order buffer into the buffer from its start. */
    public void write(ClBuffer buffer, ShortBuffer source) {
        write(buffer, 0, source);
    }

    /**
     * Copies the {@code remaining()} shorts of a direct, native-order buffer into the buffer from element
     * {@code offset}, on the compute queue (after whatever still uses the buffer there).
     */
    public void write(ClBuffer buffer, long offset, ShortBuffer source) {
        int count = source.remaining();
        if (count == 0) {
            return;
        }
        try {
            CL.clEnqueueWriteBuffer(queue(), buffer.handle(), CL.CL_TRUE, offset * Sizeof.cl_short,
                    (long) count * Sizeof.cl_short, Pointer.to(source.slice()), 0, null, null);
        } catch (CLException e) {
            throw Cl.error("clEnqueueWriteBuffer (" + count + " shorts to " + buffer.describe() + ")", e);
        }
    }

    /**
     * Copies shorts from the buffer's start into the {@code remaining()} shorts of a direct, native-order buffer,
     * on the download queue, as {@link #read(ClBuffer, FloatBuffer)}.
     */
    public void read(ClBuffer buffer, ShortBuffer target) {
        read(buffer, 0, target);
    }

    /** As {@link #read(ClBuffer, ShortBuffer)}, from element {@code offset} of the buffer. */
    public void read(ClBuffer buffer, long offset, ShortBuffer target) {
        int count = target.remaining();
        if (count == 0) {
            return;
        }
        try {
            CL.clEnqueueReadBuffer(downloadQueue(), buffer.handle(), CL.CL_TRUE, offset * Sizeof.cl_short,
                    (long) count * Sizeof.cl_short, Pointer.to(target.slice()), 0, null, null);
        } catch (CLException e) {
            throw Cl.error("clEnqueueReadBuffer (" + count + " shorts from " + buffer.describe() + ")", e);
        }
    }

    /** Copies ints into the buffer from its start. */
    public void write(ClBuffer buffer, int[] source) {
        if (source.length == 0) {
            return;
        }
        try {
            CL.clEnqueueWriteBuffer(queue(), buffer.handle(), CL.CL_TRUE, 0, (long) source.length * Sizeof.cl_int,
                    Pointer.to(source), 0, null, null);
        } catch (CLException e) {
            throw Cl.error("clEnqueueWriteBuffer (" + source.length + " ints to " + buffer.describe() + ")", e);
        }
    }

    /** Copies {@code count} floats from the buffer at element {@code offset}, after earlier commands on {@code queue}. */
    public void read(cl_command_queue queue, ClBuffer buffer, long offset, float[] target, int targetOffset, int count) {
        if (count == 0) {
            return;
        }
        try {
            if (ArrayWriteBack.works()) {
                CL.clEnqueueReadBuffer(queue, buffer.handle(), CL.CL_TRUE, offset * Sizeof.cl_float,
                        (long) count * Sizeof.cl_float,
                        Pointer.to(target).withByteOffset((long) targetOffset * Sizeof.cl_float), 0, null, null);
            } else {
                readThroughDirectMemory(queue, buffer, offset, target, targetOffset, count);
            }
        } catch (CLException e) {
            throw Cl.error("clEnqueueReadBuffer (" + count + " floats from " + buffer.describe() + ")", e);
        }
    }

    /** Largest piece a read through direct memory stages at once. */
    private static final int STAGING_FLOATS = 4 << 20;

    /** {@link #read} where results written into Java arrays would be lost (see {@link ArrayWriteBack}). */
    private void readThroughDirectMemory(cl_command_queue queue, ClBuffer buffer, long offset, float[] target,
            int targetOffset, int count) {
        ByteBuffer staging = ByteBuffer.allocateDirect(Math.min(count, STAGING_FLOATS) * Sizeof.cl_float)
                .order(ByteOrder.nativeOrder());
        for (int done = 0; done < count; ) {
            int piece = Math.min(count - done, STAGING_FLOATS);
            CL.clEnqueueReadBuffer(queue, buffer.handle(), CL.CL_TRUE, (offset + done) * Sizeof.cl_float,
                    (long) piece * Sizeof.cl_float, Pointer.to(staging), 0, null, null);
            staging.asFloatBuffer().get(target, targetOffset + done, piece);
            done += piece;
        }
    }

    /**
     * After a failed transfer or call: waits for every queue, so that no command still reads or writes memory the
     * caller is about to give back. Returns whether that worked; a device too broken to drain keeps its memory
     * out of the pools (this context releases it when it closes), and the caller reports its original failure.
     */
    public boolean drainAfterFailure() {
        try {
            finish();
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    /**
     * Submits every command enqueued so far, on every queue, to the device without waiting: a wait that polls
     * an event's status (instead of {@code clWaitForEvents}, which flushes by itself) needs this, or a driver
     * may hold the commands back and the event never completes.
     */
    public void flush() {
        Cl.run("clFlush(" + device.name() + ", upload queue)", () -> CL.clFlush(uploadQueue()));
        Cl.run("clFlush(" + device.name() + ", download queue)", () -> CL.clFlush(downloadQueue()));
        Cl.run("clFlush(" + device.name() + ")", () -> CL.clFlush(queue()));
    }

    /** Waits until every command submitted so far, on every queue, has completed. */
    public void finish() {
        Cl.run("clFinish(" + device.name() + ", upload queue)", () -> CL.clFinish(uploadQueue()));
        Cl.run("clFinish(" + device.name() + ", download queue)", () -> CL.clFinish(downloadQueue()));
        Cl.run("clFinish(" + device.name() + ", mapping queue)", () -> CL.clFinish(mappingQueue()));
        Cl.run("clFinish(" + device.name() + ")", () -> CL.clFinish(queue()));
    }

    @Override
    void release() {
        // Kernels before programs before buffers: a program cannot be released while kernels hold it on
        // some drivers, and buffers are independent.
        List<NativeObject> remaining = new ArrayList<>(owned);
        remaining.sort(Comparator.comparingInt(OpenClContext::releaseOrder));
        for (Queue each : new Queue[] {uploads, downloads, mapping, queue}) {
            try {
                if (each != null) {
                    CL.clFinish(each.handle());
                }
            } catch (RuntimeException e) {
                // Closing proceeds: a failed device must still give its objects back.
            }
        }
        for (NativeObject object : remaining) {
            object.close();
        }
        if (programs != null) {
            programs.clear();
        }
        for (Queue each : new Queue[] {uploads, downloads, mapping, queue}) {
            if (each != null) {
                each.close();
            }
        }
        Cl.run("clReleaseContext", () -> CL.clReleaseContext(context));
    }

    private static int releaseOrder(NativeObject object) {
        if (object instanceof ClKernel) {
            return 0;
        }
        return object instanceof ClProgram ? 1 : 2;
    }

    @Override
    String describe() {
        return "OpenCL context on " + device.describe();
    }

    /** The command queue, counted as its own native object. */
    private static final class Queue extends NativeObject {
        private final cl_command_queue queue;

        Queue(cl_command_queue queue) {
            super(NativeResources.Kind.QUEUE);
            this.queue = queue;
        }

        cl_command_queue handle() {
            ensureOpen();
            return queue;
        }

        @Override
        void release() {
            Cl.run("clReleaseCommandQueue", () -> CL.clReleaseCommandQueue(queue));
        }

        @Override
        String describe() {
            return "command queue";
        }
    }
}
