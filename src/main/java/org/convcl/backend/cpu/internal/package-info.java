/**
 * Internal: the Java path's kernels behind {@code CpuBackend} (rows and source tables, Vector API register-blocked,
 * Winograd and depthwise kernels, plain-loop fallbacks); no compatibility promise, not in the Javadoc.
 */
package org.convcl.backend.cpu.internal;
