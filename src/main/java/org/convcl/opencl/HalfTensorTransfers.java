package org.convcl.opencl;

import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.util.Arrays;
import java.util.function.Supplier;
import org.convcl.DType;
import org.convcl.Tensor;
import org.convcl.opencl.internal.runtime.KernelEvents;
import org.convcl.opencl.internal.runtime.OpenClContext;
import org.jocl.cl_event;

/**
 * The transfers of device tensors that hold float16 or bfloat16 ({@link DType}), beside the float32 ones of
 * {@link TensorTransfers} (issue 26). Bit patterns move between the host and the device as they are: short arrays
 * through the same pinned staging as float arrays, direct {@link ShortBuffer}s straight from where they lie.
 * Float32 values are converted on the device ({@link DeviceConversions}) rather than in a Java loop: uploaded to a
 * float32 tensor from the caching allocator and narrowed from there, or widened into one and downloaded. A
 * conversion is asynchronous work that writes its tensor, recorded as an operation's is, so that
 * {@link DeviceTensor#await()} and the backend's {@code finish()} report a failure naming it. Thread-safe.
 */
final class HalfTensorTransfers {
    private final OpenClBackend backend;
    private final Lifecycle lifecycle;
    private final OpenClContext context;
    private final TensorTransfers tensors;

    HalfTensorTransfers(OpenClBackend backend, Lifecycle lifecycle, OpenClContext context, TensorTransfers tensors) {
        this.backend = backend;
        this.lifecycle = lifecycle;
        this.context = context;
        this.tensors = tensors;
    }

    /** See {@link DeviceTensor#upload(OpenClBackend, short[], DType, int...)}. */
    DeviceTensor upload(short[] bits, DType dtype, int[] shape) {
        int size = checkedBits(dtype, shape, bits == null ? -1 : bits.length, "a short[]");
        return tensors.filled(dtype, shape, size, buffer -> tensors.host().upload(bits, 0, size, buffer, 0));
    }

    /** See {@link DeviceTensor#upload(OpenClBackend, ShortBuffer, DType, int...)}. */
    DeviceTensor upload(ShortBuffer bits, DType dtype, int[] shape) {
        int size = checkedBits(dtype, shape, bits == null ? -1 : bits.remaining(), "a ShortBuffer");
        checkNativeOrder("bits", bits);
        if (!bits.isDirect()) {
            short[] copy = new short[size];
            bits.duplicate().get(copy);
            return upload(copy, dtype, shape);
        }
        return tensors.filled(dtype, shape, size, buffer -> context.write(buffer, bits));
    }

    /** See {@link DeviceTensor#upload(OpenClBackend, Tensor, DType)}. */
    DeviceTensor upload(Tensor tensor, DType dtype) {
        if (tensor == null) {
            throw new IllegalArgumentException("tensor: got null; expected a Tensor to copy to " + backend.name());
        }
        if (dtype == null) {
            throw new IllegalArgumentException("dtype: got null; expected FLOAT32, FLOAT16 or BFLOAT16");
        }
        if (dtype == DType.FLOAT32) {
            return tensors.upload(tensor);
        }
        DeviceTensor result = tensors.allocate(dtype, tensor.shape());
        try {
            narrow(tensor, result);
        } catch (RuntimeException e) {
            result.close();
            throw e;
        }
        return result;
    }

    /** Overwrites a 16-bit tensor with {@code values} (of its shape) rounded to its type, after earlier commands. */
    void write(DeviceTensor tensor, Tensor values) {
        narrow(values, tensor);
    }

    /** Copies a 16-bit tensor's values, widened to float32, into {@code target} (as many floats). */
    void download(DeviceTensor tensor, float[] target) {
        try (DeviceTensor floats = widened(tensor)) {
            tensors.download(floats, target);
        }
    }

    /** As {@link #download(DeviceTensor, float[])} into a buffer (see {@link DeviceTensor#download(FloatBuffer)}). */
    void download(DeviceTensor tensor, FloatBuffer target) {
        try (DeviceTensor floats = widened(tensor)) {
            tensors.download(floats, target);
        }
    }

    /** See {@link DeviceTensor#downloadBits()}. */
    short[] downloadBits(DeviceTensor tensor) {
        checkSixteenBit(tensor);
        short[] bits = new short[tensor.size()];
        tensors.awaitForHost(tensor);
        lifecycle.run(() -> tensors.host().download(tensor.buffer(), 0, bits, 0, bits.length));
        return bits;
    }

