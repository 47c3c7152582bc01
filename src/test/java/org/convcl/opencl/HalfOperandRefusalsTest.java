package org.convcl.opencl;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.convcl.Activation;
import org.convcl.ConvGeometry;
import org.convcl.ConvSpec;
import org.convcl.DType;
import org.convcl.EdgePadding;
import org.convcl.Epilogue;
import org.convcl.Layout;
import org.convcl.Padding;
import org.convcl.PoolGeometry;
import org.convcl.PoolOp;
import org.convcl.PoolSpec;
import org.convcl.Tensor;
import org.convcl.internal.KernelLayout;
import org.convcl.nn.Conv;
import org.convcl.nn.ConvTranspose;
import org.convcl.nn.Pool;
import org.convcl.testing.OpenClBackendPerClass;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A bias gradient stays float32: a float16 or bfloat16 one is refused by its name, before any kernel reads its
 * two-byte elements as floats. The layers Conv and ConvTranspose compute in their dtype and refuse a tensor of
 * another one, naming it, its type and the layer's; a Pool takes x's type and refuses a dy (and, channels-first, an
 * output) of another. The convolution, its kernel gradient, edge padding (pad and fold), the kernel flip, the
 * epilogue (fused, pass, gradient), pooling and the layout transpose take 16-bit operands (HalfForwardOpenClTest,
 * HalfGradientOpenClTest, HalfTransposeOpenClTest, HalfEpilogueOpenClTest, HalfPoolOpenClTest,
 * HalfChannelsFirstTest) when all of them have one type: a call mixing types is refused naming each operand and its
 * type. An epilogue's scale and shift are float32 whatever the type: a 16-bit one is refused.
 */
class HalfOperandRefusalsTest {
    @RegisterExtension
    static final OpenClBackendPerClass OPENCL = new OpenClBackendPerClass();

    private static final int[] INPUT = {1, 5, 5, 2};
    private static final int[] KERNEL = {3, 3, 2, 4};
    private static final ConvGeometry G = ConvSpec.defaults().resolve(INPUT, KERNEL);
    private static final int CHANNELS = KERNEL[3];

    /** Operands of one call: float32 or 16-bit tensors of the class's backend, closed after the call. */
    static final class Operands implements AutoCloseable {
        private final List<DeviceTensor> made = new ArrayList<>();
        private final DType half;

        Operands(DType half) {
            this.half = half;
        }

        OpenClBackend backend() {
            return OPENCL.backend();
        }

        DeviceTensor f(int... shape) {
            return keep(backend().allocate(shape));
        }

        DeviceTensor h(int... shape) {
            return keep(DeviceTensor.allocate(backend(), half, shape));
        }

        private DeviceTensor keep(DeviceTensor tensor) {
            made.add(tensor);
            return tensor;
        }

        @Override
        public void close() {
            made.forEach(DeviceTensor::close);
        }
    }

    static Stream<Arguments> calls() {
        EdgePadding reflect = EdgePadding.ofInput(ConvSpec.builder().padding(Padding.REFLECT).build()
                .resolve(INPUT, KERNEL));
        Tensor kernel = Tensor.zeros(KERNEL);
        List<Arguments> calls = List.of(
                call("bias gradient", "biasGradient", o -> o.backend().biasGradient(o.f(G.outputShape()),
                        o.h(CHANNELS))));
        return Stream.of(DType.FLOAT16, DType.BFLOAT16).flatMap(dtype -> calls.stream()
                .map(c -> Arguments.of(c.get()[0], c.get()[1], dtype, c.get()[2])));
    }

