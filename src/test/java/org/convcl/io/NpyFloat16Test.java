package org.convcl.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.convcl.DType;
import org.convcl.HalfFloats;
import org.convcl.Tensor;
import org.convcl.testing.HalfFixtures;
import org.convcl.testing.NpyBytes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Npy#readFloat16} and {@link Npy#writeFloat16}: files NumPy wrote ({@code '<f2'} and {@code '>f2'}, made by
 * {@code scripts/torch-cases/half_fixtures.py}) read as NumPy's own float32 widening says, every binary16 bit
 * pattern through a write and a read, and the refusals of other dtypes on both sides.
 */
class NpyFloat16Test {
    @TempDir
    Path dir;

    @Test
    void readsFilesNumpyWroteInEitherByteOrder() throws IOException {
        Tensor numpyWidened = Npy.read(resource("numpy_float32.npy"));
        for (String name : new String[] {"numpy_float16.npy", "numpy_float16_big_endian.npy"}) {
            Float16Array array = Npy.readFloat16(resource(name));
            assertArrayEquals(numpyWidened.shape(), array.shape(), name);
            float[] widened = array.toTensor().data();
            for (int i = 0; i < widened.length; i++) {
                assertEquals(Float.floatToIntBits(numpyWidened.data()[i]), Float.floatToIntBits(widened[i]),
                        name + " element " + i);
            }
            assertArrayEquals(HalfFloats.encode(DType.FLOAT16, numpyWidened.data()), array.bits(), name);
        }
    }

    @Test
    void everyBitPatternSurvivesAWriteAndARead() throws IOException {
        Path file = dir.resolve("all.npy");
        Npy.writeFloat16(file, Float16Array.of(HalfFixtures.allHalves(), 4, 128, 128));
        Float16Array back = Npy.readFloat16(file);
        assertArrayEquals(new int[] {4, 128, 128}, back.shape());
        assertArrayEquals(HalfFixtures.allHalves(), back.bits());
        // What numpy reads: the header names '<f2' and the data is little-endian binary16.
        byte[] bytes = Files.readAllBytes(file);
        int dataStart = bytes.length - 2 * (1 << 16);
        assertEquals(0, dataStart % 64, "numpy aligns the data to 64 bytes");
        String header = new String(bytes, 10, dataStart - 10, StandardCharsets.ISO_8859_1);
        assertEquals("{'descr': '<f2', 'fortran_order': False, 'shape': (4, 128, 128), }", header.strip());
        ByteBuffer data = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals((short) 0x1234, data.getShort(dataStart + 2 * 0x1234));
    }

    @Test
    void writesScalarsAndEmptyArrays() throws IOException {
        for (int[] shape : new int[][] {{}, {0}, {3, 0}}) {
            short[] bits = shape.length == 0 ? new short[] {(short) 0x3c00} : new short[0];
            Path file = dir.resolve("small.npy");
            Npy.writeFloat16(file, Float16Array.of(bits, shape));
            Float16Array back = Npy.readFloat16(file);
            assertArrayEquals(shape, back.shape());
            assertArrayEquals(bits, back.bits());
        }
    }

    @Test
    void readFloat16RefusesOtherDtypesNamingTheFileAndDtype() throws IOException {
        Path file = dir.resolve("f4.npy");
        Npy.write(file, Tensor.of(new float[] {1f, 2f}, 2));
        NpyFormatException refusal = assertThrows(NpyFormatException.class, () -> Npy.readFloat16(file));
        assertEquals(file + ": dtype '<f4' is not supported; Npy.readFloat16 reads float16 ('<f2', '>f2'); "
                + "Npy.read reads float32 and float64", refusal.getMessage());
    }

    @Test
    void readStillRefusesFloat16() throws IOException {
        Path file = resource("numpy_float16.npy");
        NpyFormatException refusal = assertThrows(NpyFormatException.class, () -> Npy.read(file));
        assertEquals(file + ": dtype '<f2' is not supported; convcl reads float32 and float64 ('<f4', '>f4', "
                + "'<f8', '>f8')", refusal.getMessage());
    }

    @Test
    void refusesTruncatedFloat16Data() throws IOException {
        Path file = dir.resolve("short.npy");
        Files.write(file, NpyBytes.file(1, NpyBytes.dict("<f2", "(4,)"), new byte[7]));
        NpyFormatException refusal = assertThrows(NpyFormatException.class, () -> Npy.readFloat16(file));
        assertEquals(file + ": shape (4,) of <f2 needs 8 data bytes but the file holds 7", refusal.getMessage());
    }

    @Test
    void arraysRefuseBitsThatDoNotFillTheShape() {
        IllegalArgumentException refusal = assertThrows(IllegalArgumentException.class,
                () -> Float16Array.of(new short[5], 2, 3));
        assertEquals("shape: [2, 3] holds 6 elements but the bits have 5; they must be equal", refusal.getMessage());
    }

    @Test
    void roundedTensorsRoundAsHalfFloats() {
        float[] values = HalfFixtures.SWEEP.floats();
        Float16Array rounded = Float16Array.rounded(Tensor.of(values, values.length));
        assertArrayEquals(HalfFixtures.SWEEP.half(), rounded.bits());
    }

    private Path resource(String name) throws IOException {
        Path file = dir.resolve(name);
        try (InputStream in = NpyFloat16Test.class.getResourceAsStream("/half/" + name)) {
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
        }
        return file;
    }
}
