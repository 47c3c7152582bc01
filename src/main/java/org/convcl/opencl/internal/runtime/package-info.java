/**
 * Internal: JOCL's handles as owned, counted objects (context and queues, buffers, programs, kernels, events) and
 * memory: the caching allocator, pinned staging and host transfers. No compatibility promise, not in the Javadoc.
 */
package org.convcl.opencl.internal.runtime;