    static Stream<Arguments> mixedCalls() {
        EdgePadding reflect = EdgePadding.ofInput(ConvSpec.builder().padding(Padding.REFLECT).build()
                .resolve(INPUT, KERNEL));
        List<Arguments> calls = List.of(
                call("convolution", "input %s", o -> o.backend().forward(G, o.h(INPUT), o.f(KERNEL), null,
                        o.f(G.outputShape()))),
                call("convolution", "kernel %s", o -> o.backend().forward(G, o.f(INPUT), o.h(KERNEL), null,
                        o.f(G.outputShape()))),
                call("convolution", "bias %s", o -> o.backend().forward(G, o.f(INPUT), o.f(KERNEL), o.h(CHANNELS),
                        o.f(G.outputShape()))),
                call("convolution", "output float32", o -> o.backend().forward(G, o.h(INPUT), o.h(KERNEL),
                        o.h(CHANNELS), o.f(G.outputShape()))),
                call("kernel gradient", "outputGradient %s", o -> o.backend().kernelGradient(G, o.f(INPUT),
                        o.h(G.outputShape()), o.f(KERNEL))),
                call("kernel gradient", "kernelGradient float32", o -> o.backend().kernelGradient(G, o.h(INPUT),
                        o.h(G.outputShape()), o.f(KERNEL))),
                call("pad", "source %s", o -> o.backend().pad(reflect, o.h(reflect.sourceShape()),
                        o.f(reflect.paddedShape()))),
                call("fold", "bias %s", o -> o.backend().fold(reflect, o.f(reflect.paddedShape()),
                        o.h(reflect.channels()), o.f(reflect.sourceShape()))),
                call("flipSwap", "result float32", o -> o.backend().flipSwap(o.h(KERNEL), 1,
                        o.f(KernelLayout.flipSwapShape(KERNEL, 1)))),
                call("transpose", "source %s", o -> o.backend().transpose(o.h(2, 3), 1, 2, 3, o.f(3, 2))),
                call("transpose", "target %s", o -> o.backend().transpose(o.f(2, 3), 1, 2, 3, o.h(3, 2))),
                call("pooling", "output %s", o -> o.backend().poolForward(PoolOp.MAX, pooled(), o.f(INPUT),
                        o.h(pooled().outputShape()))),
                call("pooling gradient", "inputGradient float32", o -> o.backend().poolBackward(PoolOp.AVG,
                        pooled(), o.h(INPUT), o.h(pooled().outputShape()), o.f(INPUT))),
                call("convolution", "epilogue residual float32", o -> o.backend().forward(G, o.h(INPUT),
                        o.h(KERNEL), null, new Epilogue<>(Activation.relu(), null, null, o.f(G.outputShape())),
                        o.h(G.outputShape()))),
                call("epilogue pass", "residual float32", o -> o.backend().epiloguePass(new Epilogue<>(
                        Activation.relu(), null, null, o.f(G.outputShape())), CHANNELS, o.h(G.outputShape()))),
                call("epilogue gradient", "dy %s", o -> o.backend().epilogueGradient(new Epilogue<>(
                        Activation.relu(), null, null, null), CHANNELS, o.f(G.outputShape()), o.h(G.outputShape()),
                        o.f(G.outputShape()), null, o.f(G.outputShape()))));
        return Stream.of(DType.FLOAT16, DType.BFLOAT16).flatMap(dtype -> calls.stream()
                .map(c -> Arguments.of(c.get()[0], c.get()[1], dtype, c.get()[2])));
    }

    /** {@code odd}: the operand of another type than the rest, with its type ({@code %s}: the 16-bit one). */
    @ParameterizedTest(name = "{0} with {1} ({2})")
    @MethodSource("mixedCalls")
    void aCallMixingTypesIsRefusedNamingEachOperand(String operation, String odd, DType dtype,
            Consumer<Operands> call) {
        String message;
        try (Operands operands = new Operands(dtype)) {
            message = assertThrows(IllegalArgumentException.class, () -> call.accept(operands)).getMessage();
        }
        assertTrue(message.startsWith(operation + ": operands of mixed dtypes (") && message.contains("float32")
                && message.contains(String.format(odd, dtype.cliName()))
                && message.contains("must have one dtype"), message);
    }

