package org.convcl.opencl;

import org.convcl.opencl.device.OpenClException;
import org.convcl.opencl.device.OpenClDevice;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.convcl.opencl.internal.driver.DriverSignalGuard;
import org.convcl.opencl.internal.driver.OpenClRuntime;
import org.convcl.opencl.internal.driver.PoclCache;
import org.convcl.opencl.internal.driver.SignalChainingCheck;
import org.convcl.opencl.internal.runtime.ArrayWriteBack;
import org.convcl.opencl.internal.runtime.Cl;
import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.cl_device_id;
import org.jocl.cl_platform_id;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lists every OpenCL device of every platform, once per JVM (drivers do not appear while a process runs).
 * Never throws for a missing library, ICD or device: the result says what was found and, when nothing
 * usable was, why. Thread-safe.
 */
public final class DeviceDiscovery {
    private static final Logger LOG = LoggerFactory.getLogger(DeviceDiscovery.class);
    private static final Object LOCK = new Object();
    private static Result cached;

    private DeviceDiscovery() {
    }

    /**
     * What discovery found. {@code problem} explains an empty list (no library, no platform, no device) and
     * is also set when some platform could not be queried.
     */
    public record Result(List<OpenClDevice> devices, Optional<String> problem) {
        public Result {
            devices = List.copyOf(devices);
        }
    }

    /** Every device of every platform, in platform order then device order. */
    public static Result discover() {
        synchronized (LOCK) {
            if (cached == null) {
                // Loading the drivers may replace the JVM's signal handlers: the guard puts them back where it
                // can; elsewhere, say so once before anything runs (the drivers are loaded by now).
                cached = DriverSignalGuard.around("OpenCL discovery", DeviceDiscovery::enumerate);
                if (!DriverSignalGuard.active()) {
                    SignalChainingCheck.warnIfUnprotected();
                }
            }
            return cached;
        }
    }

    private static Result enumerate() {
        Optional<String> unavailable = OpenClRuntime.unavailableReason();
        if (unavailable.isPresent()) {
            return new Result(List.of(), unavailable);
        }
        cl_platform_id[] platforms;
        try {
            int[] count = new int[1];
            CL.clGetPlatformIDs(0, null, count);
            platforms = new cl_platform_id[count[0]];
            if (count[0] > 0) {
                CL.clGetPlatformIDs(count[0], platforms, null);
            }
        } catch (CLException e) {
            // CL_PLATFORM_NOT_FOUND_KHR (-1001): the ICD loader is there but no driver is registered.
            return new Result(List.of(), Optional.of("no OpenCL platform: clGetPlatformIDs returned "
                    + CL.stringFor_errorCode(e.getStatus()) + " (is an OpenCL driver (ICD) installed and registered "
                    + "under /etc/OpenCL/vendors?)"));
        } catch (LinkageError e) {
            return new Result(List.of(), Optional.of("OpenCL calls fail: " + e));
        }
        if (platforms.length == 0) {
            return new Result(List.of(), Optional.of("no OpenCL platform is installed (no ICD registered)"));
        }
        ArrayWriteBack.probe(platforms[0]);
        List<OpenClDevice> devices = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        for (int p = 0; p < platforms.length; p++) {
            try {
                int before = devices.size();
                addDevices(p, platforms[p], devices);
                if (devices.size() == before) {
                    int index = p;
                    whyNoDevice(platforms[p]).ifPresent(why -> problems.add("platform " + index + ": " + why));
                }
            } catch (CLException | OpenClException e) {
                String detail = e instanceof CLException cl ? CL.stringFor_errorCode(cl.getStatus()) : e.getMessage();
                problems.add("platform " + p + ": " + detail);
                LOG.debug("OpenCL platform {} could not be queried: {}", p, detail);
            }
        }
        if (devices.isEmpty()) {
            String why = problems.isEmpty() ? "" : " (" + String.join("; ", problems) + ")";
            return new Result(devices, Optional.of(platforms.length + " OpenCL platform(s) but no device" + why));
        }
        return new Result(devices, problems.isEmpty() ? Optional.empty()
                : Optional.of(String.join("; ", problems)));
    }

