package org.convcl.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.convcl.Activation;
import org.convcl.ConvSpec;
import org.convcl.ConvTransposeSpec;
import org.convcl.DType;
import org.convcl.Layout;
import org.convcl.Padding;
import org.convcl.PoolOp;
import org.convcl.Tensor;
import org.convcl.backend.BackendChoice;
import org.convcl.backend.ConvBackend;
import org.convcl.io.Float16Array;
import org.convcl.io.Npy;
import org.convcl.nn.Backends;
import org.convcl.nn.Conv;
import org.convcl.nn.ConvGradients;
import org.convcl.nn.ConvTranspose;
import org.convcl.testing.HalfBound;
import org.convcl.testing.NaiveConv;
import org.convcl.testing.NaivePool;
import org.convcl.testing.OpenClTesting;
import org.convcl.testing.RandomTensors;
import org.convcl.testing.Reference;
import org.convcl.testing.Tolerance;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code --dtype float16|bfloat16} on the layer commands (issue 26): {@code conv} on an OpenCL device and on the Java
 * path against float64 on the operands rounded to the type ({@link HalfBound}); {@code conv} and
 * {@code conv-transpose} with the epilogue and gradients bit for bit against the layer built in the type;
 * {@code pool} and its gradient against float64; each output's {@code .npy} dtype; and each refusal: exit 2, one
 * line naming the option, the value and the rule, and no output.
 */
class CliDTypeTest {
    @TempDir
    Path dir;

    private Tensor x;
    private Tensor kernel;
    private Tensor bias;
    private Path output;

    @BeforeEach
    void operands() {
        SplittableRandom random = new SplittableRandom(26);
        x = RandomTensors.uniform(random, 2, 9, 7, 8);
        kernel = RandomTensors.uniform(random, 3, 3, 8, 6);
        bias = RandomTensors.uniform(random, 6);
        output = dir.resolve("y.npy");
    }

    /** Writes X, K and B as float16 ({@code '<f2'}) files, or as float32 ones; returns their paths. */
    private List<Path> write(boolean float16) throws IOException {
        List<Path> paths = new ArrayList<>();
        Tensor[] tensors = {x, kernel, bias};
        String[] names = {"x", "k", "b"};
        for (int i = 0; i < tensors.length; i++) {
            Path path = dir.resolve(names[i] + (float16 ? "16" : "32") + ".npy");
            if (float16) {
                Npy.writeFloat16(path, Float16Array.rounded(tensors[i]));
            } else {
                Npy.write(path, tensors[i]);
            }
            paths.add(path);
        }
        return paths;
    }

    private CliRun conv(List<Path> operands, String... extra) {
        List<String> args = new ArrayList<>(List.of("conv", "--input", operands.get(0).toString(), "--kernel",
                operands.get(1).toString(), "--bias", operands.get(2).toString(), "--strides", "2"));
        args.addAll(Arrays.asList(extra));
        args.addAll(List.of("--output", output.toString()));
        return CliRun.of(args);
    }

    @Test
    void float16ReadsAndWritesFloat16FilesWithinTheBound() throws IOException {
        OpenClTesting.device();
        assertFloat16Run("opencl");
    }

    @Test
    void float16OnTheJavaPath() throws IOException {
        assertFloat16Run("cpu");
    }

    @Test
    void bfloat16ReadsFloat32FilesAndWritesItsValuesAsFloat32() throws IOException {
        OpenClTesting.device();
        assertBfloat16Run("opencl");
    }

    @Test
    void bfloat16OnTheJavaPath() throws IOException {
        assertBfloat16Run("cpu");
    }

    private void assertFloat16Run(String backend) throws IOException {
        conv(write(true), "--dtype", "float16", "--backend", backend).assertSuccess();
        String header = new String(Files.readAllBytes(output), 0, 64, StandardCharsets.ISO_8859_1);
        assertTrue(header.contains("'descr': '<f2'"), "Y is written as little-endian float16: " + header);
        assertWithinTheBound(DType.FLOAT16, Npy.readFloat16(output).toTensor());
    }

    private void assertBfloat16Run(String backend) throws IOException {
        conv(write(false), "--dtype", "BFloat16", "--backend", backend).assertSuccess();
        Tensor y = Npy.read(output);
        assertArrayEquals(HalfBound.rounded(y, DType.BFLOAT16).data(), y.data(),
                "the float32 file holds bfloat16 values exactly");
        assertWithinTheBound(DType.BFLOAT16, y);
    }

