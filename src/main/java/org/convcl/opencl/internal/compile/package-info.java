/**
 * Internal: program compilation: kernel sources (jar or {@code convcl.kernels.dir}), {@code -D} build options, programs
 * cached per context in memory and as device binaries on disk. No compatibility promise, not in the Javadoc.
 */
package org.convcl.opencl.internal.compile;
