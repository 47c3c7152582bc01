package org.convcl.opencl.internal.tuning;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.convcl.ConvGeometry;
import org.convcl.opencl.device.OpenClDevice;
import org.convcl.opencl.internal.plan.ForwardVariants;
import org.convcl.opencl.internal.plan.KernelConfig;

/**
 * The configs the tuner tries for one geometry on one device: the untuned default first, then a
 * reproducible sample (seeded by the geometry) of every legal config of the kernel the geometry uses, as
 * CLBlast samples its parameter space. Each variant gives its space ({@code ForwardVariant#candidates}), which
 * depends on the device's type.
 * Every candidate fits the device's limits; duplicates (after vector widths are fitted to the geometry)
 * are dropped.
 */
public final class TuningCandidates {
    private TuningCandidates() {
    }

    /** At most {@code budget} candidates (at least the default), default first. */
    public static List<KernelConfig> of(ConvGeometry g, OpenClDevice device, int budget) {
        return of(g, device, budget, device.isGpuOrAccelerator());
    }

    /** As {@link #of(ConvGeometry, OpenClDevice, int)} from the GPU or the CPU space (tests use both). */
    public static List<KernelConfig> of(ConvGeometry g, OpenClDevice device, int budget, boolean gpuSpace) {
        if (budget < 1) {
            throw new IllegalArgumentException("budget: got " + budget + "; at least one config must be tried");
        }
        KernelConfig untuned = DefaultConfigs.untuned(g, device);
        List<KernelConfig> space = new ArrayList<>(space(g, device, untuned, gpuSpace));
        Collections.shuffle(space, new Random(g.toString().hashCode()));
        Set<KernelConfig> chosen = new LinkedHashSet<>();
        chosen.add(untuned);
        for (KernelConfig candidate : space) {
            if (chosen.size() >= budget) {
                break;
            }
            if (ForwardVariants.fits(candidate, g, device)) {
                chosen.add(candidate);
            }
        }
        return List.copyOf(chosen);
    }

    /** Every legal config of the variant {@code untuned} belongs to (fitted; unordered; duplicates dropped). */
    public static List<KernelConfig> space(ConvGeometry g, OpenClDevice device, KernelConfig untuned, boolean gpu) {
        return new ArrayList<>(new LinkedHashSet<>(ForwardVariants.candidatesLike(untuned, g, device, gpu)));
    }
}