    /** See {@link DeviceTensor#downloadBits(ShortBuffer)}. */
    void downloadBits(DeviceTensor tensor, ShortBuffer target) {
        checkSixteenBit(tensor);
        if (target == null || target.remaining() != tensor.size()) {
            throw new IllegalArgumentException("target: " + (target == null ? "got null"
                    : target.remaining() + " shorts remain in the buffer") + " but " + tensor + " holds "
                    + tensor.size() + "; they must be equal");
        }
        if (target.isReadOnly()) {
            throw new IllegalArgumentException("target: a read-only buffer cannot receive " + tensor);
        }
        checkNativeOrder("target", target);
        if (!target.isDirect()) {
            target.duplicate().put(downloadBits(tensor));
            return;
        }
        tensors.awaitForHost(tensor);
        lifecycle.run(() -> context.read(tensor.buffer(), target));
    }

    /** {@code values} rounded to {@code target}'s type on the device, from a float32 copy that goes back after. */
    private void narrow(Tensor values, DeviceTensor target) {
        DType dtype = target.dtype();
        // The float copy goes back to the allocator while the kernel may still read it: the compute queue is in
        // order, and the allocator hands it out only to work queued after.
        try (DeviceTensor floats = tensors.upload(values)) {
            convert(target, () -> "float32 to " + dtype.cliName() + " conversion into " + target,
                    () -> backend.conversions().encode(dtype, target.size(), floats.buffer(), target.buffer()));
        }
    }

    /** A new float32 tensor that the device fills with {@code tensor}'s values widened; the caller closes it. */
    private DeviceTensor widened(DeviceTensor tensor) {
        checkSixteenBit(tensor);
        // First the work writing the tensor, so that its failure is reported under its own name, not the widening's.
        tensors.awaitForHost(tensor);
        DeviceTensor floats = tensors.allocate(DType.FLOAT32, tensor.shape());
        try {
            convert(floats, () -> tensor.dtype().cliName() + " to float32 conversion of " + tensor,
                    () -> backend.conversions().decode(tensor.dtype(), tensor.size(), tensor.buffer(),
                            floats.buffer()));
        } catch (RuntimeException e) {
            floats.close();
            throw e;
        }
        return floats;
    }

    /** Runs {@code action}'s conversion kernel and records it as the work writing {@code output}. */
    private void convert(DeviceTensor output, Supplier<String> call, Runnable action) {
        lifecycle.run(() -> {
            cl_event last = KernelEvents.lastLaunchOf(action);
            if (last != null) {
                backend.record(output, new Production(last, call));
            }
        });
    }

    private void checkSixteenBit(DeviceTensor tensor) {
        tensors.checkOwn(tensor);
        if (tensor.dtype().bytes() != 2) {
            throw new IllegalArgumentException("tensor: " + tensor + " holds " + tensor.dtype().cliName()
                    + "; bits come from float16 or bfloat16 tensors only (download() gives float32 values)");
        }
    }

    /** The elements {@code shape} holds, once {@code dtype} is a 16-bit type and {@code count} bits match them. */
    private static int checkedBits(DType dtype, int[] shape, int count, String form) {
        if (dtype == null || dtype.bytes() != 2) {
            throw new IllegalArgumentException("dtype: got " + dtype + "; bits in " + form + " are FLOAT16 or "
                    + "BFLOAT16 (a float32 Tensor uploads as it is)");
        }
        long expected = Tensor.elementCount(shape);
        if (count < 0) {
            throw new IllegalArgumentException("bits: got null; expected " + form + " of " + expected + " "
                    + dtype.cliName() + " bit patterns for shape " + Arrays.toString(shape));
        }
        if (count != expected) {
            throw new IllegalArgumentException("bits: " + count + " shorts but shape " + Arrays.toString(shape)
                    + " holds " + expected + "; they must be equal");
        }
        return (int) expected;
    }

    private static void checkNativeOrder(String what, ShortBuffer buffer) {
        if (buffer.isDirect() && buffer.order() != ByteOrder.nativeOrder()) {
            throw new IllegalArgumentException(what + ": a direct buffer in " + buffer.order() + " order; the device "
                    + "reads shorts in the machine's order (" + ByteOrder.nativeOrder() + "): make it with "
                    + ".order(ByteOrder.nativeOrder()) before asShortBuffer()");
        }
    }
}
