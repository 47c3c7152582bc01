package org.convcl.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.SplittableRandom;
import org.convcl.Activation;
import org.convcl.ConvGeometry;
import org.convcl.ConvSpec;
import org.convcl.DType;
import org.convcl.Epilogue;
import org.convcl.HalfFloats;
import org.convcl.Padding;
import org.convcl.PoolGeometry;
import org.convcl.PoolOp;
import org.convcl.PoolSpec;
import org.convcl.Tensor;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.testing.OpenClBackendPerClass;
import org.convcl.testing.RandomTensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@link OpenClBackend}'s host-array forms of the 16-bit operations beyond the forward (issue 26): the fused
 * epilogue (float32 scale and shift, a 16-bit residual), pooling's forward and gradient, the kernel and bias
 * gradients on {@code short[]} bits give the bits of the device-tensor forms they upload to (whose semantics the
 * Half*OpenClTest classes check against float64), and max pooling the Java path's bits (an input value, exactly).
 */
class HalfHostFormsOpenClTest {
    @RegisterExtension
    static final OpenClBackendPerClass OPENCL = new OpenClBackendPerClass();

    @Test
    void hostFormsGiveTheDeviceFormsBits() {
        OpenClBackend backend = OPENCL.backend();
        SplittableRandom random = new SplittableRandom(2606);
        DType dtype = DType.FLOAT16;
        Tensor x = RandomTensors.uniform(random, 2, 7, 6, 5);
        Tensor w = RandomTensors.uniform(random, 3, 3, 5, 4);
        ConvGeometry g = ConvSpec.builder().padding(Padding.SAME).build().resolve(x.shape(), w.shape());
        int length = (int) Tensor.elementCount(g.outputShape());
        short[] input = HalfFloats.encode(dtype, x.data());
        short[] kernel = HalfFloats.encode(dtype, w.data());
        short[] bias = HalfFloats.encode(dtype, RandomTensors.uniform(random, 4).data());
        float[] scale = RandomTensors.uniform(random, 4).data();
        float[] shift = RandomTensors.uniform(random, 4).data();
        short[] residual = HalfFloats.encode(dtype, RandomTensors.uniform(random, length).data());
        short[] cotangent = HalfFloats.encode(dtype, RandomTensors.uniform(random, length).data());
        Epilogue<float[]> epilogue = new Epilogue<>(Activation.leakyRelu(0.1f), scale, shift, null);
        PoolGeometry pool = PoolSpec.builder().window(3, 3).strides(2, 1).padding(Padding.SAME).build()
                .resolve(x.shape());
        int pooled = (int) Tensor.elementCount(pool.outputShape());

        short[] fused = new short[length];
        backend.forward(g, dtype, input, kernel, bias, epilogue, residual, fused);
        short[] maxPooled = new short[pooled];
        backend.poolForward(PoolOp.MAX, pool, dtype, input, maxPooled);
        short[] avgPooled = new short[pooled];
        backend.poolForward(PoolOp.AVG, pool, dtype, input, avgPooled);
        short[] poolCotangent = HalfFloats.encode(dtype, RandomTensors.uniform(random, pooled).data());
        short[] avgGradient = new short[x.size()];
        backend.poolBackward(PoolOp.AVG, pool, dtype, input, poolCotangent, avgGradient);
        short[] dkernel = new short[w.size()];
        backend.kernelGradient(g, dtype, input, cotangent, dkernel);
        float[] dbias = new float[4];
        backend.biasGradient(length / 4, 4, dtype, cotangent, dbias);

        try (DeviceTensor dx = DeviceTensor.upload(backend, input, dtype, x.shape());
                DeviceTensor dw = DeviceTensor.upload(backend, kernel, dtype, w.shape());
                DeviceTensor db = DeviceTensor.upload(backend, bias, dtype, 4);
                DeviceTensor ds = DeviceTensor.upload(backend, Tensor.of(scale, 4));
                DeviceTensor dt = DeviceTensor.upload(backend, Tensor.of(shift, 4));
                DeviceTensor dr = DeviceTensor.upload(backend, residual, dtype, g.outputShape());
                DeviceTensor ddy = DeviceTensor.upload(backend, cotangent, dtype, g.outputShape());
                DeviceTensor y = DeviceTensor.allocate(backend, dtype, g.outputShape());
                DeviceTensor maxY = DeviceTensor.allocate(backend, dtype, pool.outputShape());
                DeviceTensor avgY = DeviceTensor.allocate(backend, dtype, pool.outputShape());
                DeviceTensor dk = DeviceTensor.allocate(backend, dtype, w.shape());
                DeviceTensor poolDy = DeviceTensor.upload(backend, poolCotangent, dtype, pool.outputShape());
                DeviceTensor poolDx = DeviceTensor.allocate(backend, dtype, x.shape());
                DeviceTensor dbiasDevice = DeviceTensor.allocate(backend, 4)) {
            backend.forward(g, dx, dw, db, new Epilogue<>(epilogue.activation(), ds, dt, dr), y);
            backend.poolForward(PoolOp.MAX, pool, dx, maxY);
            backend.poolForward(PoolOp.AVG, pool, dx, avgY);
            backend.poolBackward(PoolOp.AVG, pool, dx, poolDy, poolDx);
            backend.kernelGradient(g, dx, ddy, dk);
            backend.biasGradient(ddy, dbiasDevice);
            assertArrayEquals(y.downloadBits(), fused, "the fused epilogue");
            assertArrayEquals(maxY.downloadBits(), maxPooled, "max pooling");
            assertArrayEquals(avgY.downloadBits(), avgPooled, "avg pooling");
            assertArrayEquals(poolDx.downloadBits(), avgGradient, "avg pooling's gradient");
            assertArrayEquals(dk.downloadBits(), dkernel, "the kernel gradient");
            assertArrayEquals(dbiasDevice.download().data(), dbias, "the bias gradient");
        }
        short[] javaMax = new short[pooled];
        CpuBackend.instance().poolForward(PoolOp.MAX, pool, dtype, input, javaMax);
        assertArrayEquals(javaMax, maxPooled, "max pooling on the Java path");
    }
}
