package org.convcl.spark;

import java.util.Arrays;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.IntArrayParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.DefaultParamsReadable;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.convcl.nn.Conv;
import org.convcl.DType;
import org.convcl.Layout;
import org.convcl.Padding;
import org.convcl.Tensor;
import org.convcl.backend.BackendChoice;

/**
 * convcl's {@link Conv} as a Spark ML {@link Transformer}: it reads a column of flattened samples
 * ({@code array<float>}, each of {@link #setSampleShape sampleShape} in the layer's layout, without the batch dim),
 * convolves each partition in batches on the executors, and appends a column of flattened outputs
 * ({@code array<float>}, each of the output sample shape). Null samples give null outputs; a sample of the wrong
 * length fails its task, naming the row's position and the shape expected.
 *
 * <p>Each executor builds the layer once, from weights broadcast with the job, and keeps it for the tasks after
 * (see {@link ExecutorConvs}). A task given Spark GPU resources runs on the OpenCL device its GPU address names
 * (NVIDIA GPUs matched by PCI bus, see {@link GpuDeviceMapping}); without them the {@link #setBackend backend}
 * choice applies as everywhere in convcl. Each executor logs one INFO line saying which backend and device it uses.
 *
 * <p>The parameters are flax's {@code nnx.Conv} knobs, with its defaults (SAME, stride 1, no dilation, one group;
 * no bias unless set). Persisted with {@link #write()} / {@link #load}, also inside a Pipeline. Like every Spark
 * ML stage it is configured on the driver by one thread.
 */
public final class ConvTransformer extends Transformer implements DefaultParamsWritable {
    private static final long serialVersionUID = 1L;
    /** Spark's reader for {@code DefaultParamsWritable} stages, through its public trait. */
    private static final DefaultParamsReadable<ConvTransformer> READABLE = new DefaultParamsReadable<>() {
    };

    private final String uid;
    private final Param<String> inputCol;
    private final Param<String> outputCol;
    private final IntArrayParam sampleShape;
    private final FloatArrayParam kernel;
    private final IntArrayParam kernelShape;
    private final FloatArrayParam bias;
    private final IntArrayParam strides;
    private final Param<String> padding;
    private final IntArrayParam inputDilation;
    private final IntArrayParam kernelDilation;
    private final IntParam groups;
    private final Param<String> layout;
    private final Param<String> dtype;
    private final IntParam batchSize;
    private final Param<String> backend;

    /** A transformer with a new random uid. */
    public ConvTransformer() {
        this(Identifiable$.MODULE$.randomUID("convcl"));
    }

    /** A transformer with this uid (Spark's readers and {@link #copy} make them so). */
    public ConvTransformer(String uid) {
        // The params are made here, after uid is set: each records its parent's uid as it is made.
        this.uid = uid;
        inputCol = new Param<>(this, "inputCol", "the column of samples: array<float>, each one sample of "
                + "sampleShape flattened in row-major order");
        outputCol = new Param<>(this, "outputCol", "the column added for the outputs: array<float>, each one output "
                + "sample flattened in row-major order");
        sampleShape = new IntArrayParam(this, "sampleShape", "one sample's shape without the batch dim, in the "
                + "layer's layout: (*spatial, Cin) channels-last, (Cin, *spatial) channels-first");
        kernel = new FloatArrayParam(this, "kernel", "the kernel's values, row-major, of kernelShape");
        kernelShape = new IntArrayParam(this, "kernelShape", "the kernel's shape: (*k, Cin/groups, Cout) "
                + "channels-last, (Cout, Cin/groups, *k) channels-first");
        bias = new FloatArrayParam(this, "bias", "the bias (Cout); unset for none");
        strides = new IntArrayParam(this, "strides", "one stride for every spatial dim, or one per dim");
        padding = new Param<>(this, "padding", "SAME, SAME_LOWER, VALID, CIRCULAR, REFLECT, CAUSAL, an int, or "
                + "comma-separated p or lo:hi entries per spatial dim");
        inputDilation = new IntArrayParam(this, "inputDilation", "input dilation: one for every dim, or one per dim");
        kernelDilation = new IntArrayParam(this, "kernelDilation", "kernel dilation: one for every dim, or one per "
                + "dim");
        groups = new IntParam(this, "groups", "feature groups; divides Cin and Cout");
        layout = new Param<>(this, "layout", "channels-last (flax's) or channels-first (PyTorch's)");
        dtype = new Param<>(this, "dtype", "the layer's compute type: float32, float16 or bfloat16 (rows stay "
                + "array<float>; a 16-bit layer rounds them to its type and returns its rounded outputs as floats)");
        batchSize = new IntParam(this, "batchSize", "samples convolved in one call on an executor");
        backend = new Param<>(this, "backend", "auto, cpu or opencl; a task with Spark GPU resources uses the "
                + "OpenCL device its GPU address names, unless this is cpu");
        setDefault(inputCol, "input");
        setDefault(outputCol, "output");
        setDefault(strides, new int[] {1});
        setDefault(padding, "SAME");
        setDefault(inputDilation, new int[] {1});
        setDefault(kernelDilation, new int[] {1});
        setDefault(groups, (Object) 1);
        setDefault(layout, Layout.CHANNELS_LAST.toString());
        setDefault(dtype, DType.FLOAT32.cliName());
        setDefault(batchSize, (Object) 64);
        setDefault(backend, BackendChoice.AUTO.toString());
    }

