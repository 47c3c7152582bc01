package org.convcl.spark;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Locale;
import org.convcl.nn.Conv;
import org.convcl.ConvSpec;
import org.convcl.DType;
import org.convcl.Layout;
import org.convcl.Padding;
import org.convcl.Tensor;
import org.convcl.backend.BackendChoice;
import org.convcl.backend.ConvBackend;
import org.convcl.backend.cpu.CpuBackend;

/**
 * Everything an executor needs to build the {@link Conv} of a {@link ConvTransformer}: the weights, the spec, the
 * layout, the compute type, the sample shape and the backend choice, validated on the driver (so a bad setting fails before any task
 * runs) and broadcast to the executors. {@link #key()} is a digest of all of it: executors keep one layer per key
 * ({@link ExecutorConvs}), so transformers with equal settings share it and a changed kernel gets a new one.
 *
 * <p>Immutable once made (its arrays are private copies) and thread-safe.
 */
final class ConvRecipe implements Serializable {
    private static final long serialVersionUID = 1L;

    private final String transformerUid;
    private final float[] kernel;
    private final int[] kernelShape;
    private final float[] bias;
    private final int[] strides;
    private final String padding;
    private final int[] inputDilation;
    private final int[] kernelDilation;
    private final int groups;
    private final Layout layout;
    private final DType dtype;
    private final BackendChoice backend;
    private final int[] sampleShape;
    private final int[] outputSampleShape;
    private final int batchSize;
    private final String key;

    ConvRecipe(String transformerUid, float[] kernel, int[] kernelShape, float[] bias, int[] strides, String padding,
            int[] inputDilation, int[] kernelDilation, int groups, Layout layout, DType dtype,
            BackendChoice backend, int[] sampleShape, int batchSize) {
        this.transformerUid = transformerUid;
        this.kernel = kernel.clone();
        this.kernelShape = kernelShape.clone();
        this.bias = bias == null ? null : bias.clone();
        this.strides = strides.clone();
        this.padding = padding;
        this.inputDilation = inputDilation.clone();
        this.kernelDilation = kernelDilation.clone();
        this.groups = groups;
        this.layout = layout;
        this.dtype = dtype;
        this.backend = backend;
        this.sampleShape = sampleShape.clone();
        this.batchSize = batchSize;
        // Building the layer on the Java path checks every rule convcl has (kernel and bias shapes, the knobs, the
        // sample's channels against the kernel's) without touching a device; its output shape is the rows'.
        try (Conv check = build(CpuBackend.instance())) {
            int[] batched = prepend(1, this.sampleShape);
            int[] output;
            try {
                output = check.outputShape(batched);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("sampleShape " + Arrays.toString(this.sampleShape)
                        + " does not fit kernelShape " + Arrays.toString(this.kernelShape) + ": " + e.getMessage(), e);
            }
            this.outputSampleShape = Arrays.copyOfRange(output, 1, output.length);
        }
        this.key = digest();
    }

    /** A new layer of these settings on {@code on}; the caller closes it. */
    Conv build(ConvBackend on) {
        ConvSpec spec = ConvSpec.builder().strides(strides).padding(Padding.parse(padding))
                .inputDilation(inputDilation).kernelDilation(kernelDilation).groups(groups).build();
        Conv.Builder builder = Conv.builder(Tensor.of(kernel, kernelShape)).spec(spec).layout(layout).dtype(dtype)
                .backend(on);
        if (bias != null) {
            builder.bias(Tensor.of(bias, bias.length));
        }
        return builder.build();
    }

    /** A digest of every setting and weight: equal recipes, and only they, share executors' layers. */
    String key() {
        return key;
    }

    String transformerUid() {
        return transformerUid;
    }

    BackendChoice backend() {
        return backend;
    }

    Layout layout() {
        return layout;
    }

    int batchSize() {
        return batchSize;
    }

    /** One sample's shape in the layer's layout, without the batch dim. */
    int[] sampleShape() {
        return sampleShape.clone();
    }

    /** One output row's shape in the layer's layout, without the batch dim. */
    int[] outputSampleShape() {
        return outputSampleShape.clone();
    }

    /** Values in one input row. */
    int sampleLength() {
        return (int) Tensor.elementCount(sampleShape);
    }

    /** Values in one output row. */
    int outputLength() {
        return (int) Tensor.elementCount(outputSampleShape);
    }

    /** {@code (batch, *sampleShape)}. */
    int[] batchShape(int batch) {
        return prepend(batch, sampleShape);
    }

    private static int[] prepend(int first, int[] rest) {
        int[] shape = new int[rest.length + 1];
        shape[0] = first;
        System.arraycopy(rest, 0, shape, 1, rest.length);
        return shape;
    }

    private String digest() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            writeInts(out, kernelShape);
            out.writeInt(kernel.length);
            for (float v : kernel) {
                out.writeInt(Float.floatToRawIntBits(v));
            }
            out.writeBoolean(bias != null);
            if (bias != null) {
                out.writeInt(bias.length);
                for (float v : bias) {
                    out.writeInt(Float.floatToRawIntBits(v));
                }
            }
            writeInts(out, strides);
            out.writeUTF(padding.trim().toUpperCase(Locale.ROOT));
            writeInts(out, inputDilation);
            writeInts(out, kernelDilation);
            out.writeInt(groups);
            out.writeUTF(layout.name());
            out.writeUTF(dtype.name());
            writeInts(out, sampleShape);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            // The transformer's uid, the batch size and the backend choice change how rows are fed, not the layer.
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(bytes.toByteArray());
            return HexFormat.of().formatHex(hash, 0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    private static void writeInts(DataOutputStream out, int[] values) throws IOException {
        out.writeInt(values.length);
        for (int v : values) {
            out.writeInt(v);
        }
    }

    @Override
    public String toString() {
        return "ConvRecipe(" + key + ": kernel " + Arrays.toString(kernelShape) + (bias == null ? "" : ", bias")
                + ", strides " + Arrays.toString(strides) + ", padding " + padding + ", inputDilation "
                + Arrays.toString(inputDilation) + ", kernelDilation " + Arrays.toString(kernelDilation) + ", groups "
                + groups + ", " + layout + ", " + dtype.cliName() + ", sample " + Arrays.toString(sampleShape) + " -> "
                + Arrays.toString(outputSampleShape) + ")";
    }
}