    /**
     * The families that take 16-bit operands run on them: the kernel gradient, the bias gradient of a 16-bit
     * output gradient into float32, pad, fold and the kernel flip, each finished without an error (their values:
     * HalfGradientOpenClTest, HalfTransposeOpenClTest).
     */
    static Stream<Arguments> acceptedCalls() {
        EdgePadding reflect = EdgePadding.ofInput(ConvSpec.builder().padding(Padding.REFLECT).build()
                .resolve(INPUT, KERNEL));
        List<Arguments> calls = List.of(
                call("kernel gradient", "", o -> o.backend().kernelGradient(G, o.h(INPUT), o.h(G.outputShape()),
                        o.h(KERNEL))),
                call("bias gradient", "", o -> o.backend().biasGradient(o.h(G.outputShape()), o.f(CHANNELS))),
                call("pad", "", o -> o.backend().pad(reflect, o.h(reflect.sourceShape()), o.h(reflect.paddedShape()))),
                call("fold", "", o -> o.backend().fold(reflect, o.h(reflect.paddedShape()), o.h(reflect.channels()),
                        o.h(reflect.sourceShape()))),
                call("flipSwap", "", o -> new DeviceConvOps(o.backend()).flipSwapped(o.h(KERNEL), KERNEL, 1)
                        .close()),
                call("fused epilogue", "", o -> o.backend().forward(G, o.h(INPUT), o.h(KERNEL), o.h(CHANNELS),
                        new Epilogue<>(Activation.relu(), o.f(CHANNELS), o.f(CHANNELS), o.h(G.outputShape())),
                        o.h(G.outputShape()))),
                call("epilogue pass", "", o -> o.backend().epiloguePass(new Epilogue<>(Activation.relu(),
                        o.f(CHANNELS), null, o.h(G.outputShape())), CHANNELS, o.h(G.outputShape()))),
                call("epilogue gradient", "", o -> o.backend().epilogueGradient(new Epilogue<>(Activation.relu(),
                        o.f(CHANNELS), o.f(CHANNELS), o.h(G.outputShape())), CHANNELS, o.h(G.outputShape()),
                        o.h(G.outputShape()), o.h(G.outputShape()), o.h(G.outputShape()), o.h(G.outputShape()))),
                call("Conv layer of the type", "", o -> {
                    try (Conv conv = Conv.builder(Tensor.zeros(KERNEL)).dtype(o.half).backend(o.backend()).build()) {
                        conv.apply(o.h(INPUT), o.h(G.outputShape()));
                        o.backend().finish();
                    }
                }),
                call("Pool layer", "", o -> Pool.builder(PoolOp.AVG, PoolSpec.builder().window(2).build())
                        .backend(o.backend()).build().apply(o.h(INPUT)).close()),
                call("layout transpose", "", o -> o.backend().transpose(o.h(2, 3), 1, 2, 3, o.h(3, 2))),
                call("channels-first Conv layer of the type", "", o -> {
                    try (Conv conv = Conv.builder(Tensor.zeros(4, 2, 3, 3)).layout(Layout.CHANNELS_FIRST)
                            .dtype(o.half).backend(o.backend()).build()) {
                        conv.apply(o.h(1, 2, 5, 5)).close();
                    }
                }),
                call("channels-first Pool layer", "", o -> Pool.builder(PoolOp.AVG, PoolSpec.builder().window(2)
                        .build()).layout(Layout.CHANNELS_FIRST).backend(o.backend()).build().apply(o.h(2, 1, 4, 4))
                        .close()));
        return Stream.of(DType.FLOAT16, DType.BFLOAT16).flatMap(dtype -> calls.stream()
                .map(c -> Arguments.of(c.get()[0], dtype, c.get()[2])));
    }

    @ParameterizedTest(name = "{0} ({1})")
    @MethodSource("acceptedCalls")
    void aFamilyThatTakesSixteenBitOperandsRunsOnThem(String operation, DType dtype, Consumer<Operands> call) {
        try (Operands operands = new Operands(dtype)) {
            call.accept(operands);
            operands.backend().finish();
        }
    }

    /** An epilogue's scale and shift are float32 on 16-bit operands too: a 16-bit one is refused by name. */
    static Stream<Arguments> sixteenBitScalesAndShifts() {
        List<Arguments> calls = List.of(
                call("epilogue scale", "fused store", o -> o.backend().forward(G, o.h(INPUT), o.h(KERNEL), null,
                        new Epilogue<>(Activation.relu(), o.h(CHANNELS), null, null), o.h(G.outputShape()))),
                call("epilogue shift", "fused store", o -> o.backend().forward(G, o.h(INPUT), o.h(KERNEL), null,
                        new Epilogue<>(Activation.relu(), null, o.h(CHANNELS), null), o.h(G.outputShape()))),
                call("scale", "epilogue pass", o -> o.backend().epiloguePass(new Epilogue<>(Activation.relu(),
                        o.h(CHANNELS), null, null), CHANNELS, o.h(G.outputShape()))),
                call("shift", "epilogue gradient", o -> o.backend().epilogueGradient(new Epilogue<>(
                        Activation.relu(), null, o.h(CHANNELS), null), CHANNELS, o.h(G.outputShape()),
                        o.h(G.outputShape()), o.h(G.outputShape()), null, o.h(G.outputShape()))));
        return Stream.of(DType.FLOAT16, DType.BFLOAT16).flatMap(dtype -> calls.stream()
                .map(c -> Arguments.of(c.get()[0], c.get()[1], dtype, c.get()[2])));
    }

    @ParameterizedTest(name = "{1}: a {2} {0}")
    @MethodSource("sixteenBitScalesAndShifts")
    void aSixteenBitScaleOrShiftIsRefused(String operand, String operation, DType dtype, Consumer<Operands> call) {
        String message;
        try (Operands operands = new Operands(dtype)) {
            message = assertThrows(IllegalArgumentException.class, () -> call.accept(operands)).getMessage();
        }
        assertTrue(message.startsWith(operand + ": ") && message.contains(" holds " + dtype.cliName() + ";")
                && message.contains("it must be float32: an epilogue's scale and shift are float32"), message);
    }

