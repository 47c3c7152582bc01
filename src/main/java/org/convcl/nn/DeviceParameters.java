package org.convcl.nn;

import org.convcl.DType;
import org.convcl.Tensor;
import java.lang.ref.Cleaner;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Supplier;
import org.convcl.internal.BoundedShutdown;
import org.convcl.opencl.DeviceConvOps;
import org.convcl.opencl.DeviceTensor;
import org.convcl.opencl.OpenClBackend;

/**
 * A layer's kernel and bias, its epilogue's scale and shift (and, once a backward pass asked for it, its mask) resident on each OpenCL device
 * it has run on: uploaded on first use per device, reused by every later device call, and uploaded again
 * after {@link #invalidate()} (the layer's {@code parametersChanged()}). Released by {@link #release()} (uploaded
 * again on the next use), for good by {@link #close()} (the layer's {@code close()}), by the device's backend
 * closing, or, as a safety net, when the layer becomes unreachable. Thread-safe: a device's copy is replaced
 * only while no call is enqueueing with it.
 *
 * <p>The kernel, the bias and the mask are uploaded in the layer's compute type ({@link DType}): a float16 or
 * bfloat16 layer rounds the float32 values the user holds once, on the device, as {@code DeviceTensor.upload(...,
 * dtype)} does (the kernel after the mask was multiplied into it in float32). The scale and shift stay float32, as
 * the epilogue takes them whatever the output's type.
 */
final class DeviceParameters {
    private static final Cleaner CLEANER = Cleaner.create();

    private final Map<OpenClBackend, Copy> copies = new ConcurrentHashMap<>();
    private final AtomicLong version = new AtomicLong();
    /** The owner's description, for the refusal after close; a string, since the cleaner must not reach the owner. */
    private final String ownerName;
    private final Arrangements arrangements;
    /** The epilogue's per-channel vectors (null when the layer has none), resident like the bias. */
    private final Tensor scale;
    private final Tensor shift;
    /** The type of the kernel, bias and mask copies. */
    private final DType dtype;
    private volatile boolean closed;

    private DeviceParameters(String ownerName, Arrangements arrangements, Tensor scale, Tensor shift, DType dtype) {
        this.ownerName = ownerName;
        this.arrangements = arrangements;
        this.scale = scale;
        this.shift = shift;
        this.dtype = dtype;
    }

    /**
     * How a kernel or mask, uploaded as the layer's supplier gives it, becomes the tensor its device passes use:
     * the uploaded tensor itself, or a new one made from it on the device (a channels-first layer moves its
     * kernel's axes to the channels-last order there, so that its host-array calls compare and upload the values
     * as the user holds them, with no host-side copy). Takes over {@code uploaded}: returns it, or closes it.
     */
    interface Arrangement {
        Arrangement AS_UPLOADED = (backend, uploaded) -> uploaded;

        DeviceTensor arrange(OpenClBackend backend, DeviceTensor uploaded);
    }

    /** A layer's {@link Arrangement}s of its kernel and of its mask. */
    record Arrangements(Arrangement kernel, Arrangement mask) {
        static final Arrangements AS_UPLOADED = new Arrangements(Arrangement.AS_UPLOADED, Arrangement.AS_UPLOADED);
    }

    /** Uploads {@code values} and arranges them; the arrangement's failure releases the upload. */
    private static DeviceTensor uploadArranged(OpenClBackend backend, Tensor values, DType dtype,
            Arrangement arrangement) {
        DeviceTensor uploaded = DeviceTensor.upload(backend, values, dtype);
        try {
            return arrangement.arrange(backend, uploaded);
        } catch (RuntimeException e) {
            uploaded.close();
            throw e;
        }
    }

    /**
     * A layer's cache, made on the layer's first device call, so that a layer that never meets an OpenCL
     * device registers nothing with the cleaner; also the layer's open or closed state, so that a call racing
     * with {@link #close()} cannot upload copies that nothing would release. Thread-safe.
     */
    static final class Lazy {
        private final Object owner;
        private final Arrangements arrangements;
        private final Tensor scale;
        private final Tensor shift;
        private final DType dtype;
        private volatile DeviceParameters parameters;
        private volatile boolean closed;

