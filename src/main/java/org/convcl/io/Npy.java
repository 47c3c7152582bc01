package org.convcl.io;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.convcl.Tensor;

/**
 * Reads and writes NumPy {@code .npy} files (format versions 1, 2 and 3).
 *
 * <p>{@link #read(Path)} accepts C-order float32 and float64 in either byte order and converts to float32;
 * {@link #readFloat16(Path)} accepts float16 in either byte order and keeps its bits. Reading is defensive: the
 * header is bounded, the shape is checked against the file's actual size before anything proportional to it is
 * allocated, and every malformed file, or one of a dtype the method does not read, ends in
 * {@link NpyFormatException} naming the file and what is wrong. Writing produces little-endian float32 or float16,
 * via a temporary file moved into place, so a failed write leaves no partial output.
 *
 * <p>Stateless and thread-safe. Concurrent writes to one path each move a complete file into place, so the
 * path ends up holding one of them whole, never a mixture.
 */
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    /** numpy itself writes headers of a few hundred bytes; anything beyond this is hostile. */
    private static final int MAX_HEADER_BYTES = 1 << 16;
    /** Data is read in chunks of this size (a multiple of every item size). */
    static final int DATA_CHUNK_BYTES = 1 << 20;
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final char LINE_SEPARATOR = 0x2028;
    private static final char PARAGRAPH_SEPARATOR = 0x2029;
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");
    private static final Dtypes WIDE_FLOATS = new Dtypes(Set.of("<f4", ">f4", "<f8", ">f8"),
            "convcl reads float32 and float64 ('<f4', '>f4', '<f8', '>f8')");
    private static final Dtypes FLOAT16 = new Dtypes(Set.of("<f2", ">f2"),
            "Npy.readFloat16 reads float16 ('<f2', '>f2'); Npy.read reads float32 and float64");

    private Npy() {
    }

    /** Reads a float32 or float64 C-order array as a float32 tensor; float16 is refused (see {@link #readFloat16}). */
    public static Tensor read(Path path) throws IOException {
        try (SeekableByteChannel channel = Files.newByteChannel(path, StandardOpenOption.READ)) {
            Header header = readHeader(channel, path, WIDE_FLOATS);
            float[] values = new float[(int) header.elementCount];
            readValues(channel, path, header, values);
            return Tensor.of(values, header.shape);
        }
    }

    /** Reads a float16 C-order array ({@code '<f2'} or {@code '>f2'}) as its binary16 bit patterns. */
    public static Float16Array readFloat16(Path path) throws IOException {
        try (SeekableByteChannel channel = Files.newByteChannel(path, StandardOpenOption.READ)) {
            Header header = readHeader(channel, path, FLOAT16);
            short[] bits = new short[(int) header.elementCount];
            int perChunk = DATA_CHUNK_BYTES / 2;
            for (int first = 0; first < bits.length; first += perChunk) {
                int count = Math.min(perChunk, bits.length - first);
                readFully(channel, path, 2 * count, "the data").order(header.order).asShortBuffer()
                        .get(bits, first, count);
            }
            return Float16Array.of(bits, header.shape);
        }
    }

    /**
     * Reads the preamble and header up to the data, checking that the data's size matches the shape and that the
     * dtype is one of {@code accepted}'s.
     */
    private static Header readHeader(SeekableByteChannel channel, Path path, Dtypes accepted) throws IOException {
        long fileSize = channel.size();
        ByteBuffer prelude = readFully(channel, path, 10, "the 10-byte preamble");
        for (int i = 0; i < MAGIC.length; i++) {
            if (prelude.get(i) != MAGIC[i]) {
                throw new NpyFormatException(path + ": not a .npy file (the magic string \\x93NUMPY is missing)");
            }
        }
        int major = prelude.get(6) & 0xff;
        long headerLength;
        long headerStart;
        if (major == 1) {
            headerLength = prelude.order(ByteOrder.LITTLE_ENDIAN).getShort(8) & 0xffff;
            headerStart = 10;
        } else if (major == 2 || major == 3) {
            ByteBuffer extra = readFully(channel, path, 2, "the header length");
            headerLength = (prelude.order(ByteOrder.LITTLE_ENDIAN).getShort(8) & 0xffffL)
                    | ((extra.order(ByteOrder.LITTLE_ENDIAN).getShort(0) & 0xffffL) << 16);
            headerStart = 12;
        } else {
            throw new NpyFormatException(path + ": .npy format version " + major + " is not supported "
                    + "(versions 1, 2 and 3 are)");
        }
        if (headerLength > MAX_HEADER_BYTES || headerStart + headerLength > fileSize) {
            throw new NpyFormatException(path + ": header length " + headerLength + " is larger than "
                    + (headerLength > MAX_HEADER_BYTES ? "the " + MAX_HEADER_BYTES + "-byte limit"
                    : "the file (" + fileSize + " bytes)"));
        }
        ByteBuffer headerBytes = readFully(channel, path, (int) headerLength, "the header");
        String header = (major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1)
                .decode(headerBytes).toString();
        Header parsed = parseHeader(path, header, accepted);
        long dataStart = headerStart + headerLength;
        long expectedBytes = parsed.elementCount * parsed.itemSize;
        if (fileSize - dataStart != expectedBytes) {
            throw new NpyFormatException(path + ": shape " + parsed.shapeText() + " of " + parsed.descr
                    + " needs " + expectedBytes + " data bytes but the file holds " + (fileSize - dataStart));
        }
        return parsed;
    }

    /** Writes {@code tensor} as little-endian float32, atomically replacing {@code path}. */
    public static void write(Path path, Tensor tensor) throws IOException {
        writeAtomically(path, out -> write(out, tensor));
    }

    /** Writes {@code array} as little-endian float16 ({@code '<f2'}), atomically replacing {@code path}. */
    public static void writeFloat16(Path path, Float16Array array) throws IOException {
        writeAtomically(path, out -> writeFloat16(out, array));
    }

    /** Writes {@code array} as a little-endian float16 {@code .npy} stream (format version 1). */
    public static void writeFloat16(OutputStream out, Float16Array array) throws IOException {
        out.write(encodeHeader(array.shape(), "<f2"));
        short[] bits = array.bits();
        ByteBuffer chunk = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        for (int first = 0; first < bits.length; first += chunk.capacity() / 2) {
            int count = Math.min(chunk.capacity() / 2, bits.length - first);
            chunk.clear();
            chunk.asShortBuffer().put(bits, first, count);
            out.write(chunk.array(), 0, 2 * count);
        }
    }

    /** Has {@code writer} write a temporary file beside {@code path}, then moves it over {@code path}. */
    private static void writeAtomically(Path path, StreamWriter writer) throws IOException {
        Path absolute = path.toAbsolutePath();
        Path directory = absolute.getParent();
        Path temporary = Files.createTempFile(directory, "." + absolute.getFileName(), ".tmp");
        try {
            try (OutputStream out = Files.newOutputStream(temporary)) {
                writer.write(out);
            }
            Files.move(temporary, absolute, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(temporary);
        }
    }

    private interface StreamWriter {
        void write(OutputStream out) throws IOException;
    }

    /** Writes {@code tensor} as a little-endian float32 {@code .npy} stream (format version 1). */
    public static void write(OutputStream out, Tensor tensor) throws IOException {
        out.write(encodeHeader(tensor.shape(), "<f4"));
        float[] values = tensor.data();
        ByteBuffer chunk = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < values.length; i++) {
            if (!chunk.hasRemaining()) {
                out.write(chunk.array(), 0, chunk.position());
                chunk.clear();
            }
            chunk.putFloat(values[i]);
        }
        out.write(chunk.array(), 0, chunk.position());
    }

    /** Reads a whole {@code .npy} stream (for small inputs and tests) by buffering it. */
    public static Tensor read(InputStream in) throws IOException {
        Path temporary = Files.createTempFile("convcl", ".npy");
        try {
            Files.copy(in, temporary, StandardCopyOption.REPLACE_EXISTING);
            return read(temporary);
        } finally {
            Files.deleteIfExists(temporary);
        }
    }

    private static byte[] encodeHeader(int[] shape, String descr) {
        StringBuilder shapeText = new StringBuilder("(");
        for (int size : shape) {
            shapeText.append(size).append(", ");
        }
        if (shape.length > 1) {
            shapeText.setLength(shapeText.length() - 2);
        } else if (shape.length == 1) {
            shapeText.setLength(shapeText.length() - 1);
        }
        shapeText.append(')');
        String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shapeText + ", }";
        // numpy pads the header with spaces so that the data starts at a multiple of 64 bytes.
        int unpadded = 10 + dict.length() + 1;
        int padding = (64 - unpadded % 64) % 64;
        String header = dict + " ".repeat(padding) + "\n";
        byte[] headerBytes = header.getBytes(StandardCharsets.ISO_8859_1);
        ByteBuffer buffer = ByteBuffer.allocate(10 + headerBytes.length).order(ByteOrder.LITTLE_ENDIAN);
        buffer.put(MAGIC).put((byte) 1).put((byte) 0).putShort((short) headerBytes.length).put(headerBytes);
        return buffer.array();
    }

    private static Header parseHeader(Path path, String header, Dtypes accepted) {
        String trimmed = header.strip();
        if (!trimmed.startsWith("{") || !trimmed.endsWith("}")) {
            throw new NpyFormatException(path + ": header is not a Python dict literal: "
                    + (trimmed.isEmpty() ? "it is empty" : excerpt(trimmed)));
        }
        Matcher descr = DESCR.matcher(trimmed);
        Matcher fortran = FORTRAN.matcher(trimmed);
        Matcher shape = SHAPE.matcher(trimmed);
        if (!descr.find() || !fortran.find() || !shape.find()) {
            throw new NpyFormatException(path + ": header lacks 'descr', 'fortran_order' or 'shape': "
                    + excerpt(trimmed));
        }
        if (fortran.group(1).equals("True")) {
            throw new NpyFormatException(path + ": Fortran-order arrays are not supported; save it in C order "
                    + "(numpy.ascontiguousarray)");
        }
        String dtype = descr.group(1);
        if (!accepted.descrs().contains(dtype)) {
            throw new NpyFormatException(path + ": dtype '" + excerpt(dtype) + "' is not supported; "
                    + accepted.rule(), excerpt(dtype));
        }
        ByteOrder order = dtype.charAt(0) == '>' ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
        int itemSize = dtype.charAt(2) - '0';
        List<Integer> dims = new ArrayList<>();
        String shapeBody = shape.group(1).trim();
        if (!shapeBody.isEmpty()) {
            String[] parts = shapeBody.split(",", -1);
            for (int i = 0; i < parts.length; i++) {
                String part = parts[i].trim();
                if (part.isEmpty() && i == parts.length - 1 && i > 0) {
                    break; // the trailing comma of a Python tuple
                }
                if (!part.matches("\\d{1,10}")) {
                    throw new NpyFormatException(path + ": shape (" + excerpt(shapeBody) + ") has entry '"
                            + excerpt(part) + "'; every dim must be a non-negative integer");
                }
                long size = Long.parseLong(part);
                if (size > Integer.MAX_VALUE) {
                    throw new NpyFormatException(path + ": shape (" + excerpt(shapeBody) + ") has dim " + size
                            + ", larger than " + Integer.MAX_VALUE);
                }
                dims.add((int) size);
            }
        }
        int[] shapeArray = dims.stream().mapToInt(Integer::intValue).toArray();
        long count = 1;
        for (int size : shapeArray) {
            count = Math.multiplyHigh(count, size) != 0 ? Long.MAX_VALUE : count * size;
            if (count > Integer.MAX_VALUE - 8) {
                throw new NpyFormatException(path + ": shape (" + excerpt(shapeBody) + ") holds more elements than a Java "
                        + "array can (" + (Integer.MAX_VALUE - 8) + ")");
            }
        }
        return new Header(dtype, order, itemSize, shapeArray, count);
    }

    /**
     * Reads the data in bounded chunks: one buffer for the whole data would cap files at 2 GiB (a
     * ByteBuffer's limit) and double the memory a large read needs.
     */
    private static void readValues(SeekableByteChannel channel, Path path, Header header, float[] values)
            throws IOException {
        int valuesPerChunk = DATA_CHUNK_BYTES / header.itemSize;
        for (int first = 0; first < values.length; first += valuesPerChunk) {
            int count = Math.min(valuesPerChunk, values.length - first);
            ByteBuffer chunk = readFully(channel, path, count * header.itemSize, "the data").order(header.order);
            if (header.itemSize == 4) {
                chunk.asFloatBuffer().get(values, first, count);
            } else {
                for (int i = 0; i < count; i++) {
                    values[first + i] = (float) chunk.getDouble();
                }
            }
        }
    }

    private static ByteBuffer readFully(SeekableByteChannel channel, Path path, int length, String what)
            throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        while (buffer.hasRemaining()) {
            if (channel.read(buffer) < 0) {
                throw new NpyFormatException(path + ": file ends inside " + what + " (truncated)");
            }
        }
        buffer.flip();
        return buffer;
    }

    /**
     * Header text quoted in a message: at most 120 characters, with control characters (line breaks, NUL,
     * terminal escapes, U+0085, ...) written as <code>&#92;uXXXX</code>, because the CLI prints a message as its one
     * line on stderr and a hostile header must not be able to break that line or drive the terminal.
     */
    static String excerpt(String text) {
        String shown = text.length() <= 120 ? text : text.substring(0, 120) + "...";
        StringBuilder escaped = new StringBuilder(shown.length());
        for (int i = 0; i < shown.length(); i++) {
            char c = shown.charAt(i);
            if (Character.isISOControl(c) || c == LINE_SEPARATOR || c == PARAGRAPH_SEPARATOR) {
                escaped.append(String.format("\\u%04x", (int) c));
            } else {
                escaped.append(c);
            }
        }
        return escaped.toString();
    }

    /** The dtypes ({@code descr}s: byte order, kind, item size) a read method takes, and its rule for a message. */
    private record Dtypes(Set<String> descrs, String rule) {
    }

    private record Header(String descr, ByteOrder order, int itemSize, int[] shape, long elementCount) {
        String shapeText() {
            StringBuilder text = new StringBuilder("(");
            for (int i = 0; i < shape.length; i++) {
                text.append(i > 0 ? ", " : "").append(shape[i]);
            }
            return text.append(shape.length == 1 ? ",)" : ")").toString();
        }
    }
}
