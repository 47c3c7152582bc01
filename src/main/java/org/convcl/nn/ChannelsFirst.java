package org.convcl.nn;

import org.convcl.Tensor;
import org.convcl.Layout;
import java.util.Arrays;
import java.util.function.BiFunction;
import org.convcl.opencl.DeviceConvOps;
import org.convcl.opencl.DeviceTensor;
import org.convcl.opencl.OpenClBackend;

/**
 * A layer's {@link Layout#CHANNELS_FIRST} boundary: its shapes in the user's layout, checked with messages that
 * name that layout, and the axis moves ({@link AxisMoves}) between them and the channels-last order the engine
 * computes in. Inputs {@code (*batch, C, *spatial)} become {@code (*batch, *spatial, C)} and outputs and input
 * gradients go back; the kernel is held as the user gave it ({@code (Cout, Cin/groups, *k)} for a {@link Conv},
 * PyTorch's {@code (Cin, Cout, *k)} for a {@link ConvTranspose}) and moved to the layer's channels-last kernel
 * ({@code (*k, Cin/groups, Cout)}; {@code (*k, Cin, Cout)}, or {@code (*k, Cout, Cin)} with
 * {@code transposeKernel}), and its gradient back. On the host the moves are Java loops; on an OpenCL device,
 * kernels ({@link DeviceConvOps#transpose}), so a device's data never goes through the host to be moved; a
 * float16 or bfloat16 tensor moves as its bits, its temporaries of its type. Immutable and thread-safe.
 */
final class ChannelsFirst implements LayerLayout {
    private final boolean transposed;
    private final int rank;
    /** The activations' channel axis moves, which depend on the rank alone. */
    private final ChannelAxes.First axes;
    private final int[] kernelShape;
    private final int[] internalKernelShape;
    private final AxisMoves kernelMoves;
    /** The ConvTranspose's transposeKernel: its device kernel is also flipped and channel-swapped. */
    private final boolean flipSwap;

    private ChannelsFirst(boolean transposed, int[] kernelShape, int[] internalKernelShape, AxisMoves kernelMoves,
            boolean flipSwap) {
        this.transposed = transposed;
        this.rank = kernelShape.length - 2;
        this.axes = new ChannelAxes.First(rank);
        this.kernelShape = kernelShape.clone();
        this.internalKernelShape = internalKernelShape;
        this.kernelMoves = kernelMoves;
        this.flipSwap = flipSwap;
    }

    /** For a {@link Conv} whose kernel is {@code (Cout, Cin/groups, *k)} (rank >= 3, checked by the layer). */
    static ChannelsFirst forConv(int[] kernelShape) {
        int out = kernelShape[0];
        int in = kernelShape[1];
        int[] spatial = Arrays.copyOfRange(kernelShape, 2, kernelShape.length);
        int taps = product(spatial);
        // (O, I, K) -> (O, K, I) -> (K, I, O).
        AxisMoves moves = isEmpty(kernelShape) ? AxisMoves.of()
                : AxisMoves.of(new AxisMoves.Step(out, in, taps), new AxisMoves.Step(1, out, taps * in));
        return new ChannelsFirst(false, kernelShape, concat(spatial, in, out), moves, false);
    }

    /**
     * For a {@link ConvTranspose} whose kernel is PyTorch's {@code (Cin, Cout, *k)}, held channels-last as
     * {@code (*k, Cin, Cout)}, or as {@code (*k, Cout, Cin)} with {@code transposeKernel} (rank >= 3, checked by
     * the layer).
     */
    static ChannelsFirst forConvTranspose(int[] kernelShape, boolean transposeKernel) {
        int in = kernelShape[0];
        int out = kernelShape[1];
        int[] spatial = Arrays.copyOfRange(kernelShape, 2, kernelShape.length);
        int taps = product(spatial);
        boolean empty = isEmpty(kernelShape);
        if (!transposeKernel) {
            // (Cin, Cout, K) -> (K, Cin, Cout).
            return new ChannelsFirst(true, kernelShape, concat(spatial, in, out),
                    empty ? AxisMoves.of() : AxisMoves.of(new AxisMoves.Step(1, in * out, taps)), false);
        }
        // (Cin, Cout, K) -> (Cin, K, Cout) -> (K, Cout, Cin).
        AxisMoves moves = empty ? AxisMoves.of()
                : AxisMoves.of(new AxisMoves.Step(in, out, taps), new AxisMoves.Step(1, in, taps * out));
        return new ChannelsFirst(true, kernelShape, concat(spatial, out, in), moves, true);
    }

