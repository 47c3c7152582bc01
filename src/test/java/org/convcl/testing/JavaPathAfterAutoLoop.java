package org.convcl.testing;

import java.util.SplittableRandom;
import org.convcl.nn.Conv;
import org.convcl.Tensor;

/**
 * A program for forked JVMs: what a library user does on a machine whose only OpenCL device is a CPU driver
 * (PoCL): a layer on the default backend ({@code auto}, which discovers the OpenCL drivers and then runs the
 * Java path), applied in a loop on all cores with garbage to collect. With a driver's handler in place of the
 * JVM's SIGSEGV handler this dies with SIGSEGV at a safepoint in some runs. Prints {@code ok} and the backend.
 */
public final class JavaPathAfterAutoLoop {
    private JavaPathAfterAutoLoop() {
    }

    public static void main(String[] args) {
        int iterations = Integer.parseInt(args[0]);
        SplittableRandom random = new SplittableRandom(11);
        Tensor kernel = RandomTensors.uniform(random, 3, 3, 64, 64);
        Tensor x = RandomTensors.uniform(random, 8, 56, 56, 64);
        Conv conv = Conv.builder(kernel).build();
        double checksum = 0;
        for (int i = 0; i < iterations; i++) {
            Tensor y = conv.apply(x);
            checksum += y.data()[i % y.data().length];
        }
        System.out.println("ok backend " + conv.backend().name() + " checksum " + checksum);
    }
}
