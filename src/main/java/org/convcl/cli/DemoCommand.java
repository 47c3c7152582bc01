package org.convcl.cli;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import javax.imageio.ImageIO;
import org.convcl.Tensor;
import org.convcl.backend.BackendChoice;
import org.convcl.nn.Backends;
import org.convcl.demo.DefaultImage;
import org.convcl.demo.GrayImages;
import org.convcl.demo.GridRenderer;
import org.convcl.demo.Knobs;
import org.convcl.demo.Panel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code convcl demo}: a picture of the knobs. Convolves one grayscale image (a built-in one, or
 * {@code --image}) with a 5 x 5 box through each padding mode, stride, input and kernel dilation, and writes
 * one labelled PNG grid. As {@code conv} does, it checks everything before computing and writes the picture
 * last, atomically, so a failure leaves no output.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false, sortSynopsis = false,
        usageHelpWidth = 100,
        versionProvider = Version.class,
        header = "Draws one PNG grid of an image convolved through every knob: a picture of what they do.",
        description = {"",
            "The image (a built-in 96 x 96 picture unless --image is given) is turned to gray, shrunk to at most "
                + GrayImages.MAX_SIDE + " pixels on its long side, and convolved with a 5 x 5 box (every weight "
                + "1/25) with SAME, VALID, explicit, CIRCULAR and REFLECT padding, a crop, stride 2, input "
                + "dilation 2 and kernel dilation 2 and 3; CAUSAL, which needs a 1-d kernel, runs a 9-tap box "
                + "along each row. Each panel shows one value per pixel, 0 black and 1 white, under its "
                + "setting and output shape.",
            ""},
        footerHeading = "%nExit codes:%n",
        footer = {"  0  success: the PNG written",
            "  1  reading or writing a file failed once begun (nothing is written)",
            "  2  invalid option or file path, or --image is not an image the demo can use (nothing is written)",
            "", "Example:",
            "  convcl demo --output knobs.png"})
final class DemoCommand implements Callable<Integer> {

    @Option(names = "--image", paramLabel = "IMAGE",
            description = "A PNG, JPEG, GIF or BMP of at least " + GrayImages.MIN_SIDE + " x " + GrayImages.MIN_SIDE
                    + " pixels. Default: the built-in picture.")
    private Path image;

    @Option(names = "--output", required = true, paramLabel = "PNG", description = "Where to write the grid.")
    private Path output;

    @Mixin
    private BackendOption backend;

    @Override
    public Integer call() {
        // Before anything touches AWT: the demo never needs a display, and must not look for one.
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
        BackendChoice choice = backend.parse();
        Tensor gray = GrayImages.fitForDemo(GrayImages.toTensor(readImage()), image == null ? "image" : "--image "
                + image);
        checkOutputLocation();
        List<Panel> panels = Knobs.panels(gray, Backends.select(choice));
        BufferedImage picture = GridRenderer.render(panels);
        writePng(picture);
        return Main.EXIT_OK;
    }

    private BufferedImage readImage() {
        if (image == null) {
            return DefaultImage.create();
        }
        PathChecks.checkInput("--image", image);
        try {
            return GrayImages.read(image);
        } catch (IllegalArgumentException badContent) {
            // Its message starts with the path already.
            throw new IllegalArgumentException("--image " + badContent.getMessage(), badContent);
        } catch (IOException e) {
            throw FileAccessException.reading("--image", image, e);
        }
    }

    /**
     * Fails before the work when the picture could not be written anyway, or would replace the image it is drawn
     * from (exit 2, as {@code conv} does).
     */
    private void checkOutputLocation() {
        PathChecks.checkOutput("--output", output);
        PathChecks.checkNotAnInput("--output", output, image == null ? Map.of() : Map.of("--image", image));
    }

    /** PNG into a temporary file beside the output's target, then one atomic move: never a partial picture. */
    private void writePng(BufferedImage picture) {
        StagedOutput.write("--output", output, temporary -> {
            if (!ImageIO.write(picture, "png", temporary.toFile())) {
                throw new IOException("this JVM has no PNG writer");
            }
        });
    }
}