    /** Y against float64 on X, K and B rounded to {@code dtype}, with stride 2 as {@link #conv} asks. */
    private void assertWithinTheBound(DType dtype, Tensor y) {
        Tensor xs = HalfBound.rounded(x, dtype);
        Tensor ks = HalfBound.rounded(kernel, dtype);
        Tensor bs = HalfBound.rounded(bias, dtype);
        ConvSpec spec = ConvSpec.builder().strides(2).build();
        NaiveConv.Result reference = Reference.forward(Tolerance.toDouble(xs.data()), xs.shape(),
                Tolerance.toDouble(ks.data()), ks.shape(), Tolerance.toDouble(bs.data()), spec.strides(),
                spec.inputDilation(), spec.kernelDilation(), spec.padding(), spec.groups());
        assertArrayEquals(reference.shape(), y.shape(), "Y's shape");
        HalfBound.assertWithin("conv --dtype " + dtype.cliName(), dtype, 3 * 3 * 8, reference, y.data());
    }

    @Test
    void aFileOfTheOtherDtypeIsRefusedNamingItsDtypeAndTheRule() throws IOException {
        List<Path> float32 = write(false);
        String line = conv(float32, "--dtype", "float16", "--backend", "opencl")
                .assertFailure(Main.EXIT_INVALID, output);
        assertEquals("convcl: --input " + float32.get(0) + ": dtype '<f4' is not float16; --dtype float16 reads "
                + "float16 .npy files ('<f2' or '>f2') only: convert it (numpy: a.astype(numpy.float16)) or give "
                + "--dtype float32", line);
        List<Path> float16 = write(true);
        String back = conv(float16, "--backend", "cpu").assertFailure(Main.EXIT_INVALID, output);
        assertEquals("convcl: --input " + float16.get(0) + ": dtype '<f2' is not supported; --dtype float32 reads "
                + "float32 and float64 .npy files ('<f4', '>f4', '<f8', '>f8'); give --dtype float16 for a float16 "
                + "file", back);
        String bfloat16 = conv(float16, "--dtype", "bfloat16", "--backend", "opencl")
                .assertFailure(Main.EXIT_INVALID, output);
        assertTrue(bfloat16.contains("dtype '<f2' is not supported; --dtype bfloat16 reads float32 and float64"),
                bfloat16);
    }

    /**
     * A layer command's 16-bit run with the epilogue (scale, shift, residual, activation) and, when asked, every
     * gradient: each file's {@code .npy} dtype (Y, dX, dK and dR in the type; dB, dS and dT float32) and its values
     * bit for bit those of the layer built with the same settings and dtype on the same backend. The Java path's
     * gradient cases refuse until its 16-bit backward pass lands (HalfOnHost.backward).
     */
    @ParameterizedTest(name = "{0} --dtype {1} --backend {2}, gradients {3}")
    // One OpenCL case: PoCL compiles each 16-bit program of the backward pass and the fused epilogue, seconds apiece.
    @CsvSource({"conv, float16, opencl, true", "conv, bfloat16, cpu, false", "conv, float16, cpu, true",
        "conv-transpose, float16, cpu, false", "conv-transpose, bfloat16, cpu, true"})
    void aLayerRunWithTheEpilogueGivesTheLayersBits(String command, String dtypeName, String backend,
            boolean gradients) throws IOException {
        if (backend.equals("opencl")) {
            OpenClTesting.device();
        }
        DType dtype = DType.parse(dtypeName);
        boolean transpose = command.equals("conv-transpose");
        SplittableRandom random = new SplittableRandom(transpose ? 261 : 262);
        Tensor k = RandomTensors.uniform(random, 3, 3, 8, 6);
        Tensor s = RandomTensors.uniform(random, 6);
        Tensor t = RandomTensors.uniform(random, 6);
        ConvBackend layerBackend = Backends.select(BackendChoice.parse(backend));
        LayerCommand.Layer layer;
        if (transpose) {
            ConvTranspose built = ConvTranspose.builder(k).bias(bias).scale(s).shift(t)
                    .activation(Activation.parse("relu")).spec(ConvTransposeSpec.builder().strides(2).build())
                    .dtype(dtype).backend(layerBackend).build();
            layer = new LayerCommand.Layer(built::outputShape, built::apply, built::backward);
        } else {
            Conv built = Conv.builder(k).bias(bias).scale(s).shift(t).activation(Activation.parse("relu"))
                    .spec(ConvSpec.builder().strides(2).build()).dtype(dtype).backend(layerBackend).build();
            layer = new LayerCommand.Layer(built::outputShape, built::apply, built::backward);
        }
        int[] outputShape = layer.outputShape().apply(x.shape());
        Tensor r = RandomTensors.uniform(random, outputShape);
        Tensor ct = RandomTensors.uniform(random, outputShape);

        List<String> args = new ArrayList<>(List.of(command, "--input", operand("x", x, dtype), "--kernel",
                operand("k", k, dtype), "--bias", operand("b", bias, dtype), "--scale", operand("s", s, DType.FLOAT32),
                "--shift", operand("t", t, DType.FLOAT32), "--residual", operand("r", r, dtype), "--activation",
                "relu", "--strides", "2", "--dtype", dtypeName, "--backend", backend, "--output", output.toString()));
        if (gradients) {
            args.addAll(List.of("--cotangent", operand("ct", ct, dtype)));
            for (String name : List.of("input", "kernel", "bias", "scale", "shift", "residual")) {
                args.addAll(List.of("--grad-" + name, dir.resolve("d" + name + ".npy").toString()));
            }
        }
        CliRun.of(args).assertSuccess();

        // The layer rounds its float32 operands to the type: float16 files hold those values already.
        Tensor xs = asRead(x, dtype);
        Tensor rs = asRead(r, dtype);
        assertStored(dtype, output, layer.forward().apply(xs, rs), "Y");
        if (gradients) {
            ConvGradients expected = layer.backward().apply(xs, rs, asRead(ct, dtype));
            assertStored(dtype, dir.resolve("dinput.npy"), expected.dx(), "dX");
            assertStored(dtype, dir.resolve("dkernel.npy"), expected.dkernel(), "dK");
            assertStored(dtype, dir.resolve("dresidual.npy"), expected.dresidual(), "dR");
            assertStored(DType.FLOAT32, dir.resolve("dbias.npy"), expected.dbias(), "dB");
            assertStored(DType.FLOAT32, dir.resolve("dscale.npy"), expected.dscale(), "dS");
            assertStored(DType.FLOAT32, dir.resolve("dshift.npy"), expected.dshift(), "dT");
        }
    }

