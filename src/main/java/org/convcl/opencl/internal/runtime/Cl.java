package org.convcl.opencl.internal.runtime;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;
import org.convcl.opencl.device.OpenClException;
import org.convcl.opencl.internal.driver.OpenClRuntime;
import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_device_id;
import org.jocl.cl_platform_id;

/**
 * Calls into JOCL with one error policy: JOCL's exceptions are enabled once ({@link OpenClRuntime}), and
 * every call made here turns a {@link CLException} into an {@link OpenClException} naming the operation and
 * the CL error. Also the typed info queries the rest of the package needs.
 */
public final class Cl {
    private Cl() {
    }

    /** Runs {@code call}; a CL error becomes an {@link OpenClException} for {@code operation}. */
    public static <T> T call(String operation, Supplier<T> call) {
        try {
            return call.get();
        } catch (CLException e) {
            throw error(operation, e);
        }
    }

    /** Runs {@code call}; a CL error becomes an {@link OpenClException} for {@code operation}. */
    static void run(String operation, Runnable call) {
        try {
            call.run();
        } catch (CLException e) {
            throw error(operation, e);
        }
    }

    static OpenClException error(String operation, CLException e) {
        return new OpenClException(operation, e.getStatus(), CL.stringFor_errorCode(e.getStatus()), e);
    }

    public static String deviceString(cl_device_id device, int param) {
        return call("clGetDeviceInfo(" + CL.stringFor_cl_device_info(param) + ")", () -> {
            long[] size = new long[1];
            CL.clGetDeviceInfo(device, param, 0, null, size);
            ByteBuffer bytes = direct(size[0]);
            CL.clGetDeviceInfo(device, param, bytes.capacity(), Pointer.to(bytes), null);
            return cString(bytes);
        });
    }

    public static long deviceUlong(cl_device_id device, int param) {
        return call("clGetDeviceInfo(" + CL.stringFor_cl_device_info(param) + ")", () -> {
            ByteBuffer value = direct(Sizeof.cl_ulong);
            CL.clGetDeviceInfo(device, param, Sizeof.cl_ulong, Pointer.to(value), null);
            return value.getLong(0);
        });
    }

    public static int deviceUint(cl_device_id device, int param) {
        return call("clGetDeviceInfo(" + CL.stringFor_cl_device_info(param) + ")", () -> {
            ByteBuffer value = direct(Sizeof.cl_uint);
            CL.clGetDeviceInfo(device, param, Sizeof.cl_uint, Pointer.to(value), null);
            return value.getInt(0);
        });
    }

    public static long deviceSize(cl_device_id device, int param) {
        return call("clGetDeviceInfo(" + CL.stringFor_cl_device_info(param) + ")", () -> {
            ByteBuffer value = direct(Sizeof.size_t);
            CL.clGetDeviceInfo(device, param, Sizeof.size_t, Pointer.to(value), null);
            return sizeT(value);
        });
    }

    public static String platformString(cl_platform_id platform, int param) {
        return call("clGetPlatformInfo(" + CL.stringFor_cl_platform_info(param) + ")", () -> {
            long[] size = new long[1];
            CL.clGetPlatformInfo(platform, param, 0, null, size);
            ByteBuffer bytes = direct(size[0]);
            CL.clGetPlatformInfo(platform, param, bytes.capacity(), Pointer.to(bytes), null);
            return cString(bytes);
        });
    }

    /**
     * A zeroed direct buffer in native order for a query's result. Queries never write into Java arrays:
     * JOCL releases an array it handed to native code without copying back, which is only harmless while
     * the JVM pins the array in place; under {@code -Xcheck:jni} the JVM hands out a copy and every result
     * written into an array is lost (zeros). Direct memory is the same memory on both sides.
     */
    static ByteBuffer direct(long bytes) {
        if (bytes < 0 || bytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("OpenCL query result of " + bytes + " bytes");
        }
        return ByteBuffer.allocateDirect((int) Math.max(1, bytes)).order(ByteOrder.nativeOrder());
    }

    /** Reads a native size_t (4 or 8 bytes, native order) from the start of {@code buffer}. */
    static long sizeT(ByteBuffer buffer) {
        return Sizeof.size_t == 8 ? buffer.getLong(0) : buffer.getInt(0) & 0xffffffffL;
    }

    /** A NUL-terminated C string from the start of {@code buffer}, trimmed. */
    static String cString(ByteBuffer buffer) {
        byte[] bytes = new byte[buffer.capacity()];
        buffer.get(0, bytes);
        return cString(bytes);
    }

    /** A NUL-terminated C string (JOCL hands back the terminator), trimmed. */
    static String cString(byte[] bytes) {
        int length = 0;
        while (length < bytes.length && bytes[length] != 0) {
            length++;
        }
        return new String(bytes, 0, length, StandardCharsets.UTF_8).trim();
    }
}