    /** The kernel's shape in the channels-last order the layer computes with (before any transposeKernel flip). */
    int[] internalKernelShape() {
        return internalKernelShape.clone();
    }

    // ---- shapes and refusals ------------------------------------------------------------------------------

    /**
     * The channels-last input shape of a channels-first input, after refusing in the user's terms what concerns
     * the layout (rank, sizes, channel counts), in the order the channels-last geometry refuses them.
     */
    int[] internalInputShape(int[] inputShape, int groups) {
        if (inputShape == null) {
            throw new IllegalArgumentException("input: got a null shape; expected its dims, each >= 0");
        }
        if (transposed) {
            checkTransposeInput(inputShape);
        } else {
            checkConvInput(inputShape, groups);
        }
        return toChannelsLast(inputShape);
    }

    /** A channels-last shape {@code (*batch, *spatial, C)} of this layer's rank as {@code (*batch, C, *spatial)}. */
    @Override
    public int[] userShape(int[] internalShape) {
        return axes.toUser(internalShape);
    }

    @Override
    public <G> G resolve(int[] inputShape, int[] kernelShape, int groups, BiFunction<int[], int[], G> resolve) {
        return resolve(inputShape, internalInputShape(inputShape, groups), resolve);
    }

    /**
     * Runs {@code resolve} on the channels-last shapes; a refusal it raises that shows them gets a note giving the
     * channels-first ones the user knows.
     */
    <G> G resolve(int[] inputShape, int[] internalInputShape, BiFunction<int[], int[], G> resolve) {
        try {
            return resolve.apply(internalInputShape, internalKernelShape.clone());
        } catch (IllegalArgumentException e) {
            String message = e.getMessage();
            String internalInput = Arrays.toString(internalInputShape);
            String internalKernel = Arrays.toString(internalKernelShape);
            if (message == null || !(message.contains(internalInput) || message.contains(internalKernel))) {
                throw e;
            }
            throw new IllegalArgumentException(message + " (a channels-first layer computes channels-last, and this "
                    + "message gives its shapes in that order: the input " + Arrays.toString(inputShape) + " is "
                    + internalInput + " there and the kernel " + Arrays.toString(kernelShape) + " is "
                    + internalKernel + ")", e);
        }
    }

    private int[] toChannelsLast(int[] shape) {
        return axes.toChannelsLast(shape);
    }

    private void checkConvInput(int[] inputShape, int groups) {
        checkSizes("kernel", kernelShape);
        checkSizes("input", inputShape);
        checkInputRank(inputShape, "(*batch, Cin, *spatial)");
        checkKernelTaps("(Cout, Cin/groups, *k)");
        int channelAxis = inputShape.length - rank - 1;
        int inChannels = inputShape[channelAxis];
        int outChannels = kernelShape[0];
        if (inChannels % groups != 0) {
            throw new IllegalArgumentException("groups: input channels " + inChannels + " are not divisible by "
                    + groups + " groups; Cin % groups must be 0; the input " + Arrays.toString(inputShape)
                    + " is channels-first (*batch, C, *spatial): C is its dim " + channelAxis);
        }
        if (outChannels % groups != 0) {
            throw new IllegalArgumentException("groups: output channels " + outChannels + " are not divisible by "
                    + groups + " groups; Cout % groups must be 0 (Cout is dim 0 of the channels-first kernel "
                    + Arrays.toString(kernelShape) + ")");
        }
        if (kernelShape[1] * groups != inChannels) {
            throw new IllegalArgumentException("input: shape " + Arrays.toString(inputShape) + " in channels-first "
                    + "layout has " + inChannels + " channels at dim " + channelAxis + " but the kernel (Cout, "
                    + "Cin/groups, *k) " + Arrays.toString(kernelShape) + " expects " + kernelShape[1] * groups
                    + " (Cin/groups = " + kernelShape[1] + " in " + groups + " group(s))");
        }
    }

