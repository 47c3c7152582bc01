package org.convcl.backend.cpu;

import org.convcl.backend.cpu.internal.WinogradCall;
import org.convcl.backend.cpu.internal.HalfRowTasks;
import org.convcl.backend.cpu.internal.HalfPointwiseTasks;
import org.convcl.backend.internal.DecodedHalfForward;
import org.convcl.backend.internal.HalfHostEpilogue;
import org.convcl.backend.internal.HalfHostGradients;
import org.convcl.DType;
import org.convcl.HalfFloats;
import org.convcl.backend.cpu.internal.KernelOperand;
import org.convcl.backend.cpu.internal.PatchGemmTasks;
import org.convcl.backend.cpu.internal.PointwiseTasks;
import org.convcl.backend.cpu.internal.PreparedKernels;
import org.convcl.backend.cpu.internal.Scratch;
import org.convcl.backend.cpu.internal.CpuKernels;
import org.convcl.backend.cpu.internal.ConvRows;
import org.convcl.backend.cpu.internal.RowTasks;
import org.convcl.backend.cpu.internal.StoreEpilogue;
import org.convcl.backend.internal.HostEpilogue;
import org.convcl.backend.internal.HostPooling;
import org.convcl.PoolGeometry;
import org.convcl.PoolOp;
import org.convcl.Epilogue;
import org.convcl.backend.internal.ImplicitZeros;
import org.convcl.backend.internal.CpuGradients;
import org.convcl.backend.internal.CpuEdges;
import org.convcl.backend.ConvBackend;
import org.convcl.backend.internal.CallerInterrupt;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntConsumer;
import org.convcl.ConvGeometry;
import org.convcl.EdgePadding;
import org.convcl.Precision;
import org.convcl.internal.CpuWorkers;
import org.convcl.backend.internal.HostOperands;
import org.convcl.internal.Tf32;

/**
 * The pure-Java convolution: a direct loop nest (no im2col, nothing allocated in proportion to the problem
 * beyond the output) split into tasks of output rows that run on every core. The arithmetic lives in the
 * row kernels of {@code backend.cpu}: a Vector API register-blocked kernel when the JVM offers that module,
 * a depthwise kernel, and plain loops otherwise. A 1x1 convolution without padding is one matrix multiply, cut
 * into tiles of positions by channels instead of rows ({@code PointwiseTasks}) where the Vector API is open. In {@link Precision#TF32} the operands are rounded copies
 * ({@link ConvGeometry#productPrecision()}). The kernels skip the zeros of padding and input dilation; where a
 * NaN or infinite weight meets one, {@link ImplicitZeros} writes the NaN that jax's inserted zeros give.
 *
 * <p>Thread-safe and stateless; parallel work runs on {@link CpuWorkers}. Interrupting the calling
 * thread stops a call within one task (a few hundred output positions) with a
 * {@link java.util.concurrent.CancellationException}; the thread's interrupt flag stays set. Both instances
 * are shared singletons: {@link #close()} is refused.
 */
public final class CpuBackend implements ConvBackend {
    /** Output positions a task aims for: enough to amortise scheduling, few enough to balance cores. */
    private static final int POSITIONS_PER_TASK = 256;

    private static final CpuBackend PARALLEL = new CpuBackend(true);
    private static final CpuBackend SEQUENTIAL = new CpuBackend(false);

    private final boolean parallel;

    private CpuBackend(boolean parallel) {
        this.parallel = parallel;
    }

    /** The Java path on every core. */
    public static CpuBackend instance() {
        return PARALLEL;
    }

    /** The Java path on the calling thread only, for comparisons and for callers that parallelise above. */
    public static CpuBackend sequential() {
        return SEQUENTIAL;
    }

    /**
     * Whether this JVM runs the Java path's Vector API kernels (started with {@code --add-modules
     * jdk.incubator.vector}); without it the same results come from plain loops, much slower.
     */
    public static boolean vectorApiAvailable() {
        return CpuKernels.vectorApiAvailable();
    }

    /**
     * What the Java path keeps of kernels between calls, JVM-wide (both instances share it): the prepared forms
     * (Winograd transforms, packed panels) of the kernels that host calls pass again and again, and, apart from
     * them, the copies of those kernels' values that each call compares the kernel against, so that a kernel
     * changed in place is never used through a stale form.
     */
    public static PreparedMemory preparedKernelMemory() {
        PreparedKernels.Held held = PreparedKernels.shared().held();
        return new PreparedMemory(held.formBytes(), held.snapshotBytes());
    }

