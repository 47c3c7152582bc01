package org.convcl.opencl.internal.tuning;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import org.convcl.ConvGeometry;
import org.convcl.internal.Json;
import org.convcl.opencl.device.OpenClDevice;
import org.convcl.opencl.internal.runtime.KernelSources;
import org.convcl.opencl.internal.runtime.ProgramBinaryCache;
import org.convcl.opencl.internal.plan.KernelConfig;
import org.convcl.opencl.internal.plan.PlanKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The tuner's results for one device, on disk: which {@link KernelConfig} won for each geometry (batch
 * included), as CLBlast keeps its per-device database. Plans consult it first ({@link DefaultConfigs#choose}).
 *
 * <p>One JSON file per device identity (name, vendor, driver version, platform) in the {@code tuning/}
 * folder of the per-user cache ({@code convcl.cache.dir} / {@code CONVCL_CACHE_DIR}, else
 * {@code $XDG_CACHE_HOME/convcl}, else {@code ~/.cache/convcl}, as the program cache):
 * <pre>
 * {"format": 1, "device": "...", "vendor": "...", "driver": "...", "platform": "...",
 *  "entries": [{"geometry": "in=[56, 56]x64 k=[3, 3] ...", "batch": 32,
 *               "config": {"kernel": "gemm", "tile_m": 128, ...},
 *               "ms": 0.41, "default_ms": 0.52, "candidates": 24, "tuned": "2026-..."}]}
 * </pre>
 * A file that does not parse, is of another format or names another device is ignored (and replaced by the
 * next result recorded); an entry that does not parse or describes an invalid config is skipped. Writes go
 * to a temporary file renamed into place, after merging what another process may have written meanwhile.
 * Thread-safe.
 */
public final class TuningDatabase {
    private static final Logger LOG = LoggerFactory.getLogger(TuningDatabase.class);
    static final int FORMAT = 1;
    private static final Map<Path, TuningDatabase> OPEN = new ConcurrentHashMap<>();
    /** Bumped whenever any database changes, so that memoised choices are made again. */
    private static final AtomicLong GENERATION = new AtomicLong();
    private static final TuningDatabase DISABLED = new TuningDatabase(null, new DeviceIdentity("", "", "", ""));

    private final Path file;
    private final DeviceIdentity device;
    private volatile List<Entry> entries;

    /** What a database is keyed by: a tuned config is only trusted on the same device and driver. */
    public record DeviceIdentity(String name, String vendor, String driver, String platform) {
        public static DeviceIdentity of(OpenClDevice device) {
            return new DeviceIdentity(device.name(), device.vendor(), device.driverVersion(), device.platformName());
        }

        /** A readable, collision-safe file name. */
        String fileName() {
            String hash = KernelSources.sha256(name + "\n" + vendor + "\n" + driver + "\n" + platform).substring(0, 12);
            return slug(name) + "-" + hash + ".json";
        }

        /** The device name in lower case, runs of other characters as one dash (the packaged file's name). */
        static String slug(String name) {
            String slug = name.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("(^-+|-+$)", "");
            if (slug.length() > 48) {
                slug = slug.substring(0, 48);
            }
            return slug.isEmpty() ? "device" : slug;
        }
    }

    /** One tuned geometry: the winner, its median time, the default's, and how many configs were tried. */
    public record Entry(String geometry, int batch, KernelConfig config, double ms, double defaultMs, int candidates,
            String tuned) {
    }

    private TuningDatabase(Path file, DeviceIdentity device) {
        this.file = file;
        this.device = device;
    }

    /** The database of {@code device} at the configured cache location (a disabled one without a cache). */
    public static TuningDatabase forDevice(OpenClDevice device) {
        DeviceIdentity identity = DeviceIdentity.of(device);
        return ProgramBinaryCache.defaultRoot()
                .map(root -> at(root.resolve("tuning").resolve(identity.fileName()), identity))
                .orElse(DISABLED);
    }

    /** The database in {@code file} for {@code device}; one instance per file per process. */
    public static TuningDatabase at(Path file, DeviceIdentity device) {
        Path key = file.toAbsolutePath().normalize();
        TuningDatabase database = OPEN.computeIfAbsent(key, path -> new TuningDatabase(path, device));
        if (!database.device.equals(device)) {
            // Same file, other identity (a test, or a hash collision): never share results.
            return new TuningDatabase(key, device);
        }
        return database;
    }

    /** Forgets every loaded database so that the next use reads the files again (tests). */
    static void forgetLoaded() {
        OPEN.clear();
        GENERATION.incrementAndGet();
    }

    /** A number that changes whenever a database changes (for memoising what plans chose). */
    public static long generation() {
        return GENERATION.get();
    }

    public Optional<Path> file() {
        return Optional.ofNullable(file);
    }

    public DeviceIdentity device() {
        return device;
    }

    /** Every entry, as loaded or recorded. */
    public List<Entry> entries() {
        return loaded();
    }

    /** The tuned config for {@code g}: same geometry, the entry whose batch is nearest in ratio. */
    public Optional<KernelConfig> lookup(ConvGeometry g) {
        return nearest(loaded(), g);
    }

    static Optional<KernelConfig> nearest(List<Entry> entries, ConvGeometry g) {
        String signature = PlanKey.shapeSignature(g);
        double batch = Math.max(1, g.batch());
        return entries.stream().filter(e -> e.geometry().equals(signature))
                .min(Comparator.comparingDouble(e -> Math.abs(Math.log(Math.max(1, e.batch()) / batch))))
                .map(Entry::config);
    }

    /** Records the winner for {@code g} (replacing an entry of the same geometry and batch) and saves. */
    public synchronized void record(ConvGeometry g, KernelConfig config, double ms, double defaultMs,
            int candidates) {
        if (file == null) {
            return;
        }
        Entry entry = new Entry(PlanKey.shapeSignature(g), g.batch(), config, ms, defaultMs, candidates,
                Instant.now().toString());
        // Merge with the file as it is now: another process may have recorded other geometries.
        List<Entry> merged = new ArrayList<>(read(file, device));
        merged.removeIf(e -> e.geometry().equals(entry.geometry()) && e.batch() == entry.batch());
        merged.add(entry);
        write(merged);
        entries = List.copyOf(merged);
        GENERATION.incrementAndGet();
    }

    private List<Entry> loaded() {
        List<Entry> current = entries;
        if (current == null) {
            synchronized (this) {
                current = entries;
                if (current == null) {
                    current = file == null ? List.of() : List.copyOf(read(file, device));
                    entries = current;
                }
            }
        }
        return current;
    }

    /** The valid entries of {@code file} for {@code device}; empty (and logged) when the file is unusable. */
    static List<Entry> read(Path file, DeviceIdentity device) {
        if (!Files.isRegularFile(file)) {
            return List.of();
        }
        try {
            return parse(Files.readString(file), file.toString(), header -> device.name().equals(header.get("device"))
                    && device.driver().equals(header.get("driver")) && device.vendor().equals(header.get("vendor"))
                    && device.platform().equals(header.get("platform")));
        } catch (IOException e) {
            LOG.debug("tuning database {}: ignored, it cannot be read ({})", file, e.toString());
            return List.of();
        }
    }

    /**
     * The valid entries of database text whose header {@code trusted} accepts; empty (and logged) when the text
     * does not parse, is of another format, or is not trusted. Entries that do not parse are skipped.
     */
    static List<Entry> parse(String text, String source, Predicate<Map<String, Object>> trusted) {
        Map<String, Object> json;
        try {
            json = Json.parseObject(text);
        } catch (RuntimeException e) {
            LOG.debug("tuning database {}: ignored, it does not parse ({}); the next result replaces it", source,
                    e.toString());
            return List.of();
        }
        if (!Integer.valueOf(FORMAT).equals(json.get("format")) || !trusted.test(json)) {
            LOG.debug("tuning database {}: ignored, it is of another format or device", source);
            return List.of();
        }
        List<Entry> result = new ArrayList<>();
        if (json.get("entries") instanceof List<?> rows) {
            for (Object row : rows) {
                try {
                    result.add(entry(row));
                } catch (RuntimeException e) {
                    LOG.debug("tuning database {}: skipped an entry that does not parse: {}", source, e.getMessage());
                }
            }
        }
        return result;
    }

    private static Entry entry(Object row) {
        if (!(row instanceof Map<?, ?> map)) {
            throw new IllegalArgumentException("entry is not an object: " + row);
        }
        if (!(map.get("geometry") instanceof String geometry) || !(map.get("batch") instanceof Number batch)) {
            throw new IllegalArgumentException("entry lacks geometry or batch: " + map);
        }
        return new Entry(geometry, batch.intValue(), KernelConfigJson.fromJson(map.get("config")),
                decimal(map.get("ms")), decimal(map.get("default_ms")),
                map.get("candidates") instanceof Number n ? n.intValue() : 0,
                map.get("tuned") instanceof String s ? s : "");
    }

    private static double decimal(Object value) {
        return value instanceof Number number ? number.doubleValue() : Double.NaN;
    }

    private void write(List<Entry> all) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("format", FORMAT);
        json.put("device", device.name());
        json.put("vendor", device.vendor());
        json.put("driver", device.driver());
        json.put("platform", device.platform());
        List<Map<String, Object>> rows = new ArrayList<>();
        for (Entry e : all) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("geometry", e.geometry());
            row.put("batch", e.batch());
            row.put("config", KernelConfigJson.toJson(e.config()));
            row.put("ms", finiteOrNull(e.ms()));
            row.put("default_ms", finiteOrNull(e.defaultMs()));
            row.put("candidates", e.candidates());
            row.put("tuned", e.tuned());
            rows.add(row);
        }
        json.put("entries", rows);
        Path temporary = null;
        try {
            Files.createDirectories(file.getParent());
            temporary = Files.createTempFile(file.getParent(), file.getFileName().toString(), ".tmp");
            Files.writeString(temporary, Json.write(json) + "\n");
            try {
                Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING);
            }
            temporary = null;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("tuning database " + file + " could not be written", e);
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

    private static Double finiteOrNull(double value) {
        return Double.isFinite(value) ? value : null;
    }
}