    private void checkTransposeInput(int[] inputShape) {
        checkInputRank(inputShape, "(*batch, Cin, *spatial)");
        checkSizes("input", inputShape);
        checkSizes("kernel", kernelShape);
        int channelAxis = inputShape.length - rank - 1;
        if (kernelShape[0] != inputShape[channelAxis]) {
            throw new IllegalArgumentException("input: shape " + Arrays.toString(inputShape) + " in channels-first "
                    + "layout has " + inputShape[channelAxis] + " channels at dim " + channelAxis + " but the "
                    + "kernel (Cin, Cout, *k) " + Arrays.toString(kernelShape) + " expects " + kernelShape[0]
                    + " (a channels-first ConvTranspose kernel is PyTorch's (Cin, Cout, *k), with or without "
                    + "transposeKernel)");
        }
        checkKernelTaps("(Cin, Cout, *k)");
    }

    private void checkInputRank(int[] inputShape, String form) {
        if (inputShape.length < rank + 1) {
            throw new IllegalArgumentException("input: shape " + Arrays.toString(inputShape) + " has rank "
                    + inputShape.length + " but a " + rank + "-d kernel needs " + form + " in channels-first layout, "
                    + "so rank >= " + (rank + 1));
        }
    }

    private void checkKernelTaps(String form) {
        for (int d = 0; d < rank; d++) {
            if (kernelShape[d + 2] < 1) {
                throw new IllegalArgumentException("kernel: shape " + Arrays.toString(kernelShape) + " has spatial "
                        + "size " + kernelShape[d + 2] + " in spatial dim " + d + " (dim " + (d + 2) + " of the "
                        + "channels-first " + form + "); kernel sizes must be >= 1");
            }
        }
    }

    private static void checkSizes(String name, int[] shape) {
        for (int size : shape) {
            if (size < 0) {
                throw new IllegalArgumentException(name + ": shape " + Arrays.toString(shape)
                        + " has a negative dim; sizes must be >= 0");
            }
        }
    }

    // ---- moves on the host ---------------------------------------------------------------------------------

    /** {@code values} of a channels-first shape, in channels-last order ({@code values} itself when nothing moves). */
    @Override
    public float[] toInternal(float[] values, int[] userShape) {
        return activationsToInternal(userShape).apply(values);
    }

    /** Channels-last {@code values} of {@code internalShape} as a channels-first tensor. */
    @Override
    public Tensor toUser(float[] values, int[] internalShape) {
        return Tensor.of(activationsToInternal(userShape(internalShape)).inverse().apply(values),
                userShape(internalShape));
    }

    /** The kernel as the user holds it (masked), in the layer's channels-last layout. */
    @Override
    public float[] kernelToInternal(float[] values) {
        return kernelMoves.apply(values);
    }

    /** A kernel gradient in the layer's channels-last layout, in the user's. */
    @Override
    public float[] kernelToUser(float[] values) {
        return kernelMoves.inverse().apply(values);
    }

    // ---- moves on an OpenCL device ---------------------------------------------------------------------------

    /**
     * Moves {@code x} and {@code residual} (channels-first; the residual may be null) to new channels-last device
     * tensors, runs {@code call} on them and a channels-last output of {@code internalOutputShape}, and moves that
     * output into {@code out} (channels-first, of {@link #userShape}'s shape). Enqueues and returns; the
     * temporaries go back to the pool.
     */
    @Override
    public void run(OpenClBackend device, DeviceTensor x, DeviceTensor residual, DeviceTensor out,
            int[] internalOutputShape, ForwardCall call) {
        int[] outputShape = userShape(internalOutputShape);
        if (out == null || !Arrays.equals(out.shape(), outputShape)) {
            throw new IllegalArgumentException("output: " + (out == null ? "got null" : "shape "
                    + Arrays.toString(out.shape())) + "; the layer's channels-first output for input "
                    + Arrays.toString(x.shape()) + " is " + Arrays.toString(outputShape));
        }
        if (out == x) {
            throw new IllegalArgumentException("output: " + out + " is also the input; a layer cannot write over "
                    + "its own input");
        }
        if (out.backend() != device) {
            throw new IllegalArgumentException("output: " + out + " lives on another backend than "
                    + device.name() + "; every operand of a call must be on the same one");
        }
        try (DeviceTensor internalX = toInternal(device, x);
                DeviceTensor internalResidual = residual == null ? null : toInternal(device, residual);
                DeviceTensor internalOut = DeviceTensor.allocate(device, out.dtype(), internalOutputShape)) {
            call.run(internalX, internalResidual, internalOut);
            activationsToInternal(outputShape).inverse().apply(device, internalOut, out);
        }
    }

