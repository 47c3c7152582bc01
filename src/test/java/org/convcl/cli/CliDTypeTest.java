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
import java.util.SplittableRandom;
import org.convcl.ConvSpec;
import org.convcl.DType;
import org.convcl.Tensor;
import org.convcl.io.Float16Array;
import org.convcl.io.Npy;
import org.convcl.testing.HalfBound;
import org.convcl.testing.NaiveConv;
import org.convcl.testing.OpenClTesting;
import org.convcl.testing.RandomTensors;
import org.convcl.testing.Reference;
import org.convcl.testing.Tolerance;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code conv --dtype float16|bfloat16} (issue 26): a run on an OpenCL device and one on the Java path against float64
 * on the operands rounded to the type ({@link HalfBound}), the output's {@code .npy} dtype, and each refusal: exit 2, one line
 * naming the option, the value and the rule, and no output.
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

    @Test
    void whatThe16BitPathDoesNotTakeYetIsRefusedBeforeAnyWork() throws IOException {
        List<Path> float16 = write(true);
        Path ct = dir.resolve("ct.npy");
        Path dx = dir.resolve("dx.npy");
        Path dk = dir.resolve("dk.npy");
        assertRefused(conv(float16, "--dtype", "float16", "--cotangent", ct.toString(), "--grad-input",
                dx.toString(), "--grad-kernel", dk.toString()), "--cotangent given with --dtype float16: the "
                + "backward pass computes float32 only for now; give --dtype float32 for gradients");
        CliRun.assertNoneWritten(dx, dk);
        assertRefused(conv(write(false), "--dtype", "bfloat16", "--activation", "relu"), "--activation relu given "
                + "with --dtype bfloat16: the epilogue (--scale, --shift, --residual, --activation) takes float32 "
                + "only for now; give --dtype float32");
        Path scale = dir.resolve("s.npy");
        assertRefused(conv(float16, "--dtype", "float16", "--scale", scale.toString()), "--scale " + scale
                + " given with --dtype float16: the epilogue (--scale, --shift, --residual, --activation) takes "
                + "float32 only for now; give --dtype float32");
        assertRefused(conv(float16, "--dtype", "float16", "--precision", "tf32"), "--precision tf32 given with "
                + "--dtype float16: TF32 rounds float32 operands; 16-bit operands are multiplied in float32 "
                + "already, so --precision must be highest");
        assertRefused(conv(float16, "--dtype", "float16", "--layout", "channels-first"), "--layout channels-first "
                + "given with --dtype float16: 16-bit runs take channels-last only for now; give --layout "
                + "channels-last or --dtype float32");
        assertRefused(conv(float16, "--dtype", "half"),
                "--dtype: got 'half'; expected one of float32, float16, bfloat16");
        assertRefused(CliRun.of("conv-transpose", "--input", float16.get(0).toString(), "--kernel",
                float16.get(1).toString(), "--dtype", "float16", "--output", output.toString()),
                "--dtype float16: conv-transpose computes float32 only for now; of the layer commands only conv "
                        + "runs in float16 and bfloat16");
    }

    private void assertRefused(CliRun run, String message) {
        assertEquals("convcl: " + message, run.assertFailure(Main.EXIT_INVALID, output));
    }
}
