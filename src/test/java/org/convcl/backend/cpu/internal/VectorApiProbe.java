package org.convcl.backend.cpu.internal;

import org.convcl.backend.cpu.CpuBackend;
import java.util.SplittableRandom;
import org.convcl.nn.Conv;
import org.convcl.ConvSpec;
import org.convcl.Tensor;
import org.convcl.testing.RandomTensors;

/**
 * Run in a JVM of its own by {@link VectorApiWarningTest}: dense and depthwise convolutions on the Java path,
 * twice each, so that every CPU kernel is chosen more than once. Writes nothing itself.
 */
public final class VectorApiProbe {
    private VectorApiProbe() {
    }

    public static void main(String[] args) {
        SplittableRandom random = new SplittableRandom(1);
        Tensor x = RandomTensors.uniform(random, 1, 8, 8, 8);
        Conv dense = Conv.builder(RandomTensors.uniform(random, 3, 3, 8, 8)).backend(CpuBackend.instance()).build();
        Conv depthwise = Conv.builder(RandomTensors.uniform(random, 3, 3, 1, 8))
                .spec(ConvSpec.builder().groups(8).build()).backend(CpuBackend.instance()).build();
        for (int i = 0; i < 2; i++) {
            dense.apply(x);
            depthwise.apply(x);
        }
    }
}
