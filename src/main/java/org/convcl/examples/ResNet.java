package org.convcl.examples;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.convcl.Activation;
import org.convcl.DType;
import org.convcl.Layout;
import org.convcl.Padding;
import org.convcl.PoolOp;
import org.convcl.PoolSpec;
import org.convcl.Precision;
import org.convcl.Tensor;
import org.convcl.backend.ConvBackend;
import org.convcl.nn.Conv;
import org.convcl.nn.Pool;
import org.convcl.opencl.DeviceTensor;
import org.convcl.opencl.OpenClBackend;

/**
 * torchvision's ResNet-18 or ResNet-50 for inference, built from convcl's layers out of a folder that
 * {@code scripts/export-resnet} writes ({@link ResNetWeights}): the stem (7x7/2 convolution, batch norm and ReLU
 * fused into it), a 3x3/2 max pool with PyTorch's padding of 1 (padding counts as -inf), the residual blocks
 * ({@link ResidualBlock}: folded norms, ReLU and the shortcut's add fused into the convolutions), a global average
 * pool (the window is the whole spatial extent) and the linear layer as a 1x1 convolution with bias.
 *
 * <p>{@link Layout#CHANNELS_FIRST} takes PyTorch's weights as they are and images {@code (N, 3, H, W)};
 * {@link Layout#CHANNELS_LAST} transposes the weights once, when the network is built, and takes {@code (N, H, W, 3)}.
 * Either way the logits are {@code (N, classes)}.
 *
 * <p>On an {@link OpenClBackend} the forward stays on the device: {@link #forward(Tensor)} uploads the batch once
 * and downloads the logits once; every layer's weights are uploaded when the network is built and stay resident,
 * and each intermediate tensor is closed as soon as the next layer has been enqueued, so that its memory goes back
 * to the backend's caching allocator and a second batch of the same shape allocates nothing. On the Java path the
 * layers run on host tensors and write into activation arrays the network keeps and reuses across layers and
 * batches ({@link #hostActivations()}), so a second batch of the same shape allocates no activation either; only
 * the small pooled features and the logits are new.
 *
 * <p>The network computes in one {@link DType}. In {@link DType#FLOAT16} or {@link DType#BFLOAT16} every convolution
 * is built with that type (its scale and shift, the folded norms, stay float32, as a 16-bit layer keeps them). On
 * OpenCL the batch is uploaded rounded to the type, every activation is a device tensor of the type, the pools run
 * on those (max stores an input value, the global average sums in float32 and rounds once) and the logits are
 * downloaded widened to float32. On the Java path the activations stay float32 arrays, and each convolution's
 * host call rounds its input and residual to the type and gives back its rounded output widened, so every
 * activation holds values of the type; the host {@link Pool} has no type, but the max pool's output is one of its
 * input's values and the global average pool's float32 mean is rounded by the classifier's call, where the device
 * rounds it in the pool: the same rounding points as on the device.
 *
 * <p>Thread-safe as its layers are; {@link #close()} releases the device copies of the weights.
 */
public final class ResNet implements AutoCloseable {
    private final ResNetPlan plan;
    private final Layout layout;
    private final ConvBackend backend;
    private final DType dtype;
    private final Conv stem;
    private final Pool maxPool;
    private final List<ResidualBlock> blocks;
    private final Conv classifier;
    /** The Java path's activation arrays, reused across layers and batches. */
    private final ActivationBuffers activations = new ActivationBuffers();

    private ResNet(ResNetPlan plan, Layout layout, ConvBackend backend, DType dtype, Conv stem,
            List<ResidualBlock> blocks, Conv classifier) {
        this.plan = plan;
        this.layout = layout;
        this.backend = backend;
        this.dtype = dtype;
        this.stem = stem;
        this.blocks = blocks;
        this.classifier = classifier;
        PoolSpec pooling = PoolSpec.builder().window(3, 3).strides(2, 2)
                .padding(new Padding.Explicit(new int[] {1, 1}, new int[] {1, 1})).build();
        this.maxPool = Pool.builder(PoolOp.MAX, pooling).layout(layout).backend(backend).build();
    }

    /**
     * The network of {@code weights}, in {@code layout}, its convolutions at {@code precision}, on {@code backend},
     * in float32.
     */
    public static ResNet build(ResNetWeights weights, Layout layout, Precision precision, ConvBackend backend) {
        return build(weights, layout, precision, DType.FLOAT32, backend);
    }

    /**
     * The network of {@code weights}, in {@code layout}, computing in {@code dtype}, its convolutions at
     * {@code precision}, on {@code backend}. A 16-bit {@code dtype} takes {@link Precision#HIGHEST} only: TF32 is a
     * rounding of float32 operands, and 16-bit ones are multiplied in float32 already.
     */
    public static ResNet build(ResNetWeights weights, Layout layout, Precision precision, DType dtype,
            ConvBackend backend) {
        if (weights == null || layout == null || precision == null || dtype == null || backend == null) {
            throw new IllegalArgumentException("ResNet.build: got a null argument; weights, layout, precision, "
                    + "dtype and backend are all needed");
        }
        if (dtype != DType.FLOAT32 && precision != Precision.HIGHEST) {
            throw new IllegalArgumentException("precision: got " + precision + " with dtype " + dtype.cliName()
                    + "; a 16-bit network multiplies in float32 already, so its precision must be HIGHEST");
        }
        FoldedConvs convs = new FoldedConvs(weights, layout, precision, dtype, backend);
        ResNetPlan plan = weights.plan();
        List<ResidualBlock> blocks = new ArrayList<>();
        Conv stem = convs.convNorm(plan.stem(), Activation.relu());
        for (ResNetPlan.Block block : plan.blocks()) {
            blocks.add(ResidualBlock.build(block, convs));
        }
        ResNet net = new ResNet(plan, layout, backend, dtype, stem, List.copyOf(blocks),
                convs.linear("fc.weight", "fc.bias"));
        if (backend instanceof OpenClBackend device) {
            // Before any activation: weights uploaded by their layers' first calls, between activations, took
            // buffers those had given back, and the next batch had to create new ones.
            net.convs().forEach(conv -> conv.uploadDeviceParameters(device));
        }
        return net;
    }

