package org.convcl.opencl.internal.tuning;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.convcl.ConvGeometry;
import org.convcl.opencl.internal.plan.KernelConfig;

/**
 * Tuning results shipped in the jar, as CLBlast ships its database: a {@link TuningDatabase} file written by
 * {@code convcl tune} on a device and committed as {@code src/main/resources/tuning/<device-name-slug>.json}.
 * It is trusted for a device of the same name whatever its driver version (the user's own database, keyed
 * by driver too, is consulted first). Read once per device name; a missing or unusable file means no entries.
 */
final class PackagedTuning {
    private static final Map<String, List<TuningDatabase.Entry>> LOADED = new ConcurrentHashMap<>();

    private PackagedTuning() {
    }

    /** The shipped choice for {@code g} on a device named {@code deviceName}, if any. */
    static Optional<KernelConfig> lookup(String deviceName, ConvGeometry g) {
        return TuningDatabase.nearest(LOADED.computeIfAbsent(deviceName, PackagedTuning::load), g);
    }

    private static List<TuningDatabase.Entry> load(String deviceName) {
        String resource = "/tuning/" + TuningDatabase.DeviceIdentity.slug(deviceName) + ".json";
        try (InputStream in = PackagedTuning.class.getResourceAsStream(resource)) {
            if (in == null) {
                return List.of();
            }
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            return TuningDatabase.parse(text, "classpath:" + resource, header -> deviceName.equals(header.get("device")));
        } catch (IOException e) {
            return List.of();
        }
    }
}
