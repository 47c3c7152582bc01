package org.convcl.opencl.internal.runtime;

import java.nio.ByteBuffer;
import org.jocl.CL;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_device_id;
import org.jocl.cl_program;

/** One built OpenCL program for one device. */
public final class ClProgram extends NativeObject {
    private final cl_program program;
    private final String description;

    /** Takes ownership of an already created (not necessarily built) program. */
    public ClProgram(cl_program program, String description) {
        super(NativeResources.Kind.PROGRAM);
        this.program = program;
        this.description = description;
    }

    cl_program handle() {
        ensureOpen();
        return program;
    }

    /** The compiler's log for {@code device}; empty when the driver has none. */
    public String buildLog(cl_device_id device) {
        try {
            long[] size = new long[1];
            CL.clGetProgramBuildInfo(program, device, CL.CL_PROGRAM_BUILD_LOG, 0, null, size);
            ByteBuffer bytes = Cl.direct(size[0]);
            CL.clGetProgramBuildInfo(program, device, CL.CL_PROGRAM_BUILD_LOG, bytes.capacity(), Pointer.to(bytes), null);
            return Cl.cString(bytes);
        } catch (RuntimeException e) {
            return "(the build log could not be read: " + e.getMessage() + ")";
        }
    }

    /** The device binary of a program built for exactly one device. */
    public byte[] binary() {
        ensureOpen();
        return Cl.call("clGetProgramInfo(CL_PROGRAM_BINARIES)", () -> {
            ByteBuffer sizeBytes = Cl.direct(Sizeof.size_t);
            CL.clGetProgramInfo(program, CL.CL_PROGRAM_BINARY_SIZES, Sizeof.size_t, Pointer.to(sizeBytes), null);
            long size = Cl.sizeT(sizeBytes);
            if (size <= 0 || size > Integer.MAX_VALUE - 8) {
                return new byte[0];
            }
            // The driver writes through the pointer it is given: direct memory, never a Java array (see Cl.direct).
            ByteBuffer binary = Cl.direct(size);
            CL.clGetProgramInfo(program, CL.CL_PROGRAM_BINARIES, Sizeof.POINTER, Pointer.to(Pointer.to(binary)), null);
            byte[] bytes = new byte[(int) size];
            binary.get(0, bytes);
            return bytes;
        });
    }

    @Override
    void release() {
        Cl.run("clReleaseProgram", () -> CL.clReleaseProgram(program));
    }

    @Override
    String describe() {
        return "program " + description;
    }
}
