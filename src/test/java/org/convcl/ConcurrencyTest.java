package org.convcl;

import org.convcl.nn.ConvTranspose;
import org.convcl.nn.ConvGradients;
import org.convcl.nn.Conv;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Supplier;
import org.convcl.backend.ConvBackend;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.opencl.OpenClBackend;
import org.convcl.testing.RandomConfigs;
import org.convcl.testing.RandomConfigs.ConvConfig;
import org.convcl.testing.RandomConfigs.TransposeConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Layers shared by 8 threads x 200 calls give results bitwise equal to the same calls made one after the
 * other: forward, backward and transposed, over a mix of configurations (every padding mode, strides, both
 * dilations, groups, masks, several input shapes per layer). The threads start together and each walks the
 * calls in its own order, so that different configurations run side by side on the same layers.
 */
class ConcurrencyTest {
    private static final int THREADS = 8;
    private static final int CALLS_PER_THREAD = 200;
    private static final int LAYERS = 4;
    /** Random layers tried before giving up on finding one whose output depends on its input. */
    private static final int MAX_DRAWS = 100;
    private static final Duration TIME_LIMIT = Duration.ofSeconds(120);

    /**
     * Every backend the layers run on; another backend joins with one more entry here. They are shared
     * backends, which refuse close(), so the tests set autoCloseArguments = false: JUnit would otherwise close
     * each AutoCloseable argument after its case.
     */
    /** Private backends made for the staged variant, closed after the class. */
    private static final List<OpenClBackend> STAGED = new ArrayList<>();

    /**
     * The Java path, the shared OpenCL backend, and an OpenCL backend whose host arrays go through pinned staging
     * in pipelined chunks on three queues, as on a GPU (on PoCL, a CPU device, they are copied directly unless
     * told otherwise): the one whose buffers and events other threads' calls can race with.
     */
    static List<ConvBackend> backends() {
        List<ConvBackend> backends = new ArrayList<>(List.of(CpuBackend.instance()));
        org.convcl.testing.OpenClTesting.sharedBackendIfAvailable().ifPresent(shared -> {
            backends.add(shared);
            System.setProperty(PINNED_STAGING, "true");
            try {
                OpenClBackend staged = OpenClBackend.create(((OpenClBackend) shared).device());
                STAGED.add(staged);
                backends.add(staged);
            } finally {
                System.clearProperty(PINNED_STAGING);
            }
        });
        return backends;
    }

    private static final String PINNED_STAGING = "convcl.opencl.pinnedStaging";

    @AfterAll
    static void closeStagedBackends() {
        STAGED.forEach(OpenClBackend::close);
        STAGED.clear();
    }