        /** For {@code owner}, whose becoming unreachable releases the device memory; parameters used as uploaded. */
        Lazy(Object owner) {
            this(owner, Arrangements.AS_UPLOADED, null, null, DType.FLOAT32);
        }

        /**
         * For {@code owner}, with its kernel and mask arranged on the device after each upload, and its epilogue's
         * {@code scale} and {@code shift} (each null when none) resident with them; kernel, bias and mask in
         * {@code dtype}.
         */
        Lazy(Object owner, Arrangements arrangements, Tensor scale, Tensor shift, DType dtype) {
            this.owner = owner;
            this.arrangements = arrangements;
            this.scale = scale;
            this.shift = shift;
            this.dtype = dtype;
        }

        /** The cache, made now if this is the first device call; refused once closed. */
        DeviceParameters get() {
            ensureOpen();
            DeviceParameters made = parameters;
            if (made == null) {
                synchronized (this) {
                    ensureOpen();
                    made = parameters;
                    if (made == null) {
                        made = forOwner(owner, arrangements, scale, shift, dtype);
                        parameters = made;
                    }
                }
            }
            return made;
        }

        /** Throws {@link IllegalStateException} naming the owner once {@link #close()} has run. */
        void ensureOpen() {
            if (closed) {
                throw closedError(owner.toString());
            }
        }

        boolean isClosed() {
            return closed;
        }

        /** Releases every device copy for good: later calls are refused. Idempotent. */
        void close() {
            DeviceParameters made;
            synchronized (this) {
                closed = true;
                made = parameters;
            }
            if (made != null) {
                made.close();
            }
        }

        /** {@link DeviceParameters#invalidate()}, when there is a cache. */
        void invalidate() {
            DeviceParameters made = parameters;
            if (made != null) {
                made.invalidate();
            }
        }

        /** {@link DeviceParameters#release()}, when there is a cache. */
        void release() {
            DeviceParameters made = parameters;
            if (made != null) {
                made.release();
            }
        }
    }

    /**
     * A cache whose device memory is released when {@code owner} becomes unreachable, arranging the kernel and the
     * mask after each upload as {@code arrangements} say, and keeping {@code scale} and {@code shift} (either may be
     * null) with them; kernel, bias and mask in {@code dtype}.
     */
    static DeviceParameters forOwner(Object owner, Arrangements arrangements, Tensor scale, Tensor shift,
            DType dtype) {
        DeviceParameters parameters = new DeviceParameters(owner.toString(), arrangements, scale, shift, dtype);
        CLEANER.register(owner, parameters::release);
        return parameters;
    }

    /**
     * A layer's parameters as resident on one device, for the duration of one call: the kernel the convolution
     * multiplies by, and the bias, the kernel mask, the epilogue's scale and shift (each null when the layer has
     * none, or when the call did not ask for the mask).
     */
    record Resident(DeviceTensor kernel, DeviceTensor bias, DeviceTensor mask, FlippedKernel flipped,
            DeviceTensor scale, DeviceTensor shift) {
    }

    /**
     * The kernel rearranged for the input gradient ({@code KernelLayout.flipSwap} with the call's groups), made on
     * a backward pass's first request and kept with the layer's copy until the parameters change.
     */
    interface FlippedKernel {
        DeviceTensor forGroups(int groups);
    }

    /** One device's copy, tagged with the parameter version it was uploaded at. */
    private static final class Copy {
        DeviceTensor kernel;
        DeviceTensor bias;
        DeviceTensor mask;
        DeviceTensor flipped;
        DeviceTensor scale;
        DeviceTensor shift;
        int flippedGroups;
        long version = -1;
        /** The values the kernel and bias copies were uploaded from, for host-array calls to compare against. */
        float[] uploadedKernel;
        float[] uploadedBias;
        float[] uploadedScale;
        float[] uploadedShift;