    /** See {@link #preparedKernelMemory()}. */
    public record PreparedMemory(long formBytes, long snapshotBytes) {
    }

    @Override
    public String name() {
        return parallel ? "cpu" : "cpu (1 thread)";
    }

    /** {@code HostPooling}'s forward with its rows folded by the Vector API where the JVM opened it (same bits). */
    @Override
    public void poolForward(PoolOp op, PoolGeometry geometry, float[] input, float[] output) {
        HostPooling.forward(op, geometry, input, output, CpuKernels.poolRows());
    }

    /** Both instances are JVM-wide singletons. */
    @Override
    public boolean isShared() {
        return true;
    }

    /**
     * Refused, as for every shared backend. The Java path holds nothing to release, but {@code auto} picks it on
     * one machine and a shared OpenCL backend on another: refusing here too makes code that closes what
     * {@link org.convcl.nn.Backends#select} returned fail on every machine, not only where a GPU is found.
     *
     * @throws IllegalStateException always
     */
    @Override
    public void close() {
        throw new IllegalStateException(name() + " is the JVM-wide shared Java-path backend, used by every layer "
                + "that selected it, so its users may not close it (it holds nothing to release). Close only "
                + "backends you own, made with OpenClBackend.create(device).");
    }

    @Override
    public void forward(ConvGeometry g, float[] input, float[] kernel, float[] bias, float[] output) {
        // The same checks as the OpenCL backend's, before anything is written: the row kernels index the arrays
        // by the geometry alone.
        HostOperands.forward(g, input, kernel, bias, output);
        compute(g, input, kernel, bias, null, output);
    }

    /**
     * The epilogue in the store: each task applies it to the block of output it has just written, while that
     * block is in cache (see {@link StoreEpilogue}), on every path; the result has the bits of the plain
     * {@link #forward(ConvGeometry, float[], float[], float[], float[])} followed by {@link HostEpilogue#apply}.
     */
    @Override
    public void forward(ConvGeometry g, float[] input, float[] kernel, float[] bias, Epilogue<float[]> epilogue,
            float[] output) {
        HostOperands.forward(g, input, kernel, bias, output);
        HostEpilogue.check(epilogue, g.outChannels(), output.length);
        compute(g, input, kernel, bias, StoreEpilogue.of(epilogue, g.outChannels(), output), output);
    }

    /**
     * {@code store}, or where its residual is the output (the in-place residual add) and the route about to run
     * does not read it first ({@code readsFirst} false), the store over a copy of the whole residual. The routes
     * whose stores apply the epilogue (the 1x1 and patch matrix multiplies, the row kernels, Winograd's tiles and
     * phases: every ResNet layer) copy each task's own part of the residual aside before they write it instead
     * ({@code TaskResidual}); the plain loops and the transcendental activations store sums before they read the
     * residual back, so they take the whole copy.
     */
    private static StoreEpilogue residualSafe(StoreEpilogue store, boolean readsFirst) {
        return store == null || readsFirst || !store.residualIsOutput() ? store : store.overResidualCopy();
    }

    /** The checked call; {@code store} is null for the plain forward. */
    @Override
    public void fixKernel(float[] kernel) {
        PreparedKernels.shared().fix(kernel);
    }

    @Override
    public void releaseKernel(float[] kernel) {
        PreparedKernels.shared().release(kernel);
    }

