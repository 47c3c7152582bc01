/**
 * Where convolutions run: the {@link ConvBackend} interface (with the {@link org.convcl.EdgePadding} maps it takes),
 * the pure-Java {@link CpuBackend}, and selection ({@link org.convcl.nn.Backends}, {@link BackendChoice}); OpenCL's is in opencl.
 */
package org.convcl.backend;

import org.convcl.backend.cpu.CpuBackend;