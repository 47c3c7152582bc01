package org.convcl.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.convcl.Tensor;
import org.convcl.testing.NpyBytes;
import org.convcl.testing.RandomTensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** .npy round trips, every dtype and version the reader accepts, and hostile files refused cleanly. */
class NpyTest {

    @TempDir
    Path dir;

    static Stream<int[]> shapes() {
        return Stream.of(new int[] {}, new int[] {0}, new int[] {1}, new int[] {7}, new int[] {2, 3},
                new int[] {2, 0, 3}, new int[] {1, 1, 1, 1, 1}, new int[] {3, 4, 5, 2});
    }

    @ParameterizedTest
    @MethodSource("shapes")
    void roundTripKeepsShapeAndEveryBit(int[] shape) throws Exception {
        Tensor tensor = RandomTensors.uniform(new SplittableRandom(shape.length), shape);
        float[] special = {Float.NaN, -0f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MIN_VALUE,
            Float.MAX_VALUE};
        for (int i = 0; i < Math.min(special.length, tensor.size()); i++) {
            tensor.data()[i] = special[i];
        }
        Path file = dir.resolve("t.npy");
        Npy.write(file, tensor);
        Tensor back = Npy.read(file);
        assertArrayEquals(shape, back.shape());
        assertEquals(tensor.size(), back.size());
        for (int i = 0; i < tensor.size(); i++) {
            assertEquals(Float.floatToRawIntBits(tensor.data()[i]), Float.floatToRawIntBits(back.data()[i]),
                    "element " + i);
        }
        ByteArrayOutputStream stream = new ByteArrayOutputStream();
        Npy.write(stream, tensor);
        assertArrayEquals(Files.readAllBytes(file), stream.toByteArray(), "file and stream writers agree");
        assertArrayEquals(shape, Npy.read(new ByteArrayInputStream(stream.toByteArray())).shape());
    }

    @Test
    void writesWhatNumpyWrites() throws Exception {
        Path file = dir.resolve("t.npy");
        Npy.write(file, Tensor.of(new float[] {1.5f, -2f, 3f}, 3));
        byte[] bytes = Files.readAllBytes(file);
        String header = new String(bytes, 10, bytes.length - 10 - 12, StandardCharsets.ISO_8859_1);
        assertEquals("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", header.strip());
        assertEquals(1, bytes[6], "format version 1");
        assertEquals(0, (bytes.length - 12) % 64, "data aligned to 64 bytes");
        byte[] expectedData = NpyBytes.floats(ByteOrder.LITTLE_ENDIAN, 1.5f, -2f, 3f);
        assertArrayEquals(expectedData, Arrays.copyOfRange(bytes, bytes.length - 12, bytes.length));
    }

    @Test
    void writeReplacesAnExistingFileAndLeavesNoTemporary() throws Exception {
        Path file = dir.resolve("t.npy");
        Files.writeString(file, "old");
        Npy.write(file, Tensor.zeros(2));
        assertArrayEquals(new int[] {2}, Npy.read(file).shape());
        try (Stream<Path> files = Files.list(dir)) {
            assertEquals(1, files.count(), "only the output remains");
        }
    }

