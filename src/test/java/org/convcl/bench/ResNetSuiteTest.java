package org.convcl.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.convcl.Padding;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The embedded network suites (written by scripts/resnet_suite.py from torchvision's model) against an independent
 * derivation: torchvision's ResNet walked here layer by layer (stem 7x7/2 pad 3, 3x3/2 max pool pad 1, stages of
 * [3, 4, 6, 3] bottlenecks with expansion 4 for ResNet-50, [2, 2, 2, 2] basic blocks for ResNet-18, the stride on
 * the first block's 3x3 and a 1x1/2 downsample where the shape changes, the classifier as a 1x1 convolution),
 * sizes by PyTorch's floor((L + 2p - k) / s) + 1. Each distinct shape and how often it occurs must agree, and
 * convcl's own output size for each suite shape must be the one PyTorch gives, so that the explicit padding is
 * PyTorch's.
 */
class ResNetSuiteTest {
    private static final int IMAGE = 224;
    private static final int CLASSES = 1000;

    @ParameterizedTest
    @ValueSource(strings = {"resnet50", "resnet18"})
    void theSuiteHoldsTheNetworksDistinctConvolutionsWithTheirCounts(String arch) throws IOException {
        Map<String, Integer> derived = walk(arch);
        BenchSuite suite = BenchSuite.loadNamed(arch);
        assertTrue(suite.counted(), "a network suite counts every shape");
        Map<String, Integer> embedded = new LinkedHashMap<>();
        for (BenchShape shape : suite.shapes()) {
            assertEquals(1, shape.groups(), shape.name());
            assertTrue(Arrays.stream(shape.kernelDilation()).allMatch(d -> d == 1)
                    && Arrays.stream(shape.inputDilation()).allMatch(d -> d == 1), shape.name() + ": no dilation");
            int[] out = shape.spec().resolve(shape.inputShape(1), shape.kernelShape()).outSpatial();
            Padding.Explicit padding = (Padding.Explicit) shape.padding();
            Integer previous = embedded.put(key(shape.spatial(), out, shape.cin(), shape.cout(), shape.kernel(),
                    shape.strides(), padding.lo(), padding.hi()), shape.count());
            assertEquals(null, previous, shape.name() + " repeats another shape: merge them into one count");
        }
        assertEquals(new TreeMap<>(derived), new TreeMap<>(embedded), arch + ": shape -> count");
        Set<String> names = suite.shapes().stream().map(BenchShape::name).collect(Collectors.toSet());
        assertEquals(suite.shapes().size(), names.size(), "names are unique, so that --shapes can pick any one");
    }

    @ParameterizedTest
    @ValueSource(strings = {"resnet50", "resnet18"})
    void aSelectionKeepsItsCountsAndIsStillCounted(String arch) throws IOException {
        BenchSuite suite = BenchSuite.loadNamed(arch);
        BenchShape last = suite.shapes().get(suite.shapes().size() - 1);
        BenchSuite one = suite.select(List.of(last.name()));
        assertTrue(one.counted());
        assertEquals(last.count(), one.shapes().get(0).count());
    }

    /** torchvision's ResNet at 224x224: every convolution it runs, as shape key -> occurrences. */
    private static Map<String, Integer> walk(String arch) {
        boolean bottleneck = arch.equals("resnet50");
        int[] blocks = bottleneck ? new int[] {3, 4, 6, 3} : new int[] {2, 2, 2, 2};
        int expansion = bottleneck ? 4 : 1;
        Map<String, Integer> counts = new LinkedHashMap<>();
        int size = add(counts, IMAGE, 3, 64, 7, 2);
        size = out(size, 3, 2, 1); // the max pool
        int channels = 64;
        for (int stage = 0; stage < blocks.length; stage++) {
            int planes = 64 << stage;
            for (int block = 0; block < blocks[stage]; block++) {
                int stride = stage > 0 && block == 0 ? 2 : 1;
                int width = planes * expansion;
                int next;
                if (bottleneck) {
                    int reduced = add(counts, size, channels, planes, 1, 1);
                    int strided = add(counts, reduced, planes, planes, 3, stride);
                    next = add(counts, strided, planes, width, 1, 1);
                } else {
                    int strided = add(counts, size, channels, planes, 3, stride);
                    next = add(counts, strided, planes, width, 3, 1);
                }
                if (stride != 1 || channels != width) {
                    add(counts, size, channels, width, 1, stride);
                }
                size = next;
                channels = width;
            }
        }
        add(counts, 1, channels, CLASSES, 1, 1); // fc after the global average pool
        return counts;
    }

    /** Records one square convolution padded as PyTorch pads it (k / 2 on every side) and returns its size. */
    private static int add(Map<String, Integer> counts, int size, int cin, int cout, int k, int stride) {
        int pad = k / 2;
        int result = out(size, k, stride, pad);
        counts.merge(key(new int[] {size, size}, new int[] {result, result}, cin, cout, new int[] {k, k},
                new int[] {stride, stride}, new int[] {pad, pad}, new int[] {pad, pad}), 1, Integer::sum);
        return result;
    }

    private static int out(int size, int k, int stride, int pad) {
        return Math.floorDiv(size + 2 * pad - k, stride) + 1;
    }

    private static String key(int[] in, int[] out, int cin, int cout, int[] kernel, int[] strides, int[] lo,
            int[] hi) {
        return "in " + Arrays.toString(in) + " out " + Arrays.toString(out) + " " + cin + "->" + cout + " kernel "
                + Arrays.toString(kernel) + " strides " + Arrays.toString(strides) + " pad lo "
                + Arrays.toString(lo) + " hi " + Arrays.toString(hi);
    }
}
