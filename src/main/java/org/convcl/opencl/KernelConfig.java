package org.convcl.opencl;

/**
 * Which kernel a plan runs and how it is blocked: the knobs a tuner turns. A plan is compiled for one
 * geometry and one config.
 */
public sealed interface KernelConfig permits KernelConfig.Gemm, KernelConfig.General {

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
