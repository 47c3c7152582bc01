package org.convcl.testing;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Makes hostile {@code .npy} files for the fuzz tests: valid seed files mutated blindly (bit flips, byte
 * overwrites, truncation, appended junk) and with knowledge of the format (a rewritten header dict with odd
 * dtypes, orders, shapes and broken syntax; a lying header-length field; another version byte; a shape edited
 * consistently with the data so that the file parses and the shape itself is the hostile part), plus pure
 * random bytes. Every mutant carries a description so that a failure can be reproduced from its message.
 */
public final class NpyMutator {
    /** One hostile file and how it was made. */
    public record Mutant(String description, byte[] bytes) {
    }

    private static final String[] DESCRS = {"<f4", ">f4", "<f8", ">f8", "=f4", "|f4", "<f2", "<f16", "<i4", "|u1",
        "|b1", "<c8", "O", "|S4", "<U1", "", "f4", "<f4 ", "<F4", "<f0", "<f-4", "<f4294967300", "<f\n4", "<\u0085f4"};
    private static final String[] FORTRAN = {"False", "True", "false", "0", "None", "'False'", ""};
    /** Dim texts: plausible, boundary, negative, huge, and not integers at all. */
    private static final String[] DIMS = {"0", "1", "2", "3", "4", "7", "16", "-1", "-4", "2147483647", "2147483648",
        "4294967296", "9223372036854775807", "99999999999999999999", "1000000000", "01", "1e3", "0x10", "3L", " 3 ",
        "", "None", "+2", "\u00b3", "\u0663", "4\u000b", "2\f"};
    /** Bytes that mean something to the header parser, or to a terminal when echoed in a message. */
    private static final byte[] INTERESTING = {0, (byte) 0xff, 0x7f, (byte) 0x80, (byte) 0x85, '\n', '\r', 0x0b, '\f',
        '\'', '"', '(', ')', ',', ':', '{', '}', ' ', '0', '9', '-', 'T', 'F', 0x1b};

    private NpyMutator() {
    }

    /** Valid files of every kind the reader accepts: the material mutations start from. */
    public static List<byte[]> seeds() {
        List<byte[]> seeds = new ArrayList<>();
        seeds.add(NpyBytes.file(1, NpyBytes.dict("<f4", "(2, 3, 4)"), floats(24)));
        seeds.add(NpyBytes.file(1, NpyBytes.dict(">f4", "(6,)"), floats(6)));
        seeds.add(NpyBytes.file(2, NpyBytes.dict("<f8", "(3, 2)"), new byte[48]));
        seeds.add(NpyBytes.file(3, NpyBytes.dict(">f8", "()"), new byte[8]));
        seeds.add(NpyBytes.file(1, NpyBytes.dict("<f4", "(2, 0, 3)"), new byte[0]));
        seeds.add(NpyBytes.file(1, NpyBytes.dict("<f4", "(1, 5, 5, 1)"), floats(25)));
        return seeds;
    }

    /** A mutant of {@code seed} by a strategy drawn from {@code random}. */
    public static Mutant mutate(SplittableRandom random, byte[] seed) {
        return switch (random.nextInt(10)) {
            case 0 -> flipBits(random, seed);
            case 1 -> overwriteBytes(random, seed);
            case 2 -> truncate(random, seed);
            case 3 -> appendJunk(random, seed);
            case 4, 5 -> rewriteHeader(random, seed);
            case 6 -> lieAboutHeaderLength(random, seed);
            case 7 -> changeVersion(random, seed);
            case 8 -> editShapeConsistently(random);
            default -> randomBytes(random);
        };
    }

    private static Mutant flipBits(SplittableRandom random, byte[] seed) {
        byte[] bytes = seed.clone();
        int flips = 1 + random.nextInt(8);
        StringBuilder where = new StringBuilder();
        for (int i = 0; i < flips; i++) {
            int position = random.nextInt(bytes.length);
            int bit = random.nextInt(8);
            bytes[position] ^= (byte) (1 << bit);
            where.append(i > 0 ? "," : "").append(position).append('.').append(bit);
        }
        return new Mutant("bit flips at " + where, bytes);
    }