    /** Writes {@code tensor} as a float16 file for {@link DType#FLOAT16}, else as float32; returns its path. */
    private String operand(String name, Tensor tensor, DType dtype) throws IOException {
        Path path = dir.resolve(name + "-operand.npy");
        if (dtype == DType.FLOAT16) {
            Npy.writeFloat16(path, Float16Array.rounded(tensor));
        } else {
            Npy.write(path, tensor);
        }
        return path.toString();
    }

    /** {@code tensor} as the CLI reads it from {@link #operand}'s file. */
    private static Tensor asRead(Tensor tensor, DType dtype) {
        return dtype == DType.FLOAT16 ? HalfBound.rounded(tensor, dtype) : tensor;
    }

    /** The file holds {@code expected}'s values bit for bit, as float16 for {@link DType#FLOAT16}, else float32. */
    private static void assertStored(DType dtype, Path file, Tensor expected, String what) throws IOException {
        Tensor got = readStored(dtype, file);
        assertArrayEquals(expected.shape(), got.shape(), what + "'s shape");
        assertArrayEquals(expected.data(), got.data(), what + ": the layer's values, bit for bit");
    }

    /**
     * {@code --layout channels-first} in 16 bits does what the layer does: its values where the layer computes it,
     * else its refusal's message with exit 2 and no output.
     */
    @ParameterizedTest(name = "--backend {0}")
    @ValueSource(strings = {"cpu", "opencl"})
    void channelsFirstRunsOrIsRefusedAsTheLayerIs(String backend) throws IOException {
        if (backend.equals("opencl")) {
            OpenClTesting.device();
        }
        Tensor nchw = Tensor.of(x.data(), 2, 8, 9, 7);
        Tensor oihw = Tensor.of(kernel.data(), 6, 8, 3, 3);
        Tensor expected;
        try {
            Conv conv = Conv.builder(oihw).bias(bias).layout(Layout.CHANNELS_FIRST).dtype(DType.BFLOAT16)
                    .backend(Backends.select(BackendChoice.parse(backend))).build();
            expected = conv.apply(nchw);
        } catch (IllegalArgumentException refusal) {
            expected = null;
            String line = CliRun.of(channelsFirstArgs(nchw, oihw, backend)).assertFailure(Main.EXIT_INVALID, output);
            assertEquals("convcl: " + refusal.getMessage(), line, "the layer's own refusal");
        }
        if (expected != null) {
            CliRun.of(channelsFirstArgs(nchw, oihw, backend)).assertSuccess();
            assertStored(DType.BFLOAT16, output, expected, "Y");
        }
    }

    private List<String> channelsFirstArgs(Tensor nchw, Tensor oihw, String backend) throws IOException {
        return List.of("conv", "--layout", "channels-first", "--input", operand("x", nchw, DType.BFLOAT16),
                "--kernel", operand("k", oihw, DType.BFLOAT16), "--bias", operand("b", bias, DType.BFLOAT16),
                "--dtype", "bfloat16", "--backend", backend, "--output", output.toString());
    }

