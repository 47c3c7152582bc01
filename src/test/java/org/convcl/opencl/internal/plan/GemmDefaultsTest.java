package org.convcl.opencl.internal.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import org.convcl.ConvGeometry;
import org.convcl.DType;
import org.convcl.Precision;
import org.convcl.bench.BenchShape;
import org.convcl.bench.BenchSuite;
import org.junit.jupiter.api.Test;

/**
 * The untuned GEMM tilings for GPUs against device limits, without a device: whatever a GPU's work-group
 * and local-memory limits, the default for every benchmark shape must be one it can launch (a tiling of
 * 8x8 rows and columns needs under 2 KiB and one work-item, so every limit checked here has one), and a
 * device with room to spare keeps the full-size default.
 */
class GemmDefaultsTest {
    private static final long[] WORK_GROUP_LIMITS = {16, 64, 128, 256, 512, 1024};
    private static final long[] LOCAL_MEMORY_LIMITS = {4 << 10, 8 << 10, 16 << 10, 32 << 10, 48 << 10, 64 << 10};

    @Test
    void gpuDefaultsFitEveryDeviceLimit() throws IOException {
        for (BenchShape shape : BenchSuite.loadDefault().shapes()) {
            ConvGeometry g = shape.spec().resolve(shape.inputShape(shape.batchGpu()), shape.kernelShape());
            if (!GemmVariant.INSTANCE.supports(g) || g.groups() == g.inChannels()) {
                continue; // depthwise shapes take the depthwise kernel, whose only limit is its work-group size
            }
            for (long workGroups : WORK_GROUP_LIMITS) {
                for (long localMemory : LOCAL_MEMORY_LIMITS) {
                    Tiling tiling = GemmDefaults.fma(g, DeviceClass.NVIDIA_GPU, workGroups,
                            localMemory);
                    GemmLaunch launch = GemmLaunch.of(g, false, tiling, false);
                    String what = shape.name() + " with " + workGroups + " work-items and " + localMemory
                            + " bytes of local memory: " + tiling;
                    assertTrue(tiling.workGroupSize() <= workGroups, what);
                    assertTrue(launch.localMemoryBytes() <= localMemory, what + " needs " + launch.localMemoryBytes());
                    // The tensor-core defaults of TF32 fit the limits a device with tensor cores could have (all
                    // of them have 1024 work-items and 48 KiB; smaller ones fall back to the tiling above).
                    if (workGroups < 64 || localMemory < (16 << 10)) {
                        continue;
                    }
                    ConvGeometry tf32 = g.withPrecision(Precision.TF32);
                    Tiling mma = GemmDefaults.mma(tf32, workGroups, localMemory);
                    GemmLaunch mmaLaunch = GemmLaunch.of(tf32, false, mma, true);
                    assertTrue(mma.mma() && mma.workGroupSize() <= workGroups, what + "; mma " + mma);
                    assertTrue(mmaLaunch.localMemoryBytes() <= localMemory, what + "; mma " + mma + " needs "
                            + mmaLaunch.localMemoryBytes());
                    // And those of the 16-bit types, whose mma takes k in steps of 16.
                    ConvGeometry half = g.withStorage(DType.BFLOAT16);
                    Tiling halfMma = GemmDefaults.mma(half, workGroups, localMemory);
                    GemmLaunch halfLaunch = GemmLaunch.of(half, false, halfMma, true);
                    assertTrue(halfMma.mma() && halfMma.tileK() % 16 == 0 && halfMma.workGroupSize() <= workGroups,
                            what + "; bfloat16 mma " + halfMma);
                    assertTrue(halfLaunch.localMemoryBytes() <= localMemory, what + "; bfloat16 mma " + halfMma
                            + " needs " + halfLaunch.localMemoryBytes());
                }
            }
        }
    }

    @Test
    void roomyDevicesKeepTheFullTiles() throws IOException {
        for (BenchShape shape : BenchSuite.loadDefault().shapes()) {
            ConvGeometry g = shape.spec().resolve(shape.inputShape(shape.batchGpu()), shape.kernelShape());
            if (!GemmVariant.INSTANCE.supports(g)) {
                continue;
            }
            Tiling roomy = GemmDefaults.fma(g, DeviceClass.NVIDIA_GPU, 1 << 20, 1L << 30);
            Tiling h100 = GemmDefaults.fma(g, DeviceClass.NVIDIA_GPU, 1024, 48 << 10);
            assertEquals(roomy, h100, shape.name() + ": an H100's limits need no shrinking");
        }
    }
}
