package org.convcl.nn;

import org.convcl.Tensor;
import org.convcl.ConvTransposeSpec;
import org.convcl.ConvSpec;
import org.convcl.backend.ConvBackend;

/**
 * One-off functional calls, for when a layer object is more than needed. Thread-safe: each call builds its
 * own layer, so calls may run on many threads at once as long as nobody writes their tensors meanwhile. Each
 * layer is closed before the call returns; the backend, which the caller does not own here, is not.
 */
public final class Convolution {
    private Convolution() {
    }

    /** {@code conv(x, kernel) + bias} on the default backend; {@code bias} may be null. */
    public static Tensor conv(Tensor x, Tensor kernel, Tensor bias, ConvSpec spec) {
        return conv(x, kernel, bias, spec, Backends.defaultBackend());
    }

    /** {@code conv(x, kernel) + bias} on {@code backend}; {@code bias} may be null. */
    public static Tensor conv(Tensor x, Tensor kernel, Tensor bias, ConvSpec spec, ConvBackend backend) {
        try (Conv layer = Conv.builder(kernel).bias(bias).spec(spec).backend(backend).build()) {
            return layer.apply(x);
        }
    }

    /**
     * The gradients of {@code sum((conv(x, kernel) + bias) * dy)} with respect to x, kernel and bias, on
     * {@code backend}; {@code bias} may be null (then so is the bias gradient).
     */
    public static ConvGradients convBackward(Tensor x, Tensor kernel, Tensor bias, ConvSpec spec, Tensor dy,
            ConvBackend backend) {
        try (Conv layer = Conv.builder(kernel).bias(bias).spec(spec).backend(backend).build()) {
            return layer.backward(x, dy);
        }
    }

    /** flax {@code nnx.ConvTranspose}'s output on the default backend; {@code bias} may be null. */
    public static Tensor convTranspose(Tensor x, Tensor kernel, Tensor bias, ConvTransposeSpec spec) {
        return convTranspose(x, kernel, bias, spec, Backends.defaultBackend());
    }

    /** flax {@code nnx.ConvTranspose}'s output on {@code backend}; {@code bias} may be null. */
    public static Tensor convTranspose(Tensor x, Tensor kernel, Tensor bias, ConvTransposeSpec spec,
            ConvBackend backend) {
        try (ConvTranspose layer = ConvTranspose.builder(kernel).bias(bias).spec(spec).backend(backend).build()) {
            return layer.apply(x);
        }
    }

    /** The gradients of {@code sum(convTranspose(x, kernel, bias) * dy)}, on {@code backend}. */
    public static ConvGradients convTransposeBackward(Tensor x, Tensor kernel, Tensor bias, ConvTransposeSpec spec,
            Tensor dy, ConvBackend backend) {
        try (ConvTranspose layer = ConvTranspose.builder(kernel).bias(bias).spec(spec).backend(backend).build()) {
            return layer.backward(x, dy);
        }
    }
}
