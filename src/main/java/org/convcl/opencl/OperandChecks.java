package org.convcl.opencl;

import java.util.Arrays;
import org.convcl.DType;
import org.convcl.Tensor;
import org.convcl.opencl.device.OpenClDevice;

/**
 * The argument checks of the operations on an {@link OpenClBackend}: devices, arrays and device tensors of
 * the wrong size, shape, element type or backend are refused with an {@link IllegalArgumentException} naming the operand,
 * what it is and what it must be, before any work (a kernel would otherwise read past a buffer). Stateless.
 */
final class OperandChecks {
    private OperandChecks() {
    }

    /** {@code device}, refused by name when null (a context would fail on it with a bare NullPointerException). */
    static OpenClDevice device(OpenClDevice device) {
        if (device == null) {
            throw new IllegalArgumentException("device: got null; expected an OpenClDevice (DeviceDiscovery.discover)");
        }
        return device;
    }

    /** A float32 device tensor of {@code backend} with exactly {@code shape}. */
    static void tensor(OpenClBackend backend, String what, DeviceTensor tensor, int[] shape) {
        onBackend(backend, what, tensor, shape);
        float32(what, tensor);
        shape(what, tensor, shape);
    }

    /**
     * A device tensor of {@code backend} with exactly {@code shape}, of any {@link DType}: an operand of the forward
     * convolution, whose operands {@link #oneDType} then checks together.
     */
    static void anyDType(OpenClBackend backend, String what, DeviceTensor tensor, int[] shape) {
        onBackend(backend, what, tensor, shape);
        shape(what, tensor, shape);
    }

    /**
     * The one dtype of {@code tensors} (null ones skipped, named by {@code names} in the same order): a kernel
     * reads every operand and writes the output in one storage type, so a call mixing types is refused, naming
     * each operand with its type.
     */
    static DType oneDType(String operation, String[] names, DeviceTensor... tensors) {
        DType common = null;
        boolean mixed = false;
        StringBuilder types = new StringBuilder();
        for (int i = 0; i < tensors.length; i++) {
            if (tensors[i] == null) {
                continue;
            }
            DType type = tensors[i].dtype();
            mixed |= common != null && type != common;
            common = common == null ? type : common;
            types.append(types.length() == 0 ? "" : ", ").append(names[i]).append(' ').append(type.cliName());
        }
        if (mixed) {
            throw new IllegalArgumentException(operation + ": operands of mixed dtypes (" + types + "); every "
                    + "operand and the output must have one dtype, float32, float16 or bfloat16 (convert with "
                    + "DeviceTensor's upload or download)");
        }
        return common;
    }

    private static void shape(String what, DeviceTensor tensor, int[] shape) {
        if (!Arrays.equals(tensor.shape(), shape)) {
            throw new IllegalArgumentException(what + ": shape " + Arrays.toString(tensor.shape())
                    + " does not match the expected " + Arrays.toString(shape));
        }
    }

    /**
     * A device tensor of {@code backend} with {@code shape} {@code (batch, *spatial, C)} up to its batch dims:
     * any batch dims whose product is {@code batch}, then exactly the spatial and channel dims; of any
     * {@link DType}, which {@link #oneDType} then checks with the call's other operands.
     */
    static void batchFlattened(OpenClBackend backend, String what, DeviceTensor tensor, int[] shape) {
        onBackend(backend, what, tensor, shape);
        int[] actual = tensor.shape();
        int trailing = shape.length - 1;
        boolean matches = actual.length >= trailing && tensor.size() == Tensor.elementCount(shape)
                && Arrays.equals(Arrays.copyOfRange(actual, actual.length - trailing, actual.length),
                        Arrays.copyOfRange(shape, 1, shape.length));
        if (!matches) {
            throw new IllegalArgumentException(what + ": shape " + Arrays.toString(actual) + " does not match "
                    + Arrays.toString(shape) + " (batch dims flattened first); it must be (*batch, "
                    + Arrays.toString(Arrays.copyOfRange(shape, 1, shape.length)) + ") with " + shape[0]
                    + " batch elements");
        }
    }

    /** {@code output} is none of {@code operands}: the kernels read their inputs while writing the output. */
    static void distinct(String operation, DeviceTensor output, DeviceTensor... operands) {
        for (DeviceTensor operand : operands) {
            if (operand != null && operand == output) {
                throw new IllegalArgumentException(operation + ": output " + output + " is also an operand; the "
                        + "result must go to a tensor of its own");
            }
        }
    }

    private static void onBackend(OpenClBackend backend, String what, DeviceTensor tensor, int[] shape) {
        if (tensor == null) {
            throw new IllegalArgumentException(what + ": got null; expected a DeviceTensor of shape "
                    + Arrays.toString(shape));
        }
        if (tensor.backend() != backend) {
            throw new IllegalArgumentException(what + ": " + tensor + " lives on another backend than "
                    + backend.name() + "; every operand of a call must be on the same one");
        }
        open(what, tensor);
    }

    /**
     * A float32 tensor, for the operations whose kernels read and write floats only (the host-array forms'
     * resident operands, a bias gradient), which would misread the two-byte elements of a float16 or bfloat16
     * tensor.
     */
    static void float32(String what, DeviceTensor tensor) {
        if (tensor.dtype() != DType.FLOAT32) {
            throw new IllegalArgumentException(what + ": " + tensor + " holds " + tensor.dtype().cliName()
                    + "; this operation takes float32 tensors only, every operand (download() gives the values as "
                    + "float32; the convolution, its gradients, edge padding, the epilogue, pooling and the layout "
                    + "transpose take float16 and bfloat16 too)");
        }
    }

    /**
     * A float32 tensor where the call's other operands may be 16-bit: {@code rule} says why this one stays
     * float32 (a bias gradient sums a whole batch; issue 26 keeps it in float32).
     */
    static void float32(String what, DeviceTensor tensor, String rule) {
        if (tensor.dtype() != DType.FLOAT32) {
            throw new IllegalArgumentException(what + ": " + tensor + " holds " + tensor.dtype().cliName()
                    + "; it must be float32: " + rule);
        }
    }

    /** A tensor not closed yet, checked with the operand's name: the tensor's own error cannot say which it was. */
    static void open(String what, DeviceTensor tensor) {
        if (tensor.isClosed()) {
            throw new IllegalStateException(what + ": " + tensor + " has been closed (or its backend was) and cannot "
                    + "be used");
        }
    }
}
