package org.convcl.opencl.internal.runtime;

import java.nio.charset.StandardCharsets;
import org.convcl.opencl.device.OpenClException;
import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.cl_platform_id;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether what OpenCL writes into a Java array through JOCL reaches the array in this JVM.
 *
 * <p>JOCL hands native code the array's own memory (a JNI critical region) and releases it without copying
 * back. That is correct while the JVM pins arrays in place, as it normally does; under {@code -Xcheck:jni}
 * (and on JVMs that copy critical arrays) native code gets a copy and every result is silently lost. Reads of
 * results therefore go through direct memory when this says so. Decided once per JVM, from one real query,
 * at device discovery. Thread-safe.
 */
public final class ArrayWriteBack {
    private static final Logger LOG = LoggerFactory.getLogger(ArrayWriteBack.class);
    private static volatile boolean works = true;
    private static volatile boolean probed;

    private ArrayWriteBack() {
    }

    /** False when a query written into a Java array was lost in this JVM; true otherwise or before the probe. */
    static boolean works() {
        return works;
    }

    /**
     * Asks {@code platform} for its name twice, into direct memory and into a Java array, and remembers
     * whether the array received it. A platform with an empty name tells nothing and leaves the answer as is.
     */
    public static void probe(cl_platform_id platform) {
        if (probed) {
            return;
        }
        try {
            String direct = Cl.platformString(platform, CL.CL_PLATFORM_NAME);
            if (direct.isEmpty()) {
                return;
            }
            byte[] array = new byte[direct.getBytes(StandardCharsets.UTF_8).length + 1];
            CL.clGetPlatformInfo(platform, CL.CL_PLATFORM_NAME, array.length, Pointer.to(array), null);
            works = Cl.cString(array).equals(direct);
            probed = true;
            if (!works) {
                LOG.debug("OpenCL results written into Java arrays are lost in this JVM (-Xcheck:jni or copying "
                        + "JNI critical regions); device reads go through direct memory");
            }
        } catch (CLException | OpenClException e) {
            LOG.debug("could not probe how JOCL writes into Java arrays: {}", e.getMessage());
        }
    }
}