        /**
         * The flipped kernel for {@code groups}, made from the current kernel copy when missing. Under the copy's
         * lock, or on a copy of one call's own ({@link #once}).
         */
        DeviceTensor flipped(OpenClBackend backend, int groups) {
            if (flipped == null || flipped.isClosed() || flippedGroups != groups) {
                if (flipped != null) {
                    flipped.close();
                }
                flipped = null;
                flipped = new DeviceConvOps(backend).flipSwapped(kernel, kernel.shape(), groups);
                flippedGroups = groups;
            }
            return flipped;
        }

        void close() {
            for (DeviceTensor tensor : new DeviceTensor[] {kernel, bias, mask, flipped, scale, shift}) {
                if (tensor != null) {
                    tensor.close();
                }
            }
            kernel = null;
            bias = null;
            mask = null;
            flipped = null;
            scale = null;
            shift = null;
            uploadedKernel = null;
            uploadedBias = null;
            uploadedScale = null;
            uploadedShift = null;
        }

        /** Whether the copies hold exactly these values (a host-array call's current parameters). */
        boolean holds(float[] kernelValues, Tensor biasValues, Tensor scaleValues, Tensor shiftValues) {
            return Arrays.equals(uploadedKernel, kernelValues) && holds(uploadedBias, biasValues)
                    && holds(uploadedScale, scaleValues) && holds(uploadedShift, shiftValues);
        }

        private static boolean holds(float[] uploaded, Tensor values) {
            return values == null || Arrays.equals(uploaded, values.data());
        }

        /** Whether a vector the layer has is missing here. */
        static boolean lacks(Tensor values, DeviceTensor copy) {
            return values != null && (copy == null || copy.isClosed());
        }

        /**
         * Uploads the vectors the layer has: the bias in {@code dtype}, the scale and shift float32 (the epilogue's
         * factors); kernel and mask are the caller's.
         */
        void uploadVectors(OpenClBackend backend, Tensor biasValues, Tensor scaleValues, Tensor shiftValues,
                DType dtype) {
            bias = biasValues == null ? null : DeviceTensor.upload(backend, biasValues, dtype);
            scale = scaleValues == null ? null : backend.upload(scaleValues);
            shift = shiftValues == null ? null : backend.upload(shiftValues);
            uploadedBias = biasValues == null ? null : biasValues.data().clone();
            uploadedScale = scaleValues == null ? null : scaleValues.data().clone();
            uploadedShift = shiftValues == null ? null : shiftValues.data().clone();
        }

        Resident resident(OpenClBackend backend, boolean withMask) {
            return new Resident(kernel, bias, withMask ? mask : null, groups -> flipped(backend, groups), scale,
                    shift);
        }
    }

    /**
     * Runs {@code action} with the kernel, bias, scale and shift (each of the last three null when the layer has
     * none) on {@code backend}'s device, uploading them first when there is no current copy there.
     */
    void use(OpenClBackend backend, Supplier<Tensor> kernel, Tensor bias, Consumer<Resident> action) {
        use(backend, kernel, bias, null, false, resident -> {
            action.accept(resident);
            return null;
        });
    }

    /**
     * Runs a host-array call's {@code action} with the kernel and bias resident on {@code backend}'s device, as
     * {@link #use(OpenClBackend, Supplier, Tensor, Consumer)} does, except that the copies are first compared
     * with the current values ({@code kernel}, {@code bias}, scale, shift) and uploaded again when they differ:
     * host-array calls
     * always compute with the parameters' current values, even when a training loop changed them in place
     * without saying so, yet upload them only when they changed (comparing costs a read of the parameters; an
     * upload, a read plus a transfer and a wait).
     */
    void useCurrent(OpenClBackend backend, Supplier<Tensor> kernel, Tensor bias, Consumer<Resident> action) {
        use(backend, kernel, bias, null, true, resident -> {
            action.accept(resident);
            return null;
        });
    }

    /**
     * Runs {@code action} with the kernel, bias and, when {@code mask} is not null, the mask resident on
     * {@code backend}'s device (a backward pass masks the kernel gradient there), uploading what has no
     * current copy first; returns what the action returns.
     */
    <T> T use(OpenClBackend backend, Supplier<Tensor> kernel, Tensor bias, Tensor mask, Function<Resident, T> action) {
        return use(backend, kernel, bias, mask, false, action);
    }

