/**
 * Internal: compiled launches: a ConvPlan per geometry and KernelConfig (implicit GEMM, depthwise, any rank: one
 * ForwardVariant class each, listed in ForwardVariants), the
 * gradient, padding and layout kernels, the chunking of host-array calls. No compatibility promise, not in the Javadoc.
 */
package org.convcl.opencl.internal.plan;
