package org.convcl.opencl.internal.plan;

import java.util.ArrayList;
import java.util.List;
import org.convcl.Activation;
import org.convcl.Epilogue;

/**
 * What a kernel's fused store must be compiled for (an {@link Epilogue} without its values): which of scale, shift
 * and residual are present, and the activation with its parameter. Part of a plan's key, so that a plain
 * convolution keeps its own plan and program. {@link #NONE} compiles exactly the program of before epilogues (no
 * epilogue files, no options); any other shape puts {@link #SOURCES} in front of the
 * kernel's files and selects the parts with {@code -D EPI_SCALE/EPI_SHIFT/EPI_RESIDUAL/ACTIVATION/ACTIVATION_PARAM}.
 * Immutable.
 *
 * @param scale      whether a per-channel scale multiplies
 * @param shift      whether a per-channel shift adds
 * @param residual   whether a residual of the output's shape adds
 * @param activation the function applied last
 */
public record EpilogueShape(boolean scale, boolean shift, boolean residual, Activation activation) {
    /** The plain store. */
    public static final EpilogueShape NONE = new EpilogueShape(false, false, false, Activation.identity());
    /**
     * The shared files an epilogue program compiles in front of the kernel's own, in order: storage.cl first, since
     * epilogue.cl reads the residual in the output's storage type (storage.cl compiles once where a kernel lists it
     * again).
     */
    public static final List<String> SOURCES = List.of(StorageOption.SOURCE, "activation.cl", "epilogue.cl");

    public EpilogueShape {
        if (activation == null) {
            throw new IllegalArgumentException("activation: got null; an epilogue shape needs one (identity for none)");
        }
    }

    /** The shape of {@code epilogue}; {@link #NONE} for null. */
    public static EpilogueShape of(Epilogue<?> epilogue) {
        if (epilogue == null || epilogue.isNone()) {
            return NONE;
        }
        return new EpilogueShape(epilogue.scale() != null, epilogue.shift() != null, epilogue.residual() != null,
                epilogue.activation());
    }

    public boolean isNone() {
        return !scale && !shift && !residual && activation.isIdentity();
    }

    /** The program's files: {@code kernelSources} alone for {@link #NONE}, else the epilogue files in front. */
    public List<String> sources(List<String> kernelSources) {
        if (isNone()) {
            return kernelSources;
        }
        List<String> files = new ArrayList<>(SOURCES);
        files.addAll(kernelSources);
        return List.copyOf(files);
    }

    /**
     * The kernel's {@code -D} options {@code kernelOptions} with this shape's appended (none for {@link #NONE}). The
     * parameter is an exact float literal ({@link Float#toHexString}), so the kernel computes with the Java value.
     */
    public String options(String kernelOptions) {
        if (isNone()) {
            return kernelOptions;
        }
        return kernelOptions + (kernelOptions.isEmpty() ? "" : " ") + "-D EPI_SCALE=" + (scale ? 1 : 0)
                + " -D EPI_SHIFT=" + (shift ? 1 : 0) + " -D EPI_RESIDUAL=" + (residual ? 1 : 0) + " -D ACTIVATION="
                + activation.kind().code() + " -D ACTIVATION_PARAM=" + Float.toHexString(activation.parameter()) + "f";
    }

    /**
     * Refuses {@code buffers} that do not carry exactly this shape's operands ({@code what} names the plan): a kernel
     * compiled for a part reads its buffer, one compiled without it would ignore a given one.
     */
    public void check(EpilogueBuffers buffers, Object what) {
        EpilogueBuffers given = buffers == null ? EpilogueBuffers.NONE : buffers;
        if ((given.scale() != null) != scale || (given.shift() != null) != shift
                || (given.residual() != null) != residual) {
            throw new IllegalArgumentException("epilogue: " + given + " given to " + what + ", which was compiled for "
                    + this + "; the operands must be those of the plan's epilogue");
        }
    }

    /** {@code scale, shift, residual, relu}: the parts, as in a plan key. */
    @Override
    public String toString() {
        StringBuilder parts = new StringBuilder();
        if (scale) {
            parts.append("scale, ");
        }
        if (shift) {
            parts.append("shift, ");
        }
        if (residual) {
            parts.append("residual, ");
        }
        // The parameter in hexadecimal: exact, so that two plans of different parameters never share a key.
        return parts.append(activation.kind().label()).append('(')
                .append(Float.toHexString(activation.parameter())).append(')').toString();
    }
}
