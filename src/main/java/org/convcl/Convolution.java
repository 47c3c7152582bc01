package org.convcl;

import org.convcl.backend.Backends;
import org.convcl.backend.ConvBackend;

/** One-off functional calls, for when a layer object is more than needed. Thread-safe. */
public final class Convolution {
    private Convolution() {
    }

    /** {@code conv(x, kernel) + bias} on the default backend; {@code bias} may be null. */
    public static Tensor conv(Tensor x, Tensor kernel, Tensor bias, ConvSpec spec) {
        return conv(x, kernel, bias, spec, Backends.defaultBackend());
    }

    /** {@code conv(x, kernel) + bias} on {@code backend}; {@code bias} may be null. */
    public static Tensor conv(Tensor x, Tensor kernel, Tensor bias, ConvSpec spec, ConvBackend backend) {
        return Conv.builder(kernel).bias(bias).spec(spec).backend(backend).build().apply(x);
    }
}
