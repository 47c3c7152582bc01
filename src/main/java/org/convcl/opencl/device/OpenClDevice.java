package org.convcl.opencl.device;

import java.util.List;
import java.util.Locale;
import org.convcl.opencl.internal.driver.PoclCache;
import org.jocl.cl_device_id;
import org.jocl.cl_platform_id;

/**
 * One OpenCL device as discovery found it: what it is (name, vendor, type, driver, OpenCL version,
 * extensions) and its limits (compute units, memory, largest allocation, work-group size). {@link #index()}
 * is its position in the list of every device of every platform, the number {@code CONVCL_DEVICE} and
 * {@code convcl devices} use. Immutable and thread-safe.
 */
public final class OpenClDevice {
    /** The device types this library tells apart. */
    public enum Type {
        GPU, ACCELERATOR, CPU, OTHER;

        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private final int index;
    private final int platformIndex;
    private final String platformName;
    private final String platformVersion;
    private final String name;
    private final String vendor;
    private final Type type;
    private final int computeUnits;
    private final int maxClockMhz;
    private final long globalMemoryBytes;
    private final long localMemoryBytes;
    private final long maxAllocationBytes;
    private final long maxWorkGroupSize;
    private final String openClVersion;
    private final String openClCVersion;
    private final String driverVersion;
    private final List<String> extensions;
    private final cl_platform_id platform;
    private final cl_device_id device;

    /** A device as {@link org.convcl.opencl.DeviceDiscovery} describes it; user code gets devices from there. */
    public OpenClDevice(int index, int platformIndex, String platformName, String platformVersion, String name,
            String vendor, Type type, int computeUnits, int maxClockMhz, long globalMemoryBytes,
            long localMemoryBytes, long maxAllocationBytes, long maxWorkGroupSize, String openClVersion,
            String openClCVersion, String driverVersion, List<String> extensions, cl_platform_id platform,
            cl_device_id device) {
        this.index = index;
        this.platformIndex = platformIndex;
        this.platformName = platformName;
        this.platformVersion = platformVersion;
        this.name = name;
        this.vendor = vendor;
        this.type = type;
        this.computeUnits = computeUnits;
        this.maxClockMhz = maxClockMhz;
        this.globalMemoryBytes = globalMemoryBytes;
        this.localMemoryBytes = localMemoryBytes;
        this.maxAllocationBytes = maxAllocationBytes;
        this.maxWorkGroupSize = maxWorkGroupSize;
        this.openClVersion = openClVersion;
        this.openClCVersion = openClCVersion;
        this.driverVersion = driverVersion;
        this.extensions = List.copyOf(extensions);
        this.platform = platform;
        this.device = device;
    }

    /** Position among all devices of all platforms, in discovery order. */
    public int index() {
        return index;
    }

    public int platformIndex() {
        return platformIndex;
    }

    /** Whether this device belongs to PoCL, whose quirks some code works around. */
    public boolean isPocl() {
        return PoclCache.isPocl(platformName);
    }

    public String platformName() {
        return platformName;
    }

    public String platformVersion() {
        return platformVersion;
    }

    public String name() {
        return name;
    }

    public String vendor() {
        return vendor;
    }

    public Type type() {
        return type;
    }

    /** Whether {@code auto} may pick this device: a GPU or an accelerator. */
    public boolean isGpuOrAccelerator() {
        return type == Type.GPU || type == Type.ACCELERATOR;
    }

    public int computeUnits() {
        return computeUnits;
    }

    public int maxClockMhz() {
        return maxClockMhz;
    }

    public long globalMemoryBytes() {
        return globalMemoryBytes;
    }

    public long localMemoryBytes() {
        return localMemoryBytes;
    }

    /** The largest single buffer the device allows ({@code CL_DEVICE_MAX_MEM_ALLOC_SIZE}). */
    public long maxAllocationBytes() {
        return maxAllocationBytes;
    }

    public long maxWorkGroupSize() {
        return maxWorkGroupSize;
    }

    /** {@code CL_DEVICE_VERSION}, e.g. {@code OpenCL 3.0 CUDA}. */
    public String openClVersion() {
        return openClVersion;
    }

    /** {@code CL_DEVICE_OPENCL_C_VERSION}, e.g. {@code OpenCL C 1.2}. */
    public String openClCVersion() {
        return openClCVersion;
    }

    /** {@code CL_DRIVER_VERSION}; part of the compiled-program cache key. */
    public String driverVersion() {
        return driverVersion;
    }

    public List<String> extensions() {
        return extensions;
    }

    public boolean hasExtension(String extension) {
        return extensions.contains(extension);
    }

    /** The JOCL id of this device's platform, for code that calls OpenCL on it directly. */
    public cl_platform_id platform() {
        return platform;
    }

    /** The JOCL id of this device, for code that calls OpenCL on it directly. */
    public cl_device_id handle() {
        return device;
    }

    /** Name, type and platform in one line: {@code #0 NVIDIA H100 (gpu, NVIDIA CUDA)}. */
    public String describe() {
        return "#" + index + " " + name + " (" + type + ", " + platformName + ")";
    }

    @Override
    public String toString() {
        return describe();
    }
}
