package org.convcl.nn;

import java.util.Arrays;
import org.convcl.DType;
import org.convcl.Tensor;
import org.convcl.opencl.DeviceTensor;

/**
 * The refusals a layer makes of its own arguments, the same for {@link Conv} and {@link ConvTranspose}: parameters
 * at construction, operands on every call (host or device). Each names the argument, its value and the rule.
 * Stateless.
 */
final class LayerChecks {
    private LayerChecks() {
    }

    /** {@code value}, refused when null: a builder's setting that has no "none". */
    static <T> T required(String name, T value, String expected) {
        if (value == null) {
            throw new IllegalArgumentException(name + ": got null; expected " + expected);
        }
        return value;
    }

    /** Refuses a bias that is not {@code (outChannels)} and a mask whose shape is not the kernel's. */
    static void biasAndMask(Tensor bias, Tensor mask, int[] kernelShape, int outChannels) {
        if (bias != null && (bias.rank() != 1 || bias.dim(0) != outChannels)) {
            throw new IllegalArgumentException("bias: shape " + Arrays.toString(bias.shape()) + " does not match "
                    + outChannels + " output channels; a bias must have shape (Cout) = [" + outChannels + "]");
        }
        if (mask != null && !Arrays.equals(mask.shape(), kernelShape)) {
            throw new IllegalArgumentException("mask: shape " + Arrays.toString(mask.shape())
                    + " differs from the kernel's " + Arrays.toString(kernelShape) + "; they must be equal");
        }
    }

    static void input(Tensor x) {
        if (x == null) {
            throw new IllegalArgumentException("x: got null; expected an input tensor (*batch, *spatial, Cin)");
        }
    }

    /** Refuses a cotangent whose shape is not the output shape the input gives. */
    static void cotangent(Tensor dy, int[] outputShape, int[] inputShape) {
        if (dy == null) {
            throw new IllegalArgumentException("dy: got null; expected the output gradient of shape "
                    + Arrays.toString(outputShape));
        }
        checkShape(dy.shape(), outputShape, inputShape);
    }

    /** Refuses a residual (null is none) whose shape is not the output's. */
    static void residual(Tensor residual, int[] outputShape, int[] inputShape) {
        if (residual != null) {
            checkResidualShape(residual.shape(), outputShape, inputShape);
        }
    }

    /**
     * Refuses a device residual (null is none) that is closed, not of {@code dtype} (the type the call computes in),
     * on another backend than {@code x}, or misshapen.
     */
    static void residual(DeviceTensor x, DeviceTensor residual, int[] outputShape, DType dtype, Object layer) {
        if (residual == null) {
            return;
        }
        checkOpen("residual", residual);
        dtype("residual", residual, dtype, layer);
        if (residual.backend() != x.backend()) {
            throw new IllegalArgumentException("residual: " + residual + " lives on another backend than x ("
                    + x.backend().name() + "); every operand of a device call must be on the same one");
        }
        checkResidualShape(residual.shape(), outputShape, x.shape());
    }

    /**
     * Refuses a caller-owned output that is null, not of the output's shape, or sharing its array with the input:
     * the layer reads the input while it writes {@code out}. The residual's array may be {@code out}'s (the
     * in-place residual add): both have the output's shape, so they are the same elements, and each output reads
     * its own residual before it is written.
     */
    static void output(Tensor out, int[] outputShape, Tensor x, Tensor residual) {
        if (out == null) {
            throw new IllegalArgumentException("out: got null; expected a tensor of the output shape "
                    + Arrays.toString(outputShape));
        }
        if (!Arrays.equals(out.shape(), outputShape)) {
            throw new IllegalArgumentException("out: shape " + Arrays.toString(out.shape()) + " differs from the "
                    + "output shape " + Arrays.toString(outputShape) + " this layer gives for input "
                    + Arrays.toString(x.shape()) + "; out must have exactly the output's shape, in the layer's "
                    + "layout");
        }
        if (out.data() == x.data()) {
            throw new IllegalArgumentException("out: " + out + " shares its array with the input x; the layer reads "
                    + "x while it writes out, so they must be different arrays");
        }
    }

