package org.convcl.opencl.internal.runtime;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.convcl.internal.Settings;
import org.convcl.opencl.device.OpenClDevice;
import org.convcl.opencl.internal.driver.CacheDirectories;
import org.convcl.opencl.internal.driver.PoclCache;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Compiled program binaries on disk, one file per key. The key is the full text of everything a binary
 * depends on (device, vendor, driver version, platform, the name and hash of every source file the program
 * is built from, build options); the file name is its SHA-256, and the file repeats the key, so an entry
 * whose recorded key differs from the one asked for (a hash collision, or a file copied from elsewhere) is
 * never used.
 *
 * <p>File layout: {@code "CONVCLPB"}, format version (int), key length (int) and UTF-8 key, binary length
 * (long), SHA-256 of the binary (32 bytes), binary. Anything that does not verify (truncated, corrupted,
 * another key, another format) is deleted and reported as a miss, so the caller rebuilds from source.
 * Writes go to a temporary file that is then renamed into place, so readers never see half a file. A cache
 * directory that cannot be written is never an error: the first failed write logs one WARN naming the directory
 * and the reason (once per directory and process), and programs are then built without the disk cache, each
 * process compiling them again.
 *
 * <p>The directory is {@code convcl.cache.dir} / {@code CONVCL_CACHE_DIR}, else
 * {@code $XDG_CACHE_HOME/convcl}, else {@code ~/.cache/convcl}; binaries live in its {@code programs/}
 * folder. Thread-safe (and safe across processes sharing a directory).
 */
public final class ProgramBinaryCache {
    private static final Logger LOG = LoggerFactory.getLogger(ProgramBinaryCache.class);
    private static final byte[] MAGIC = "CONVCLPB".getBytes(StandardCharsets.US_ASCII);
    private static final int FORMAT_VERSION = 1;
    /** No driver's binary for these kernels comes near this; a larger file is not ours. */
    private static final long MAX_FILE_BYTES = 256L << 20;

    /** The reports already logged in this process: one WARN per directory and reason, not one per context. */
    private static final Set<String> REPORTED = ConcurrentHashMap.newKeySet();

    private final Path directory;
    /** Where the report of an unusable directory goes: one WARN per process, or a test's list. */
    private final Consumer<String> report;
    /** Why writing stopped (the first failure's reason), or null while entries may be written. */
    private volatile String unwritable;

    /** A cache in {@code directory}, or a disabled one when it is null. */
    public ProgramBinaryCache(Path directory) {
        this(directory, ProgramBinaryCache::warnOnce);
    }

    /** A cache in {@code directory} that gives the report of a directory it cannot use to {@code report}. */
    ProgramBinaryCache(Path directory, Consumer<String> report) {
        this.directory = directory;
        this.report = report;
    }

    /**
     * The cache for programs built for {@code device}: the one at the configured (or default) location, or a
     * disabled one where the driver keeps compiled programs across processes itself. That is PoCL with its kernel
     * cache on (its default), for which a binary is also dear: reading one back makes PoCL generate a generic
     * work-group function that convcl's launches, each specialised to its work-group size, do not use (about
     * 1.9 s a program on a 2-core host, more than the program's own build).
     */
    public static ProgramBinaryCache forDevice(OpenClDevice device) {
        if (device.isPocl() && PoclCache.keepsCompiledPrograms(System.getenv())) {
            LOG.debug("{}: PoCL's kernel cache keeps compiled programs; convcl stores no binaries of its own",
                    device.name());
            return new ProgramBinaryCache(null);
        }
        return atDefaultLocation();
    }

    /** The cache at the configured (or default) location. */
    public static ProgramBinaryCache atDefaultLocation() {
        return new ProgramBinaryCache(defaultRoot().map(root -> root.resolve("programs")).orElse(null));
    }

