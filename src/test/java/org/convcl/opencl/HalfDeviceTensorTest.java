package org.convcl.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.util.function.IntUnaryOperator;
import org.convcl.DType;
import org.convcl.HalfFloats;
import org.convcl.Tensor;
import org.convcl.opencl.internal.runtime.BufferPool;
import org.convcl.opencl.internal.runtime.StagingPolicy;
import org.convcl.testing.HalfFixtures;
import org.convcl.testing.OpenClBackendPerClass;
import org.convcl.testing.OpenClTesting;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Device tensors that hold float16 or bfloat16 (issue 26): every one of the 65,536 bit patterns through each
 * upload and download form, as they are and widened to float32, bit for bit against {@link HalfFloats}; the float32
 * sweep of {@link HalfFixtures} uploaded as either type, rounded as {@link HalfFloats} rounds; the device memory
 * each takes; and what a closed or misused tensor does. The operations' refusals are in
 * {@code HalfOperandRefusalsTest}.
 */
class HalfDeviceTensorTest {
    @RegisterExtension
    static final OpenClBackendPerClass OPENCL = new OpenClBackendPerClass();

    /** The forms bits take on the host: an array, a direct native-order buffer, a heap buffer. */
    enum Form {
        ARRAY, DIRECT, HEAP;

        DeviceTensor upload(OpenClBackend backend, short[] bits, DType dtype, int... shape) {
            return switch (this) {
                case ARRAY -> DeviceTensor.upload(backend, bits, dtype, shape);
                case DIRECT -> DeviceTensor.upload(backend, direct(bits.length).put(bits).flip(), dtype, shape);
                case HEAP -> DeviceTensor.upload(backend, ShortBuffer.wrap(bits), dtype, shape);
            };
        }

        short[] download(DeviceTensor tensor) {
            if (this == ARRAY) {
                return tensor.downloadBits();
            }
            ShortBuffer target = this == DIRECT ? direct(tensor.size()) : ShortBuffer.allocate(tensor.size());
            tensor.downloadBits(target);
            assertEquals(0, target.position(), "the target's position stays");
            short[] bits = new short[tensor.size()];
            target.get(bits);
            return bits;
        }
    }

    @ParameterizedTest
    @EnumSource(Form.class)
    void everyBitPatternGoesUpAndComesBackAsItIsAndWidensAsHalfFloatsDoes(Form form) {
        for (DType dtype : new DType[] {DType.FLOAT16, DType.BFLOAT16}) {
            assertEveryPatternRoundTrips(OPENCL.backend(), form, dtype);
        }
    }

    @Test
    void pinnedStagingInPiecesCarriesTheBitsUnchanged() {
        // PoCL copies host arrays directly by default; staging is forced, in pieces of an odd number of shorts.
        System.setProperty(StagingPolicy.PROPERTY, "true");
        System.setProperty("convcl.opencl.pipelineChunkBytes", Integer.toString(2 * 4097));
        try (OpenClBackend staged = OpenClBackend.create(OpenClTesting.device())) {
            assertTrue(staged.tensors().staged(), "staging was forced");
            for (DType dtype : new DType[] {DType.FLOAT16, DType.BFLOAT16}) {
                assertEveryPatternRoundTrips(staged, Form.ARRAY, dtype);
            }
        } finally {
            System.clearProperty(StagingPolicy.PROPERTY);
            System.clearProperty("convcl.opencl.pipelineChunkBytes");
        }
    }

    private static void assertEveryPatternRoundTrips(OpenClBackend backend, Form form, DType dtype) {
        short[] all = HalfFixtures.allHalves();
        int[] shape = {256, 16, 16};
        try (DeviceTensor tensor = form.upload(backend, all, dtype, shape)) {
            assertEquals(dtype, tensor.dtype());
            assertArrayEquals(shape, tensor.shape());
            assertArrayEquals(all, form.download(tensor), dtype + " bits through " + form);
            Tensor widened = tensor.download();
            assertArrayEquals(shape, widened.shape());
            assertBitsEqual(dtype + " widened", all.length, i -> Float.floatToRawIntBits(widened.data()[i]),
                    i -> widenedBits(dtype, all[i]));
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"FLOAT16", "BFLOAT16"})
    void aFloatTensorUploadedOrWrittenAsSixteenBitsRoundsAsHalfFloatsDoes(DType dtype) {
        int[] floatBits = HalfFixtures.SWEEP.floatBits();
        Tensor floats = Tensor.of(HalfFixtures.SWEEP.floats(), floatBits.length);
        IntUnaryOperator rounded = i -> (dtype == DType.FLOAT16 ? HalfFloats.floatBitsToHalf(floatBits[i])
                : HalfFloats.floatBitsToBfloat16(floatBits[i])) & 0xffff;
        try (DeviceTensor tensor = DeviceTensor.upload(OPENCL.backend(), floats, dtype)) {
            short[] bits = tensor.await().downloadBits();
            assertBitsEqual("float32 uploaded as " + dtype, bits.length, i -> bits[i] & 0xffff, rounded);
            // Written again over other contents: the same bits.
            tensor.write(Tensor.zeros(floatBits.length));
            tensor.write(floats);
            short[] written = tensor.downloadBits();
            assertBitsEqual("float32 written into " + dtype, bits.length, i -> written[i] & 0xffff, rounded);
            // Into a direct float buffer: the rounded values widened again.
            FloatBuffer target = ByteBuffer.allocateDirect(4 * floatBits.length).order(ByteOrder.nativeOrder())
                    .asFloatBuffer();
            tensor.download(target);
            assertBitsEqual(dtype + " downloaded into a FloatBuffer", bits.length,
                    i -> Float.floatToRawIntBits(target.get(i)), i -> widenedBits(dtype, written[i]));
        }
        try (DeviceTensor same = DeviceTensor.upload(OPENCL.backend(), floats, DType.FLOAT32)) {
            assertEquals(DType.FLOAT32, same.dtype());
            assertArrayEquals(floats.data(), same.download().data());
        }
    }

