package org.convcl.opencl.internal.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.convcl.ConvGeometry;
import org.convcl.ConvSpec;
import org.convcl.DType;
import org.convcl.Precision;
import org.convcl.opencl.device.OpenClDevice;
import org.junit.jupiter.api.Test;

/**
 * The 16-bit warp-level mma's plan side without a device (issue 26): which code path a plan runs per storage type,
 * the tuner's tensor-core space and the launch's K step and local memory. The kernel itself is checked on PoCL
 * (HalfMmaOpenClTest) and, inline PTX included, by scripts/lint-kernels.
 */
class HalfMmaPlanTest {
    private static final OpenClDevice GPU = new OpenClDevice(0, 0, "Test OpenCL", "OpenCL 3.0", "Test GPU", "Test",
            OpenClDevice.Type.GPU, 8, 1000, 8L << 30, 48 << 10, 1L << 30, 1024, "OpenCL 3.0", "OpenCL C 1.2", "test",
            List.of(), null, null);
    private static final ConvGeometry FLOAT32 = ConvSpec.defaults().resolve(new int[] {2, 8, 8, 16},
            new int[] {3, 3, 16, 32});
    private static final Tiling MMA = new Tiling(64, 32, 16, 4, 4, 1, 4, 4, 2, true);

    @Test
    void eachStorageTypeHasItsOwnMmaPathsAndVerdictKeys() {
        KernelConfig.Gemm config = new KernelConfig.Gemm(MMA);
        Set<String> names = new HashSet<>();
        for (DType type : DType.values()) {
            ConvGeometry g = type == DType.FLOAT32 ? FLOAT32.withPrecision(Precision.TF32) : FLOAT32.withStorage(type);
            CodePath emulated = ForwardVariants.codePath(config, g, false);
            CodePath tensorCores = ForwardVariants.codePath(config, g, true);
            String typeWords = type == DType.FLOAT32 ? "mma" : "mma " + type.cliName();
            assertEquals(typeWords + " (emulated)", emulated.label());
            assertEquals(typeWords + " (tensor cores)", tensorCores.label());
            assertTrue(emulated.provenBeforeUse() && tensorCores.provenBeforeUse(), type.toString());
            assertTrue(names.add(emulated.name()) && names.add(tensorCores.name()), names.toString());
            assertTrue(ForwardVariants.codePaths().containsAll(List.of(emulated, tensorCores)), type.toString());
            // Without mma, every type runs the one portable FMA form.
            CodePath fma = ForwardVariants.codePath(new KernelConfig.Gemm(new Tiling(64, 32, 16, 4, 4)), g, true);
            assertEquals("gemm", fma.label());
            assertFalse(fma.provenBeforeUse(), type.toString());
        }
        // The TF32 paths keep the verdict keys they shipped with.
        assertTrue(names.containsAll(List.of("MMA_EMULATED", "MMA_TENSOR_CORES", "MMA_FLOAT16_EMULATED",
                "MMA_FLOAT16_TENSOR_CORES", "MMA_BFLOAT16_EMULATED", "MMA_BFLOAT16_TENSOR_CORES")), names.toString());
    }

    @Test
    void sixteenBitMmaTakesKInStepsOfSixteen() {
        for (DType type : List.of(DType.FLOAT16, DType.BFLOAT16)) {
            ConvGeometry g = FLOAT32.withStorage(type);
            assertEquals(16, GemmLaunch.mmaK(g));
            List<Tiling> space = GemmTilings.mma(g, GPU);
            assertFalse(space.isEmpty(), type.toString());
            for (Tiling tiling : space) {
                assertTrue(tiling.mma() && tiling.tileK() % 16 == 0, type + ": " + tiling);
            }
            // The tuner drops those whose emulated exchange leaves too little local memory; most are left.
            assertTrue(space.stream().filter(tiling -> GemmVariant.INSTANCE.fits(new KernelConfig.Gemm(tiling), g,
                    GPU)).count() > space.size() / 2, type.toString());
            Tiling eight = new Tiling(32, 8, 8, 2, 2, 1, 1, 1, 1, true);
            assertFalse(GemmVariant.INSTANCE.fits(new KernelConfig.Gemm(eight), g, GPU), type.toString());
            IllegalArgumentException refusal = assertThrows(IllegalArgumentException.class,
                    () -> GemmLaunch.of(g, true, eight, false));
            assertTrue(refusal.getMessage().contains("tileK is 8") && refusal.getMessage().contains("steps of 16"),
                    refusal.getMessage());
        }
        // TF32 keeps its K tiles of 8.
        assertTrue(GemmTilings.mma(FLOAT32.withPrecision(Precision.TF32), GPU).stream()
                .anyMatch(tiling -> tiling.tileK() == 8));
    }

    @Test
    void theEmulatedSixteenBitMmaExchangesTwiceTheWords() {
        ConvGeometry tf32 = FLOAT32.withPrecision(Precision.TF32);
        ConvGeometry half = FLOAT32.withStorage(DType.FLOAT16);
        long warps = MMA.workGroupSize() / Tiling.WARP_SIZE;
        long tf32Scratch = GemmLaunch.of(tf32, true, MMA, false).localMemoryBytes()
                - GemmLaunch.of(tf32, true, MMA, true).localMemoryBytes();
        long halfScratch = GemmLaunch.of(half, true, MMA, false).localMemoryBytes()
                - GemmLaunch.of(half, true, MMA, true).localMemoryBytes();
        assertEquals(4L * GemmLaunch.EMULATED_MMA_WORDS * warps, tf32Scratch);
        assertEquals(4L * GemmLaunch.EMULATED_HALF_MMA_WORDS * warps, halfScratch);
        assertTrue(GemmLaunch.of(half, true, MMA, true).options().contains("-D MMA=1 -D MMA_PTX=1"));
        assertFalse(GemmLaunch.of(half, true, MMA, true).options().contains("TF32"));
    }
}