    private void compute(ConvGeometry g, float[] input, float[] kernel, float[] bias, StoreEpilogue store,
            float[] output) {
        if (g.batch() == 0 || g.outputSpatialSize() == 0 || g.outChannels() == 0) {
            return;
        }
        // Sums start at +0 as XLA's do, so a bias of -0.0 counts as +0.0: the kernels start from the bias, and
        // -0.0 plus products that are all -0.0 would stay -0.0 where XLA's (+0 + products) + bias is +0.0.
        bias = positiveZeros(bias);
        if (g.inChannelsPerGroup() == 0) {
            // An empty sum: every output is its bias. Answered before the per-tap tables are built, which
            // grow with output positions times kernel taps, and a kernel with no channels may have any
            // number of taps for free (two tiny .npy files could otherwise exhaust the heap).
            // The bias is written before the epilogue reads the residual.
            fillWithBias(bias, g.outChannels(), residualSafe(store, false), output);
            return;
        }
        // TF32: the same kernels on rounded copies of both operands (float32 accumulation), which is what tensor
        // cores and the OpenCL kernels compute; the caller's arrays stay as they are.
        float[] operandInput = g.productPrecision() == Precision.TF32 ? Tf32.roundedCopy(input) : input;
        KernelOperand operandKernel = new KernelOperand(g, kernel, PreparedKernels.shared());
        // A strided layer with few output positions per image goes to the patch matrix multiply before Winograd's
        // phases (PatchGemmTasks.fewPositions says why); one the phases do not take goes there before the rows.
        boolean done = PatchGemmTasks.fewPositions(g) && forwardByPatches(g, operandInput, operandKernel, bias, store,
                output);
        if (!done) {
            WinogradCall winograd = WinogradCall.prepare(g, operandKernel, bias);
            if (winograd != null) {
                StoreEpilogue safe = residualSafe(store, store != null && winograd.takesInPlaceResidual(store));
                forwardByWinograd(g, winograd, operandInput, operandKernel, bias, safe, output);
                done = true;
            }
        }
        if (!done && !forwardByPatches(g, operandInput, operandKernel, bias, store, output)) {
            forwardDirect(g, operandInput, operandKernel, bias, store, output);
        }
        // The kernels skip padding and input-dilation zeros; a non-finite weight over one is NaN (0 * Inf). Written
        // after the store's epilogue, which is still exact: every activation maps a NaN sum to NaN. A kernel that a
        // prepared form proved finite has no such weight.
        if (!operandKernel.knownFinite()) {
            ImplicitZeros.forward(g, operandKernel.values(), output);
        }
    }

    /** The call through {@link PatchGemmTasks}, when that path takes it; false otherwise. */
    private boolean forwardByPatches(ConvGeometry g, float[] input, KernelOperand kernel, float[] bias,
            StoreEpilogue store, float[] output) {
        PatchGemmTasks patches = PatchGemmTasks.of(g, kernel);
        if (patches == null) {
            return false;
        }
        StoreEpilogue safe = residualSafe(store, store != null && PatchGemmTasks.takesInPlaceResidual(store));
        runTasks(g, patches.count(), task -> patches.run(task, input, bias, output, safe));
        return true;
    }

    private void forwardDirect(ConvGeometry g, float[] operandInput, KernelOperand operandKernel, float[] bias,
            StoreEpilogue store, float[] output) {
        PointwiseTasks pointwise = PointwiseTasks.of(g, operandKernel);
        if (pointwise != null) {
            StoreEpilogue safe = residualSafe(store, store != null && PointwiseTasks.takesInPlaceResidual(g, store));
            runTasks(g, pointwise.count(), task -> pointwise.run(task, operandInput, bias, output, safe));
            return;
        }
        RowTasks tasks = RowTasks.of(new ConvRows(g), operandKernel, POSITIONS_PER_TASK);
        StoreEpilogue safe = residualSafe(store, store != null && tasks.takesInPlaceResidual(store));
        runTasks(g, tasks.count(), task -> tasks.run(task, operandInput, bias, output, safe));
    }

    /**
     * The forward on float16 or bfloat16 host data, converted inside the parallel tasks, never as a pass over a
     * tensor: the kernel and the bias (small, read by every task) are decoded to float32 once per call; each task,
     * one row segment of one batch element ({@link HalfRowTasks}), decodes the input lines its window reads into a
     * float scratch of one element, runs the float32 row kernels on it, and rounds the outputs it wrote to the type
     * (nearest even). So the sums are float32's over the products of the 16-bit values, as on the OpenCL path;
     * the output bits may differ from the OpenCL kernels' where the two sum in another order. A 1x1 call without
     * padding (the bulk of a ResNet's work) runs the float32 1x1 tiles instead, where the Vector API is open
     * ({@link HalfPointwiseTasks}): each tile decodes its rows' input pixels and rounds the outputs it wrote.
     *
     * <p>Winograd is not used on 16-bit data, and the decoded kernel is not kept across calls.
     * Two rare kinds of call take whole-array copies instead ({@link DecodedHalfForward}): a kernel with a NaN or an
     * infinity (whose products with padding zeros the float32 path writes after its tasks), and a kernel with no
     * input channels (every output its bias).
     */
    @Override
    public void forward(ConvGeometry g, DType dtype, short[] input, short[] kernel, short[] bias, short[] output) {
        HostOperands.forward(g, dtype, input, kernel, bias, output);
        computeHalf(g, dtype, input, kernel, bias, null, null, output);
    }

