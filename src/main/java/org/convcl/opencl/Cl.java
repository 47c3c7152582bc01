package org.convcl.opencl;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;
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
final class Cl {
    private Cl() {
    }

    /** Runs {@code call}; a CL error becomes an {@link OpenClException} for {@code operation}. */
    static <T> T call(String operation, Supplier<T> call) {
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

    static String deviceString(cl_device_id device, int param) {
        return call("clGetDeviceInfo(" + CL.stringFor_cl_device_info(param) + ")", () -> {
            long[] size = new long[1];
            CL.clGetDeviceInfo(device, param, 0, null, size);
            byte[] bytes = new byte[(int) size[0]];
            CL.clGetDeviceInfo(device, param, bytes.length, Pointer.to(bytes), null);
            return cString(bytes);
        });
    }

    static long deviceUlong(cl_device_id device, int param) {
        return call("clGetDeviceInfo(" + CL.stringFor_cl_device_info(param) + ")", () -> {
            long[] value = new long[1];
            CL.clGetDeviceInfo(device, param, Sizeof.cl_ulong, Pointer.to(value), null);
            return value[0];
        });
    }

    static int deviceUint(cl_device_id device, int param) {
        return call("clGetDeviceInfo(" + CL.stringFor_cl_device_info(param) + ")", () -> {
            int[] value = new int[1];
            CL.clGetDeviceInfo(device, param, Sizeof.cl_uint, Pointer.to(value), null);
            return value[0];
        });
    }

    static long deviceSize(cl_device_id device, int param) {
        return call("clGetDeviceInfo(" + CL.stringFor_cl_device_info(param) + ")", () -> {
            byte[] bytes = new byte[Sizeof.size_t];
            CL.clGetDeviceInfo(device, param, bytes.length, Pointer.to(bytes), null);
            return sizeT(bytes, 0);
        });
    }

    static String platformString(cl_platform_id platform, int param) {
        return call("clGetPlatformInfo(" + CL.stringFor_cl_platform_info(param) + ")", () -> {
            long[] size = new long[1];
            CL.clGetPlatformInfo(platform, param, 0, null, size);
            byte[] bytes = new byte[(int) size[0]];
            CL.clGetPlatformInfo(platform, param, bytes.length, Pointer.to(bytes), null);
            return cString(bytes);
        });
    }

    /** Reads a native size_t (4 or 8 bytes, native order) at {@code offset}. */
    static long sizeT(byte[] bytes, int offset) {
        ByteBuffer buffer = ByteBuffer.wrap(bytes).order(ByteOrder.nativeOrder());
        return Sizeof.size_t == 8 ? buffer.getLong(offset) : buffer.getInt(offset) & 0xffffffffL;
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
