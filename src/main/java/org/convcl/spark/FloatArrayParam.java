package org.convcl.spark;

import java.util.List;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.util.Identifiable;
import org.convcl.internal.Json;

/**
 * A Spark ML parameter holding a {@code float[]} (Spark has double, int and string arrays only), so that a kernel
 * is kept, broadcast and saved as the float32 values it is, at half the size of a double array.
 *
 * <p>Its JSON form (how {@code DefaultParamsWriter} saves it) is an array of numbers, each the float widened to a
 * double and written in full: Spark reparses the text as doubles before the reader sees it, and a double that
 * equals a float comes back as exactly that float, where a float's own shortest decimal form could, rarely, round
 * to a neighbour on the way through a double. NaN and the infinities, which JSON has no numbers for, are the
 * strings {@code "NaN"}, {@code "Infinity"} and {@code "-Infinity"}, as Spark's {@code DoubleParam} writes them.
 */
public final class FloatArrayParam extends Param<float[]> {
    private static final long serialVersionUID = 1L;

    /** A parameter {@code name} of {@code parent}, documented by {@code doc}. */
    public FloatArrayParam(Identifiable parent, String name, String doc) {
        super(parent, name, doc);
    }

    @Override
    public String jsonEncode(float[] value) {
        StringBuilder json = new StringBuilder(value.length * 12 + 2).append('[');
        for (int i = 0; i < value.length; i++) {
            if (i > 0) {
                json.append(',');
            }
            float v = value[i];
            if (Float.isNaN(v)) {
                json.append("\"NaN\"");
            } else if (Float.isInfinite(v)) {
                json.append(v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
            } else {
                json.append(Double.toString(v));
            }
        }
        return json.append(']').toString();
    }

    @Override
    public float[] jsonDecode(String json) {
        Object parsed = Json.parse(json);
        if (!(parsed instanceof List<?> list)) {
            throw new IllegalArgumentException(name() + ": saved value is not a JSON array of numbers: "
                    + abbreviate(json));
        }
        float[] values = new float[list.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = decode(list.get(i), i, json);
        }
        return values;
    }

    private float decode(Object element, int index, String json) {
        if (element instanceof Number number) {
            return number.floatValue();
        }
        if ("NaN".equals(element)) {
            return Float.NaN;
        }
        if ("Infinity".equals(element)) {
            return Float.POSITIVE_INFINITY;
        }
        if ("-Infinity".equals(element)) {
            return Float.NEGATIVE_INFINITY;
        }
        throw new IllegalArgumentException(name() + ": saved element " + index + " is " + element
                + "; expected a number, \"NaN\", \"Infinity\" or \"-Infinity\" (in " + abbreviate(json) + ")");
    }

    private static String abbreviate(String json) {
        return json.length() <= 80 ? json : json.substring(0, 77) + "...";
    }
}
