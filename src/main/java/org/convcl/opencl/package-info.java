/**
 * The OpenCL backend, through JOCL.
 *
 * <ul>
 *   <li>{@link org.convcl.opencl.DeviceDiscovery} lists every device of every platform (never throwing for a
 *       missing library, ICD or device) and {@link org.convcl.opencl.DeviceSelector} picks one;
 *       {@code org.convcl.backend.Backends} turns {@code auto | cpu | opencl} into a backend.</li>
 *   <li>{@link org.convcl.opencl.OpenClBackend} owns one context and in-order queue per device, compiled
 *       {@link org.convcl.opencl.internal.plan.ConvPlan}s (one per geometry without its batch, bias flag and
 *       {@link org.convcl.opencl.internal.plan.KernelConfig}), a pool of device buffers for host-array calls, and every
 *       {@link org.convcl.opencl.DeviceTensor} made on it.</li>
 *   <li>Kernel sources live in the project's {@code kernels/} folder and ship in the jar
 *       ({@link org.convcl.opencl.internal.compile.KernelSources}; override folder: {@code convcl.kernels.dir} /
 *       {@code CONVCL_KERNELS_DIR}). Plans specialise them with {@code -D} options only: sizes, strides,
 *       dilations, padding, edge mode, and the {@link org.convcl.opencl.internal.plan.Tiling} of the implicit-GEMM kernel.
 *       {@code conv_gemm.cl} serves ranks 1 to 3 (input dilation by output phase, without multiplying its
 *       zeros: {@link org.convcl.opencl.internal.plan.PhaseDecomposition}; 1x1 kernels as a plain GEMM);
 *       {@code conv_depthwise.cl} depthwise convolutions in one pass over the data; {@code conv_general.cl}
 *       any rank, from per-dim source-index tables. A program may be built from several files, shared code
 *       first: the GEMM and depthwise kernels each follow {@code conv_geometry.cl}.</li>
 *   <li>Which kernel and blocking a plan uses ({@link org.convcl.opencl.internal.plan.KernelConfig}) comes from
 *       {@link org.convcl.opencl.internal.tuning.DefaultConfigs}: the device's {@link org.convcl.opencl.internal.tuning.TuningDatabase}
 *       (written by {@code convcl tune}, {@code org.convcl.opencl.tuning}), then results shipped in the jar,
 *       then per-device-class defaults.</li>
 *   <li>Built programs are cached in memory per context and as device binaries on disk, keyed by device,
 *       vendor, driver and OpenCL version, platform, the hash of every source file and build options, in
 *       {@code convcl.cache.dir} / {@code CONVCL_CACHE_DIR}, else {@code $XDG_CACHE_HOME/convcl}, else
 *       {@code ~/.cache/convcl}. Entries that do not verify are rebuilt from source.</li>
 *   <li>Every native object is an owner that releases once and is counted in
 *       {@link org.convcl.opencl.internal.runtime.NativeResources}; a closed one throws {@link java.lang.IllegalStateException}.
 *       OpenCL failures are {@link org.convcl.opencl.OpenClException}s naming the operation and the CL error;
 *       compile failures are {@link org.convcl.opencl.KernelBuildException}s carrying the build log.</li>
 * </ul>
 *
 * <p>Device memory comes from each backend's caching allocator ({@code BufferPool}): device tensors, layers'
 * resident copies and call temporaries take buffers by size class and give them back on close. Kernel device
 * time is read from OpenCL profiling events while a thread records ({@link org.convcl.opencl.internal.runtime.KernelEvents}).
 *
 * <p>Native safety. LLVM-based drivers (PoCL) replace the JVM's signal handlers when they load: on JDK 22+ the
 * driver calls that may do so run inside {@code DriverSignalGuard}, which puts the handlers back through
 * {@code sigaction} (the foreign function API, reached by reflection); elsewhere {@code SignalChainingCheck}
 * warns once unless the JDK's libjsig is preloaded. JOCL 2.0.5 loads the ICD loader under the name
 * {@code libOpenCL.so} (on Debian and Ubuntu from {@code ocl-icd-opencl-dev}); with only {@code libOpenCL.so.1}
 * present, discovery reports that (scripts/convcl links the name itself) and {@code auto} uses the Java path.
 */
package org.convcl.opencl;
