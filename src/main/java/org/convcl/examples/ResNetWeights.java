package org.convcl.examples;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.convcl.Tensor;
import org.convcl.internal.Json;
import org.convcl.io.Npy;

/**
 * A folder that {@code scripts/export-resnet} writes, read and checked whole before anything is built from it:
 * {@code manifest.json} ({@code arch}; {@code width} and {@code num_classes}, 64 and 1000 when absent), one
 * {@code .npy} per state_dict tensor under torchvision's names, in PyTorch's layout, {@code input.npy} (a reference
 * batch {@code (N, 3, H, W)}) and {@code logits.npy} (PyTorch's logits for it, {@code (N, classes)}).
 *
 * <p>Refusals ({@link IllegalArgumentException}, one line): a missing folder, manifest or file (named); a manifest
 * whose arch is not the one asked for; a tensor whose shape is not the one the architecture needs (the file, the
 * expected and the actual shape); a dtype other than float32 or float64 ({@link Npy} reads float64 and rounds it to
 * float32, as every convcl input file; anything else it refuses naming the file and the dtype). Files the network
 * does not need (num_batches_tracked, model.onnx) are ignored.
 */
public final class ResNetWeights {
    static final String MANIFEST = "manifest.json";
    static final String INPUT = "input.npy";
    static final String LOGITS = "logits.npy";
    private static final int DEFAULT_WIDTH = 64;
    private static final int DEFAULT_CLASSES = 1000;

    private final ResNetPlan plan;
    private final Map<String, Tensor> tensors;
    private final Tensor input;
    private final Tensor logits;

    private ResNetWeights(ResNetPlan plan, Map<String, Tensor> tensors, Tensor input, Tensor logits) {
        this.plan = plan;
        this.tensors = tensors;
        this.input = input;
        this.logits = logits;
    }

    /**
     * Reads {@code folder}, refusing it unless it holds {@code arch} (null: whichever of resnet18 and resnet50 its
     * manifest names) with every tensor of the right shape.
     */
    public static ResNetWeights read(Path folder, ResNetArch arch) throws IOException {
        if (!Files.isDirectory(folder)) {
            throw new IllegalArgumentException("--weights: " + folder + " is not a folder; make one with "
                    + "scripts/export-resnet " + folder);
        }
        Map<String, Object> manifest = manifest(folder);
        ResNetArch held = ResNetArch.parse(MANIFEST + "'s arch", String.valueOf(manifest.get("arch")));
        if (arch != null && arch != held) {
            throw new IllegalArgumentException("--arch: asked for " + arch + " but " + folder.resolve(MANIFEST)
                    + " holds " + held + "; export it with scripts/export-resnet DIR --arch " + arch);
        }
        ResNetPlan plan = ResNetPlan.of(held, positiveInt(manifest, "width", DEFAULT_WIDTH),
                positiveInt(manifest, "num_classes", DEFAULT_CLASSES));
        Map<String, Tensor> tensors = new HashMap<>();
        for (Map.Entry<String, int[]> expected : plan.tensorShapes().entrySet()) {
            tensors.put(expected.getKey(), read(folder, expected.getKey() + ".npy", expected.getValue()));
        }
        Tensor input = read(folder, INPUT, null);
        int[] inputShape = input.shape();
        if (inputShape.length != 4 || inputShape[1] != 3 || inputShape[0] < 1) {
            throw new IllegalArgumentException(folder.resolve(INPUT) + ": shape " + Arrays.toString(inputShape)
                    + "; the reference batch is (N, 3, H, W), N >= 1");
        }
        Tensor logits = read(folder, LOGITS, new int[] {inputShape[0], plan.classes()});
        return new ResNetWeights(plan, tensors, input, logits);
    }

    /** The architecture, with the folder's width and classes. */
    public ResNetPlan plan() {
        return plan;
    }

    /** The tensor of state_dict name {@code name}, as PyTorch holds it (a conv weight OIHW). */
    public Tensor tensor(String name) {
        Tensor tensor = tensors.get(name);
        if (tensor == null) {
            throw new IllegalArgumentException("name: '" + name + "' is no tensor of " + plan.arch());
        }
        return tensor;
    }

    /** The reference batch {@code (N, 3, H, W)}, channels-first as PyTorch takes it. */
    public Tensor referenceInput() {
        return input;
    }

    /** PyTorch's logits for {@link #referenceInput()}, {@code (N, classes)}. */
    public Tensor referenceLogits() {
        return logits;
    }

    private static Map<String, Object> manifest(Path folder) throws IOException {
        Path path = folder.resolve(MANIFEST);
        String text;
        try {
            text = Files.readString(path);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(path + ": missing; a weights folder is what scripts/export-resnet "
                    + "writes");
        }
        try {
            return Json.parseObject(text);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(path + ": not a JSON object: " + e.getMessage());
        }
    }

    private static int positiveInt(Map<String, Object> manifest, String key, int absent) {
        Object value = manifest.get(key);
        if (value == null) {
            return absent;
        }
        if (!(value instanceof Integer number) || number < 1) {
            throw new IllegalArgumentException(MANIFEST + ": " + key + " is " + value + "; expected an integer >= 1");
        }
        return number;
    }

    /** The tensor in {@code folder/file}, refused unless its shape is {@code expected} (null: any). */
    private static Tensor read(Path folder, String file, int[] expected) throws IOException {
        Path path = folder.resolve(file);
        if (!Files.isRegularFile(path)) {
            throw new IllegalArgumentException(path + ": missing" + (expected == null ? ""
                    : "; expected a tensor of shape " + Arrays.toString(expected)));
        }
        Tensor tensor = Npy.read(path);
        if (expected != null && !Arrays.equals(tensor.shape(), expected)) {
            throw new IllegalArgumentException(path + ": shape " + Arrays.toString(tensor.shape()) + "; expected "
                    + Arrays.toString(expected));
        }
        return tensor;
    }
}
