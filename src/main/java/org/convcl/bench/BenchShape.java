package org.convcl.bench;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.convcl.ConvSpec;
import org.convcl.Padding;

/**
 * One workload of the benchmark suite: channels-last input {@code (N, *spatial, cin)} and kernel
 * {@code (*k, cin/groups, cout)}, with the batch to use on a CPU and on a GPU. {@code count} is how often the
 * shape occurs in the network a suite is drawn from (its optional "count"), {@link #NO_COUNT} where it gives none.
 */
public record BenchShape(String name, int[] spatial, int cin, int cout, int[] kernel, int[] strides,
        int[] kernelDilation, int[] inputDilation, Padding padding, int groups, int batchCpu, int batchGpu,
        int count) {
    /** The count of a shape whose suite is not drawn from one network. */
    public static final int NO_COUNT = 0;

    static BenchShape fromJson(Map<?, ?> json) {
        String name = (String) require(json, "name", null);
        return new BenchShape(name, ints(json, "spatial", name), number(json, "cin", name),
                number(json, "cout", name), ints(json, "kernel", name), ints(json, "strides", name),
                ints(json, "kernel_dilation", name), ints(json, "input_dilation", name),
                padding(require(json, "padding", name), name), number(json, "groups", name),
                number(json, "batch_cpu", name), number(json, "batch_gpu", name), count(json, name));
    }

    public boolean counted() {
        return count != NO_COUNT;
    }

    private static int count(Map<?, ?> json, String name) {
        if (!json.containsKey("count")) {
            return NO_COUNT;
        }
        int count = number(json, "count", name);
        if (count < 1) {
            throw new IllegalArgumentException("suite: shape " + name + " has count = " + count
                    + "; expected the number of times it occurs in the network, >= 1");
        }
        return count;
    }

    public ConvSpec spec() {
        return ConvSpec.builder().strides(strides).kernelDilation(kernelDilation).inputDilation(inputDilation)
                .padding(padding).groups(groups).build();
    }

    public int[] inputShape(int batch) {
        int[] shape = new int[spatial.length + 2];
        shape[0] = batch;
        System.arraycopy(spatial, 0, shape, 1, spatial.length);
        shape[shape.length - 1] = cin;
        return shape;
    }

    public int[] kernelShape() {
        int[] shape = Arrays.copyOf(kernel, kernel.length + 2);
        shape[kernel.length] = cin / groups;
        shape[kernel.length + 1] = cout;
        return shape;
    }

    private static Padding padding(Object value, String name) {
        if (value instanceof String text) {
            return Padding.parse(text);
        }
        if (value instanceof List<?> pairs) {
            int[][] loHi = new int[pairs.size()][];
            for (int d = 0; d < pairs.size(); d++) {
                loHi[d] = ((List<?>) pairs.get(d)).stream().mapToInt(v -> ((Number) v).intValue()).toArray();
            }
            return Padding.pairs(loHi);
        }
        if (value instanceof Number amount) {
            return Padding.of(amount.intValue());
        }
        throw new IllegalArgumentException("suite: shape " + name + " has padding " + value
                + "; expected a string, an int or [[lo, hi], ...]");
    }

    private static Object require(Map<?, ?> json, String key, String name) {
        Object value = json.get(key);
        if (value == null) {
            throw new IllegalArgumentException("suite: shape " + (name == null ? json : name) + " lacks '" + key + "'");
        }
        return value;
    }

    private static int number(Map<?, ?> json, String key, String name) {
        Object value = require(json, key, name);
        if (!(value instanceof Number number)) {
            throw new IllegalArgumentException("suite: shape " + name + " has " + key + " = " + value
                    + "; expected an int");
        }
        return number.intValue();
    }

    private static int[] ints(Map<?, ?> json, String key, String name) {
        Object value = require(json, key, name);
        if (!(value instanceof List<?> list)) {
            throw new IllegalArgumentException("suite: shape " + name + " has " + key + " = " + value
                    + "; expected a list of ints");
        }
        return list.stream().mapToInt(v -> ((Number) v).intValue()).toArray();
    }
}
