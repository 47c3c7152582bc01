package org.convcl.opencl.internal.driver;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import org.convcl.nn.Conv;
import org.convcl.Tensor;
import org.convcl.opencl.DeviceDiscovery;
import org.convcl.opencl.OpenClBackend;
import org.convcl.opencl.device.OpenClDevice;
import org.convcl.testing.RandomTensors;

/**
 * A program for forked JVMs (see {@code DriverSignalGuardIT}): reads every signal handler before any OpenCL
 * call, then discovers the devices, builds and runs a convolution on the first one, and prints which handlers
 * differ afterwards. Exit 0: all intact; 1: some changed; 3: this JVM cannot call sigaction (JDK before 22).
 */
public final class SignalHandlerProbe {
    private SignalHandlerProbe() {
    }

    /** The handler's address and the library it lies in, from /proc/self/maps. */
    private static String describe(byte[] action) {
        long address = java.nio.ByteBuffer.wrap(action).order(java.nio.ByteOrder.nativeOrder()).getLong(0);
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/maps"))) {
                String[] fields = line.trim().split("\\s+", 6);
                String[] range = fields[0].split("-");
                if (Long.compareUnsigned(address, Long.parseUnsignedLong(range[0], 16)) >= 0
                        && Long.compareUnsigned(address, Long.parseUnsignedLong(range[1], 16)) < 0) {
                    return Long.toHexString(address) + " in " + (fields.length == 6 ? fields[5] : "anonymous memory");
                }
            }
        } catch (java.io.IOException e) {
            return Long.toHexString(address);
        }
        return Long.toHexString(address) + (address == 0 ? " (SIG_DFL)" : address == 1 ? " (SIG_IGN)" : "");
    }

    public static void main(String[] args) {
        Optional<NativeSigaction> loaded = NativeSigaction.load();
        if (loaded.isEmpty()) {
            System.out.println("no sigaction access on this JDK");
            System.exit(3);
        }
        NativeSigaction sigaction = loaded.get();
        byte[][] before = new byte[32][];
        for (int signal = 1; signal < 32; signal++) {
            if (signal != 9 && signal != 19) {
                before[signal] = sigaction.get(signal);
            }
        }
        OpenClDevice device = DeviceDiscovery.discover().devices().get(0);
        SplittableRandom random = new SplittableRandom(7);
        try (OpenClBackend backend = OpenClBackend.create(device)) {
            Conv conv = Conv.builder(RandomTensors.uniform(random, 3, 3, 4, 8)).backend(backend).build();
            Tensor y = conv.apply(RandomTensors.uniform(random, 2, 9, 9, 4));
            System.out.println("computed " + y.data().length + " values on " + device.name());
        }
        List<Integer> changed = new ArrayList<>();
        for (int signal = 1; signal < 32; signal++) {
            if (before[signal] != null && !NativeSigaction.sameAction(before[signal], sigaction.get(signal))) {
                changed.add(signal);
                System.out.println("signal " + signal + ": handler " + describe(before[signal]) + " -> "
                        + describe(sigaction.get(signal)));
            }
        }
        System.out.println("guard active " + DriverSignalGuard.active() + ", restored " + DriverSignalGuard.restoredSoFar()
                + ", changed " + changed);
        System.exit(changed.isEmpty() ? 0 : 1);
    }
}
