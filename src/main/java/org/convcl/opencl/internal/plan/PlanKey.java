package org.convcl.opencl.internal.plan;

import java.util.Arrays;
import org.convcl.ConvGeometry;
import org.convcl.DType;
import org.convcl.Precision;

/**
 * What makes two plans interchangeable: every size and setting of the geometry except the batch (a run-time
 * argument of the kernels), whether there is a bias, the kernel config, and the store's epilogue shape (absent
 * from the key of a plain store, which is the key of before epilogues). Immutable.
 */
public record PlanKey(String signature) {

    public static PlanKey of(ConvGeometry g, boolean hasBias, KernelConfig config) {
        return new PlanKey(shapeSignature(g) + " bias=" + hasBias + " config=" + config);
    }

    public static PlanKey of(ConvGeometry g, boolean hasBias, EpilogueShape epilogue, KernelConfig config) {
        PlanKey plain = of(g, hasBias, config);
        return epilogue.isNone() ? plain : new PlanKey(plain.signature() + " epilogue=" + epilogue);
    }

    /**
     * The geometry without its batch dims, its product precision when that is not float32 and its storage type when
     * that is not float32 (so that float32 signatures, and the tuning entries keyed by them, are those of before
     * TF32 and the 16-bit types existed).
     */
    public static String shapeSignature(ConvGeometry g) {
        return "in=" + Arrays.toString(g.inSpatial()) + "x" + g.inChannels() + " k=" + Arrays.toString(g.kernelSpatial())
                + " out=" + Arrays.toString(g.outSpatial()) + "x" + g.outChannels() + " groups=" + g.groups()
                + " strides=" + Arrays.toString(g.strides()) + " idil=" + Arrays.toString(g.inputDilation())
                + " kdil=" + Arrays.toString(g.kernelDilation()) + " lo=" + Arrays.toString(g.padLo()) + " hi="
                + Arrays.toString(g.padHi()) + " edge=" + g.edgeMode()
                + (g.productPrecision() == Precision.HIGHEST ? "" : " precision=" + g.productPrecision())
                + (g.storage() == DType.FLOAT32 ? "" : " storage=" + g.storage().cliName());
    }
}
