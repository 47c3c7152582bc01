package org.convcl.nn;

import java.util.Arrays;
import org.convcl.Activation;
import org.convcl.DType;
import org.convcl.Epilogue;
import org.convcl.Layout;
import org.convcl.Tensor;
import org.convcl.backend.ConvBackend;
import org.convcl.backend.internal.BackwardRecipe;
import org.convcl.backend.internal.ConvStep;
import org.convcl.internal.KernelLayout;
import org.convcl.opencl.DeviceConvOps;
import org.convcl.opencl.DeviceTensor;
import org.convcl.opencl.OpenClBackend;

/**
 * The one layer that {@link Conv} and {@link ConvTranspose} are views of: it holds the parameters, runs every call
 * as the {@link ConvStep} its {@link LayerKind} derives from the geometry, translates layouts through its
 * {@link LayerLayout} and leaves host arrays to the {@link HostArrayCalls} chosen for its backend, all three picked
 * once at construction. Device-tensor calls run on the device their input lives on, with the parameters resident
 * there ({@link DeviceParameters}). Its epilogue ({@link Epilogue}: scale, shift, activation, and a call's residual)
 * runs in the store of the step's last operation on both paths; a backward pass recomputes the convolution's output
 * from {@code x} ({@link BackwardRecipe}). The parameters are held by reference; otherwise immutable and thread-safe
 * (each call allocates its own outputs and temporaries).
 *
 * <p>Its {@link DType} is the type its device calls compute in: their tensors hold it, the resident kernel, bias and
 * mask are rounded to it once per upload (scale and shift stay float32), outputs and dx, dkernel come out in it,
 * dbias float32. Host-tensor calls of a 16-bit layer round their operands to it and return the rounded results
 * widened to float32 ({@link HostArrayCalls}).
 *
 * @param <G> the geometry the layer reports ({@code ConvGeometry} or {@code ConvTransposeGeometry})
 */
final class LayerCore<G> {
    private final String name;
    private final Tensor kernel;
    private final Tensor bias;
    private final Tensor mask;
    private final Tensor scale;
    private final Tensor shift;
    private final Activation activation;
    private final LayerKind<G> kind;
    private final LayerLayout layout;
    private final ConvBackend backend;
    private final HostArrayCalls hostCalls;
    private final DType dtype;
    /**
     * Kernel and bias copies on the OpenCL devices this layer has run on (made on the first device call), and
     * whether the layer is closed: one place, so that a call racing with close() cannot upload new copies.
     */
    private final DeviceParameters.Lazy deviceParameters;
    /** The kernel as the Java path's host calls compute with, kept while the user's values stay the same. */
    private final HostKernel hostKernel = new HostKernel();
    /** Set once, by the layer's constructor, when its parameters are fixed ({@link #fixParameters}). */
    private FixedKernel fixedKernel;

    /**
     * For {@code owner} (whose becoming unreachable releases the device copies), named {@code name} in messages,
     * with parameters its builder checked, computing in {@code dtype}; {@code backend} null picks the default one.
     */
    LayerCore(Object owner, String name, LayerKind<G> kind, Tensor kernel, Tensor bias, Tensor mask,
            EpilogueParameters epilogue, Layout layout, DType dtype, ConvBackend backend) {
        this.name = name;
        this.dtype = dtype;
        this.kernel = kernel;
        this.bias = bias;
        this.mask = mask;
        this.scale = epilogue.scale();
        this.shift = epilogue.shift();
        this.activation = epilogue.activation();
        this.kind = kind;
        this.layout = kind.layout(layout, kernel.shape());
        this.deviceParameters = new DeviceParameters.Lazy(owner, this.layout.arrangements(), scale, shift,
                dtype);
        // The default backend is chosen only now, once, and only when the caller named none: choosing it
        // may probe OpenCL devices, which a caller that picked a backend must not pay for.
        this.backend = backend != null ? backend : Backends.defaultBackend();
        this.hostCalls = HostArrayCalls.choose(this.backend, this.layout, dtype);
    }

    Tensor kernel() {
        return kernel;
    }

    Tensor bias() {
        return bias;
    }

    Tensor mask() {
        return mask;
    }

    Tensor scale() {
        return scale;
    }

    Tensor shift() {
        return shift;
    }

    Activation activation() {
        return activation;
    }