    private static Mutant overwriteBytes(SplittableRandom random, byte[] seed) {
        byte[] bytes = seed.clone();
        int count = 1 + random.nextInt(6);
        StringBuilder where = new StringBuilder();
        for (int i = 0; i < count; i++) {
            // Mostly inside the header, where a byte changes what the parser sees.
            int position = random.nextInt(4) == 0 ? random.nextInt(bytes.length) : random.nextInt(Math.min(bytes.length, 80));
            byte value = random.nextBoolean() ? INTERESTING[random.nextInt(INTERESTING.length)] : (byte) random.nextInt(256);
            bytes[position] = value;
            where.append(i > 0 ? "," : "").append(position).append('=').append(value & 0xff);
        }
        return new Mutant("bytes overwritten " + where, bytes);
    }

    private static Mutant truncate(SplittableRandom random, byte[] seed) {
        int length = random.nextInt(seed.length);
        return new Mutant("truncated to " + length + " of " + seed.length + " bytes", Arrays.copyOf(seed, length));
    }

    private static Mutant appendJunk(SplittableRandom random, byte[] seed) {
        int extra = 1 + random.nextInt(64);
        byte[] bytes = Arrays.copyOf(seed, seed.length + extra);
        for (int i = seed.length; i < bytes.length; i++) {
            bytes[i] = (byte) random.nextInt(256);
        }
        return new Mutant(extra + " junk bytes appended", bytes);
    }

    private static Mutant rewriteHeader(SplittableRandom random, byte[] seed) {
        String descr = DESCRS[random.nextInt(DESCRS.length)];
        String fortran = FORTRAN[random.nextInt(FORTRAN.length)];
        String shape = randomShapeText(random);
        String dict = switch (random.nextInt(8)) {
            case 0 -> "{'descr': '" + descr + "', 'fortran_order': " + fortran + ", 'shape': " + shape + "}";
            case 1 -> "{'descr': '" + descr + "', 'fortran_order': " + fortran + ", 'shape': " + shape; // no brace
            case 2 -> "{'descr' '" + descr + "', 'fortran_order': " + fortran + ", 'shape': " + shape + ", }"; // no colon
            case 3 -> "{'descr': '" + descr + ", 'fortran_order': " + fortran + ", 'shape': " + shape + ", }"; // open quote
            case 4 -> "{'shape': " + shape + ", 'shape': (1,), 'descr': '" + descr + "', 'fortran_order': " + fortran
                    + ", 'descr': '<f4'}"; // duplicate keys
            case 5 -> "{'descr': '" + descr + "', 'fortran_order': " + fortran + ", 'shape': " + shape
                    + ", 'extra': {'nested': ('a', 'b)')}, }";
            case 6 -> "{\"descr\": \"" + descr + "\", \"fortran_order\": " + fortran + ", \"shape\": " + shape + "}";
            default -> NpyBytes.dict(descr, "True".equals(fortran), shape);
        };
        int major = 1 + random.nextInt(3);
        byte[] data = Arrays.copyOfRange(seed, dataStart(seed), seed.length);
        if (random.nextBoolean()) {
            data = Arrays.copyOf(data, random.nextInt(data.length + 17));
        }
        return new Mutant("header v" + major + " " + dict + " with " + data.length + " data bytes",
                NpyBytes.file(major, dict, data));
    }

    private static Mutant lieAboutHeaderLength(SplittableRandom random, byte[] seed) {
        int major = seed[6];
        int start = major == 1 ? 10 : 12;
        int real = dataStart(seed) - start;
        long[] lies = {0, 1, real - 1, real + 1, real + 64, 0xffff, 0x10000, 0x7fffffffL, 0xffffffffL, -1, -real};
        long lie = lies[random.nextInt(lies.length)];
        byte[] header = Arrays.copyOfRange(seed, start, start + real);
        byte[] data = Arrays.copyOfRange(seed, start + real, seed.length);
        return new Mutant("v" + major + " header length field " + lie + " (really " + real + ")",
                NpyBytes.withHeaderLength(major, lie, header, data));
    }

