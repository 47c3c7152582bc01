package org.convcl.examples;

import java.util.List;
import java.util.Locale;

/**
 * The two torchvision ResNets that {@link ResNet} builds: resnet18 (basic blocks of two 3x3 convolutions, stages
 * of 2, 2, 2, 2 blocks) and resnet50 (bottleneck blocks 1x1, 3x3, 1x1 with four-fold expansion, stages of 3, 4, 6,
 * 3 blocks; the stride on the 3x3 convolution, torchvision's "v1.5").
 */
public enum ResNetArch {
    RESNET18(false, List.of(2, 2, 2, 2)),
    RESNET50(true, List.of(3, 4, 6, 3));

    private final boolean bottleneck;
    private final List<Integer> stageBlocks;

    ResNetArch(boolean bottleneck, List<Integer> stageBlocks) {
        this.bottleneck = bottleneck;
        this.stageBlocks = stageBlocks;
    }

    /** The architecture of torchvision's name ({@code resnet18}, {@code resnet50}), in any letter case. */
    public static ResNetArch parse(String option, String name) {
        String trimmed = name == null ? "" : name.trim();
        for (ResNetArch arch : values()) {
            if (arch.toString().equalsIgnoreCase(trimmed)) {
                return arch;
            }
        }
        throw new IllegalArgumentException(option + ": got '" + name + "'; expected resnet50 or resnet18");
    }

    /** Whether the blocks are bottlenecks (1x1, 3x3, 1x1) rather than basic blocks (3x3, 3x3). */
    public boolean bottleneck() {
        return bottleneck;
    }

    /** How many blocks each of the four stages holds. */
    public List<Integer> stageBlocks() {
        return stageBlocks;
    }

    /** A block's output channels over its inner width: torchvision's {@code expansion}. */
    public int expansion() {
        return bottleneck ? 4 : 1;
    }

    /** The channels the final linear layer reads, for a stem of {@code width} channels (64 in torchvision). */
    public int features(int width) {
        return width * 8 * expansion();
    }

    /** torchvision's name: {@code resnet18} or {@code resnet50}. */
    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