    /**
     * Refuses a device output that is the input {@code x}: the layer reads x while it writes {@code out}. The
     * residual may be {@code out} itself (the in-place residual add: each output reads its own residual before its
     * store writes it).
     */
    static void output(DeviceTensor out, DeviceTensor x) {
        if (out == x) {
            throw new IllegalArgumentException("out: " + out + " is also the input x; the layer reads x while it "
                    + "writes out, so they must be different tensors");
        }
    }

    private static void checkResidualShape(int[] residualShape, int[] outputShape, int[] inputShape) {
        if (!Arrays.equals(residualShape, outputShape)) {
            throw new IllegalArgumentException("residual: shape " + Arrays.toString(residualShape) + " differs from "
                    + "the output shape " + Arrays.toString(outputShape) + " this layer gives for input "
                    + Arrays.toString(inputShape) + "; a residual must have the output's shape, in the layer's "
                    + "layout");
        }
    }

    /** Refuses a missing or closed input; its type is the caller's to check ({@link #dtype}). */
    static void input(DeviceTensor x) {
        if (x == null) {
            throw new IllegalArgumentException("x: got null; expected an input DeviceTensor (*batch, *spatial, Cin)");
        }
        checkOpen("x", x);
    }

    /**
     * Refuses a missing cotangent, one not of {@code dtype}, one on another backend than {@code x}, or one of the
     * wrong shape.
     */
    static void cotangent(DeviceTensor x, DeviceTensor dy, int[] outputShape, DType dtype, Object layer) {
        if (dy == null) {
            throw new IllegalArgumentException("dy: got null; expected the output gradient as a DeviceTensor of shape "
                    + Arrays.toString(outputShape));
        }
        checkOpen("dy", dy);
        dtype("dy", dy, dtype, layer);
        if (dy.backend() != x.backend()) {
            throw new IllegalArgumentException("dy: " + dy + " lives on another backend than x (" + x.backend().name()
                    + "); a device backward pass needs both on the same one");
        }
        checkShape(dy.shape(), outputShape, x.shape());
    }

    private static void checkShape(int[] dyShape, int[] outputShape, int[] inputShape) {
        if (!Arrays.equals(dyShape, outputShape)) {
            throw new IllegalArgumentException("dy: shape " + Arrays.toString(dyShape) + " differs from the output "
                    + "shape " + Arrays.toString(outputShape) + " this layer gives for input "
                    + Arrays.toString(inputShape) + "; the output gradient must have the output's shape");
        }
    }

    /**
     * Refuses a device operand of another type than {@code dtype}, by its name here (the backend's checks know it
     * only by its role there): a layer's device calls compute in its dtype, with its resident parameters in it, so
     * every tensor of the call must hold that type; {@code layer} describes the layer in the message.
     */
    static void dtype(String what, DeviceTensor tensor, DType dtype, Object layer) {
        if (tensor.dtype() != dtype) {
            throw new IllegalArgumentException(what + ": " + tensor + " holds " + tensor.dtype().cliName() + "; "
                    + layer + " computes in " + dtype.cliName() + ", and every tensor of its device calls must hold "
                    + "that type (build the layer with dtype(DType." + tensor.dtype() + ") for "
                    + tensor.dtype().cliName() + " tensors, or upload the values as " + dtype.cliName() + ")");
        }
    }

    /** Refuses a pooling layer's {@code dy} of another type than its {@code x}: a pooling call has one type. */
    static void sameDType(DeviceTensor x, DeviceTensor dy, Object layer) {
        if (dy != null && !dy.isClosed() && dy.dtype() != x.dtype()) {
            throw new IllegalArgumentException("dy: " + dy + " holds " + dy.dtype().cliName() + " but x holds "
                    + x.dtype().cliName() + "; " + layer + " pools in x's type, so dy must hold it too");
        }
    }

    /** A closed operand is refused by its name here: the backend's checks know it only by its role there. */
    private static void checkOpen(String what, DeviceTensor tensor) {
        if (tensor.isClosed()) {
            throw new IllegalStateException(what + ": " + tensor + " has been closed (or its backend was) and cannot "
                    + "be used");
        }
    }
}
