package org.convcl.demo;

import java.awt.Transparency;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import javax.imageio.IIOException;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;
import org.convcl.Tensor;

/**
 * Grayscale images as tensors {@code (height, width, 1)} with values in [0, 1] (0 black, 1 white), and back
 * to 8-bit gray levels. Reading is defensive: the image's size is read from its header and refused when
 * absurd before any pixel is decoded, and anything the decoder cannot make sense of ends in an
 * {@link IllegalArgumentException} naming the file, never in a decoder's own exception.
 * Stateless and thread-safe.
 */
public final class GrayImages {
    /** Larger images are refused unread: 4096 x 4096 pixels decode into at most 64 MiB. */
    public static final long MAX_PIXELS = 4096L * 4096;
    /** Smaller images are refused: the demo's crops and borders need room. */
    public static final int MIN_SIDE = 32;
    /** Images are shrunk to at most this many pixels on their long side, so the grid stays small. */
    public static final int MAX_SIDE = 128;

    private GrayImages() {
    }

    /**
     * Reads an image file (PNG, JPEG, GIF, BMP: what {@link ImageIO} reads). An {@link IOException} means the
     * file could not be read at all; an {@link IllegalArgumentException} that its content is not a usable
     * image.
     */
    public static BufferedImage read(Path path) throws IOException {
        try (InputStream in = Files.newInputStream(path);
                ImageInputStream stream = new MemoryCacheImageInputStream(in)) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(stream);
            if (!readers.hasNext()) {
                throw new IllegalArgumentException(path + ": not an image this JVM can decode (PNG, JPEG, GIF or BMP)");
            }
            ImageReader reader = readers.next();
            try {
                reader.setInput(stream, true, true);
                int width = decoding(path, () -> reader.getWidth(0));
                int height = decoding(path, () -> reader.getHeight(0));
                if ((long) width * height > MAX_PIXELS) {
                    throw new IllegalArgumentException(path + ": " + width + " x " + height + " pixels is more than the "
                            + MAX_PIXELS + " the demo reads; shrink the image first");
                }
                BufferedImage image = decoding(path, () -> reader.read(0));
                if (image.getWidth() != width || image.getHeight() != height) {
                    throw new IllegalArgumentException(path + ": the image header says " + width + " x " + height
                            + " pixels but " + image.getWidth() + " x " + image.getHeight() + " were decoded");
                }
                return image;
            } finally {
                reader.dispose();
            }
        }
    }

    /** A step of decoding; decoders throw IIOException and, on corrupt input, any runtime exception. */
    private interface Decoding<T> {
        T run() throws IOException;
    }

    private static <T> T decoding(Path path, Decoding<T> step) {
        try {
            return step.run();
        } catch (IIOException | RuntimeException corrupt) {
            String reason = corrupt.getMessage() == null ? corrupt.getClass().getSimpleName() : corrupt.getMessage();
            throw new IllegalArgumentException(path + ": cannot decode the image (" + reason.strip() + ")", corrupt);
        } catch (IOException truncated) {
            // The file opened, so a failure while decoding it is its content's (typically an early end).
            throw new IllegalArgumentException(path + ": cannot decode the image (" + truncated + ")", truncated);
        }
    }

    /**
     * The image's brightness as a tensor {@code (height, width, 1)} in [0, 1]. Gray images give their
     * samples as they are; color images their luma ({@code 0.299 R + 0.587 G + 0.114 B}); transparent pixels
     * are composited over white.
     */
    public static Tensor toTensor(BufferedImage image) {
        int width = image.getWidth();
        int height = image.getHeight();
        float[] values = new float[width * height];
        Raster raster = image.getRaster();
        boolean gray = image.getColorModel().getColorSpace().getType() == ColorSpace.TYPE_GRAY;
        boolean alpha = image.getColorModel().getTransparency() != Transparency.OPAQUE;
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                double value;
                double opacity;
                if (gray) {
                    // Samples directly: getRGB would convert from the linear gray space and brighten them.
                    value = raster.getSample(x, y, 0) / maxSample(raster, 0);
                    opacity = alpha ? raster.getSample(x, y, 1) / maxSample(raster, 1) : 1;
                } else {
                    int argb = image.getRGB(x, y);
                    value = (0.299 * (argb >> 16 & 0xff) + 0.587 * (argb >> 8 & 0xff) + 0.114 * (argb & 0xff)) / 255;
                    opacity = (argb >>> 24) / 255.0;
                }
                values[y * width + x] = (float) (value * opacity + (1 - opacity));
            }
        }
        return Tensor.of(values, height, width, 1);
    }

    private static double maxSample(Raster raster, int band) {
        return (1 << raster.getSampleModel().getSampleSize(band)) - 1;
    }

    /**
     * Shrinks {@code image (height, width, 1)} by the smallest integer factor that brings its long side to at
     * most {@link #MAX_SIDE}, averaging each factor x factor block (a remainder at the right and bottom is
     * dropped), then refuses a result whose short side is below {@link #MIN_SIDE}.
     */
    public static Tensor fitForDemo(Tensor image, String name) {
        int height = image.dim(0);
        int width = image.dim(1);
        int factor = (Math.max(height, width) + MAX_SIDE - 1) / MAX_SIDE;
        int outHeight = height / factor;
        int outWidth = width / factor;
        if (Math.min(outHeight, outWidth) < MIN_SIDE) {
            throw new IllegalArgumentException(name + ": " + width + " x " + height + " pixels"
                    + (factor > 1 ? " (" + outWidth + " x " + outHeight + " once shrunk to at most " + MAX_SIDE
                    + " on the long side)" : "") + " is too small; the demo needs at least " + MIN_SIDE + " x "
                    + MIN_SIDE);
        }
        if (factor == 1) {
            return image;
        }
        float[] source = image.data();
        float[] shrunk = new float[outHeight * outWidth];
        for (int y = 0; y < outHeight; y++) {
            for (int x = 0; x < outWidth; x++) {
                double sum = 0;
                for (int dy = 0; dy < factor; dy++) {
                    for (int dx = 0; dx < factor; dx++) {
                        sum += source[(y * factor + dy) * width + x * factor + dx];
                    }
                }
                shrunk[y * outWidth + x] = (float) (sum / (factor * factor));
            }
        }
        return Tensor.of(shrunk, outHeight, outWidth, 1);
    }

    /** The 8-bit gray level of a value: 0 and below black, 1 and above white, NaN black. */
    public static int level(float value) {
        if (!(value > 0)) {
            return 0;
        }
        return value >= 1 ? 255 : Math.round(value * 255);
    }
}
