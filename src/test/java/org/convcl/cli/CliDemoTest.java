package org.convcl.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32;
import javax.imageio.ImageIO;
import org.convcl.nn.Conv;
import org.convcl.ConvSpec;
import org.convcl.Tensor;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.demo.BitmapFont;
import org.convcl.demo.DefaultImage;
import org.convcl.demo.GrayImages;
import org.convcl.demo.GridLayout;
import org.convcl.demo.Knobs;
import org.convcl.demo.Panel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code convcl demo}: the picture it writes, and the CLI contract for bad images and unwritable outputs. */
class CliDemoTest {

    @TempDir
    Path dir;

    @Test
    void writesTheGridWithTheLibrarysConvolutionsInIt() throws Exception {
        Path output = dir.resolve("knobs.png");
        CliRun run = CliRun.of("demo", "--backend", "cpu", "--output", output.toString());
        run.assertSuccess();
        assertEquals("", run.stdout() + run.stderr());
        BufferedImage picture = ImageIO.read(output.toFile());

        // 4 columns, each as wide as the widest panel (input dilation 2: 2 * 96 - 1) or label, plus margins.
        int widest = 2 * DefaultImage.SIZE - 1;
        for (Knobs.Knob knob : Knobs.all()) {
            widest = Math.max(widest, BitmapFont.width(knob.title(), GridLayout.LABEL_SCALE));
        }
        assertEquals(4 * (widest + 2 * GridLayout.MARGIN), picture.getWidth());
        Tensor image = GrayImages.toTensor(DefaultImage.create());
        List<Panel> panels = Knobs.panels(image, CpuBackend.instance());
        GridLayout layout = GridLayout.of(panels);
        assertEquals(layout.height(), picture.getHeight());

        // The stride-2 panel against a layer built here: a 5 x 5 box of 1/25, SAME, stride 2.
        float[] box = new float[25];
        Arrays.fill(box, 1f / 25);
        Tensor expected = Conv.builder(Tensor.of(box, 5, 5, 1, 1)).spec(ConvSpec.builder().strides(2).build())
                .backend(CpuBackend.instance()).build().apply(image);
        int index = indexOf(panels, "STRIDE 2");
        assertEquals(48, expected.dim(0));
        assertPanel(picture.getRaster(), layout.panelX(index), layout.panelY(index), expected);
    }

    @Test
    void aColorImageIsShownAsItsLuma() throws Exception {
        // 200 x 150 of one color: shrunk by 2 to 100 x 75, every pixel 0.299 R + 0.587 G + 0.114 B.
        BufferedImage color = new BufferedImage(200, 150, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 150; y++) {
            for (int x = 0; x < 200; x++) {
                color.setRGB(x, y, 200 << 16 | 100 << 8 | 50);
            }
        }
        Path in = dir.resolve("in.png");
        ImageIO.write(color, "png", in.toFile());
        Path output = dir.resolve("knobs.png");
        CliRun.of("demo", "--image", in.toString(), "--backend", "cpu", "--output", output.toString()).assertSuccess();

        BufferedImage picture = ImageIO.read(output.toFile());
        float luma = (float) ((0.299 * 200 + 0.587 * 100 + 0.114 * 50) / 255);
        float[] uniform = new float[100 * 75];
        Arrays.fill(uniform, luma);
        // The input panel is the first: at the margin, below three label lines.
        assertPanel(picture.getRaster(), GridLayout.MARGIN, GridLayout.MARGIN + 3 * GridLayout.LINE_PITCH,
                Tensor.of(uniform, 75, 100, 1));
        assertEquals(124, GrayImages.level(luma));
    }

    @Test
    void contentThatIsNotAUsableImageExitsTwoWithOneLineAndNoOutput() throws Exception {
        Path output = dir.resolve("knobs.png");
        byte[] png = pngBytes(40, 40);
        List<byte[]> hostile = List.of(
                "not an image at all".getBytes(StandardCharsets.US_ASCII),
                new byte[0],
                Arrays.copyOf(png, png.length / 2),
                pngHeader(100_000, 100_000),
                pngBytes(10, 50));
        List<String> reasons = List.of("not an image", "not an image", "cannot decode", "more than", "too small");
        for (int i = 0; i < hostile.size(); i++) {
            Path in = dir.resolve("in" + i + ".png");
            Files.write(in, hostile.get(i));
            String line = CliRun.of("demo", "--image", in.toString(), "--output", output.toString())
                    .assertFailure(Main.EXIT_INVALID, output);
            assertTrue(line.startsWith("convcl: --image " + in + ": ") && line.contains(reasons.get(i)),
                    "case " + i + ": " + line);
        }
    }

    @Test
    void missingImageOrAnOutputThatCannotBeWrittenExitsTwo() throws Exception {
        Path output = dir.resolve("knobs.png");
        Path missingImage = dir.resolve("missing.png");
        String missing = CliRun.of("demo", "--image", missingImage.toString(), "--output",
                output.toString()).assertFailure(Main.EXIT_INVALID, output);
        assertEquals("convcl: --image " + missingImage + ": no such file; an input must be an existing file", missing);
        Path nowhere = dir.resolve("no-such-dir").resolve("knobs.png");
        String unwritable = CliRun.of("demo", "--output", nowhere.toString()).assertFailure(Main.EXIT_INVALID, null);
        assertTrue(unwritable.startsWith("convcl: --output " + nowhere + ": directory " + nowhere.getParent()
                + " does not exist"), unwritable);
        String directory = CliRun.of("demo", "--output", dir.toString()).assertFailure(Main.EXIT_INVALID, null);
        assertTrue(directory.startsWith("convcl: --output " + dir + ": it is a directory"), directory);
    }

    @Test
    void theToolWithoutACommandListsDemo() {
        String line = CliRun.of().assertFailure(Main.EXIT_INVALID, null);
        assertTrue(line.contains("demo"), line);
        CliRun help = CliRun.of("demo", "--help");
        help.assertSuccess();
        assertTrue(help.stdout().contains("--image"), help.stdout());
    }

    private static void assertPanel(Raster raster, int left, int top, Tensor values) {
        int height = values.dim(0);
        int width = values.dim(1);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                float value = values.data()[y * width + x];
                int expected = Math.round(Math.min(1, Math.max(0, value)) * 255);
                assertEquals(expected, raster.getSample(left + x, top + y, 0), "pixel " + x + "," + y);
            }
        }
    }

    private static int indexOf(List<Panel> panels, String title) {
        for (int i = 0; i < panels.size(); i++) {
            if (panels.get(i).title().equals(title)) {
                return i;
            }
        }
        throw new AssertionError("no panel " + title);
    }

    private static byte[] pngBytes(int width, int height) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        ImageIO.write(new BufferedImage(width, height, BufferedImage.TYPE_BYTE_GRAY), "png", bytes);
        return bytes.toByteArray();
    }

    /** The signature and a valid IHDR chunk claiming {@code width x height} gray pixels, and nothing more. */
    private static byte[] pngHeader(int width, int height) {
        ByteBuffer ihdr = ByteBuffer.allocate(4 + 13);
        ihdr.put("IHDR".getBytes(StandardCharsets.US_ASCII)).putInt(width).putInt(height)
                .put((byte) 8).put((byte) 0).put((byte) 0).put((byte) 0).put((byte) 0);
        CRC32 crc = new CRC32();
        crc.update(ihdr.array());
        ByteBuffer file = ByteBuffer.allocate(8 + 4 + 17 + 4);
        file.put(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}).putInt(13).put(ihdr.array())
                .putInt((int) crc.getValue());
        return file.array();
    }
}