    /** One call: what it computes, as the arrays it returns. */
    private record Call(String what, Supplier<float[][]> run) {
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("backends")
    void convForward(ConvBackend backend) throws Exception {
        Random random = new Random(1);
        List<Call> calls = new ArrayList<>();
        for (int layerIndex = 0; layerIndex < LAYERS; layerIndex++) {
            ConvCase layerCase = convCase(random, backend);
            ConvConfig config = layerCase.config();
            Conv layer = layerCase.layer();
            for (Tensor x : layerCase.inputs()) {
                calls.add(new Call("apply " + config + " x" + Arrays.toString(x.shape()),
                        () -> new float[][] {layer.apply(x).data()}));
            }
        }
        Conv wide = wideLayer(random, backend);
        Conv twin = wideLayer(random, backend);
        Tensor image = tensor(random, 2, 20, 20, 8);
        calls.add(new Call("apply wide layer", () -> new float[][] {wide.apply(image).data()}));
        calls.add(new Call("apply its twin", () -> new float[][] {twin.apply(image).data()}));
        assertConcurrentCallsMatchSequentialOnes(calls);
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("backends")
    void convBackward(ConvBackend backend) throws Exception {
        Random random = new Random(2);
        List<Call> calls = new ArrayList<>();
        for (int layerIndex = 0; layerIndex < LAYERS; layerIndex++) {
            ConvCase layerCase = convCase(random, backend);
            ConvConfig config = layerCase.config();
            Conv layer = layerCase.layer();
            for (Tensor x : layerCase.inputs()) {
                int[] outputShape = layer.geometry(x.shape()).outputShape();
                Tensor dy = Tensor.of(RandomConfigs.values(random, (int) Tensor.elementCount(outputShape)),
                        outputShape);
                calls.add(new Call("backward " + config + " x" + Arrays.toString(x.shape()),
                        () -> arrays(layer.backward(x, dy))));
            }
        }
        Conv wide = wideLayer(random, backend);
        Conv twin = wideLayer(random, backend);
        Tensor image = tensor(random, 2, 20, 20, 8);
        Tensor imageGradient = tensor(random, 2, 20, 20, 16);
        calls.add(new Call("backward wide layer", () -> arrays(wide.backward(image, imageGradient))));
        calls.add(new Call("backward its twin", () -> arrays(twin.backward(image, imageGradient))));
        assertConcurrentCallsMatchSequentialOnes(calls);
    }

    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("backends")
    void convTransposeForwardAndBackward(ConvBackend backend) throws Exception {
        Random random = new Random(3);
        List<Call> calls = new ArrayList<>();
        for (int layerIndex = 0; layerIndex < LAYERS; layerIndex++) {
            TransposeCase layerCase = transposeCase(random, backend, layerIndex);
            TransposeConfig config = layerCase.config();
            ConvTranspose layer = layerCase.layer();
            for (Tensor x : layerCase.inputs()) {
                int[] outputShape = layer.geometry(x.shape()).outputShape();
                Tensor dy = tensor(random, outputShape);
                String what = config + " x" + Arrays.toString(x.shape());
                calls.add(new Call("apply " + what, () -> new float[][] {layer.apply(x).data()}));
                calls.add(new Call("backward " + what, () -> arrays(layer.backward(x, dy))));
            }
        }
        Tensor image = tensor(random, 2, 10, 10, 8);
        Tensor imageGradient = tensor(random, 2, 20, 20, 8);
        for (String name : new String[] {"wide transpose", "its twin"}) {
            ConvTranspose wide = ConvTranspose.builder(tensor(random, 3, 3, 8, 8)).bias(tensor(random, 8))
                    .spec(ConvTransposeSpec.builder().strides(2).build()).backend(backend).build();
            calls.add(new Call("apply " + name, () -> new float[][] {wide.apply(image).data()}));
            calls.add(new Call("backward " + name, () -> arrays(wide.backward(image, imageGradient))));
        }
        assertConcurrentCallsMatchSequentialOnes(calls);
    }

    /**
     * Runs every call once on this thread for the expected results, then {@link #THREADS} threads make
     * {@link #CALLS_PER_THREAD} calls each, all at once, and every result must equal its expected one bit
     * for bit.
     */
    private static void assertConcurrentCallsMatchSequentialOnes(List<Call> calls) throws Exception {
        List<float[][]> expected = new ArrayList<>();
        for (Call call : calls) {
            float[][] result = call.run().get();
            // Copied, so that a result array shared by mistake between calls cannot change what is expected.
            expected.add(Arrays.stream(result).map(float[]::clone).toArray(float[][]::new));
        }
        assertDistinct(calls, expected);
        ExecutorService pool = Executors.newFixedThreadPool(THREADS);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<?>> threads = new ArrayList<>();
            for (int t = 0; t < THREADS; t++) {
                SplittableRandom order = new SplittableRandom(100 + t);
                threads.add(pool.submit(() -> {
                    start.await();
                    for (int c = 0; c < CALLS_PER_THREAD; c++) {
                        int index = order.nextInt(calls.size());
                        float[][] result = calls.get(index).run().get();
                        assertBitwiseEqual(calls.get(index).what(), expected.get(index), result);
                    }
                    return null;
                }));
            }
            start.countDown();
            assertTimeoutPreemptively(TIME_LIMIT, () -> {
                for (Future<?> thread : threads) {
                    try {
                        thread.get();
                    } catch (ExecutionException failure) {
                        if (failure.getCause() instanceof AssertionError assertion) {
                            throw assertion;
                        }
                        throw new AssertionError("a concurrent call threw " + failure.getCause(), failure.getCause());
                    }
                }
            });
        } finally {
            pool.shutdownNow();
        }
    }

    private static void assertBitwiseEqual(String what, float[][] expected, float[][] actual) {
        assertEquals(expected.length, actual.length, what);
        for (int a = 0; a < expected.length; a++) {
            for (int i = 0; i < expected[a].length; i++) {
                if (Float.floatToRawIntBits(expected[a][i]) != Float.floatToRawIntBits(actual[a][i])) {
                    fail(what + ": result " + a + " element " + i + " is " + actual[a][i] + " from a concurrent "
                            + "call, " + expected[a][i] + " from a sequential one");
                }
            }
        }
    }

    /** Guards the test itself: equal results for different calls would make the comparison weak. */
    private static void assertDistinct(List<Call> calls, List<float[][]> results) {
        for (int i = 0; i < results.size(); i++) {
            for (int j = i + 1; j < results.size(); j++) {
                assertFalse(Arrays.deepEquals(results.get(i), results.get(j)),
                        calls.get(i).what() + " and " + calls.get(j).what() + " give the same result");
            }
        }
    }