    /** Whether the layer's own epilogue (without a call's residual) changes the convolution's output. */
    boolean hasEpilogue() {
        return scale != null || shift != null || !activation.isIdentity();
    }

    /** The layer's epilogue on host arrays, with a call's channels-last {@code residual} (or null). */
    Epilogue<float[]> hostEpilogue(float[] residual) {
        return new Epilogue<>(activation, scale == null ? null : scale.data(), shift == null ? null : shift.data(),
                residual);
    }

    /** The layer's epilogue with its resident scale and shift, and a call's channels-last {@code residual}. */
    Epilogue<DeviceTensor> deviceEpilogue(DeviceParameters.Resident parameters, DeviceTensor residual) {
        return new Epilogue<>(activation, parameters.scale(), parameters.shift(), residual);
    }

    ConvBackend backend() {
        return backend;
    }

    /** The type the layer computes in on a device, and rounds host operands to. */
    DType dtype() {
        return dtype;
    }

    LayerLayout layout() {
        return layout;
    }

    G geometry(int[] inputShape) {
        return layout.resolve(inputShape, kernel.shape(), kind.inputGroups(), kind.resolve());
    }

    int[] outputShape(int[] inputShape) {
        return layout.userShape(step(inputShape).outputShape());
    }

    private ConvStep step(int[] inputShape) {
        return kind.step().apply(geometry(inputShape));
    }

    /** The kernel as held, times the mask when one is set. */
    float[] effectiveKernel() {
        return KernelLayout.masked(kernel.data(), mask == null ? null : mask.data());
    }

    /**
     * Makes the parameters fixed (the builder's {@code fixedParameters}): host calls trust the kernel and mask
     * values until {@link #parametersChanged()}, as device calls do. Called by the layer's constructor only.
     */
    void fixParameters() {
        fixedKernel = new FixedKernel(backend);
    }

    /** The masked kernel in the layout's internal (channels-last) order, kept across calls while it holds. */
    float[] internalKernel() {
        float[] internal = hostKernel.internal(layout, kernel.data(), mask == null ? null : mask.data(),
                fixedKernel != null);
        return fixedKernel == null ? internal : fixedKernel.promise(internal);
    }

    /** The masked kernel as a device receives it (see {@link LayerLayout#residentKernel}). */
    Tensor residentKernel() {
        return layout.residentKernel(effectiveKernel(), kernel.shape());
    }

    /** The resident copies, made on the first device call (refused once closed). */
    DeviceParameters deviceParameters() {
        return deviceParameters.get();
    }

    // ---- host tensors ---------------------------------------------------------------------------------------

    Tensor apply(Tensor x, Tensor residual) {
        deviceParameters.ensureOpen();
        LayerChecks.input(x);
        ConvStep step = step(x.shape());
        LayerChecks.residual(residual, layout.userShape(step.outputShape()), x.shape());
        return hostCalls.apply(this, step, x, residual);
    }

    /** {@link #apply(Tensor, Tensor)} written into {@code out}, of the output's shape, allocating no output. */
    void apply(Tensor x, Tensor residual, Tensor out) {
        deviceParameters.ensureOpen();
        LayerChecks.input(x);
        ConvStep step = step(x.shape());
        int[] outputShape = layout.userShape(step.outputShape());
        LayerChecks.residual(residual, outputShape, x.shape());
        LayerChecks.output(out, outputShape, x, residual);
        hostCalls.apply(this, step, x, residual, out);
    }

    ConvGradients backward(Tensor x, Tensor residual, Tensor dy) {
        deviceParameters.ensureOpen();
        LayerChecks.input(x);
        ConvStep step = step(x.shape());
        int[] outputShape = layout.userShape(step.outputShape());
        LayerChecks.residual(residual, outputShape, x.shape());
        LayerChecks.cotangent(dy, outputShape, x.shape());
        return hostCalls.backward(this, step, x, residual, dy);
    }

    // ---- device tensors -------------------------------------------------------------------------------------

    DeviceTensor apply(DeviceTensor x, DeviceTensor residual) {
        deviceParameters.ensureOpen();
        checkedInput(x);
        DeviceTensor y = DeviceTensor.allocate(x.backend(), dtype, outputShape(x.shape()));
        try {
            apply(x, residual, y);
        } catch (RuntimeException e) {
            y.close();
            throw e;
        }
        return y;
    }

