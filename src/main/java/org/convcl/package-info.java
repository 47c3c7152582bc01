/**
 * The values every layer of the library shares: {@link org.convcl.Tensor}, the specs of a convolution and of a
 * transposed one ({@link org.convcl.ConvSpec}, {@link org.convcl.ConvTransposeSpec}) with their
 * {@link org.convcl.Padding}, {@link org.convcl.Precision} and {@link org.convcl.Layout}, a pooling's
 * {@link org.convcl.PoolOp} and {@link org.convcl.PoolSpec}, and the geometries resolved from them. They depend on nothing above them; the layers that use them are in {@code org.convcl.nn}.
 */
package org.convcl;