    private record ConvCase(ConvConfig config, Conv layer, List<Tensor> inputs) {
    }

    private record TransposeCase(TransposeConfig config, ConvTranspose layer, List<Tensor> inputs) {
    }

    /**
     * A random layer and its inputs. Layers whose output ignores the input (every tap on padding, an empty
     * output, a mask of zeros) are redrawn: their calls would agree whatever happened to shared memory.
     */
    private static ConvCase convCase(Random random, ConvBackend backend) {
        for (int draw = 0; draw < MAX_DRAWS; draw++) {
            ConvConfig config = RandomConfigs.conv(random);
            Conv layer = convLayer(random, config, backend);
            List<Tensor> inputs = inputs(random, config.xShape());
            if (dependsOnInput(() -> layer.apply(inputs.get(0)), () -> layer.apply(inputs.get(1)))) {
                return new ConvCase(config, layer, inputs);
            }
        }
        throw new AssertionError("no layer among " + MAX_DRAWS + " draws gives different outputs for different inputs");
    }

    private static TransposeCase transposeCase(Random random, ConvBackend backend, int layerIndex) {
        for (int draw = 0; draw < MAX_DRAWS; draw++) {
            TransposeConfig config = RandomConfigs.transpose(random);
            int[] wShape = config.wShape();
            int cout = wShape[config.spec().transposeKernel() ? wShape.length - 2 : wShape.length - 1];
            ConvTranspose layer = ConvTranspose.builder(tensor(random, wShape))
                    .bias(layerIndex % 2 == 0 ? tensor(random, cout) : null)
                    .mask(layerIndex == 1 ? Tensor.of(RandomConfigs.mask(random, (int) Tensor.elementCount(wShape)),
                            wShape) : null)
                    .spec(config.spec()).backend(backend).build();
            List<Tensor> inputs = inputs(random, config.xShape());
            if (dependsOnInput(() -> layer.apply(inputs.get(0)), () -> layer.apply(inputs.get(1)))) {
                return new TransposeCase(config, layer, inputs);
            }
        }
        throw new AssertionError("no layer among " + MAX_DRAWS + " draws gives different outputs for different inputs");
    }

    /** Copies the first result before making the second, in case results share memory by mistake. */
    private static boolean dependsOnInput(Supplier<Tensor> first, Supplier<Tensor> second) {
        float[] firstValues = first.get().data().clone();
        return !Arrays.equals(firstValues, second.get().data());
    }

    /**
     * A layer large enough that one call splits into many tasks on the backend's own workers, so that
     * concurrency between calls meets parallelism within each; masked, so that twins of the same shape
     * would collide in a masked-kernel buffer shared by mistake.
     */
    private static Conv wideLayer(Random random, ConvBackend backend) {
        int[] shape = {3, 3, 8, 16};
        return Conv.builder(tensor(random, shape)).bias(tensor(random, 16))
                .mask(Tensor.of(RandomConfigs.mask(random, (int) Tensor.elementCount(shape)), shape))
                .backend(backend).build();
    }

    private static Conv convLayer(Random random, ConvConfig config, ConvBackend backend) {
        int[] wShape = config.wShape();
        int kernelSize = (int) Tensor.elementCount(wShape);
        return Conv.builder(tensor(random, wShape))
                .bias(random.nextBoolean() ? tensor(random, wShape[wShape.length - 1]) : null)
                .mask(random.nextInt(3) == 0 ? Tensor.of(RandomConfigs.mask(random, kernelSize), wShape) : null)
                .spec(config.spec()).backend(backend).build();
    }

    /**
     * Two inputs of the configuration's shape (other values, the same shapes: calls that would collide in
     * memory shared by mistake), then one with a leading batch dim of 3.
     */
    private static List<Tensor> inputs(Random random, int[] shape) {
        int[] batched = new int[shape.length + 1];
        batched[0] = 3;
        System.arraycopy(shape, 0, batched, 1, shape.length);
        return List.of(tensor(random, shape), tensor(random, shape), tensor(random, batched));
    }

    private static Tensor tensor(Random random, int... shape) {
        return Tensor.of(RandomConfigs.values(random, (int) Tensor.elementCount(shape)), shape);
    }

    private static float[][] arrays(ConvGradients gradients) {
        return gradients.dbias() == null
                ? new float[][] {gradients.dx().data(), gradients.dkernel().data()}
                : new float[][] {gradients.dx().data(), gradients.dkernel().data(), gradients.dbias().data()};
    }
}
