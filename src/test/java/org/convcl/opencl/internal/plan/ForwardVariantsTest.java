package org.convcl.opencl.internal.plan;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.convcl.ConvGeometry;
import org.convcl.ConvSpec;
import org.convcl.opencl.device.OpenClDevice;
import org.junit.jupiter.api.Test;

/**
 * The registry: each variant is found by its configs and its name, its JSON form reads back, its default comes
 * when it is the most specialised variant for a geometry, and its code paths are found with their probe cases.
 */
class ForwardVariantsTest {
    /** A GPU as its driver describes it: only its limits matter here. */
    private static final OpenClDevice GPU = new OpenClDevice(0, 0, "Test OpenCL", "OpenCL 3.0", "Test GPU", "Test",
            OpenClDevice.Type.GPU, 8, 1000, 8L << 30, 48 << 10, 1L << 30, 1024, "OpenCL 3.0", "OpenCL C 1.2", "test",
            List.of(), null, null);

    private static final List<ConvGeometry> GEOMETRIES = List.of(
            ConvSpec.defaults().resolve(new int[] {2, 8, 8, 16}, new int[] {3, 3, 16, 32}),
            ConvSpec.builder().groups(16).build().resolve(new int[] {2, 8, 8, 16}, new int[] {3, 3, 1, 16}),
            ConvSpec.defaults().resolve(new int[] {1, 3, 3, 3, 3, 2}, new int[] {2, 2, 2, 2, 2, 4}));

    @Test
    void namesAndConfigTypesAreUnique() {
        Set<String> names = new HashSet<>();
        Set<Class<?>> types = new HashSet<>();
        for (ForwardVariant<?> variant : ForwardVariants.ALL) {
            assertTrue(names.add(variant.name()), "two variants are named " + variant.name());
            assertTrue(types.add(variant.configType()), "two variants compile " + variant.configType());
            assertSame(variant, ForwardVariants.named(variant.name()));
            assertFalse(variant.sources().isEmpty(), variant.name() + " has no sources");
        }
    }

    @Test
    void everyCandidateBelongsToItsVariantAndReadsBackFromJson() {
        for (ForwardVariant<?> variant : ForwardVariants.ALL) {
            int checked = 0;
            for (ConvGeometry g : GEOMETRIES) {
                if (!variant.supports(g)) {
                    continue;
                }
                for (boolean gpu : new boolean[] {true, false}) {
                    for (KernelConfig config : variant.candidates(g, GPU, gpu)) {
                        assertSame(variant, ForwardVariants.of(config), config.toString());
                        Map<String, Object> json = ForwardVariants.toJson(config);
                        assertEquals("kernel", json.keySet().iterator().next(), "\"kernel\" comes first");
                        assertEquals(variant.name(), json.get("kernel"));
                        assertEquals(config, ForwardVariants.fromJson(json));
                        checked++;
                    }
                }
            }
            assertTrue(checked > 0, variant.name() + ": no geometry here gives it candidates");
        }
    }

    @Test
    void theMostSpecialisedVariantThatComputesAGeometryGivesItsDefault() {
        ForwardVariant<?> general = ForwardVariants.ALL.get(0);
        for (ConvGeometry g : GEOMETRIES) {
            assertTrue(general.supports(g) && general.untuned(g, GPU, false).isPresent(),
                    general.name() + " is the fallback for every geometry: " + g);
            ForwardVariant<?> specialised = ForwardVariants.ALL.stream().filter(v -> v.supports(g))
                    .reduce((first, second) -> second).orElseThrow();
            for (boolean portableOnly : new boolean[] {false, true}) {
                KernelConfig config = ForwardVariants.untuned(g, GPU, portableOnly);
                assertSame(specialised, ForwardVariants.of(config), g + " -> " + config);
                assertTrue(ForwardVariants.fits(config, g, GPU), config + " fits " + g);
            }
        }
        for (ForwardVariant<?> variant : ForwardVariants.ALL) {
            for (ConvGeometry g : GEOMETRIES) {
                variant.untuned(g, GPU, false).ifPresent(config -> assertTrue(variant.supports(g),
                        variant.name() + " gives a default for a geometry it does not compute: " + g));
            }
        }
    }

    @Test
    void everyCodePathIsFoundWithItsVariantAndProbeCase() {
        List<CodePath> paths = ForwardVariants.codePaths();
        Set<String> names = new HashSet<>();
        Set<String> labels = new HashSet<>();
        boolean provenSeen = false;
        for (CodePath path : paths) {
            assertTrue(names.add(path.name()) && labels.add(path.label()), "two code paths are called " + path);
            assertTrue(path.variant().codePaths().contains(path), path + " is not among its variant's paths");
            assertFalse(provenSeen && !path.provenBeforeUse(), "the portable paths come first: " + paths);
            provenSeen |= path.provenBeforeUse();
            // A GPU without tensor cores runs every path but the tensor-core form, whose case is then empty.
            path.variant().probe(path, GPU).ifPresent(probe -> {
                assertSame(path.variant(), ForwardVariants.of(probe.config()), path + ": " + probe.config());
                assertEquals(path, ForwardVariants.codePath(probe.config(), probe.geometry(), false),
                        path + ": " + probe.config());
                assertTrue(ForwardVariants.fits(probe.config(), probe.geometry(), GPU), path + ": " + probe);
            });
        }
        for (ForwardVariant<?> variant : ForwardVariants.ALL) {
            assertTrue(paths.containsAll(variant.codePaths()), variant.name() + "'s paths are all checked");
            assertTrue(variant.codePaths().stream().anyMatch(path -> variant.probe(path, GPU).isPresent()),
                    variant.name() + " has a probe case on a roomy GPU");
            for (ConvGeometry g : GEOMETRIES) {
                if (variant.supports(g)) {
                    for (KernelConfig config : variant.candidates(g, GPU, true)) {
                        for (boolean tensorCores : new boolean[] {false, true}) {
                            assertTrue(variant.codePaths().contains(ForwardVariants.codePath(config, g, tensorCores)),
                                    config + " runs one of " + variant.name() + "'s paths");
                        }
                    }
                }
            }
        }
    }

    @Test
    void anUnknownKernelNameIsRefusedByName() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ForwardVariants.fromJson(Map.of("kernel", "winograd")));
        assertTrue(e.getMessage().contains("winograd"), e.getMessage());
    }
}