    private <T> T use(OpenClBackend backend, Supplier<Tensor> kernel, Tensor bias, Tensor mask, boolean compareValues,
            Function<Resident, T> action) {
        copies.keySet().removeIf(OpenClBackend::isClosed);
        Copy copy = copies.computeIfAbsent(backend, b -> new Copy());
        synchronized (copy) {
            // Checked under the copy's lock, after the copy is in the map: close() either sees this copy and
            // waits for the call, or has set the flag before this reads it.
            if (closed) {
                throw closedError(ownerName);
            }
            long current = version.get();
            Tensor kernelValues = compareValues ? kernel.get() : null;
            boolean stale = copy.version != current || copy.kernel == null || copy.kernel.isClosed()
                    || Copy.lacks(bias, copy.bias) || Copy.lacks(scale, copy.scale) || Copy.lacks(shift, copy.shift)
                    || (compareValues && !copy.holds(kernelValues.data(), bias, scale, shift));
            if (stale) {
                copy.close();
                Tensor uploaded = kernelValues != null ? kernelValues : kernel.get();
                copy.kernel = uploadArranged(backend, uploaded, dtype, arrangements.kernel());
                // Only host-array calls compare against it: a layer used on device tensors alone keeps no host
                // copy of its kernel (ResNet-50's would be 102 MB beside the user's); a later host-array call
                // finds none, uploads once more and keeps one from then on.
                copy.uploadedKernel = compareValues ? uploaded.data().clone() : null;
                copy.uploadVectors(backend, bias, scale, shift, dtype);
                copy.version = current;
            }
            if (mask != null && (copy.mask == null || copy.mask.isClosed())) {
                copy.mask = uploadArranged(backend, mask, dtype, arrangements.mask());
            }
            return action.apply(copy.resident(backend, mask != null));
        }
    }

    /**
     * Runs {@code action} with {@code kernel}, {@code bias}, {@code mask}, {@code scale} and {@code shift} (all but
     * the kernel may be null) uploaded to {@code backend}'s device for this call alone, and closes those copies after it (their memory
     * goes back to the backend's pool). For host-array calls, which must use the parameters' current values: a
     * training loop may change them in place without {@code parametersChanged()}, so a layer's resident copies
     * may be stale for them. The kernel and the mask are arranged after their upload as the layer's own copies are;
     * kernel, bias and mask are uploaded in {@code dtype}, scale and shift float32.
     */
    static <T> T once(OpenClBackend backend, Tensor kernel, Tensor bias, Tensor mask, Tensor scale, Tensor shift,
            Arrangements arrangements, DType dtype, Function<Resident, T> action) {
        Copy copy = new Copy();
        try {
            copy.kernel = uploadArranged(backend, kernel, dtype, arrangements.kernel());
            copy.uploadVectors(backend, bias, scale, shift, dtype);
            copy.mask = mask == null ? null : uploadArranged(backend, mask, dtype, arrangements.mask());
            return action.apply(copy.resident(backend, true));
        } finally {
            copy.close();
        }
    }

    /** Marks every device copy out of date; the next device call uploads again. */
    void invalidate() {
        version.incrementAndGet();
    }

    /** Releases every device copy for good: a later {@link #use} is refused. */
    void close() {
        closed = true;
        release();
    }

    private static IllegalStateException closedError(String ownerName) {
        return new IllegalStateException(ownerName + " has been closed: its kernel and bias copies on OpenCL devices "
                + "were released and it refuses apply and backward calls; build a new layer");
    }

    /** Releases every device copy now; a later {@link #use} uploads again. */
    void release() {
        for (Copy copy : copies.values()) {
            synchronized (copy) {
                // The copy's lock waited for a call in flight; a shutdown hook may have given up meanwhile.
                BoundedShutdown.releaseNatives(copy::close);
            }
        }
        copies.clear();
    }
}
