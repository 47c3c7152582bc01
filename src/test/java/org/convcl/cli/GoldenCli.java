package org.convcl.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.convcl.testing.GoldenCase;

/**
 * Turns a golden case into files and a {@code convcl conv} command line, writing each setting the way a user
 * would from the manifest's own value (a list of ints stays a list of ints, not pairs), so that the CLI's
 * parsing is tested along with the convolution.
 */
final class GoldenCli {
    private GoldenCli() {
    }

    /** Copies the case's {@code array}.npy, byte for byte, into {@code dir}. */
    static Path copy(GoldenCase c, String array, Path dir) {
        Path target = dir.resolve(array + ".npy");
        try (InputStream in = GoldenCase.class.getResourceAsStream(c.resourcePath(array))) {
            if (in == null) {
                throw new IllegalStateException(c.name() + " has no " + array + ".npy");
            }
            Files.copy(in, target);
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@code --bias bias.npy}, copied into {@code dir}, when the case has a bias; else nothing. */
    static List<String> biasIfAny(GoldenCase c, Path dir) {
        return c.has("bias") ? List.of("--bias", copy(c, "bias", dir).toString()) : List.of();
    }

    /** The settings of {@code c} as options (not the files): --strides, --padding, dilations, --groups. */
    static List<String> settings(GoldenCase c) {
        List<String> args = new ArrayList<>();
        args.add("--strides");
        args.add(ints(c.strides()));
        args.add("--padding");
        args.add(padding(c));
        args.add("--input-dilation");
        args.add(ints(c.inputDilation()));
        args.add("--kernel-dilation");
        args.add(ints(c.kernelDilation()));
        args.add("--groups");
        args.add(Integer.toString(c.groups()));
        return args;
    }

    /**
     * The settings of a {@code conv_transpose} case as {@code convcl conv-transpose} options: --strides,
     * --padding, --kernel-dilation, and --transpose-kernel when the case sets flax's transpose_kernel.
     */
    static List<String> transposeSettings(GoldenCase c) {
        List<String> args = new ArrayList<>(List.of("--strides", ints(c.strides()), "--padding", padding(c),
                "--kernel-dilation", ints(c.kernelDilation())));
        if (c.transposeKernel()) {
            args.add("--transpose-kernel");
        }
        return args;
    }

    /** The manifest's padding in the CLI's text form; names in lower case for half the cases. */
    static String padding(GoldenCase c) {
        Object padding = c.padding();
        if (padding instanceof String name) {
            return (c.name().hashCode() & 1) == 0 ? name.toLowerCase(Locale.ROOT) : name;
        }
        if (padding instanceof Number amount) {
            return amount.toString();
        }
        return ((List<?>) padding).stream().map(entry -> {
            if (entry instanceof Number amount) {
                return amount.toString();
            }
            List<?> pair = (List<?>) entry;
            return pair.get(0) + ":" + pair.get(1);
        }).collect(Collectors.joining(","));
    }

    static String ints(int[] values) {
        return IntStream.of(values).mapToObj(Integer::toString).collect(Collectors.joining(","));
    }
}
