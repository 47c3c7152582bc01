package org.convcl.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.resource.ResourceInformation;
import org.convcl.opencl.PciLocation;
import org.convcl.spark.GpuDeviceMapping.Candidate;
import org.convcl.spark.GpuDeviceMapping.Mapping;
import org.junit.jupiter.api.Test;

/**
 * A task's Spark GPU address to an OpenCL device, on faked resource maps and faked device lists: nvidia-smi's
 * indices are PCI bus order, which NVIDIA's OpenCL order is not.
 */
class GpuDeviceMappingTest {
    /**
     * Three NVIDIA GPUs as NVIDIA's OpenCL lists them (fastest first, not bus order), then PoCL's CPU device.
     * nvidia-smi numbers them by bus: 0 = bus 0x3b (OpenCL #1), 1 = bus 0x5e (#2), 2 = bus 0x81 (#0).
     */
    private static final List<Candidate> NVIDIA_MACHINE = List.of(
            nvidia(0, 0, 0x81), nvidia(1, 0, 0x3b), nvidia(2, 0, 0x5e),
            new Candidate(3, "#3 pthread-cpu (cpu, Portable Computing Language)", false, false, Optional.empty()));

    @Test
    void nvidiaSmiIndexFromAFakedTaskResourceMapIsTheGpuInPciBusOrder() {
        int[] expectedOpenClIndex = {1, 2, 0};
        for (int smiIndex = 0; smiIndex < 3; smiIndex++) {
            Map<String, ResourceInformation> resources = Map.of(
                    "gpu", new ResourceInformation("gpu", new String[] {Integer.toString(smiIndex)}),
                    "fpga", new ResourceInformation("fpga", new String[] {"7"}));
            List<String> addresses = GpuDeviceMapping.gpuAddresses(resources);
            assertEquals(List.of(Integer.toString(smiIndex)), addresses);

            Mapping mapping = GpuDeviceMapping.choose(addresses.get(0), NVIDIA_MACHINE);
            assertEquals(Optional.of(expectedOpenClIndex[smiIndex]), mapping.deviceIndex(), mapping.reason());
            assertTrue(mapping.reason().contains("NVIDIA GPU " + smiIndex + " in PCI bus order"), mapping.reason());
        }
    }

    @Test
    void aTaskWithoutGpuResourcesHasNoAddresses() {
        assertEquals(List.of(), GpuDeviceMapping.gpuAddresses(Map.of()));
        assertEquals(List.of(), GpuDeviceMapping.gpuAddresses(null));
        assertEquals(List.of(), GpuDeviceMapping.gpuAddresses(
                Map.of("fpga", new ResourceInformation("fpga", new String[] {"0"}))));
        assertEquals(List.of("2", "3"), GpuDeviceMapping.gpuAddresses(
                Map.of("gpu", new ResourceInformation("gpu", new String[] {" 2", "3 "}))));
    }

    @Test
    void pciBusIdAddressesNameTheGpuOnThatBus() {
        assertEquals(Optional.of(2), GpuDeviceMapping.choose("0000:5e:00.0", NVIDIA_MACHINE).deviceIndex());
        assertEquals(Optional.of(2), GpuDeviceMapping.choose("5E:00.0", NVIDIA_MACHINE).deviceIndex());
        // nvidia-smi --query-gpu=pci.bus_id prints an 8-digit domain.
        assertEquals(Optional.of(0), GpuDeviceMapping.choose("00000000:81:00.0", NVIDIA_MACHINE).deviceIndex());

        Mapping elsewhere = GpuDeviceMapping.choose("0000:17:00.0", NVIDIA_MACHINE);
        assertEquals(Optional.empty(), elsewhere.deviceIndex());
        assertTrue(elsewhere.reason().contains("names PCI bus 0000:17, where 0 OpenCL devices are"),
                elsewhere.reason());
    }

    @Test
    void domainsOrderBeforeBuses() {
        List<Candidate> twoDomains = List.of(nvidia(0, 1, 0x10), nvidia(1, 0, 0x20));
        assertEquals(Optional.of(1), GpuDeviceMapping.choose("0", twoDomains).deviceIndex());
        assertEquals(Optional.of(0), GpuDeviceMapping.choose("1", twoDomains).deviceIndex());
        assertEquals(Optional.of(0), GpuDeviceMapping.choose("0001:10:00.0", twoDomains).deviceIndex());
    }

    @Test
    void anAddressPastTheGpusIsRefusedListingThem() {
        Mapping mapping = GpuDeviceMapping.choose("3", NVIDIA_MACHINE);
        assertEquals(Optional.empty(), mapping.deviceIndex());
        assertTrue(mapping.reason().startsWith("Spark GPU address '3' is past the 3 NVIDIA GPU(s) OpenCL sees, in PCI "
                + "bus order: #1 H100 pci 0000:3b slot 0, #2 H100 pci 0000:5e slot 0, #0 H100 pci 0000:81 slot 0"),
                mapping.reason());
    }

    @Test
    void gpusWithoutPciLocationsAreTakenInOpenClOrder() {
        List<Candidate> amd = List.of(
                new Candidate(0, "#0 gfx90a", false, true, Optional.empty()),
                new Candidate(1, "#1 gfx90a", false, true, Optional.empty()));
        Mapping mapping = GpuDeviceMapping.choose("1", amd);
        assertEquals(Optional.of(1), mapping.deviceIndex());
        assertTrue(mapping.reason().contains("GPU 1 in OpenCL's order"), mapping.reason());

        // One NVIDIA GPU without a location spoils bus order for all: OpenCL's order it is, said so.
        List<Candidate> mixed = List.of(nvidia(0, 0, 0x81), new Candidate(1, "#1 old", true, true, Optional.empty()));
        assertEquals(Optional.of(1), GpuDeviceMapping.choose("1", mixed).deviceIndex());
    }

    @Test
    void anAddressThatIsNeitherIndexNorBusIdIsRefused() {
        Mapping mapping = GpuDeviceMapping.choose("GPU-5f3c", NVIDIA_MACHINE);
        assertEquals(Optional.empty(), mapping.deviceIndex());
        assertTrue(mapping.reason().contains("is neither a GPU index (nvidia-smi's, e.g. 0) nor a PCI bus id"),
                mapping.reason());
        Mapping noGpu = GpuDeviceMapping.choose("0", List.of(NVIDIA_MACHINE.get(3)));
        assertTrue(noGpu.reason().contains("past the 0 GPU or accelerator OpenCL device(s): none (devices: #3 "),
                noGpu.reason());
    }

    private static Candidate nvidia(int index, int domain, int bus) {
        return new Candidate(index, "#" + index + " H100", true, true, Optional.of(new PciLocation(domain, bus, 0)));
    }
}
