package org.convcl.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** A float array survives its JSON form bit for bit, the values JSON has no numbers for included. */
class FloatArrayParamTest {
    private final FloatArrayParam param = new FloatArrayParam(new ConvTransformer("uid"), "kernel", "values");

    @Test
    void everyKindOfFloatRoundTripsExactly() {
        float[] values = {0.1f, -0.0f, 0f, Float.MIN_VALUE, Float.MIN_NORMAL, Float.MAX_VALUE, -3.4028235e38f,
            1e-7f, 16777217f, (float) Math.PI, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};
        String json = param.jsonEncode(values);
        float[] decoded = param.jsonDecode(json);
        assertEquals(values.length, decoded.length);
        for (int i = 0; i < values.length; i++) {
            assertEquals(Float.floatToRawIntBits(values[i]), Float.floatToRawIntBits(decoded[i]),
                    "element " + i + " (" + values[i] + ") via " + json);
        }
        assertEquals("[]", param.jsonEncode(new float[0]));
        assertEquals(0, param.jsonDecode("[]").length);
    }

    @Test
    void aValueThatIsNoArrayOfNumbersIsRefusedNamingTheParam() {
        IllegalArgumentException notArray = assertThrows(IllegalArgumentException.class,
                () -> param.jsonDecode("{\"a\": 1}"));
        assertTrue(notArray.getMessage().startsWith("kernel: saved value is not a JSON array of numbers"),
                notArray.getMessage());
        IllegalArgumentException badElement = assertThrows(IllegalArgumentException.class,
                () -> param.jsonDecode("[1.0, \"one\"]"));
        assertTrue(badElement.getMessage().startsWith("kernel: saved element 1 is one; expected a number"),
                badElement.getMessage());
    }
}
