package org.convcl.spark;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.convcl.nn.Conv;
import org.convcl.DType;
import org.convcl.Layout;
import org.convcl.backend.BackendChoice;
import org.convcl.backend.cpu.CpuBackend;
import org.junit.jupiter.api.Test;

/** One layer per recipe and backend, reused by later tasks; a bounded number kept, closed once unused. */
class ExecutorConvsTest {
    private static final TaskBackends.Selection JAVA_PATH =
            new TaskBackends.Selection(CpuBackend.instance(), "cpu", "the Java path", "test");

    @Test
    void tasksWithEqualRecipesShareOneLayer() {
        ConvRecipe recipe = recipe(1.5f);
        try (ExecutorConvs.Lease first = ExecutorConvs.lease(recipe, JAVA_PATH);
                ExecutorConvs.Lease second = ExecutorConvs.lease(recipe(1.5f), JAVA_PATH);
                ExecutorConvs.Lease other = ExecutorConvs.lease(recipe(2.5f), JAVA_PATH)) {
            assertSame(first.conv(), second.conv());
            assertNotSame(first.conv(), other.conv());
        }
    }

    @Test
    void pastCapacityTheLayerUnusedLongestIsClosedOnceItsLastTaskGivesItBack() {
        ExecutorConvs.Lease held = ExecutorConvs.lease(recipe(100f), JAVA_PATH);
        Conv oldestHeld = held.conv();
        Conv oldestFree;
        try (ExecutorConvs.Lease lease = ExecutorConvs.lease(recipe(101f), JAVA_PATH)) {
            oldestFree = lease.conv();
        }
        List<Conv> newer = new ArrayList<>();
        for (int i = 0; i < ExecutorConvs.CAPACITY; i++) {
            try (ExecutorConvs.Lease lease = ExecutorConvs.lease(recipe(200f + i), JAVA_PATH)) {
                newer.add(lease.conv());
            }
        }
        assertTrue(oldestFree.isClosed(), "retired and unused: closed");
        assertFalse(oldestHeld.isClosed(), "retired but still lent to a task: open until given back");
        held.close();
        assertTrue(oldestHeld.isClosed());
        held.close(); // giving back twice changes nothing
        newer.forEach(conv -> assertFalse(conv.isClosed()));
    }

    private static ConvRecipe recipe(float weight) {
        return new ConvRecipe("test", new float[] {weight}, new int[] {1, 1, 1}, null, new int[] {1}, "SAME",
                new int[] {1}, new int[] {1}, 1, Layout.CHANNELS_LAST, DType.FLOAT32, BackendChoice.CPU,
                new int[] {4, 1}, 8);
    }
}