    /**
     * The 16-bit forward with the epilogue applied by each task to the block of output it has just computed, in
     * float32 before the block is rounded (the residual's block decoded beside it): the float32 forward on the
     * decoded operands, its epilogue with the decoded residual, rounded once, as {@link ConvBackend} defines it.
     */
    @Override
    public void forward(ConvGeometry g, DType dtype, short[] input, short[] kernel, short[] bias,
            Epilogue<float[]> epilogue, short[] residual, short[] output) {
        HostOperands.forward(g, dtype, input, kernel, bias, output);
        HalfHostEpilogue.check(epilogue, dtype, residual, g.outChannels(), output.length);
        computeHalf(g, dtype, input, kernel, bias, epilogue, residual, output);
    }

    /** The checked 16-bit call; {@code epilogue} and {@code residual} null for the plain forward. */
    private void computeHalf(ConvGeometry g, DType dtype, short[] input, short[] kernel, short[] bias,
            Epilogue<float[]> epilogue, short[] residual, short[] output) {
        if (output.length == 0) {
            return;
        }
        float[] kernelValues = HalfFloats.decode(dtype, kernel);
        if (g.inChannelsPerGroup() == 0 || !allFinite(kernelValues)) {
            DecodedHalfForward.forward(this::forward, g, dtype, input, kernel, bias, epilogue, residual, output);
            return;
        }
        float[] biasValues = bias == null ? null : positiveZeros(HalfFloats.decode(dtype, bias));
        HalfPointwiseTasks pointwise = HalfPointwiseTasks.of(g, dtype, kernelValues);
        if (pointwise != null) {
            runTasks(g, pointwise.count(),
                    task -> pointwise.run(task, input, biasValues, epilogue, residual, output));
            return;
        }
        // One batch element's geometry, in HIGHEST: TF32 would round the operands, and 16-bit values are exact in it.
        ConvGeometry element = ConvGeometry.explicit(new int[] {1}, g.inSpatial(), g.inChannels(), g.kernelSpatial(),
                g.outChannels(), g.groups(), g.strides(), g.inputDilation(), g.kernelDilation(), g.padLo(),
                g.padHi(), g.edgeMode());
        HalfRowTasks tasks = HalfRowTasks.of(element, g.batch(), dtype, kernelValues, POSITIONS_PER_TASK);
        runTasks(g, tasks.count(), task -> tasks.run(task, input, biasValues, epilogue, residual, output));
    }