    @Override
    public String uid() {
        return uid;
    }

    // ---- the params, as Spark ML finds them (public, no arguments, returning a Param) ----

    public Param<String> inputCol() {
        return inputCol;
    }

    public Param<String> outputCol() {
        return outputCol;
    }

    public IntArrayParam sampleShape() {
        return sampleShape;
    }

    public FloatArrayParam kernel() {
        return kernel;
    }

    public IntArrayParam kernelShape() {
        return kernelShape;
    }

    public FloatArrayParam bias() {
        return bias;
    }

    public IntArrayParam strides() {
        return strides;
    }

    public Param<String> padding() {
        return padding;
    }

    public IntArrayParam inputDilation() {
        return inputDilation;
    }

    public IntArrayParam kernelDilation() {
        return kernelDilation;
    }

    public IntParam groups() {
        return groups;
    }

    public Param<String> layout() {
        return layout;
    }

    public Param<String> dtype() {
        return dtype;
    }

    public IntParam batchSize() {
        return batchSize;
    }

    public Param<String> backend() {
        return backend;
    }

    // ---- setters: each refuses what it can judge alone, naming the param, the value and the rule ----

    public ConvTransformer setInputCol(String column) {
        return put(inputCol, requireName("inputCol", column));
    }

    public ConvTransformer setOutputCol(String column) {
        return put(outputCol, requireName("outputCol", column));
    }

    /** One sample's shape, without the batch dim, in the layer's layout; every dim >= 1. */
    public ConvTransformer setSampleShape(int... shape) {
        if (shape == null || shape.length < 2 || Arrays.stream(shape).anyMatch(d -> d < 1)) {
            throw new IllegalArgumentException("sampleShape: got " + Arrays.toString(shape) + "; expected at least one "
                    + "spatial dim and the channels, every dim >= 1, e.g. [32, 32, 3]");
        }
        return put(sampleShape, shape.clone());
    }

    /** The kernel, in the layer's layout; its values are copied. */
    public ConvTransformer setKernel(Tensor kernelTensor) {
        if (kernelTensor == null) {
            throw new IllegalArgumentException("kernel: got null; expected a Tensor (*k, Cin/groups, Cout)");
        }
        return setKernel(kernelTensor.data(), kernelTensor.shape());
    }

    /** The kernel as row-major {@code values} of {@code shape}; the values are copied. */
    public ConvTransformer setKernel(float[] values, int... shape) {
        Tensor checked = Tensor.of(values, shape);
        if (shape.length < 3) {
            throw new IllegalArgumentException("kernelShape: got " + Arrays.toString(shape) + " of rank " + shape.length
                    + "; a kernel has at least one spatial dim and two channel dims, so rank >= 3");
        }
        put(kernelShape, checked.shape());
        return put(kernel, values.clone());
    }

    /** The bias {@code (Cout)}, copied; null for none. */
    public ConvTransformer setBias(Tensor biasTensor) {
        if (biasTensor == null) {
            clear(bias);
            return this;
        }
        if (biasTensor.rank() != 1) {
            throw new IllegalArgumentException("bias: shape " + Arrays.toString(biasTensor.shape())
                    + " has rank " + biasTensor.rank() + "; a bias is (Cout), rank 1");
        }
        return put(bias, biasTensor.data().clone());
    }