    /**
     * A layer's device call with a tensor of another type than the layer's: the operand's name, its type and the
     * layer's in the message. {@code layerType} null: the layer computes in the class's 16-bit type.
     */
    static Stream<Arguments> layerCalls() {
        Tensor kernel = Tensor.zeros(KERNEL);
        Pool pool = Pool.builder(PoolOp.AVG, PoolSpec.builder().window(2).build()).backend(OPENCL.backend()).build();
        List<Arguments> calls = List.of(
                layerCall("a float32 Conv", "x", true, o -> Conv.builder(kernel).backend(o.backend()).build()
                        .apply(o.h(INPUT)).close()),
                layerCall("a float32 Conv backward", "dy", true, o -> Conv.builder(kernel).backend(o.backend())
                        .build().backward(o.f(INPUT), o.h(G.outputShape()))),
                layerCall("a 16-bit Conv", "x", false, o -> Conv.builder(kernel).dtype(o.half).backend(o.backend())
                        .build().apply(o.f(INPUT)).close()),
                layerCall("a 16-bit Conv's residual", "residual", false, o -> Conv.builder(kernel).dtype(o.half)
                        .backend(o.backend()).build().apply(o.h(INPUT), o.f(G.outputShape()), o.h(G.outputShape()))),
                layerCall("a 16-bit Conv's out", "out", false, o -> Conv.builder(kernel).dtype(o.half)
                        .backend(o.backend()).build().apply(o.h(INPUT), o.f(G.outputShape()))),
                layerCall("a 16-bit Conv backward", "dy", false, o -> Conv.builder(kernel).dtype(o.half)
                        .backend(o.backend()).build().backward(o.h(INPUT), o.f(G.outputShape()))),
                layerCall("a 16-bit ConvTranspose", "x", false, o -> ConvTranspose.builder(kernel).dtype(o.half)
                        .backend(o.backend()).build().apply(o.f(INPUT)).close()),
                layerCall("a Pool backward", "dy", false, o -> pool.backward(o.h(INPUT), o.f(2, 2, 2, 2)).close()),
                layerCall("a channels-first Pool", "output", false, o -> Pool.builder(PoolOp.AVG, PoolSpec.builder()
                        .window(2).build()).layout(Layout.CHANNELS_FIRST).backend(o.backend()).build()
                        .apply(o.h(2, 1, 4, 4), o.f(2, 1, 4, 3))));
        return Stream.of(DType.FLOAT16, DType.BFLOAT16).flatMap(dtype -> calls.stream()
                .map(c -> Arguments.of(c.get()[0], c.get()[1], c.get()[2], dtype, c.get()[3])));
    }

    private static Arguments layerCall(String layer, String operand, boolean sixteenBitOperand,
            Consumer<Operands> call) {
        return Arguments.of(layer, operand, sixteenBitOperand, call);
    }

    @ParameterizedTest(name = "{0}: a {1} of another type ({3})")
    @MethodSource("layerCalls")
    void aLayerRefusesATensorOfAnotherType(String layer, String operand, boolean sixteenBitOperand, DType dtype,
            Consumer<Operands> call) {
        String message;
        try (Operands operands = new Operands(dtype)) {
            message = assertThrows(IllegalArgumentException.class, () -> call.accept(operands)).getMessage();
        }
        String held = sixteenBitOperand ? dtype.cliName() : "float32";
        assertTrue(message.startsWith(operand + ": ") && message.contains(" holds " + held), message);
        String layerType = sixteenBitOperand ? "float32" : dtype.cliName();
        assertTrue(message.contains("computes in " + layerType) || message.contains("but x holds " + layerType),
                message);
    }

    private static PoolGeometry pooled() {
        return PoolSpec.builder().window(2).build().resolve(INPUT);
    }

    private static Arguments call(String operation, String operand, Consumer<Operands> call) {
        return Arguments.of(operation, operand, call);
    }

    @ParameterizedTest(name = "{0}: a {2} {1}")
    @MethodSource("calls")
    void aSixteenBitOperandIsRefusedByName(String operation, String operand, DType dtype, Consumer<Operands> call) {
        String message;
        try (Operands operands = new Operands(dtype)) {
            message = assertThrows(IllegalArgumentException.class, () -> call.accept(operands)).getMessage();
        }
        assertTrue(message.startsWith(operand + ": ") && message.contains(" holds " + dtype.cliName() + ";")
                && message.contains("takes float32 tensors only"), message);
    }
}