    /**
     * The cause of a platform's having no device, where one is known: PoCL's cache directory that it cannot make
     * (see {@link PoclCache}), which PoCL itself keeps to its debug output.
     */
    private static Optional<String> whyNoDevice(cl_platform_id platform) {
        if (!PoclCache.isPocl(Cl.platformString(platform, CL.CL_PLATFORM_NAME))) {
            return Optional.empty();
        }
        return PoclCache.whyNoDevice(System.getenv());
    }

    /**
     * The OpenCL specification's {@code CL_DEVICE_TYPE_ALL}, {@code 0xFFFFFFFF}. JOCL's constant has all 64 bits
     * set, which drivers that check the bitfield strictly (Mesa's rusticl) refuse with
     * {@code CL_INVALID_DEVICE_TYPE}, hiding every device they offer.
     */
    static final long ALL_DEVICE_TYPES = 0xFFFFFFFFL;

    private static void addDevices(int platformIndex, cl_platform_id platform, List<OpenClDevice> devices) {
        String platformName = Cl.platformString(platform, CL.CL_PLATFORM_NAME);
        String platformVersion = Cl.platformString(platform, CL.CL_PLATFORM_VERSION);
        int[] count = new int[1];
        try {
            CL.clGetDeviceIDs(platform, ALL_DEVICE_TYPES, 0, null, count);
        } catch (CLException e) {
            if (e.getStatus() == CL.CL_DEVICE_NOT_FOUND) {
                return;
            }
            throw e;
        }
        cl_device_id[] ids = new cl_device_id[count[0]];
        CL.clGetDeviceIDs(platform, ALL_DEVICE_TYPES, count[0], ids, null);
        for (cl_device_id id : ids) {
            devices.add(describe(devices.size(), platformIndex, platformName, platformVersion, platform, id));
        }
    }

    private static OpenClDevice describe(int index, int platformIndex, String platformName, String platformVersion,
            cl_platform_id platform, cl_device_id id) {
        long typeBits = Cl.deviceUlong(id, CL.CL_DEVICE_TYPE);
        OpenClDevice.Type type;
        if ((typeBits & CL.CL_DEVICE_TYPE_GPU) != 0) {
            type = OpenClDevice.Type.GPU;
        } else if ((typeBits & CL.CL_DEVICE_TYPE_ACCELERATOR) != 0) {
            type = OpenClDevice.Type.ACCELERATOR;
        } else if ((typeBits & CL.CL_DEVICE_TYPE_CPU) != 0) {
            type = OpenClDevice.Type.CPU;
        } else {
            type = OpenClDevice.Type.OTHER;
        }
        String extensions = Cl.deviceString(id, CL.CL_DEVICE_EXTENSIONS);
        return new OpenClDevice(index, platformIndex, platformName, platformVersion,
                Cl.deviceString(id, CL.CL_DEVICE_NAME), Cl.deviceString(id, CL.CL_DEVICE_VENDOR), type,
                Cl.deviceUint(id, CL.CL_DEVICE_MAX_COMPUTE_UNITS), Cl.deviceUint(id, CL.CL_DEVICE_MAX_CLOCK_FREQUENCY),
                Cl.deviceUlong(id, CL.CL_DEVICE_GLOBAL_MEM_SIZE), Cl.deviceUlong(id, CL.CL_DEVICE_LOCAL_MEM_SIZE),
                Cl.deviceUlong(id, CL.CL_DEVICE_MAX_MEM_ALLOC_SIZE), Cl.deviceSize(id, CL.CL_DEVICE_MAX_WORK_GROUP_SIZE),
                Cl.deviceString(id, CL.CL_DEVICE_VERSION), Cl.deviceString(id, CL.CL_DEVICE_OPENCL_C_VERSION),
                Cl.deviceString(id, CL.CL_DRIVER_VERSION),
                extensions.isBlank() ? List.of() : Arrays.asList(extensions.trim().split("\\s+")), platform, id);
    }
}
