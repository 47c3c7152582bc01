package org.convcl.opencl.internal.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The free work-group size fitted to a compiled kernel's limit and preferred multiple, with made-up limits. */
class WorkGroupSizeTest {
    @Test
    void wantedSizeStandsWhereTheKernelRunsIt() {
        assertEquals(64, WorkGroupSize.fit(64, 4096, 8));
        assertEquals(64, WorkGroupSize.fit(64, 64, 32));
    }

    @Test
    void aLowerKernelLimitGivesItsLargestPreferredMultiple() {
        // rusticl on llvmpipe: a device maximum of 1024, but the general kernel compiled for 32.
        assertEquals(32, WorkGroupSize.fit(64, 32, 32));
        assertEquals(16, WorkGroupSize.fit(64, 20, 8));
        assertEquals(48, WorkGroupSize.fit(64, 50, 16));
    }

    @Test
    void aMultipleAboveTheLimitOrNoneGivesTheLimitItself() {
        assertEquals(20, WorkGroupSize.fit(64, 20, 32));
        assertEquals(20, WorkGroupSize.fit(64, 20, 0));
        assertEquals(1, WorkGroupSize.fit(64, 1, 1));
    }

    @Test
    void impossibleInputsAreRefusedNamingTheParameter() {
        IllegalArgumentException wanted = assertThrows(IllegalArgumentException.class,
                () -> WorkGroupSize.fit(0, 32, 8));
        assertTrue(wanted.getMessage().startsWith("wanted: got 0"), wanted.getMessage());
        IllegalArgumentException limit = assertThrows(IllegalArgumentException.class,
                () -> WorkGroupSize.fit(64, 0, 8));
        assertTrue(limit.getMessage().startsWith("kernelLimit: got 0"), limit.getMessage());
    }
}