    public ConvTransformer setStrides(int... values) {
        return put(strides, positive("strides", values));
    }

    /** A flax padding in the CLI's form: {@code SAME}, {@code VALID}, {@code 2}, {@code 1:2,0:-1}, ... */
    public ConvTransformer setPadding(String text) {
        Padding.parse(text);
        return put(padding, text.trim());
    }

    public ConvTransformer setPadding(Padding value) {
        if (value == null) {
            throw new IllegalArgumentException("padding: got null; expected a Padding");
        }
        return put(padding, value.toString());
    }

    public ConvTransformer setInputDilation(int... values) {
        return put(inputDilation, positive("inputDilation", values));
    }

    public ConvTransformer setKernelDilation(int... values) {
        return put(kernelDilation, positive("kernelDilation", values));
    }

    public ConvTransformer setGroups(int value) {
        if (value < 1) {
            throw new IllegalArgumentException("groups: got " + value + "; expected an int >= 1");
        }
        return put(groups, value);
    }

    public ConvTransformer setLayout(Layout value) {
        if (value == null) {
            throw new IllegalArgumentException("layout: got null; expected channels-last or channels-first");
        }
        return put(layout, value.toString());
    }

    /**
     * The type the layer computes in (issue 26; {@link DType#FLOAT32} by default): the {@code array<float>} rows stay
     * float32 on the wire, a float16 or bfloat16 layer rounds each batch and its parameters to the type and returns
     * the rounded outputs as floats ({@link org.convcl.nn.Conv.Builder#dtype}), in either layout; on the Java path
     * a 16-bit layer runs the forward these rows need.
     */
    public ConvTransformer setDType(DType value) {
        if (value == null) {
            throw new IllegalArgumentException("dtype: got null; expected float32, float16 or bfloat16");
        }
        return put(dtype, value.cliName());
    }

    /** {@code float32}, {@code float16} or {@code bfloat16}, in any letter case. */
    public ConvTransformer setDType(String value) {
        return setDType(DType.parse(value));
    }

    public ConvTransformer setBatchSize(int value) {
        if (value < 1) {
            throw new IllegalArgumentException("batchSize: got " + value + "; expected an int >= 1");
        }
        return put(batchSize, value);
    }

    public ConvTransformer setBackend(BackendChoice value) {
        if (value == null) {
            throw new IllegalArgumentException("backend: got null; expected auto, cpu or opencl");
        }
        return put(backend, value.toString());
    }

    /** {@code auto}, {@code cpu} or {@code opencl}, in any letter case. */
    public ConvTransformer setBackend(String value) {
        return setBackend(BackendChoice.parse(value));
    }

    // ---- getters ----

    public String getInputCol() {
        return getOrDefault(inputCol);
    }

    public String getOutputCol() {
        return getOrDefault(outputCol);
    }

    public int[] getSampleShape() {
        return required(sampleShape, "setSampleShape(32, 32, 3)").clone();
    }

    public int[] getKernelShape() {
        return required(kernelShape, "setKernel(tensor)").clone();
    }

    /** The kernel's values (a copy). */
    public float[] getKernel() {
        return required(kernel, "setKernel(tensor)").clone();
    }

    /** The bias's values (a copy), or null when there is none. */
    public float[] getBias() {
        return isDefined(bias) ? getOrDefault(bias).clone() : null;
    }

    public int[] getStrides() {
        return getOrDefault(strides).clone();
    }

    public String getPadding() {
        return getOrDefault(padding);
    }

    public int[] getInputDilation() {
        return getOrDefault(inputDilation).clone();
    }

    public int[] getKernelDilation() {
        return getOrDefault(kernelDilation).clone();
    }

    public int getGroups() {
        return (Integer) getOrDefault(groups);
    }

    public Layout getLayout() {
        return parseLayout(getOrDefault(layout));
    }

    public DType getDType() {
        return DType.parse(getOrDefault(dtype));
    }

    public int getBatchSize() {
        return (Integer) getOrDefault(batchSize);
    }

    public BackendChoice getBackend() {
        return BackendChoice.parse(getOrDefault(backend));
    }

