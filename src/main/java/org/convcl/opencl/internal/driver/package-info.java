/**
 * Internal: loading and living with OpenCL drivers: JOCL and the ICD loader, the signal handlers LLVM-based drivers
 * replace (put back, or warned about), PoCL's cache directory. No compatibility promise, not in the Javadoc.
 */
package org.convcl.opencl.internal.driver;
