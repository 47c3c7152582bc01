package org.convcl.opencl;

import org.convcl.opencl.device.OpenClException;
import org.convcl.opencl.device.OpenClDevice;
import java.util.Comparator;
import java.util.Optional;
import org.convcl.opencl.internal.runtime.Cl;
import org.jocl.CLException;

/**
 * Where a GPU sits on the PCI bus ({@code domain:bus:device}), as its OpenCL driver reports it. Schedulers name
 * GPUs by the CUDA/NVML view of the machine (Spark's discovery script prints {@code nvidia-smi} indices, which
 * are in PCI bus order), while OpenCL lists devices in an order of its own; the PCI location is what both views
 * share. Only NVIDIA's driver reports it so far, through {@code cl_nv_device_attribute_query}. Immutable.
 *
 * @param domain the PCI domain (0 where the driver is older than CUDA 10.2 and does not report it)
 * @param bus    the PCI bus number
 * @param slot   the driver's slot value: NVIDIA documents no encoding for it (drivers have returned the device
 *               number, and {@code device << 3 | function}), so it only orders devices that share a bus, and a
 *               GPU is found by its domain and bus, which are unique per card
 */
public record PciLocation(int domain, int bus, int slot) {
    /** {@code cl_nv_device_attribute_query}'s queries, each a {@code cl_uint}. */
    static final String NVIDIA_EXTENSION = "cl_nv_device_attribute_query";
    static final int CL_DEVICE_PCI_BUS_ID_NV = 0x4008;
    static final int CL_DEVICE_PCI_SLOT_ID_NV = 0x4009;
    static final int CL_DEVICE_PCI_DOMAIN_ID_NV = 0x400A;

    /** PCI bus order: domain, then bus, then slot; the order {@code nvidia-smi} numbers GPUs in by default. */
    public static final Comparator<PciLocation> BUS_ORDER = Comparator.comparingInt(PciLocation::domain)
            .thenComparingInt(PciLocation::bus).thenComparingInt(PciLocation::slot);

    /**
     * The device's PCI location, or empty when its driver does not report one (no NVIDIA extension, or the query
     * fails). Never throws.
     */
    public static Optional<PciLocation> of(OpenClDevice device) {
        if (!OperandChecks.device(device).hasExtension(NVIDIA_EXTENSION)) {
            return Optional.empty();
        }
        try {
            int bus = Cl.deviceUint(device.handle(), CL_DEVICE_PCI_BUS_ID_NV);
            int slot = Cl.deviceUint(device.handle(), CL_DEVICE_PCI_SLOT_ID_NV);
            return Optional.of(new PciLocation(nvidiaDomain(device), bus & 0xff, slot));
        } catch (OpenClException | CLException e) {
            return Optional.empty();
        }
    }

    /** The domain query exists since CUDA 10.2; older drivers refuse it, and every GPU is then in domain 0. */
    private static int nvidiaDomain(OpenClDevice device) {
        try {
            return Cl.deviceUint(device.handle(), CL_DEVICE_PCI_DOMAIN_ID_NV);
        } catch (OpenClException | CLException e) {
            return 0;
        }
    }

    /** {@code pci 0000:3b slot 0}: domain and bus as {@code nvidia-smi} and {@code lspci} write them. */
    @Override
    public String toString() {
        return String.format("pci %04x:%02x slot %d", domain, bus, slot);
    }
}
