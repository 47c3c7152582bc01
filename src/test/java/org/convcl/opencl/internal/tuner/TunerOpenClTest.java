package org.convcl.opencl.internal.tuner;

import org.convcl.opencl.internal.tuning.TuningDatabase;
import org.convcl.opencl.internal.tuning.TuningCandidates;
import org.convcl.opencl.internal.tuning.DefaultConfigs;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.convcl.ConvGeometry;
import org.convcl.ConvSpec;
import org.convcl.Padding;
import org.convcl.opencl.device.OpenClDevice;
import org.convcl.opencl.internal.plan.KernelConfig;
import org.convcl.opencl.internal.plan.Tiling;
import org.convcl.testing.CiShare;
import org.convcl.testing.OpenClBackendPerClass;
import org.convcl.testing.PlanCheck;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The tuner on PoCL: the candidates it would try, from the GPU space as well as the CPU one, compute the
 * float64 reference within float32 rounding on a few small geometries (a dense one with channel vectors, an
 * input-dilated one with few channels, a depthwise one): its sample, and configs that between them take
 * every value of every knob of the space. The winner lands in the database and plans use it.
 */
class TunerOpenClTest {
    private static final int BUDGET = 6;
    @RegisterExtension
    static final OpenClBackendPerClass OPENCL = new OpenClBackendPerClass();

    record Shape(String name, int[] xShape, int[] wShape, ConvSpec spec) {
        ConvGeometry geometry() {
            return spec.resolve(xShape, wShape);
        }

        @Override
        public String toString() {
            return name;
        }
    }

    /** The first shape in the default run, the others under the exhaustive run ({@link CiShare}). */
    static Stream<Shape> shapes() {
        return CiShare.defaultRun(allShapes().toList(), 3);
    }

    static Stream<Shape> otherShapes() {
        return CiShare.exhaustiveRun(allShapes().toList(), 3);
    }

    private static Stream<Shape> allShapes() {
        return Stream.of(
                new Shape("dense 16 channels", new int[] {2, 9, 7, 16}, new int[] {3, 3, 16, 24},
                        ConvSpec.builder().strides(2, 1).build()),
                new Shape("input dilated", new int[] {1, 6, 5, 3}, new int[] {4, 3, 3, 5}, ConvSpec.builder()
                        .inputDilation(2, 3).strides(3, 1).padding(Padding.pairs(new int[][] {{2, 1}, {0, 2}})).build()),
                new Shape("depthwise", new int[] {2, 6, 11, 8}, new int[] {3, 3, 1, 8},
                        ConvSpec.builder().groups(8).build()));
    }

    @Tag("exhaustive")
    @ParameterizedTest(name = "{0}")
    @MethodSource("otherShapes")
    void everyCandidateOfTheOtherShapesIsExact(Shape shape) {
        everyCandidateIsExact(shape);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shapes")
    void everyCandidateIsExact(Shape shape) {
        ConvGeometry g = shape.geometry();
        for (boolean gpuSpace : new boolean[] {true, false}) {
            List<KernelConfig> candidates = TuningCandidates.of(g, OPENCL.backend().device(), BUDGET, gpuSpace);
            assertTrue(candidates.size() > 1, "a space to search: " + candidates);
            assertEquals(DefaultConfigs.untuned(g, OPENCL.backend().device()), candidates.get(0),
                    "the default comes first");
            Set<KernelConfig> checked = new LinkedHashSet<>(candidates);
            // Beyond the sample: configs that together take every value of every knob the space has.
            OpenClDevice device = OPENCL.backend().device();
            checked.addAll(coveringEveryKnob(TuningCandidates.space(g, device, candidates.get(0), gpuSpace)
                    .stream().filter(c -> DefaultConfigs.fits(c, g, device)).toList()));
            for (KernelConfig candidate : checked) {
                assertExact(shape, g, candidate);
            }
        }
    }

    /** A few configs of {@code space} that between them show every (knob, value) pair found in it. */
    static List<KernelConfig> coveringEveryKnob(List<KernelConfig> space) {
        Set<String> uncovered = new HashSet<>();
        space.forEach(config -> uncovered.addAll(knobs(config)));
        List<KernelConfig> chosen = new ArrayList<>();
        while (!uncovered.isEmpty()) {
            KernelConfig best = space.stream().max(Comparator.comparingLong(
                    config -> knobs(config).stream().filter(uncovered::contains).count())).orElseThrow();
            chosen.add(best);
            uncovered.removeAll(knobs(best));
        }
        return chosen;
    }

    private static Set<String> knobs(KernelConfig config) {
        if (config instanceof KernelConfig.Gemm gemm) {
            Tiling t = gemm.tiling();
            return Set.of("tileM=" + t.tileM(), "tileN=" + t.tileN(), "tileK=" + t.tileK(), "wptM=" + t.workPerItemM(),
                    "wptN=" + t.workPerItemN(), "vwm=" + t.vectorM(), "vwn=" + t.vectorN(), "veck=" + t.vectorK(),
                    "stages=" + t.stages());
        }
        if (config instanceof KernelConfig.Depthwise d) {
            return Set.of("vector=" + d.vectorWidth(), "outputs=" + d.outputsPerItem(), "group=" + d.workGroupSize());
        }
        return Set.of("group=" + ((KernelConfig.General) config).workGroupSize());
    }

    @Test
    void theWinnerIsRecordedAndPlansUseIt(@TempDir Path cache) {
        String previous = System.getProperty("convcl.cache.dir");
        System.setProperty("convcl.cache.dir", cache.toString());
        try {
            Shape shape = shapes().findFirst().orElseThrow();
            ConvGeometry g = shape.geometry();
            TuningDatabase database = TuningDatabase.forDevice(OPENCL.backend().device());
            Tuner.Outcome outcome = new Tuner(OPENCL.backend(), database, 3, 1, line -> { }).tune(g, 3);
            assertEquals(3, outcome.trials().size());
            assertEquals(0, outcome.rejectedCount(), outcome.trials().toString());
            assertNotNull(outcome.best());
            assertTrue(outcome.trials().stream().allMatch(t -> t.ms() >= outcome.best().ms()), "the best is fastest");
            assertTrue(Files.isRegularFile(database.file().orElseThrow()), "the database is on disk");
            assertTrue(database.file().orElseThrow().startsWith(cache.resolve("tuning")));
            assertEquals(outcome.best().config(), DefaultConfigs.choose(g, OPENCL.backend().device()));
        } finally {
            if (previous == null) {
                System.clearProperty("convcl.cache.dir");
            } else {
                System.setProperty("convcl.cache.dir", previous);
            }
        }
    }

    @Test
    void wrongOrUnwrittenOutputsAreRejected() {
        float[] reference = {1f, -2f, 4f};
        assertNull(Tuner.compare(new float[] {1f, -2f, 4.00001f}, reference));
        assertTrue(Tuner.compare(new float[] {1f, Float.NaN, 4f}, reference).contains("not written"));
        assertTrue(Tuner.compare(new float[] {1f, -2f, 3f}, reference).contains("wrong result"));
    }

    private static void assertExact(Shape shape, ConvGeometry g, KernelConfig candidate) {
        PlanCheck.assertMatchesReference(shape.toString(), OPENCL.backend(), shape.spec(), shape.xShape(),
                shape.wShape(), candidate, 7);
    }
}
