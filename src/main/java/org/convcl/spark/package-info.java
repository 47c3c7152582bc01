/**
 * convcl on Apache Spark: {@link org.convcl.spark.ConvTransformer}, a Spark ML {@code Transformer} that convolves a
 * column of flattened samples on the executors, in batches, through one convcl layer per executor, on the GPU that
 * Spark gives each task (matched to its OpenCL device by PCI bus on NVIDIA) or on the Java path.
 *
 * <p>Spark is a {@code provided} dependency of convcl: jobs run on the cluster's own Spark 3.5 (Scala 2.12), and
 * projects that use convcl without Spark get no Spark classes. The executors need the JVM flag
 * {@code --add-modules jdk.incubator.vector} for the Java path's fast kernels (README, "Spark").
 */
package org.convcl.spark;