    /**
     * {@code pool --dtype} with its gradient against float64 ({@link NaivePool}) on the rounded input and
     * cotangent: max an input value exactly, avg and the gradients within {@link HalfBound}'s bound (K the
     * window's size plus the division), each file in the type.
     */
    @ParameterizedTest(name = "--op {0} --dtype {1} --backend {2}")
    @CsvSource({"max, float16, cpu", "avg, bfloat16, cpu", "max, bfloat16, opencl", "avg, float16, opencl"})
    void poolAndItsGradientWithinTheBound(String op, String dtypeName, String backend) throws IOException {
        if (backend.equals("opencl")) {
            OpenClTesting.device();
        }
        DType dtype = DType.parse(dtypeName);
        PoolOp poolOp = PoolOp.valueOf(op.toUpperCase(Locale.ROOT));
        int[] shape = {2, 5, 6, 3};
        NaivePool naive = new NaivePool(poolOp, shape, new int[] {3, 3}, new int[] {1, 2}, Padding.SAME, true);
        SplittableRandom random = new SplittableRandom(27);
        Tensor xs = HalfBound.rounded(RandomTensors.uniform(random, shape), dtype);
        Tensor dy = HalfBound.rounded(RandomTensors.uniform(random, naive.outputShape()), dtype);
        Path dx = dir.resolve("dx.npy");
        CliRun.of("pool", "--op", op, "--input", operand("x", xs, dtype), "--window", "3,3", "--strides", "1,2",
                "--padding", "SAME", "--dtype", dtypeName, "--backend", backend, "--output", output.toString(),
                "--cotangent", operand("ct", dy, dtype), "--grad-input", dx.toString()).assertSuccess();

        double[] xd = Tolerance.toDouble(xs.data());
        double[] dyd = Tolerance.toDouble(dy.data());
        Tensor y = readStored(dtype, output);
        String what = "pool --op " + op;
        if (poolOp == PoolOp.MAX) {
            assertArrayEquals(Tolerance.toDouble(y.data()), naive.forward(xd), what + ": an input value, exactly");
        } else {
            HalfBound.assertWithin(what, dtype, 10, false, naive.forward(xd), naive.forward(abs(xd)), y.data());
        }
        HalfBound.assertWithin(what + " gradient", dtype, 10, false, naive.gradient(xd, dyd),
                naive.gradient(xd, abs(dyd)), readStored(dtype, dx).data());
    }

    /** A file of a run in {@code dtype}, checked to be float16 for {@link DType#FLOAT16} and float32 otherwise. */
    private static Tensor readStored(DType dtype, Path file) throws IOException {
        String header = new String(Files.readAllBytes(file), 0, 64, StandardCharsets.ISO_8859_1);
        String descr = dtype == DType.FLOAT16 ? "<f2" : "<f4";
        assertTrue(header.contains("'descr': '" + descr + "'"), file + " is written as " + descr + ": " + header);
        return dtype == DType.FLOAT16 ? Npy.readFloat16(file).toTensor() : Npy.read(file);
    }

    private static double[] abs(double[] values) {
        double[] magnitudes = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            magnitudes[i] = Math.abs(values[i]);
        }
        return magnitudes;
    }

    @Test
    void whatA16BitRunDoesNotTakeIsRefusedBeforeAnyWork() throws IOException {
        List<Path> float16 = write(true);
        assertRefused(conv(float16, "--dtype", "float16", "--precision", "tf32"), "--precision tf32 given with "
                + "--dtype float16: TF32 rounds float32 operands; 16-bit operands are multiplied in float32 "
                + "already, so --precision must be highest");
        assertRefused(CliRun.of("tune", "--dtype", "bfloat16", "--precision", "tf32"), "--precision tf32 given "
                + "with --dtype bfloat16: TF32 rounds float32 operands; 16-bit operands are multiplied in float32 "
                + "already, so --precision must be highest");
        assertRefused(conv(float16, "--dtype", "half"),
                "--dtype: got 'half'; expected one of float32, float16, bfloat16");
        assertRefused(CliRun.of("pool", "--op", "max", "--window", "2", "--input", float16.get(0).toString(),
                "--dtype", "double", "--output", output.toString()),
                "--dtype: got 'double'; expected one of float32, float16, bfloat16");
        // The epilogue's scale stays float32 in a 16-bit layer: a float16 file for it is refused.
        Path scale = dir.resolve("s16.npy");
        Npy.writeFloat16(scale, Float16Array.rounded(bias));
        assertRefused(conv(float16, "--dtype", "float16", "--scale", scale.toString()), "--scale " + scale
                + ": dtype '<f2' is not supported; --scale is float32 in every --dtype (a 16-bit layer keeps its "
                + "epilogue's scale and shift in float32): give a float32 or float64 .npy file ('<f4', '>f4', "
                + "'<f8', '>f8')");
    }

    private void assertRefused(CliRun run, String message) {
        assertEquals("convcl: " + message, run.assertFailure(Main.EXIT_INVALID, output));
    }
}
