/**
 * {@code scripts/spark-demo}: {@link SparkDemo} runs {@link org.convcl.spark.ConvTransformer} on a local Spark over
 * generated samples and checks every output row against convcl's Java path, outside Spark.
 */
package org.convcl.spark.demo;
