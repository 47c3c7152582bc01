/**
 * Internal: which KernelConfig a plan uses (the device's tuning database, results shipped in the jar, class defaults)
 * and the tuner of {@code convcl tune} that fills the database. No compatibility promise, not in the Javadoc.
 */
package org.convcl.opencl.internal.tuning;
