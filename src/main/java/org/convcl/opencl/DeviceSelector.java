package org.convcl.opencl;

import org.convcl.opencl.device.OpenClDevice;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Picks an OpenCL device from discovery's list. "Best" prefers a GPU, then an accelerator, then a CPU, then
 * more compute units times clock, then more global memory, then the lower index (so ties are stable).
 * A device request (the {@code convcl.device} / {@code CONVCL_DEVICE} setting) is either an index into
 * the list or a case-insensitive substring of the device name; among several matches the best one wins.
 * Stateless and thread-safe.
 */
public final class DeviceSelector {
    private static final Comparator<OpenClDevice> PREFERENCE = Comparator
            .comparingInt((OpenClDevice d) -> typeRank(d.type()))
            .thenComparingLong(d -> (long) d.computeUnits() * Math.max(1, d.maxClockMhz()))
            .thenComparingLong(OpenClDevice::globalMemoryBytes)
            .reversed()
            .thenComparingInt(OpenClDevice::index);

    private DeviceSelector() {
    }

    /** The outcome of a selection: the device, or why there is none. */
    public record Choice(Optional<OpenClDevice> device, String reason) {
    }

    /**
     * Picks a device.
     *
     * @param devices            every discovered device
     * @param request            a device index or name substring, or empty for "the best"
     * @param gpuOrAcceleratorOnly true for {@code auto} without a request: CPU devices do not count then
     *                           (a named device is honoured whatever its type)
     */
    public static Choice choose(List<OpenClDevice> devices, Optional<String> request, boolean gpuOrAcceleratorOnly) {
        if (devices.isEmpty()) {
            return new Choice(Optional.empty(), "no OpenCL device was found");
        }
        if (request.isPresent()) {
            String wanted = request.get().trim();
            List<OpenClDevice> matches = matching(devices, wanted);
            if (matches.isEmpty()) {
                String rule = wanted.matches("\\d+") ? "an index from 0 to " + (devices.size() - 1)
                        : "a device index or a case-insensitive substring of a device name";
                return new Choice(Optional.empty(), "device '" + wanted + "' matches no OpenCL device; expected " + rule
                        + " (devices: " + list(devices) + ")");
            }
            OpenClDevice picked = matches.stream().sorted(PREFERENCE).findFirst().orElseThrow();
            return new Choice(Optional.of(picked), "device " + picked.describe() + " as requested by '" + wanted + "'");
        }
        List<OpenClDevice> eligible = gpuOrAcceleratorOnly
                ? devices.stream().filter(OpenClDevice::isGpuOrAccelerator).toList() : devices;
        if (eligible.isEmpty()) {
            return new Choice(Optional.empty(), "no GPU or accelerator OpenCL device (found only " + list(devices) + ")");
        }
        OpenClDevice picked = eligible.stream().sorted(PREFERENCE).findFirst().orElseThrow();
        return new Choice(Optional.of(picked), "best OpenCL device " + picked.describe());
    }

    /** Devices that {@code request} names: by index when it is a number, else by name substring. */
    public static List<OpenClDevice> matching(List<OpenClDevice> devices, String request) {
        if (devices == null) {
            throw new IllegalArgumentException("devices: got null; expected a list of OpenCL devices "
                    + "(DeviceDiscovery.discover)");
        }
        String wanted = request.trim();
        if (wanted.matches("\\d+")) {
            int index;
            try {
                index = Integer.parseInt(wanted);
            } catch (NumberFormatException e) {
                return List.of();
            }
            return devices.stream().filter(d -> d.index() == index).toList();
        }
        String needle = wanted.toLowerCase(Locale.ROOT);
        return devices.stream().filter(d -> d.name().toLowerCase(Locale.ROOT).contains(needle)).toList();
    }

    private static int typeRank(OpenClDevice.Type type) {
        return switch (type) {
            case GPU -> 3;
            case ACCELERATOR -> 2;
            case CPU -> 1;
            case OTHER -> 0;
        };
    }

    private static String list(List<OpenClDevice> devices) {
        return devices.stream().map(OpenClDevice::describe).collect(Collectors.joining(", "));
    }
}
