package org.convcl.spark;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.spark.resource.ResourceInformation;
import org.convcl.opencl.device.OpenClDevice;
import org.convcl.opencl.PciLocation;

/**
 * Which OpenCL device a Spark task's GPU address names. A pure function of the task's resources and the devices'
 * facts, so that it is tested without GPUs.
 *
 * <p>Spark hands a task the addresses its GPU discovery script printed. The usual script prints {@code nvidia-smi}'s
 * indices ({@code "0"}, {@code "1"}), and {@code nvidia-smi} numbers GPUs in PCI bus order, while NVIDIA's OpenCL
 * lists them in an order of its own (CUDA's "fastest first" by default). So for NVIDIA GPUs, whose driver reports
 * each device's PCI location, address {@code i} is the i-th NVIDIA GPU in PCI bus order, never the i-th in OpenCL's
 * list. An address written as a PCI bus id ({@code 0000:3b:00.0}, {@code 3b:00.0}, as some discovery scripts
 * print) is the GPU at that bus. Devices whose driver reports no PCI location (AMD, Intel, PoCL) are taken in
 * OpenCL's order, the only order there is.
 */
final class GpuDeviceMapping {
    /** Spark's resource name for GPUs ({@code spark.task.resource.gpu.amount}). */
    static final String GPU_RESOURCE = "gpu";

    /** {@code [domain:]bus:device[.function]}, hexadecimal, as nvidia-smi and lspci write PCI bus ids. */
    private static final Pattern PCI_BUS_ID = Pattern.compile(
            "(?:([0-9a-fA-F]{1,8}):)?([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})(?:\\.([0-7]))?");

    private GpuDeviceMapping() {
    }

    /** What the mapping needs to know of one OpenCL device. */
    record Candidate(int index, String description, boolean nvidia, boolean gpu, Optional<PciLocation> pci) {
        static Candidate of(OpenClDevice device) {
            boolean nvidia = device.vendor().toLowerCase(Locale.ROOT).contains("nvidia")
                    || device.platformName().toLowerCase(Locale.ROOT).contains("nvidia");
            return new Candidate(device.index(), device.describe(), nvidia, device.isGpuOrAccelerator(),
                    PciLocation.of(device));
        }

        String describeWithPci() {
            return description + pci.map(p -> " " + p).orElse("");
        }
    }

    /**
     * The device an address names (its {@link Candidate#index()}) and why it is that one, or empty and why there is
     * none.
     */
    record Mapping(Optional<Integer> deviceIndex, String reason) {
        static Mapping found(Candidate device, String why) {
            return new Mapping(Optional.of(device.index()), why + ": " + device.describeWithPci());
        }

        static Mapping none(String why) {
            return new Mapping(Optional.empty(), why);
        }
    }

    /** The addresses of the GPUs in a task's resources ({@code TaskContext.resourcesJMap()}); empty for none. */
    static List<String> gpuAddresses(Map<String, ResourceInformation> resources) {
        ResourceInformation gpus = resources == null ? null : resources.get(GPU_RESOURCE);
        if (gpus == null) {
            return List.of();
        }
        List<String> addresses = new ArrayList<>();
        for (String address : gpus.addresses()) {
            if (address != null && !address.isBlank()) {
                addresses.add(address.trim());
            }
        }
        return List.copyOf(addresses);
    }

    /** The device that Spark's GPU {@code address} names among {@code devices}. */
    static Mapping choose(String address, List<Candidate> devices) {
        String what = "Spark GPU address '" + address + "'";
        if (address.matches("\\d{1,9}")) {
            return byIndex(what, Integer.parseInt(address), devices);
        }
        Matcher pci = PCI_BUS_ID.matcher(address);
        if (pci.matches()) {
            int domain = pci.group(1) == null ? 0 : Integer.parseUnsignedInt(pci.group(1), 16);
            return byBus(what, domain, Integer.parseInt(pci.group(2), 16), devices);
        }
        return Mapping.none(what + " is neither a GPU index (nvidia-smi's, e.g. 0) nor a PCI bus id (e.g. "
                + "0000:3b:00.0); a discovery script must print one of those");
    }

    private static Mapping byIndex(String what, int index, List<Candidate> devices) {
        List<Candidate> nvidia = devices.stream().filter(d -> d.nvidia() && d.gpu()).toList();
        if (!nvidia.isEmpty() && nvidia.stream().allMatch(d -> d.pci().isPresent())) {
            List<Candidate> busOrder = nvidia.stream()
                    .sorted(Comparator.comparing((Candidate d) -> d.pci().orElseThrow(), PciLocation.BUS_ORDER))
                    .toList();
            if (index >= busOrder.size()) {
                return Mapping.none(what + " is past the " + busOrder.size() + " NVIDIA GPU(s) OpenCL sees, in PCI bus "
                        + "order: " + list(busOrder) + " (is CUDA_VISIBLE_DEVICES hiding some from OpenCL?)");
            }
            return Mapping.found(busOrder.get(index), what + " is NVIDIA GPU " + index + " in PCI bus order "
                    + "(nvidia-smi's numbering)");
        }
        List<Candidate> gpus = devices.stream().filter(Candidate::gpu).toList();
        if (index >= gpus.size()) {
            return Mapping.none(what + " is past the " + gpus.size() + " GPU or accelerator OpenCL device(s): "
                    + (gpus.isEmpty() ? "none (devices: " + list(devices) + ")" : list(gpus)));
        }
        return Mapping.found(gpus.get(index), what + " is GPU " + index + " in OpenCL's order (its driver reports no "
                + "PCI location, so Spark's numbering is taken to be OpenCL's)");
    }

    private static Mapping byBus(String what, int domain, int bus, List<Candidate> devices) {
        List<Candidate> matches = devices.stream()
                .filter(d -> d.pci().filter(p -> p.domain() == domain && p.bus() == bus).isPresent())
                .toList();
        if (matches.size() == 1) {
            return Mapping.found(matches.get(0), what + " is the GPU on that PCI bus");
        }
        List<Candidate> located = devices.stream().filter(d -> d.pci().isPresent()).toList();
        return Mapping.none(what + " names PCI bus " + String.format("%04x:%02x", domain, bus) + ", where "
                + matches.size()
                + " OpenCL devices are; devices with a PCI location: "
                + (located.isEmpty() ? "none (only NVIDIA's driver reports one)" : list(located)));
    }

    private static String list(List<Candidate> devices) {
        return devices.stream().map(Candidate::describeWithPci).collect(Collectors.joining(", "));
    }
}
