package org.convcl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class DTypeTest {
    @ParameterizedTest
    @EnumSource(DType.class)
    void parsesItsOwnNameInAnyCase(DType type) {
        assertEquals(type, DType.parse(type.cliName()));
        assertEquals(type, DType.parse(" " + type.name() + " "));
    }

    @Test
    void namesAndSizes() {
        assertEquals("float32 4, float16 2, bfloat16 2", DType.FLOAT32.cliName() + " " + DType.FLOAT32.bytes() + ", "
                + DType.FLOAT16.cliName() + " " + DType.FLOAT16.bytes() + ", " + DType.BFLOAT16.cliName() + " "
                + DType.BFLOAT16.bytes());
    }

    @Test
    void refusesUnknownNamesNamingTheChoices() {
        assertEquals("dtype: got 'half'; expected one of float32, float16, bfloat16",
                assertThrows(IllegalArgumentException.class, () -> DType.parse("half")).getMessage());
        assertEquals("dtype: got null; expected one of float32, float16, bfloat16",
                assertThrows(IllegalArgumentException.class, () -> DType.parse(null)).getMessage());
    }
}
