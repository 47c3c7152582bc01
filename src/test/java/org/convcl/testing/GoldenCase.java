package org.convcl.testing;

import com.fasterxml.jackson.jr.ob.JSON;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.convcl.ConvSpec;
import org.convcl.Padding;
import org.convcl.Tensor;
import org.convcl.io.Npy;

/**
 * One case of the golden suite computed by flax (src/test/resources/golden, copied from ../shared/golden),
 * with its settings as flax was given them and its arrays loaded on demand.
 */
public record GoldenCase(String name, String op, int inFeatures, int outFeatures, int[] kernelSize, int[] inputShape, int[] strides,
        int[] inputDilation, int[] kernelDilation, Object padding, int groups, boolean useBias,
        boolean transposeKernel, String error, boolean grads) {

    private static final String ROOT = "/golden/";

    /** Every case of the manifest, in its order. */
    public static List<GoldenCase> all() {
        try (InputStream in = GoldenCase.class.getResourceAsStream(ROOT + "manifest.json")) {
            Map<String, Object> manifest = JSON.std.mapFrom(in);
            List<GoldenCase> cases = new ArrayList<>();
            for (Object raw : (List<?>) manifest.get("cases")) {
                cases.add(fromJson((Map<?, ?>) raw));
            }
            return cases;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static List<GoldenCase> ofOp(String op) {
        return all().stream().filter(c -> c.op.equals(op)).toList();
    }

    private static GoldenCase fromJson(Map<?, ?> json) {
        int[] kernelSize = ints(json.get("kernel_size"));
        return new GoldenCase((String) json.get("name"), (String) json.get("op"),
                ((Number) json.get("in_features")).intValue(), ((Number) json.get("out_features")).intValue(),
                kernelSize,
                ints(json.get("input_shape")), orOne(json.get("strides")), orOne(json.get("input_dilation")),
                orOne(json.get("kernel_dilation")), json.containsKey("padding") ? json.get("padding") : "SAME",
                json.containsKey("feature_group_count") ? ((Number) json.get("feature_group_count")).intValue() : 1,
                !Boolean.FALSE.equals(json.get("use_bias")), Boolean.TRUE.equals(json.get("transpose_kernel")),
                (String) json.get("error"), Boolean.TRUE.equals(json.get("grads")));
    }

    private static int[] orOne(Object value) {
        return value == null ? new int[] {1} : ints(value);
    }

    private static int[] ints(Object value) {
        if (value instanceof Number number) {
            return new int[] {number.intValue()};
        }
        return ((List<?>) value).stream().mapToInt(v -> ((Number) v).intValue()).toArray();
    }

    /** The kernel shape flax would make for this case: {@code (*k, in/groups, out)} (transposes aside). */
    public int[] flaxKernelShape() {
        int[] shape = Arrays.copyOf(kernelSize, kernelSize.length + 2);
        shape[kernelSize.length] = inFeatures / groups;
        shape[kernelSize.length + 1] = outFeatures;
        return shape;
    }

    /** The rank n of the case (spatial dims of the kernel). */
    public int rank() {
        return kernelSize.length;
    }

    /** The case's padding as a library {@link Padding}. */
    public Padding libraryPadding() {
        if (padding instanceof String text) {
            return Padding.Named.valueOf(text);
        }
        if (padding instanceof Number number) {
            return Padding.of(number.intValue());
        }
        List<?> entries = (List<?>) padding;
        int[] lo = new int[entries.size()];
        int[] hi = new int[entries.size()];
        for (int d = 0; d < entries.size(); d++) {
            Object entry = entries.get(d);
            if (entry instanceof Number number) {
                lo[d] = hi[d] = number.intValue();
            } else {
                List<?> pair = (List<?>) entry;
                lo[d] = ((Number) pair.get(0)).intValue();
                hi[d] = ((Number) pair.get(1)).intValue();
            }
        }
        return new Padding.Explicit(lo, hi);
    }

    /** The case's padding in the CLI's text form ({@code SAME}, {@code 2}, {@code 1:2,0:-1}). */
    public String cliPadding() {
        Padding p = libraryPadding();
        return p.toString();
    }

    public ConvSpec spec() {
        return ConvSpec.builder().strides(strides).inputDilation(inputDilation).kernelDilation(kernelDilation)
                .padding(libraryPadding()).groups(groups).build();
    }

    /** Whether the case has the named array ({@code x}, {@code kernel}, {@code bias}, {@code y}, ...). */
    public boolean has(String array) {
        return GoldenCase.class.getResource(ROOT + name + "/" + array + ".npy") != null;
    }

    /** The named array as float32 (float64 references are rounded; use {@link #reference} for those). */
    public Tensor array(String array) {
        try (InputStream in = GoldenCase.class.getResourceAsStream(ROOT + name + "/" + array + ".npy")) {
            if (in == null) {
                throw new IllegalStateException("golden case " + name + " has no " + array + ".npy");
            }
            return Npy.read(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The named float64 array at full precision. */
    public double[] reference(String array) {
        try (InputStream in = GoldenCase.class.getResourceAsStream(ROOT + name + "/" + array + ".npy")) {
            return NpyDoubles.read(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The resource folder of this case's arrays, as a classpath path. */
    public String resourcePath(String array) {
        return ROOT + name + "/" + array + ".npy";
    }

    @Override
    public String toString() {
        return name;
    }
}