    public ResNetPlan plan() {
        return plan;
    }

    public Layout layout() {
        return layout;
    }

    public ConvBackend backend() {
        return backend;
    }

    /** The type the network computes in. */
    public DType dtype() {
        return dtype;
    }

    /**
     * The logits {@code (N, classes)} of a batch of images in the network's layout. On an OpenCL backend: one
     * upload (rounded to the network's type), the whole forward on the device, one download (widened to float32).
     */
    public Tensor forward(Tensor images) {
        checkImages(images.shape());
        if (backend instanceof OpenClBackend device) {
            try (DeviceTensor x = DeviceTensor.upload(device, images, dtype); DeviceTensor logits = forward(x)) {
                return logits.download().reshape(images.dim(0), plan.classes());
            }
        }
        Tensor stemmed = activations.take(stem.outputShape(images.shape()));
        stem.apply(images, null, stemmed);
        Tensor h = activations.take(maxPool.outputShape(stemmed.shape()));
        maxPool.apply(stemmed, h);
        activations.give(stemmed);
        for (ResidualBlock block : blocks) {
            // The block consumes h: its output is h's own array written over, or h went back inside it.
            h = block.forward(h, activations);
        }
        // The pooled features and the logits are small (N x 2048, N x classes); the logits are the caller's.
        Tensor pooled = globalAveragePool(h.shape()).apply(h);
        activations.give(h);
        return classifier.apply(pooled).reshape(images.dim(0), plan.classes());
    }

    /**
     * The host activation arrays of the Java path's forwards so far: the bytes held for reuse between forwards,
     * the most in use at once, and the arrays created (a forward of a batch shape seen before creates none).
     * Zeros on an OpenCL backend, whose activations live in its caching allocator.
     */
    public ActivationMemory hostActivations() {
        return new ActivationMemory(activations.heldBytes(), activations.peakInUseBytes(),
                activations.arraysCreated());
    }

    /** See {@link #hostActivations()}. */
    public record ActivationMemory(long heldBytes, long peakInUseBytes, long arraysCreated) {
    }

    /**
     * The forward on the device {@code images} lives on (which stays the caller's, and holds the network's type):
     * the logits as a new device tensor of that type that the caller closes, {@code (N, 1, 1, classes)} channels-last or {@code (N, classes, 1, 1)}
     * channels-first (the 1x1 convolution's output).
     */
    public DeviceTensor forward(DeviceTensor images) {
        checkImages(images.shape());
        DeviceTensor h;
        try (DeviceTensor stemmed = stem.apply(images)) {
            h = maxPool.apply(stemmed);
        }
        try {
            for (ResidualBlock block : blocks) {
                // The block consumes h (its result, or closed by it, on a failure too): not ours to close after.
                DeviceTensor in = h;
                h = null;
                h = block.forward(in);
            }
            try (DeviceTensor pooled = globalAveragePool(h.shape()).apply(h)) {
                return classifier.apply(pooled);
            }
        } finally {
            if (h != null) {
                h.close();
            }
        }
    }

    /** {@code nchw} in the network's layout: as it is channels-first, transposed to {@code (N, H, W, C)} otherwise. */
    public Tensor imagesInLayout(Tensor nchw) {
        if (layout == Layout.CHANNELS_FIRST) {
            return nchw;
        }
        int n = nchw.dim(0);
        int c = nchw.dim(1);
        int h = nchw.dim(2);
        int w = nchw.dim(3);
        float[] from = nchw.data();
        float[] to = new float[from.length];
        for (int b = 0; b < n; b++) {
            for (int ch = 0; ch < c; ch++) {
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        to[((b * h + y) * w + x) * c + ch] = from[((b * c + ch) * h + y) * w + x];
                    }
                }
            }
        }
        return Tensor.of(to, n, h, w, c);
    }

    /** Every convolution of the network in order (stem, blocks, classifier), for a look at the layers. */
    public List<Conv> convs() {
        List<Conv> all = new ArrayList<>();
        all.add(stem);
        blocks.forEach(block -> all.addAll(block.convs()));
        all.add(classifier);
        return all;
    }

    @Override
    public void close() {
        stem.close();
        blocks.forEach(ResidualBlock::close);
        classifier.close();
    }

    /**
     * Global average pooling: the window is the last block's whole spatial extent, which depends on the image size,
     * so the pool is made for each forward (a spec, no state).
     */
    private Pool globalAveragePool(int[] shape) {
        int first = layout == Layout.CHANNELS_FIRST ? 2 : 1;
        PoolSpec spec = PoolSpec.builder().window(shape[first], shape[first + 1]).build();
        return Pool.builder(PoolOp.AVG, spec).layout(layout).backend(backend).build();
    }

    private void checkImages(int[] shape) {
        int channelAxis = layout == Layout.CHANNELS_FIRST ? 1 : 3;
        if (shape.length != 4 || shape[channelAxis] != 3) {
            throw new IllegalArgumentException("images: shape " + Arrays.toString(shape) + "; a " + layout
                    + " ResNet takes " + (layout == Layout.CHANNELS_FIRST ? "(N, 3, H, W)" : "(N, H, W, 3)"));
        }
    }
}
