/**
 * Internal: kernel variants proven on the device before they serve a call. A variant beyond the portable kernels
 * (the warp-level mma path) is built and run on a tiny case on its first use and compared with the Java path; one
 * that fails is disabled for that device and driver (remembered in the cache directory) and calls take the portable
 * path. The same cases are what {@code convcl devices --check} runs for every variant. No compatibility promise,
 * not in the Javadoc.
 */
package org.convcl.opencl.internal.probe;
