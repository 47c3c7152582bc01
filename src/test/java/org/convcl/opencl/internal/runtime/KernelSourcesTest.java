package org.convcl.opencl.internal.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.convcl.opencl.internal.plan.GemmVariant;
import org.junit.jupiter.api.Test;

/** Programs built from several source files: order, hash, line map and refusals; no device needed. */
class KernelSourcesTest {
    private static KernelSources.Source file(String name, String text) {
        return new KernelSources.Source(name, text, KernelSources.sha256(text), "test:" + name);
    }

    @Test
    void filesAreCompiledInTheOrderTheyAreNamed() {
        KernelSources.ProgramSource program = KernelSources.load(GemmVariant.SOURCES);
        assertEquals("conv_geometry.cl + tf32.cl + storage.cl + conv_gemm.cl", program.name());
        assertArrayEquals(new String[] {KernelSources.load("conv_geometry.cl").text(),
            KernelSources.load("tf32.cl").text(), KernelSources.load("storage.cl").text(),
            KernelSources.load("conv_gemm.cl").text()}, program.texts());
    }

    @Test
    void hashChangesWithAnyFileAndWithTheOrder() {
        KernelSources.Source shared = file("shared.cl", "#define A 1\n");
        KernelSources.Source kernel = file("kernel.cl", "__kernel void k() {}\n");
        String hash = new KernelSources.ProgramSource(List.of(shared, kernel)).sha256();
        assertNotEquals(hash, new KernelSources.ProgramSource(List.of(file("shared.cl", "#define A 2\n"), kernel))
                .sha256(), "an edit to the shared file");
        assertNotEquals(hash, new KernelSources.ProgramSource(List.of(shared, file("kernel.cl", "\n"))).sha256(),
                "an edit to the kernel's file");
        assertNotEquals(hash, new KernelSources.ProgramSource(List.of(kernel, shared)).sha256(), "another order");
        assertNotEquals(hash, new KernelSources.ProgramSource(List.of(kernel)).sha256(), "a file less");
    }

    @Test
    void descriptionMapsTheCompilersLineNumbersToFiles() {
        KernelSources.ProgramSource program = new KernelSources.ProgramSource(
                List.of(file("shared.cl", "a\nb\nc\n"), file("kernel.cl", "d\ne\n")));
        assertEquals("shared.cl (test:shared.cl; build log lines 1-3) + kernel.cl (test:kernel.cl; build log lines 4-5)",
                program.describe());
        assertEquals("kernel.cl (test:kernel.cl)", new KernelSources.ProgramSource(
                List.of(file("kernel.cl", "d\n"))).describe(), "one file needs no line map");
    }

    @Test
    void sharedFileWithoutAFinalLineBreakIsRefused() {
        IllegalStateException error = assertThrows(IllegalStateException.class, () -> new KernelSources.ProgramSource(
                List.of(file("shared.cl", "#define A 1"), file("kernel.cl", "__kernel void k() {}"))));
        assertTrue(error.getMessage().contains("test:shared.cl"), error.getMessage());
    }
}
