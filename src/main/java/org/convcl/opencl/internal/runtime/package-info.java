/**
 * Internal: JOCL's handles as owned, counted objects (context and queues, buffers, programs, kernels, events),
 * memory (the caching allocator, pinned staging and host transfers) and program compilation (kernel sources from
 * the jar or {@code convcl.kernels.dir}, {@code -D} build options, programs cached per context in memory and as
 * device binaries on disk). No compatibility promise, not in the Javadoc.
 */
package org.convcl.opencl.internal.runtime;