    @ParameterizedTest
    @EnumSource(DType.class)
    void aTensorTakesItsSizeTimesTheTypesBytes(DType dtype) {
        int[] shape = {1 << 10, 1 << 10};
        try (DeviceTensor tensor = DeviceTensor.allocate(OPENCL.backend(), dtype, shape)) {
            assertEquals(dtype, tensor.dtype());
            assertEquals((long) tensor.size() * dtype.bytes(), tensor.bytes());
            long sizeClass = BufferPool.sizeClass(tensor.bytes());
            long held = tensor.buffer().bytes();
            // The caching allocator may hand out a free buffer up to a quarter larger than the size class.
            assertTrue(held >= sizeClass && held <= sizeClass + sizeClass / 4, dtype + ": buffer of " + held
                    + " bytes for " + tensor.bytes());
        }
        try (DeviceTensor plain = OPENCL.backend().allocate(3, 2)) {
            assertEquals(DType.FLOAT32, plain.dtype());
            assertEquals(6L * DType.FLOAT32.bytes(), plain.bytes());
        }
    }

    @Test
    void closingGivesTheMemoryBackAndConversionsKeepNone() {
        OpenClBackend backend = OPENCL.backend();
        long before = backend.buffersInUse();
        DeviceTensor tensor = DeviceTensor.upload(backend, Tensor.of(new float[] {1, 2, 3}, 3), DType.BFLOAT16);
        tensor.download();
        assertEquals(before + 1, backend.buffersInUse(), "the float copies of the upload and download went back");
        tensor.close();
        assertEquals(before, backend.buffersInUse());
        assertTrue(tensor.isClosed());
        assertThrows(IllegalStateException.class, tensor::downloadBits);
        assertThrows(IllegalStateException.class, tensor::download);
    }

    @Test
    void misusedBitsAreRefusedByName() {
        OpenClBackend backend = OPENCL.backend();
        short[] three = new short[3];
        assertMessageStarts("dtype: got FLOAT32", () -> DeviceTensor.upload(backend, three, DType.FLOAT32, 3));
        assertMessageStarts("dtype: got null", () -> DeviceTensor.upload(backend, three, null, 3));
        assertMessageStarts("bits: 3 shorts but shape [4]", () -> DeviceTensor.upload(backend, three,
                DType.FLOAT16, 4));
        assertMessageStarts("bits: got null", () -> DeviceTensor.upload(backend, (short[]) null, DType.FLOAT16, 3));
        ShortBuffer bigEndian = ByteBuffer.allocateDirect(6).order(oppositeOrder()).asShortBuffer();
        assertMessageStarts("bits: a direct buffer in " + oppositeOrder(), () -> DeviceTensor.upload(backend,
                bigEndian, DType.FLOAT16, 3));
        try (DeviceTensor floats = backend.allocate(3); DeviceTensor half = DeviceTensor.upload(backend, three,
                DType.FLOAT16, 3)) {
            assertMessageStarts("tensor: " + floats + " holds float32", floats::downloadBits);
            assertMessageStarts("target: 2 shorts remain", () -> half.downloadBits(ShortBuffer.allocate(2)));
            assertMessageStarts("target: a read-only buffer", () -> half.downloadBits(
                    ShortBuffer.allocate(3).asReadOnlyBuffer()));
        }
    }

    private static void assertMessageStarts(String start, Runnable call) {
        String message = assertThrows(IllegalArgumentException.class, call::run).getMessage();
        assertTrue(message.startsWith(start), message);
    }

    private static ByteOrder oppositeOrder() {
        return ByteOrder.nativeOrder() == ByteOrder.BIG_ENDIAN ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN;
    }

    private static int widenedBits(DType dtype, short bits) {
        return dtype == DType.FLOAT16 ? HalfFloats.halfToFloatBits(bits) : HalfFloats.bfloat16ToFloatBits(bits);
    }

    private static ShortBuffer direct(int shorts) {
        return ByteBuffer.allocateDirect(2 * shorts).order(ByteOrder.nativeOrder()).asShortBuffer();
    }

    /** {@code actual(i) == expected(i)} for every i below {@code count}; the first mismatch is named. */
    private static void assertBitsEqual(String what, int count, IntUnaryOperator actual, IntUnaryOperator expected) {
        for (int i = 0; i < count; i++) {
            if (actual.applyAsInt(i) != expected.applyAsInt(i)) {
                assertEquals(Integer.toHexString(expected.applyAsInt(i)), Integer.toHexString(actual.applyAsInt(i)),
                        what + ": element " + i + " of " + count + " differs");
            }
        }
    }
}
