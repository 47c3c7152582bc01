package org.convcl.demo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import javax.imageio.ImageIO;
import org.convcl.nn.Conv;
import org.convcl.ConvSpec;
import org.convcl.Padding;
import org.convcl.Tensor;
import org.convcl.backend.cpu.CpuBackend;
import org.junit.jupiter.api.Test;

/**
 * The picture shows what the library computes: each panel's pixels are its values as gray levels, and the
 * panels are the convolutions the labels name, checked against layers built here from the labels' words.
 */
class KnobsPictureTest {

    @Test
    void everyPanelIsDrawnPixelForPixelAtItsPlace() {
        List<Panel> panels = Knobs.panels(GrayImages.toTensor(DefaultImage.create()), CpuBackend.instance());
        BufferedImage picture = GridRenderer.render(panels);
        GridLayout layout = GridLayout.of(panels);
        assertEquals(layout.width(), picture.getWidth());
        assertEquals(layout.height(), picture.getHeight());
        for (int i = 0; i < panels.size(); i++) {
            assertPanelShows(picture.getRaster(), layout, i, panels.get(i).values());
        }
    }

    @Test
    void panelsAreTheConvolutionsTheirLabelsName() {
        Tensor image = GrayImages.toTensor(DefaultImage.create());
        List<Panel> panels = Knobs.panels(image, CpuBackend.instance());
        float[] box = new float[25];
        Arrays.fill(box, 1f / 25);
        Tensor kernel = Tensor.of(box, 5, 5, 1, 1);
        assertSame(panels, "STRIDE 2", conv(kernel, ConvSpec.builder().strides(2).build(), image));
        assertSame(panels, "KERNEL DILATION 3", conv(kernel, ConvSpec.builder().kernelDilation(3).build(), image));
        assertSame(panels, "INPUT DILATION 2", conv(kernel,
                ConvSpec.builder().inputDilation(2).padding(Padding.of(2)).build(), image));
        assertSame(panels, "PADDING", conv(kernel,
                ConvSpec.builder().padding(Padding.pairs(new int[] {-16, 8}, new int[] {8, -16})).build(), image));
        float[] rowBox = new float[9];
        Arrays.fill(rowBox, 1f / 9);
        assertSame(panels, "CAUSAL", conv(Tensor.of(rowBox, 9, 1, 1),
                ConvSpec.builder().padding(Padding.CAUSAL).build(), image));
        assertArrayEquals(image.data(), panel(panels, "INPUT").values().data());
        assertEquals(List.of("STRIDE 2", "SAME", "(48,48,1)"), panel(panels, "STRIDE 2").labelLines());
    }

    /**
     * The README shows docs/knobs.png; it must be what the demo draws now (regenerate it with the README's
     * command after changing the demo). Levels may differ by one where another machine's vector width
     * rounds a sum the other way.
     */
    @Test
    void theReadmePictureIsCurrent() throws Exception {
        BufferedImage committed = ImageIO.read(Path.of("docs", "knobs.png").toFile());
        BufferedImage current = GridRenderer.render(Knobs.panels(GrayImages.toTensor(DefaultImage.create()),
                CpuBackend.instance()));
        assertEquals(current.getWidth(), committed.getWidth(),
                "width; regenerate: scripts/convcl demo --output docs/knobs.png");
        assertEquals(current.getHeight(), committed.getHeight(), "height; regenerate docs/knobs.png");
        for (int y = 0; y < current.getHeight(); y++) {
            for (int x = 0; x < current.getWidth(); x++) {
                int difference = Math.abs(current.getRaster().getSample(x, y, 0)
                        - committed.getRaster().getSample(x, y, 0));
                if (difference > 1) {
                    throw new AssertionError("docs/knobs.png differs from the demo's picture at (" + x + ", " + y
                            + "); regenerate it: scripts/convcl demo --output docs/knobs.png");
                }
            }
        }
    }

    @Test
    void defaultImageUsesTheWholeGrayRange() {
        Tensor image = GrayImages.toTensor(DefaultImage.create());
        assertArrayEquals(new int[] {DefaultImage.SIZE, DefaultImage.SIZE, 1}, image.shape());
        float min = 1;
        float max = 0;
        for (float v : image.data()) {
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        assertTrue(min == 0 && max == 1, "black to white: " + min + " to " + max);
    }

    @Test
    void imagesAreShrunkToTheDemoSizeOrRefusedWhenTooSmall() {
        Tensor big = Tensor.of(new float[300 * 260], 260, 300, 1);
        big.data()[0] = 9; // one bright value in the first 3 x 3 block
        Tensor fitted = GrayImages.fitForDemo(big, "image");
        assertArrayEquals(new int[] {86, 100, 1}, fitted.shape(), "shrunk by 3 to at most 128");
        assertEquals(1f, fitted.data()[0], "a block's mean");
        IllegalArgumentException refusal = assertThrows(IllegalArgumentException.class,
                () -> GrayImages.fitForDemo(Tensor.zeros(20, 40, 1), "--image x.png"));
        assertTrue(refusal.getMessage().startsWith("--image x.png: 40 x 20 pixels is too small"), refusal.getMessage());
    }

    @Test
    void grayLevelsClampAndRound() {
        assertEquals(0, GrayImages.level(-0.5f));
        assertEquals(0, GrayImages.level(Float.NaN));
        assertEquals(128, GrayImages.level(0.5f));
        assertEquals(255, GrayImages.level(1.0000001f));
    }

    /** Panel {@code index} of the picture holds exactly the gray levels of {@code values}. */
    static void assertPanelShows(Raster raster, GridLayout layout, int index, Tensor values) {
        int height = values.dim(0);
        int width = values.dim(1);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                float value = values.data()[y * width + x];
                int expected = value <= 0 ? 0 : value >= 1 ? 255 : Math.round(value * 255);
                int actual = raster.getSample(layout.panelX(index) + x, layout.panelY(index) + y, 0);
                if (expected != actual) {
                    throw new AssertionError("panel " + index + " pixel (" + x + ", " + y + ") is " + actual
                            + ", value " + value + " is level " + expected);
                }
            }
        }
    }

    private static Tensor conv(Tensor kernel, ConvSpec spec, Tensor image) {
        return Conv.builder(kernel).spec(spec).backend(CpuBackend.instance()).build().apply(image);
    }

    private static void assertSame(List<Panel> panels, String title, Tensor expected) {
        Panel panel = panel(panels, title);
        assertArrayEquals(expected.shape(), panel.values().shape(), title);
        assertArrayEquals(expected.data(), panel.values().data(), title);
    }

    private static Panel panel(List<Panel> panels, String title) {
        return panels.stream().filter(p -> p.title().equals(title)).findFirst().orElseThrow();
    }
}
