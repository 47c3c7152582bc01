package org.convcl.opencl.internal.probe;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Locale;
import java.util.Optional;
import java.util.Properties;
import org.convcl.opencl.internal.runtime.KernelSources;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Probe verdicts on disk, one small file per key in the {@code probes/} folder of the cache directory
 * ({@code convcl.cache.dir} / {@code CONVCL_CACHE_DIR}, else {@code $XDG_CACHE_HOME/convcl}, else
 * {@code ~/.cache/convcl}), so that a variant is probed once per device, driver and kernel source, not once per
 * process. Only lasting verdicts are kept ({@link ProbeResult.Outcome#lasting()}: passed, failed to build, wrong
 * result), never a failed run, which a busy device can cause. The key is everything a verdict depends on
 * ({@link ProvenVariants#key}); the file repeats it, and one whose key differs, or whose outcome is not a lasting
 * one (written by an older convcl), is ignored. Deleting a file makes the next process probe again. Writes go to
 * a temporary file renamed into place; a directory that cannot be written only costs a probe per process (logged at debug).
 */
final class ProbeVerdicts {
    private static final Logger LOG = LoggerFactory.getLogger(ProbeVerdicts.class);

    /** A verdict: how the probe ended, and why it failed (the reason the WARN gave; empty when it passed). */
    record Verdict(ProbeResult.Outcome outcome, String reason) {
        boolean passed() {
            return outcome == ProbeResult.Outcome.PASSED;
        }
    }

    private final Path directory;

    /** Verdicts in {@code directory}, or none remembered on disk when it is null. */
    ProbeVerdicts(Path directory) {
        this.directory = directory;
    }

    /** The file that holds {@code key}'s verdict (named by the device and the key's hash); empty without a directory. */
    Optional<Path> fileFor(String key, String deviceName) {
        if (directory == null) {
            return Optional.empty();
        }
        String slug = deviceName.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("(^-+|-+$)", "");
        slug = slug.isEmpty() ? "device" : slug.substring(0, Math.min(40, slug.length()));
        return Optional.of(directory.resolve(slug + "-" + KernelSources.sha256(key).substring(0, 16) + ".properties"));
    }

    /** The verdict remembered for {@code key}, if a readable file with that key exists. */
    Optional<Verdict> read(String key, String deviceName) {
        Optional<Path> file = fileFor(key, deviceName);
        if (file.isEmpty() || !Files.isRegularFile(file.get())) {
            return Optional.empty();
        }
        Properties properties = new Properties();
        try (Reader reader = Files.newBufferedReader(file.get(), StandardCharsets.UTF_8)) {
            properties.load(reader);
        } catch (IOException | IllegalArgumentException e) {
            LOG.debug("probe verdict {}: ignored, it cannot be read ({})", file.get(), e.toString());
            return Optional.empty();
        }
        Optional<ProbeResult.Outcome> outcome = lastingOutcome(properties.getProperty("outcome"));
        if (!key.equals(properties.getProperty("key")) || outcome.isEmpty()
                || !verdictWord(outcome.get()).equals(properties.getProperty("verdict"))) {
            LOG.debug("probe verdict {}: ignored, it is for another key or has no lasting verdict", file.get());
            return Optional.empty();
        }
        return Optional.of(new Verdict(outcome.get(), properties.getProperty("reason", "")));
    }

    private static Optional<ProbeResult.Outcome> lastingOutcome(String name) {
        for (ProbeResult.Outcome outcome : ProbeResult.Outcome.values()) {
            if (outcome.lasting() && outcome.name().equals(name)) {
                return Optional.of(outcome);
            }
        }
        return Optional.empty();
    }

    /** {@code passed} or {@code failed}: the file's line for a person reading it. */
    private static String verdictWord(ProbeResult.Outcome outcome) {
        return outcome == ProbeResult.Outcome.PASSED ? "passed" : "failed";
    }

    /**
     * Remembers {@code verdict} for {@code key}; returns the file, or empty when it could not be written. Only a
     * lasting verdict may be remembered.
     */
    Optional<Path> write(String key, String deviceName, Verdict verdict) {
        if (!verdict.outcome().lasting()) {
            throw new IllegalArgumentException("verdict: outcome " + verdict.outcome() + " is not remembered on disk; "
                    + "only a lasting one is (PASSED, BUILD_FAILED, WRONG_RESULT)");
        }
        Optional<Path> file = fileFor(key, deviceName);
        if (file.isEmpty()) {
            return Optional.empty();
        }
        Properties properties = new Properties();
        properties.setProperty("key", key);
        properties.setProperty("verdict", verdictWord(verdict.outcome()));
        properties.setProperty("outcome", verdict.outcome().name());
        properties.setProperty("reason", verdict.reason());
        Path temporary = null;
        try {
            Files.createDirectories(directory);
            temporary = Files.createTempFile(directory, ".verdict", ".tmp");
            try (Writer writer = Files.newBufferedWriter(temporary, StandardCharsets.UTF_8)) {
                properties.store(writer, "convcl: a kernel variant's probe on this device and driver; delete this "
                        + "file to probe it again");
            }
            try {
                Files.move(temporary, file.get(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temporary, file.get(), StandardCopyOption.REPLACE_EXISTING);
            }
            return file;
        } catch (IOException | SecurityException e) {
            LOG.debug("probe verdict {}: not remembered on disk ({}); this process remembers it", file.get(),
                    e.toString());
            if (temporary != null) {
                try {
                    Files.deleteIfExists(temporary);
                } catch (IOException ignored) {
                    // The temporary file stays; the cache directory is not ours to fail over.
                }
            }
            return Optional.empty();
        }
    }
}
