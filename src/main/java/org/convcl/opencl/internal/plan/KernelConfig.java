package org.convcl.opencl.internal.plan;

/**
 * Which kernel a plan runs and how it is blocked: the knobs a tuner turns. A plan is compiled for one
 * geometry and one config. Each config type is compiled by one {@link ForwardVariant} ({@link ForwardVariants}):
 * a new variant brings its own type, a record (value equality; its {@code toString} is part of a plan's key).
 */
public interface KernelConfig {

    /** The implicit-GEMM kernel ({@code kernels/conv_gemm.cl}) for ranks 1 to 3. */
    record Gemm(Tiling tiling) implements KernelConfig {
        public Gemm {
            if (tiling == null) {
                throw new IllegalArgumentException("tiling: got null; a GEMM config needs a Tiling");
            }
        }

        @Override
        public String toString() {
            return "gemm " + tiling;
        }
    }

    /**
     * The depthwise kernel ({@code kernels/conv_depthwise.cl}) for ranks 1 to 3 with groups == input
     * channels: {@code vectorWidth} output channels per work-item (it must divide the output channels),
     * {@code outputsPerItem} consecutive output positions along the last dim, 1-d work-groups of
     * {@code workGroupSize}.
     */
    record Depthwise(int vectorWidth, int outputsPerItem, int workGroupSize) implements KernelConfig {
        public Depthwise {
            if (vectorWidth < 1 || vectorWidth > 16 || Integer.bitCount(vectorWidth) != 1) {
                throw new IllegalArgumentException("vectorWidth: got " + vectorWidth
                        + "; it must be a power of two in [1, 16]");
            }
            if (outputsPerItem < 1 || outputsPerItem > 16) {
                throw new IllegalArgumentException("outputsPerItem: got " + outputsPerItem + "; it must be in [1, 16]");
            }
            if (workGroupSize < 1 || workGroupSize > 4096) {
                throw new IllegalArgumentException("workGroupSize: got " + workGroupSize + "; it must be in [1, 4096]");
            }
        }

        @Override
        public String toString() {
            return "depthwise v" + vectorWidth + " w" + outputsPerItem + " wg" + workGroupSize;
        }
    }

    /** The any-rank kernel ({@code kernels/conv_general.cl}), one work-item per output element. */
    record General(int workGroupSize) implements KernelConfig {
        public General {
            if (workGroupSize < 1 || workGroupSize > 4096) {
                throw new IllegalArgumentException("workGroupSize: got " + workGroupSize + "; it must be in [1, 4096]");
            }
        }

        @Override
        public String toString() {
            return "general wg" + workGroupSize;
        }
    }
}
