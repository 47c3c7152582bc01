/**
 * The pure-Java engine, {@link org.convcl.backend.cpu.CpuBackend}: multithreaded, vectorised with the JDK's Vector
 * API when the JVM opens it, no native dependency; its kernels live in {@code backend.cpu.internal}.
 */
package org.convcl.backend.cpu;
