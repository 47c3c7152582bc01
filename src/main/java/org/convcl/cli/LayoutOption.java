package org.convcl.cli;

import org.convcl.Layout;
import picocli.CommandLine.Option;

/**
 * {@code --layout}, which {@code conv} and {@code conv-transpose} take alike: a picocli mixin, one of the shared
 * options that {@link LayerCommand} lists. What the kernel looks like in each layout is said at each command's
 * {@code --kernel}.
 */
final class LayoutOption {
    @Option(names = "--layout", paramLabel = "channels-last|channels-first", defaultValue = "channels-last",
            description = "Where the channels are: channels-last (flax's) or channels-first (PyTorch's and ONNX's: "
                    + "X is (*batch, Cin, *spatial), Y and the gradients likewise, K as --kernel says). "
                    + "Default: ${DEFAULT-VALUE}.")
    private String text;

    /** The layout named, in any letter case; anything else is refused naming the option and the choices. */
    Layout parse() {
        return parse(text);
    }

    /** {@link #parse()} for a command that declares {@code --layout} with help of its own ({@code pool}). */
    static Layout parse(String text) {
        String name = text == null ? "" : text.trim();
        for (Layout layout : Layout.values()) {
            if (layout.toString().equalsIgnoreCase(name)) {
                return layout;
            }
        }
        throw new IllegalArgumentException("--layout: got '" + text + "'; expected channels-last or channels-first");
    }
}
