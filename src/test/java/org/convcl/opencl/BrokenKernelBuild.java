package org.convcl.opencl;

import org.convcl.opencl.device.OpenClDevice;
import org.convcl.opencl.device.KernelBuildException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.convcl.ConvGeometry;
import org.convcl.ConvSpec;
import org.convcl.opencl.internal.runtime.ProgramBinaryCache;

/**
 * Builds a program from a deliberately broken kernel source, in a JVM of its own, for {@link KernelOverrideTest}.
 * The OpenCL compiler reports the error twice: in the build log, which {@link KernelBuildException} carries, and
 * (PoCL's clang) as a summary such as {@code 1 error generated.} written by native code straight to the process's
 * standard error, which no Java stream redirection catches. Running the build here lets the test capture that
 * output, so that the build log of {@code mvn verify} shows only what failed, instead of a compiler error with no
 * context after a passing test.
 *
 * <p>Arguments: the index of the OpenCL device (in {@link DeviceDiscovery}'s order) and a directory to write the
 * exception's {@code message.txt} and {@code build-log.txt} into. The broken source is in the kernels directory
 * that the system property {@code convcl.kernels.dir} names. Exit 0 when the build failed as expected, 3 when it
 * did not; anything else is an uncaught exception (exit 1).
 */
public final class BrokenKernelBuild {
    static final int BUILD_SUCCEEDED = 3;
    /** A small geometry whose forward pass builds conv_gemm.cl and the shared geometry source. */
    static final ConvGeometry GEOMETRY = ConvSpec.defaults().resolve(new int[] {6, 2}, new int[] {3, 2, 2});

    private BrokenKernelBuild() {
    }

    public static void main(String[] args) throws Exception {
        OpenClDevice device = DeviceDiscovery.discover().devices().get(Integer.parseInt(args[0]));
        Path results = Path.of(args[1]);
        try (OpenClBackend backend = OpenClBackend.create(device, new ProgramBinaryCache(null))) {
            backend.forward(GEOMETRY, new float[12], new float[12], null, new float[12]);
        } catch (KernelBuildException expected) {
            Files.writeString(results.resolve("message.txt"), expected.getMessage(), StandardCharsets.UTF_8);
            Files.writeString(results.resolve("build-log.txt"), expected.buildLog(), StandardCharsets.UTF_8);
            return;
        }
        System.exit(BUILD_SUCCEEDED);
    }
}