    static Stream<Arguments> acceptedEncodings() {
        double[] values = {1.25, -3.5e-3, 1e10, -0.0, 7};
        float[] asFloats = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            asFloats[i] = (float) values[i];
        }
        return Stream.of(
                Arguments.of("<f4 v1", NpyBytes.file(1, NpyBytes.dict("<f4", "(5,)"),
                        NpyBytes.floats(ByteOrder.LITTLE_ENDIAN, asFloats))),
                Arguments.of(">f4 v1", NpyBytes.file(1, NpyBytes.dict(">f4", "(5,)"),
                        NpyBytes.floats(ByteOrder.BIG_ENDIAN, asFloats))),
                Arguments.of("<f8 v1", NpyBytes.file(1, NpyBytes.dict("<f8", "(5,)"),
                        NpyBytes.doubles(ByteOrder.LITTLE_ENDIAN, values))),
                Arguments.of(">f8 v1", NpyBytes.file(1, NpyBytes.dict(">f8", "(5,)"),
                        NpyBytes.doubles(ByteOrder.BIG_ENDIAN, values))),
                Arguments.of("<f4 v2", NpyBytes.file(2, NpyBytes.dict("<f4", "(5,)"),
                        NpyBytes.floats(ByteOrder.LITTLE_ENDIAN, asFloats))),
                Arguments.of(">f8 v3", NpyBytes.file(3, NpyBytes.dict(">f8", "(5,)"),
                        NpyBytes.doubles(ByteOrder.BIG_ENDIAN, values))),
                Arguments.of("keys in another order", NpyBytes.file(1,
                        "{'shape': (5,), 'fortran_order': False, 'descr': '<f4'}",
                        NpyBytes.floats(ByteOrder.LITTLE_ENDIAN, asFloats))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("acceptedEncodings")
    void readsFloat32AndFloat64InEitherByteOrderAndEveryVersion(String what, byte[] content) throws Exception {
        Path file = dir.resolve("t.npy");
        Files.write(file, content);
        Tensor tensor = Npy.read(file);
        assertArrayEquals(new int[] {5}, tensor.shape());
        assertArrayEquals(new float[] {1.25f, (float) -3.5e-3, 1e10f, -0f, 7f}, tensor.data(), what);
    }

    @Test
    void readsDataSpanningManyChunks() throws Exception {
        int count = Npy.DATA_CHUNK_BYTES / 8 * 3 + 17;
        double[] values = new double[count];
        for (int i = 0; i < count; i++) {
            values[i] = i * 0.5;
        }
        Path file = dir.resolve("big.npy");
        Files.write(file, NpyBytes.file(1, NpyBytes.dict(">f8", "(" + count + ",)"),
                NpyBytes.doubles(ByteOrder.BIG_ENDIAN, values)));
        float[] read = Npy.read(file).data();
        for (int i = 0; i < count; i++) {
            assertEquals((float) values[i], read[i], "element " + i);
        }
    }

    static Stream<Arguments> hostileFiles() {
        byte[] fourFloats = new byte[16];
        byte[] good = NpyBytes.file(1, NpyBytes.dict("<f4", "(4,)"), fourFloats);
        byte[] header = (NpyBytes.dict("<f4", "(4,)") + "\n").getBytes(StandardCharsets.ISO_8859_1);
        return Stream.of(
                Arguments.of("empty file", new byte[0], "truncated"),
                Arguments.of("truncated preamble", Arrays.copyOf(good, 7), "truncated"),
                Arguments.of("wrong magic", "PK\u0003\u0004 a zip file, not numpy".getBytes(StandardCharsets.ISO_8859_1),
                        "magic"),
                Arguments.of("truncated header", Arrays.copyOf(good, 30), "header length"),
                Arguments.of("truncated data", Arrays.copyOf(good, good.length - 1), "data bytes"),
                Arguments.of("extra data", Arrays.copyOf(good, good.length + 4), "data bytes"),
                Arguments.of("header length beyond the file", NpyBytes.withHeaderLength(1, 60000, header, fourFloats),
                        "header length"),
                Arguments.of("header length beyond any limit", NpyBytes.withHeaderLength(2, Integer.MAX_VALUE, header,
                        fourFloats), "header length"),
                Arguments.of("negative header length (v2)", NpyBytes.withHeaderLength(2, -5, header, fourFloats),
                        "header length"),
                Arguments.of("version 4", NpyBytes.file(4, NpyBytes.dict("<f4", "(4,)"), fourFloats), "version"),
                Arguments.of("Fortran order", NpyBytes.file(1, NpyBytes.dict("<f4", true, "(2, 2)"), fourFloats),
                        "Fortran"),
                Arguments.of("int32", NpyBytes.file(1, NpyBytes.dict("<i4", "(4,)"), fourFloats), "<i4"),
                Arguments.of("float16", NpyBytes.file(1, NpyBytes.dict("<f2", "(8,)"), fourFloats), "<f2"),
                Arguments.of("complex64", NpyBytes.file(1, NpyBytes.dict("<c8", "(2,)"), fourFloats), "<c8"),
                Arguments.of("structured", NpyBytes.file(1, "{'descr': [('a', '<f4')], 'fortran_order': False, "
                        + "'shape': (4,), }", fourFloats), "descr"),
                Arguments.of("absurd dim", NpyBytes.file(1, NpyBytes.dict("<f4", "(99999999999,)"), fourFloats),
                        "99999999999"),
                Arguments.of("dims multiplying past an array", NpyBytes.file(1, NpyBytes.dict("<f4",
                        "(2147483647, 2147483647)"), fourFloats), "2147483647"),
                Arguments.of("dims beyond long", NpyBytes.file(1, NpyBytes.dict("<f8",
                        "(2147483647, 2147483647, 2147483647, 2147483647)"), fourFloats), "2147483647"),
                Arguments.of("large shape, small file", NpyBytes.file(1, NpyBytes.dict("<f8", "(2000000000,)"),
                        fourFloats), "data bytes"),
                Arguments.of("negative dim", NpyBytes.file(1, NpyBytes.dict("<f4", "(-4,)"), fourFloats), "-4"),
                Arguments.of("non-numeric dim", NpyBytes.file(1, NpyBytes.dict("<f4", "(four,)"), fourFloats),
                        "four"),
                Arguments.of("not a dict", NpyBytes.file(1, "[1, 2, 3]", fourFloats), "dict"),
                Arguments.of("missing shape", NpyBytes.file(1, "{'descr': '<f4', 'fortran_order': False}",
                        fourFloats), "shape"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("hostileFiles")
    void hostileFilesAreRefusedWithAClearMessage(String what, byte[] content, String mentioned) throws Exception {
        Path file = dir.resolve("hostile.npy");
        Files.write(file, content);
        NpyFormatException refusal = assertThrows(NpyFormatException.class, () -> Npy.read(file), what);
        assertTrue(refusal.getMessage().startsWith(file.toString()), "names the file: " + refusal.getMessage());
        assertTrue(refusal.getMessage().contains(mentioned), "'" + mentioned + "' in: " + refusal.getMessage());
    }

    @Test
    void headerTextQuotedInAMessageCannotBreakTheLineOrDriveATerminal() throws Exception {
        Path file = dir.resolve("hostile.npy");
        Files.write(file, NpyBytes.file(1, NpyBytes.dict("<f4\u001b[2J\n\u0085", "(4,)"), new byte[16]));
        NpyFormatException refusal = assertThrows(NpyFormatException.class, () -> Npy.read(file));
        assertTrue(refusal.getMessage().contains("'<f4\\u001b[2J\\u000a\\u0085'"), refusal.getMessage());
        assertTrue(refusal.getMessage().chars().noneMatch(Character::isISOControl), refusal.getMessage());
    }
}
