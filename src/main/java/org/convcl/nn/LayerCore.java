package org.convcl.nn;

import java.util.Arrays;
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
 * there ({@link DeviceParameters}). The parameters are held by reference; otherwise immutable and thread-safe (each
 * call allocates its own outputs and temporaries).
 *
 * @param <G> the geometry the layer reports ({@code ConvGeometry} or {@code ConvTransposeGeometry})
 */
final class LayerCore<G> {
    private final String name;
    private final Tensor kernel;
    private final Tensor bias;
    private final Tensor mask;
    private final LayerKind<G> kind;
    private final LayerLayout layout;
    private final ConvBackend backend;
    private final HostArrayCalls hostCalls;
    /**
     * Kernel and bias copies on the OpenCL devices this layer has run on (made on the first device call), and
     * whether the layer is closed: one place, so that a call racing with close() cannot upload new copies.
     */
    private final DeviceParameters.Lazy deviceParameters;

    /**
     * For {@code owner} (whose becoming unreachable releases the device copies), named {@code name} in messages,
     * with parameters its builder checked; {@code backend} null picks the default one.
     */
    LayerCore(Object owner, String name, LayerKind<G> kind, Tensor kernel, Tensor bias, Tensor mask, Layout layout,
            ConvBackend backend) {
        this.name = name;
        this.kernel = kernel;
        this.bias = bias;
        this.mask = mask;
        this.kind = kind;
        this.layout = kind.layout(layout, kernel.shape());
        this.deviceParameters = new DeviceParameters.Lazy(owner, this.layout.arrangements());
        // The default backend is chosen only now, once, and only when the caller named none: choosing it
        // may probe OpenCL devices, which a caller that picked a backend must not pay for.
        this.backend = backend != null ? backend : Backends.defaultBackend();
        this.hostCalls = HostArrayCalls.choose(this.backend, this.layout);
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

    ConvBackend backend() {
        return backend;
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

    /** The masked kernel as a device receives it (see {@link LayerLayout#residentKernel}). */
    Tensor residentKernel() {
        return layout.residentKernel(effectiveKernel(), kernel.shape());
    }

    /** The resident copies, made on the first device call (refused once closed). */
    DeviceParameters deviceParameters() {
        return deviceParameters.get();
    }

    // ---- host tensors ---------------------------------------------------------------------------------------

    Tensor apply(Tensor x) {
        deviceParameters.ensureOpen();
        LayerChecks.input(x);
        return hostCalls.apply(this, step(x.shape()), x);
    }

    ConvGradients backward(Tensor x, Tensor dy) {
        deviceParameters.ensureOpen();
        LayerChecks.input(x);
        ConvStep step = step(x.shape());
        LayerChecks.cotangent(dy, layout.userShape(step.outputShape()), x.shape());
        return hostCalls.backward(this, step, x, dy);
    }

    // ---- device tensors -------------------------------------------------------------------------------------

    DeviceTensor apply(DeviceTensor x) {
        deviceParameters.ensureOpen();
        LayerChecks.input(x);
        DeviceTensor y = x.backend().allocate(outputShape(x.shape()));
        try {
            apply(x, y);
        } catch (RuntimeException e) {
            y.close();
            throw e;
        }
        return y;
    }

    void apply(DeviceTensor x, DeviceTensor out) {
        deviceParameters.ensureOpen();
        LayerChecks.input(x);
        ConvStep step = step(x.shape());
        OpenClBackend device = x.backend();
        deviceParameters.get().use(device, this::residentKernel, bias,
                (deviceKernel, deviceBias) -> forward(device, step, x, deviceKernel, deviceBias, out));
    }

    DeviceGradients backward(DeviceTensor x, DeviceTensor dy) {
        deviceParameters.ensureOpen();
        LayerChecks.input(x);
        ConvStep step = step(x.shape());
        LayerChecks.cotangent(x, dy, layout.userShape(step.outputShape()));
        OpenClBackend device = x.backend();
        return deviceParameters.get().use(device, this::residentKernel, bias, mask,
                resident -> backward(device, step, x, dy, resident));
    }

    /** The step on device tensors in the user's layout, with the resident (channels-last) parameters. */
    void forward(OpenClBackend device, ConvStep step, DeviceTensor x, DeviceTensor deviceKernel,
            DeviceTensor deviceBias, DeviceTensor out) {
        layout.run(device, x, out, step.outputShape(), (internalX, internalOut) ->
                new DeviceConvOps(device).forward(step, internalX, deviceKernel, deviceBias, internalOut));
    }

    /** The backward recipe on device tensors in the user's layout, with the parameters resident there. */
    DeviceGradients backward(OpenClBackend device, ConvStep step, DeviceTensor x, DeviceTensor dy,
            DeviceParameters.Resident parameters) {
        return layout.backward(device, x, dy, (internalX, internalDy) -> {
            BackwardRecipe.Gradients<DeviceTensor> gradients = new DeviceConvOps(device).backward(step, internalX,
                    internalDy, parameters.flipped()::forGroups, parameters.mask(), parameters.bias() != null);
            return new DeviceGradients(gradients.dx(), gradients.dkernel(), gradients.dbias());
        });
    }

    // ---- lifetime -------------------------------------------------------------------------------------------

    void parametersChanged() {
        deviceParameters.invalidate();
    }

    void releaseDeviceParameters() {
        deviceParameters.release();
    }

    void close() {
        deviceParameters.close();
    }

    boolean isClosed() {
        return deviceParameters.isClosed();
    }

    /** The layer in error messages: its type and kernel shape, and whether it has a bias and a mask. */
    @Override
    public String toString() {
        return name + "(kernel " + Arrays.toString(kernel.shape()) + (bias == null ? "" : ", bias")
                + (mask == null ? "" : ", mask") + layout.describe() + ")";
    }
}
