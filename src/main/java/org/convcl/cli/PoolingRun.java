package org.convcl.cli;

import org.convcl.DType;
import org.convcl.HalfFloats;
import org.convcl.Tensor;
import org.convcl.nn.Pool;
import org.convcl.opencl.DeviceTensor;
import org.convcl.opencl.OpenClBackend;

/**
 * {@code pool}'s forward and backward in the run's {@code --dtype}, on host tensors of the type's values widened to
 * float32. A {@link Pool} has no dtype of its own: it pools device tensors of any type, and its host-tensor calls
 * take float32. So a 16-bit run on an OpenCL backend uploads X (and CT) in the type and runs the layer's device calls
 * (the 16-bit kernels: sums and comparisons in float32, each result rounded once). Elsewhere (the Java path) it runs
 * the layer's float32 host calls on the operands rounded to the type and rounds their results once: that is the
 * 16-bit pooling's definition (max and min pick an input value, avg and the gradient sum in float32 and round
 * once), and the backend's 16-bit host forms give the same bits (HalfPoolJavaPathTest), while the layer keeps the
 * channels-first layout's axis moves, which are exact.
 */
final class PoolingRun {
    private PoolingRun() {
    }

    /** Y: {@code pool} applied to {@code x} rounded to {@code dtype}. */
    static Tensor forward(Pool pool, DType dtype, Tensor x) {
        if (dtype == DType.FLOAT32) {
            return pool.apply(x);
        }
        if (pool.backend() instanceof OpenClBackend device) {
            try (DeviceTensor deviceX = DeviceTensor.upload(device, x, dtype);
                    DeviceTensor y = pool.apply(deviceX)) {
                return y.download();
            }
        }
        return rounded(dtype, pool.apply(rounded(dtype, x)));
    }

    /** dX for the cotangent {@code dy}, both rounded to {@code dtype}. */
    static Tensor backward(Pool pool, DType dtype, Tensor x, Tensor dy) {
        if (dtype == DType.FLOAT32) {
            return pool.backward(x, dy);
        }
        if (pool.backend() instanceof OpenClBackend device) {
            try (DeviceTensor deviceX = DeviceTensor.upload(device, x, dtype);
                    DeviceTensor deviceDy = DeviceTensor.upload(device, dy, dtype);
                    DeviceTensor dx = pool.backward(deviceX, deviceDy)) {
                return dx.download();
            }
        }
        return rounded(dtype, pool.backward(rounded(dtype, x), rounded(dtype, dy)));
    }

    /** {@code values} rounded to nearest even in {@code dtype}, as float32 holds them. */
    private static Tensor rounded(DType dtype, Tensor values) {
        return Tensor.of(HalfFloats.decode(dtype, HalfFloats.encode(dtype, values.data())), values.shape());
    }
}