    /**
     * A backward pass on channels-first device tensors: {@code x}, {@code residual} (or null) and {@code dy} moved
     * to channels-last, {@code pass} run on them, and its input, kernel and residual gradients moved back (the
     * per-channel ones need no move). Enqueues and returns; the caller closes the result.
     */
    @Override
    public DeviceGradients backward(OpenClBackend device, DeviceTensor x, DeviceTensor residual, DeviceTensor dy,
            BackwardPass pass) {
        DeviceGradients internal;
        try (DeviceTensor internalX = toInternal(device, x);
                DeviceTensor internalResidual = residual == null ? null : toInternal(device, residual);
                DeviceTensor internalDy = toInternal(device, dy)) {
            internal = pass.run(internalX, internalResidual, internalDy);
        }
        DeviceTensor dx = null;
        DeviceTensor dkernel = null;
        try {
            dx = activationsToInternal(x.shape()).inverse().apply(device, internal.dx(), x.shape());
            dkernel = kernelMoves.inverse().apply(device, internal.dkernel(), kernelShape);
            DeviceTensor dresidual = internal.dresidual() == null ? null
                    : activationsToInternal(dy.shape()).inverse().apply(device, internal.dresidual(), dy.shape());
            internal.dx().close();
            internal.dkernel().close();
            if (internal.dresidual() != null) {
                internal.dresidual().close();
            }
            return new DeviceGradients(dx, dkernel, internal.dbias(), internal.dscale(), internal.dshift(),
                    dresidual);
        } catch (RuntimeException e) {
            for (DeviceTensor moved : new DeviceTensor[] {dx, dkernel}) {
                if (moved != null) {
                    moved.close();
                }
            }
            internal.close();
            throw e;
        }
    }

    /**
     * How the kernel and the mask, uploaded as the user holds them, become the layer's device copies: moved to the
     * channels-last layout on the device, and the kernel also flipped and channel-swapped for a ConvTranspose's
     * transposeKernel (the layout its convolution multiplies by; the mask stays in the held layout, where the
     * kernel gradient is masked).
     */
    @Override
    public DeviceParameters.Arrangements arrangements() {
        DeviceParameters.Arrangement moved = (backend, uploaded) -> {
            try (uploaded) {
                return kernelMoves.apply(backend, uploaded, internalKernelShape);
            }
        };
        if (!flipSwap) {
            return new DeviceParameters.Arrangements(moved, moved);
        }
        DeviceParameters.Arrangement movedAndFlipped = (backend, uploaded) -> {
            try (DeviceTensor held = moved.arrange(backend, uploaded)) {
                return new DeviceConvOps(backend).flipSwapped(held, internalKernelShape, 1);
            }
        };
        return new DeviceParameters.Arrangements(movedAndFlipped, moved);
    }

    @Override
    public boolean isIdentity() {
        return false;
    }

    /** The kernel as held: the {@link #arrangements()} move (and flip) it on the device after its upload. */
    @Override
    public Tensor residentKernel(float[] effective, int[] kernelShape) {
        return Tensor.of(effective, kernelShape);
    }

    @Override
    public String describe() {
        return ", channels-first";
    }

    private DeviceTensor toInternal(OpenClBackend device, DeviceTensor tensor) {
        int[] shape = tensor.shape();
        return activationsToInternal(shape).apply(device, tensor, toChannelsLast(shape));
    }

    /** {@code (B, C, S)} to {@code (B, S, C)} for a channels-first shape of this layer's rank. */
    private AxisMoves activationsToInternal(int[] userShape) {
        return axes.moves(userShape);
    }

    private static int[] concat(int[] spatial, int a, int b) {
        int[] shape = Arrays.copyOf(spatial, spatial.length + 2);
        shape[spatial.length] = a;
        shape[spatial.length + 1] = b;
        return shape;
    }

    /** Whether a kernel shape holds no values (then nothing moves, however many taps it claims). */
    private static boolean isEmpty(int[] shape) {
        for (int size : shape) {
            if (size <= 0) {
                return true;
            }
        }
        return false;
    }

    private static int product(int[] sizes) {
        long product = 1;
        for (int size : sizes) {
            product *= Math.max(size, 0);
        }
        return (int) Math.min(product, Integer.MAX_VALUE);
    }
}