    private static boolean allFinite(float[] values) {
        for (float v : values) {
            if (!Float.isFinite(v)) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void kernelGradient(ConvGeometry g, float[] input, float[] outputGradient, float[] kernelGradient) {
        HostOperands.kernelGradient(g, input, outputGradient, kernelGradient);
        CpuGradients.kernelGradient(g, input, outputGradient, kernelGradient);
    }

    /**
     * The kernel gradient of 16-bit operands converted inside the reduction's workers ({@link CpuGradients}: each
     * block of positions decodes its output-gradient rows into a float scratch, and the input values as it reads
     * them), the float32 result rounded once. An output gradient with a NaN or an infinity (whose products with
     * padding zeros the float32 path writes after its reduction) takes whole-array copies instead.
     */
    @Override
    public void kernelGradient(ConvGeometry g, DType dtype, short[] input, short[] outputGradient,
            short[] kernelGradient) {
        HalfHostGradients.checkKernelGradient(g, dtype, input, outputGradient, kernelGradient);
        if (!HalfHostGradients.allFinite(dtype, outputGradient)) {
            HalfHostGradients.kernelGradient(this::kernelGradient, g, dtype, input, outputGradient, kernelGradient);
            return;
        }
        float[] values = new float[kernelGradient.length];
        CpuGradients.kernelGradient(g, dtype, input, outputGradient, values);
        HalfFloats.encode(dtype, values, 0, kernelGradient, 0, values.length);
    }

    /** The float32 bias gradient of a 16-bit output gradient, decoded by the reduction's workers as they read it. */
    @Override
    public void biasGradient(int rows, int channels, DType dtype, short[] outputGradient, float[] biasGradient) {
        HalfHostGradients.checkBiasGradient(rows, channels, dtype, outputGradient, biasGradient);
        CpuGradients.biasGradient(rows, channels, dtype, outputGradient, biasGradient);
    }

    @Override
    public void biasGradient(int rows, int channels, float[] outputGradient, float[] biasGradient) {
        HostOperands.biasGradient(rows, channels, outputGradient, biasGradient);
        CpuGradients.biasGradient(rows, channels, outputGradient, biasGradient);
    }

    @Override
    public void pad(EdgePadding padding, float[] source, float[] padded) {
        HostOperands.pad(padding, source, padded);
        CpuEdges.pad(padding, source, padded);
    }

    @Override
    public void fold(EdgePadding padding, float[] padded, float[] bias, float[] source) {
        HostOperands.fold(padding, padded, bias, source);
        CpuEdges.fold(padding, padded, bias, source);
    }

    /** The fold with the epilogue applied to each slice of {@code source} as soon as the slice is summed. */
    @Override
    public void fold(EdgePadding padding, float[] padded, float[] bias, Epilogue<float[]> epilogue,
            float[] source) {
        HostOperands.fold(padding, padded, bias, source);
        HostEpilogue.check(epilogue, padding.channels(), source.length);
        CpuEdges.fold(padding, padded, bias, HostEpilogue.residualReadFirst(epilogue, source), source);
    }

    /**
     * Computes the call through Winograd, prepared ({@link WinogradCall#prepare}: 3-tap kernels at stride 1, input
     * dilation 2, 2-tap kernels). A block whose outputs came out NaN or infinite, whose propagation the transforms
     * change, is written from the call's sums computed the direct way instead (in a temporary array, a rare path:
     * a non-finite input, or an overflow in the transforms). Every block is computed either way, so which outputs
     * have the direct way's bits depends on the data only, never on the threads' timing.
     */
    private void forwardByWinograd(ConvGeometry g, WinogradCall call, float[] input, KernelOperand kernel,
            float[] bias, StoreEpilogue store, float[] output) {
        boolean[] refused = new boolean[call.tasks()];
        AtomicBoolean anyRefused = new AtomicBoolean();
        runTasks(g, call.tasks(), task -> {
            if (!call.computeBlock(task, input, bias, output, store)) {
                refused[task] = true;
                anyRefused.set(true);
            }
        });
        if (anyRefused.get()) {
            float[] sums = new float[output.length];
            forwardDirect(g, input, kernel, bias, null, sums);
            for (int task = 0; task < refused.length; task++) {
                if (refused[task]) {
                    call.finishBlock(task, sums, output, store);
                }
            }
        }
    }

    /** Runs a call's tasks on every core (or this thread only), each stopping the call if the caller was interrupted. */
    private void runTasks(ConvGeometry g, int tasks, IntConsumer task) {
        Thread caller = Thread.currentThread();
        IntConsumer body = t -> {
            // Tasks run on worker threads too; each checks the caller so that interrupting it stops the call.
            CallerInterrupt.check(caller, "convolution", g);
            task.accept(t);
        };
        if (parallel) {
            CpuWorkers.forEach(tasks, body);
        } else {
            for (int t = 0; t < tasks; t++) {
                body.accept(t);
            }
        }
    }

    private static void fillWithBias(float[] bias, int channels, StoreEpilogue store, float[] output) {
        for (int i = 0; i < output.length; i += channels) {
            if (bias == null) {
                Arrays.fill(output, i, i + channels, 0f);
            } else {
                System.arraycopy(bias, 0, output, i, channels);
            }
            if (store != null) {
                store.applyPosition(i);
            }
        }
    }

    /** {@code bias} with each -0.0 made +0.0 (a copy only when there is one); null stays null. */
    static float[] positiveZeros(float[] bias) {
        if (bias == null) {
            return null;
        }
        for (int i = 0; i < bias.length; i++) {
            if (Float.floatToRawIntBits(bias[i]) == Integer.MIN_VALUE) {
                float[] copy = bias.clone();
                for (int j = i; j < copy.length; j++) {
                    copy[j] += 0f;
                }
                return copy;
            }
        }
        return bias;
    }

}