    void apply(DeviceTensor x, DeviceTensor residual, DeviceTensor out) {
        deviceParameters.ensureOpen();
        checkedInput(x);
        ConvStep step = step(x.shape());
        LayerChecks.residual(x, residual, layout.userShape(step.outputShape()), dtype, this);
        if (out != null) {
            LayerChecks.dtype("out", out, dtype, this);
        }
        LayerChecks.output(out, x);
        OpenClBackend device = x.backend();
        deviceParameters.get().use(device, this::residentKernel, bias,
                resident -> forward(device, step, x, residual, resident, out));
    }

    DeviceGradients backward(DeviceTensor x, DeviceTensor residual, DeviceTensor dy) {
        deviceParameters.ensureOpen();
        checkedInput(x);
        ConvStep step = step(x.shape());
        int[] outputShape = layout.userShape(step.outputShape());
        LayerChecks.residual(x, residual, outputShape, dtype, this);
        LayerChecks.cotangent(x, dy, outputShape, dtype, this);
        OpenClBackend device = x.backend();
        return deviceParameters.get().use(device, this::residentKernel, bias, mask,
                resident -> backward(device, step, x, residual, dy, resident));
    }

    /** Refuses a missing or closed input, or one of another type than the layer's. */
    private void checkedInput(DeviceTensor x) {
        LayerChecks.input(x);
        LayerChecks.dtype("x", x, dtype, this);
    }

    /**
     * The step on device tensors in the user's layout, with the resident (channels-last) parameters and the
     * layer's epilogue (with {@code residual}, in the user's layout, or null) in its last operation's store.
     */
    void forward(OpenClBackend device, ConvStep step, DeviceTensor x, DeviceTensor residual,
            DeviceParameters.Resident parameters, DeviceTensor out) {
        layout.run(device, x, residual, out, step.outputShape(), (internalX, internalResidual, internalOut) ->
                new DeviceConvOps(device).forward(step, internalX, parameters.kernel(), parameters.bias(),
                        deviceEpilogue(parameters, internalResidual), internalOut));
    }

    /**
     * The backward recipe on device tensors in the user's layout, with the parameters resident there; with an
     * epilogue it recomputes the convolution's output from {@code x} first.
     */
    DeviceGradients backward(OpenClBackend device, ConvStep step, DeviceTensor x, DeviceTensor residual,
            DeviceTensor dy, DeviceParameters.Resident parameters) {
        return layout.backward(device, x, residual, dy, (internalX, internalResidual, internalDy) -> {
            BackwardRecipe.Gradients<DeviceTensor> gradients = new DeviceConvOps(device).backward(step, internalX,
                    parameters.kernel(), parameters.bias(), deviceEpilogue(parameters, internalResidual), internalDy,
                    parameters.flipped()::forGroups, parameters.mask(), parameters.bias() != null);
            return new DeviceGradients(gradients.dx(), gradients.dkernel(), gradients.dbias(), gradients.dscale(),
                    gradients.dshift(), gradients.dresidual());
        });
    }

    // ---- lifetime -------------------------------------------------------------------------------------------

    void parametersChanged() {
        deviceParameters.invalidate();
        if (fixedKernel != null) {
            hostKernel.forget();
            fixedKernel.release();
        }
    }

    /** Makes the parameters' copies on {@code device} current now, as a device call would first. */
    void uploadDeviceParameters(OpenClBackend device) {
        if (device == null) {
            throw new IllegalArgumentException("device: got null; expected the OpenClBackend to upload " + this
                    + "'s parameters to");
        }
        deviceParameters.get().use(device, this::residentKernel, bias, resident -> { });
    }

    void releaseDeviceParameters() {
        deviceParameters.release();
    }

    void close() {
        if (fixedKernel != null) {
            fixedKernel.release();
        }
        deviceParameters.close();
    }

    boolean isClosed() {
        return deviceParameters.isClosed();
    }

    /** The layer in error messages: its type and kernel shape, and which of bias, mask and epilogue parts it has. */
    @Override
    public String toString() {
        return name + "(kernel " + Arrays.toString(kernel.shape()) + (bias == null ? "" : ", bias")
                + (mask == null ? "" : ", mask") + (scale == null ? "" : ", scale") + (shift == null ? "" : ", shift")
                + (activation.isIdentity() ? "" : ", " + activation) + layout.describe()
                + (dtype == DType.FLOAT32 ? "" : ", " + dtype.cliName()) + ")";
    }
}