    /** The per-user cache root: the override, else XDG_CACHE_HOME/convcl, else ~/.cache/convcl. */
    public static Optional<Path> defaultRoot() {
        Optional<Path> configured = Settings.CACHE_DIR.value();
        if (configured.isPresent()) {
            return configured;
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        if (xdg != null && !xdg.isBlank() && Path.of(xdg).isAbsolute()) {
            return Optional.of(Path.of(xdg, "convcl"));
        }
        String home = System.getProperty("user.home");
        if (home == null || home.isBlank() || home.equals("?")) {
            return Optional.empty();
        }
        return Optional.of(Path.of(home, ".cache", "convcl"));
    }

    public Optional<Path> directory() {
        return Optional.ofNullable(directory);
    }

    /**
     * Whether {@link #store} writes entries: the cache is enabled and its directory has not failed a write. A caller
     * reads a binary back from the driver (not free: PoCL generates code for it) only while this holds.
     */
    public boolean writes() {
        return directory != null && unwritable == null;
    }

    /** Why entries are no longer written (the directory cannot be), or empty while they are. */
    Optional<String> unwritableReason() {
        return Optional.ofNullable(unwritable);
    }

    /** The file an entry for {@code key} lives in. */
    Path fileFor(String key) {
        if (directory == null) {
            throw new IllegalStateException("the program binary cache is disabled");
        }
        return directory.resolve(KernelSources.sha256(key) + ".bin");
    }

    /** The binary stored for {@code key}, when a verified entry exists. */
    public Optional<byte[]> load(String key) {
        if (directory == null) {
            return Optional.empty();
        }
        Path file = fileFor(key);
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try {
            if (Files.size(file) > MAX_FILE_BYTES) {
                return discard(file, "it is larger than " + MAX_FILE_BYTES + " bytes");
            }
            ByteBuffer in = ByteBuffer.wrap(Files.readAllBytes(file));
            byte[] magic = new byte[MAGIC.length];
            if (in.remaining() < MAGIC.length + 8) {
                return discard(file, "it is truncated");
            }
            in.get(magic);
            if (!Arrays.equals(magic, MAGIC) || in.getInt() != FORMAT_VERSION) {
                return discard(file, "it is not a convcl program cache file of format " + FORMAT_VERSION);
            }
            int keyLength = in.getInt();
            if (keyLength < 0 || keyLength > in.remaining()) {
                return discard(file, "its key length is out of range");
            }
            byte[] storedKey = new byte[keyLength];
            in.get(storedKey);
            if (!Arrays.equals(storedKey, key.getBytes(StandardCharsets.UTF_8))) {
                return discard(file, "it was stored for another key (stale or colliding entry)");
            }
            if (in.remaining() < 8 + 32) {
                return discard(file, "it is truncated");
            }
            long binaryLength = in.getLong();
            byte[] storedHash = new byte[32];
            in.get(storedHash);
            if (binaryLength <= 0 || binaryLength != in.remaining()) {
                return discard(file, "its binary length " + binaryLength + " does not match the " + in.remaining()
                        + " bytes present");
            }
            byte[] binary = new byte[(int) binaryLength];
            in.get(binary);
            if (!MessageDigest.isEqual(storedHash, digest(binary))) {
                return discard(file, "its binary does not match its checksum");
            }
            return Optional.of(binary);
        } catch (IOException | RuntimeException e) {
            return discard(file, "it could not be read (" + e + ")");
        }
    }

    /**
     * Stores {@code binary} for {@code key}. A directory that cannot be made or written stops the writing for good
     * (see the class comment); another failure only loses this entry.
     */
    public void store(String key, byte[] binary) {
        if (!writes() || binary.length == 0) {
            return;
        }
        Optional<String> unusable = CacheDirectories.unusable(directory);
        if (unusable.isPresent()) {
            stopWriting(unusable.get());
            return;
        }
        Path file = fileFor(key);
        Path temporary = null;
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(binary.length + key.length() + 64);
            try (DataOutputStream out = new DataOutputStream(bytes)) {
                byte[] keyBytes = key.getBytes(StandardCharsets.UTF_8);
                out.write(MAGIC);
                out.writeInt(FORMAT_VERSION);
                out.writeInt(keyBytes.length);
                out.write(keyBytes);
                out.writeLong(binary.length);
                out.write(digest(binary));
                out.write(binary);
            }
            temporary = Files.createTempFile(directory, file.getFileName().toString(), ".tmp");
            Files.write(temporary, bytes.toByteArray());
            try {
                Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING);
            }
            temporary = null;
        } catch (IOException | RuntimeException e) {
            LOG.debug("program binary cache: could not write {}: {}", file, e.toString());
        } finally {
            if (temporary != null) {
                try {
                    Files.deleteIfExists(temporary);
                } catch (IOException ignored) {
                    // Best effort: a stray temporary file is harmless.
                }
            }
        }
    }

    private void stopWriting(String reason) {
        unwritable = reason;
        report.accept("OpenCL program cache " + directory + " cannot be used (" + reason + "); kernels are built "
                + "without the disk cache, so every process compiles them again. Set convcl.cache.dir or "
                + "CONVCL_CACHE_DIR to a writable directory");
    }

    private static void warnOnce(String report) {
        if (REPORTED.add(report)) {
            LOG.warn(report);
        }
    }

    /** Deletes an entry that did not verify; the caller rebuilds from source. */
    Optional<byte[]> discard(Path file, String why) {
        LOG.debug("program binary cache: ignoring {} because {}; rebuilding from source", file, why);
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            LOG.debug("program binary cache: could not delete {}: {}", file, e.toString());
        }
        return Optional.empty();
    }

    private static byte[] digest(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