    /** The shape of one output row, without the batch dim, in the layer's layout. */
    public int[] outputSampleShape() {
        return recipe().outputSampleShape();
    }

    // ---- Transformer ----

    /**
     * Checks the input column (it must exist and be {@code array<float>}), that the output column is new, and every
     * setting together (the kernel against the sample shape and the knobs, with convcl's rules), and returns the
     * schema with the output column added.
     */
    @Override
    public StructType transformSchema(StructType schema) {
        String input = getInputCol();
        String output = getOutputCol();
        if (!Arrays.asList(schema.fieldNames()).contains(input)) {
            throw new IllegalArgumentException("inputCol: column '" + input + "' does not exist; the columns are "
                    + Arrays.toString(schema.fieldNames()));
        }
        DataType type = schema.apply(input).dataType();
        if (!(type instanceof ArrayType array && array.elementType().equals(DataTypes.FloatType))) {
            throw new IllegalArgumentException("inputCol: column '" + input + "' has type " + type.simpleString()
                    + "; expected array<float>, one flattened sample a row (cast it with col(\"" + input
                    + "\").cast(\"array<float>\"))");
        }
        if (Arrays.asList(schema.fieldNames()).contains(output)) {
            throw new IllegalArgumentException("outputCol: column '" + output + "' already exists; expected a new "
                    + "column's name");
        }
        recipe();
        return schema.add(new StructField(output, DataTypes.createArrayType(DataTypes.FloatType, false), true,
                org.apache.spark.sql.types.Metadata.empty()));
    }

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        StructType outputSchema = transformSchema(dataset.schema(), true);
        ConvRecipe recipe = recipe();
        JavaSparkContext spark = JavaSparkContext.fromSparkContext(dataset.sparkSession().sparkContext());
        Broadcast<ConvRecipe> shared = spark.broadcast(recipe);
        String input = getInputCol();
        PartitionConvolver convolver = new PartitionConvolver(shared, dataset.schema().fieldIndex(input), input);
        return dataset.toDF().mapPartitions(convolver, Encoders.row(outputSchema));
    }

    @Override
    public ConvTransformer copy(ParamMap extra) {
        return defaultCopy(extra);
    }

    // ---- persistence ----

    /** Spark's reader for saved ConvTransformers ({@code ConvTransformer.read().load(path)}). */
    public static MLReader<ConvTransformer> read() {
        return READABLE.read();
    }

    /** Loads a ConvTransformer saved with {@code write().save(path)}. */
    public static ConvTransformer load(String path) {
        return READABLE.load(path);
    }

    // ---- helpers ----

    /** Every setting together, validated: what the executors are sent. */
    ConvRecipe recipe() {
        return new ConvRecipe(uid, getKernel(), getKernelShape(), getBias(), getStrides(), getPadding(),
                getInputDilation(), getKernelDilation(), getGroups(), getLayout(), getDType(), getBackend(),
                getSampleShape(), getBatchSize());
    }

    private <T> ConvTransformer put(Param<T> param, T value) {
        set(param, value);
        return this;
    }

    private ConvTransformer put(IntParam param, int value) {
        set(param, (Object) value);
        return this;
    }

    private <T> T required(Param<T> param, String how) {
        if (!isDefined(param)) {
            throw new IllegalArgumentException(param.name() + ": not set; it has no default (set it with " + how + ")");
        }
        return getOrDefault(param);
    }

    private static String requireName(String param, String column) {
        if (column == null || column.isBlank()) {
            throw new IllegalArgumentException(param + ": got " + (column == null ? "null" : "'" + column + "'")
                    + "; expected a column name");
        }
        return column;
    }

    private static int[] positive(String param, int[] values) {
        if (values == null || values.length == 0 || Arrays.stream(values).anyMatch(v -> v < 1)) {
            throw new IllegalArgumentException(param + ": got " + Arrays.toString(values) + "; expected one int >= 1 "
                    + "for every spatial dim, or one per dim");
        }
        return values.clone();
    }

    private static Layout parseLayout(String text) {
        for (Layout candidate : Layout.values()) {
            if (candidate.toString().equalsIgnoreCase(text.trim())) {
                return candidate;
            }
        }
        throw new IllegalArgumentException("layout: got '" + text + "'; expected channels-last or channels-first");
    }
}