    private static Mutant changeVersion(SplittableRandom random, byte[] seed) {
        byte[] bytes = seed.clone();
        int major = new int[] {0, 1, 2, 3, 4, 255}[random.nextInt(6)];
        int minor = random.nextInt(3) == 0 ? random.nextInt(256) : 0;
        bytes[6] = (byte) major;
        bytes[7] = (byte) minor;
        return new Mutant("version byte " + major + "." + minor + " on a v" + seed[6] + " file", bytes);
    }

    /**
     * A header whose shape is hostile but whose data length matches it, so that the file gets past the size
     * check: a zero-size dim next to dims of any size (including the largest an int holds), or many 1s.
     */
    private static Mutant editShapeConsistently(SplittableRandom random) {
        int rank = random.nextInt(9);
        int[] pool = {0, 1, 1, 2, 3, 5, 1_000_000_000, Integer.MAX_VALUE, 65_536};
        long[] dims = new long[rank];
        long count = 1;
        for (int d = 0; d < rank; d++) {
            dims[d] = pool[random.nextInt(pool.length)];
            count = dims[d] != 0 && count > Long.MAX_VALUE / dims[d] ? Long.MAX_VALUE : count * dims[d];
        }
        if (count > 4096 && rank > 0) {
            dims[random.nextInt(rank)] = 0; // keep the data small: the shape is the point
            count = 0;
        }
        String descr = random.nextBoolean() ? "<f4" : ">f8";
        int itemSize = descr.equals("<f4") ? 4 : 8;
        StringBuilder shape = new StringBuilder("(");
        for (int d = 0; d < rank; d++) {
            shape.append(d > 0 ? ", " : "").append(dims[d]);
        }
        shape.append(rank == 1 ? ",)" : ")");
        byte[] data = new byte[(int) (Math.min(count, 4096) * itemSize)];
        random.nextBytes(data);
        return new Mutant("consistent shape " + shape + " " + descr,
                NpyBytes.file(1 + random.nextInt(3), NpyBytes.dict(descr, shape.toString()), data));
    }

    private static Mutant randomBytes(SplittableRandom random) {
        byte[] bytes = new byte[random.nextInt(200)];
        random.nextBytes(bytes);
        boolean magic = random.nextBoolean() && bytes.length >= 8;
        if (magic) {
            // Past the magic string, so that the reader looks further.
            byte[] prefix = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) (1 + random.nextInt(3)), 0};
            System.arraycopy(prefix, 0, bytes, 0, prefix.length);
        }
        return new Mutant(bytes.length + " random bytes" + (magic ? " after the magic string" : ""), bytes);
    }

    private static String randomShapeText(SplittableRandom random) {
        int rank = random.nextInt(6);
        StringBuilder text = new StringBuilder(random.nextInt(10) == 0 ? "[" : "(");
        for (int d = 0; d < rank; d++) {
            text.append(d > 0 ? ", " : "").append(DIMS[random.nextInt(DIMS.length)]);
        }
        if (rank == 1 || random.nextInt(4) == 0) {
            text.append(',');
        }
        return random.nextInt(12) == 0 ? text.toString() : text.append(')').toString();
    }

    /** Where a valid seed's data starts: after the preamble and the header its length field announces. */
    private static int dataStart(byte[] file) {
        ByteBuffer buffer = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        return file[6] == 1 ? 10 + (buffer.getShort(8) & 0xffff) : 12 + buffer.getInt(8);
    }

    private static byte[] floats(int count) {
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = i * 0.25f - 1;
        }
        return NpyBytes.floats(ByteOrder.LITTLE_ENDIAN, values);
    }

    /** A short printable form of a mutant's first bytes, for failure messages. */
    public static String hexHead(byte[] bytes) {
        StringBuilder hex = new StringBuilder();
        for (int i = 0; i < Math.min(bytes.length, 96); i++) {
            hex.append(String.format("%02x", bytes[i] & 0xff));
        }
        return hex + (bytes.length > 96 ? "..." : "") + " (" + bytes.length + " bytes) "
                + new String(bytes, 0, Math.min(bytes.length, 96), StandardCharsets.ISO_8859_1)
                        .replaceAll("[^\\x20-\\x7e]", ".");
    }
}
