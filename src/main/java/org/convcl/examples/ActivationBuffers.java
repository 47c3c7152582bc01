package org.convcl.examples;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;
import org.convcl.Tensor;

/**
 * The host activations of {@link ResNet}'s forward on the Java path, kept across layers and batches: a forward
 * takes an array for each layer's output and gives it back as soon as the next layers have read it, so a second
 * batch of the same shape allocates no activation array (at batch 8 each one is a G1 "humongous" object, and
 * allocating one per layer cost more in GC pauses than some of the layers).
 *
 * <p>Free arrays are kept by element count, not by shape: a tensor's array must hold exactly its elements, and
 * ResNet's activations of different shapes share counts (the stem's {@code (N, 112, 112, 64)} and the first
 * stage's {@code (N, 56, 56, 256)}), so one array serves each in turn. What is held is, per count, the most arrays
 * of that count a forward had in use at once. A residual block takes none for its output: its last convolution
 * writes over the shortcut's array in place ({@link ResidualBlock}), so a forward uses at most two arrays of the
 * largest count at once. Thread-safe: concurrent forwards take different arrays.
 */
final class ActivationBuffers {
    private final Map<Integer, ArrayDeque<float[]>> free = new HashMap<>();
    private long arraysCreated;
    private long heldBytes;
    private long inUseBytes;
    private long peakInUseBytes;

    /** A tensor of {@code shape} on a free array of its element count, or a new one; its values are stale. */
    synchronized Tensor take(int[] shape) {
        int count = (int) Tensor.elementCount(shape);
        ArrayDeque<float[]> arrays = free.get(count);
        float[] array = arrays == null || arrays.isEmpty() ? null : arrays.pop();
        if (array == null) {
            array = new float[count];
            arraysCreated++;
            heldBytes += bytes(array);
        }
        inUseBytes += bytes(array);
        peakInUseBytes = Math.max(peakInUseBytes, inUseBytes);
        return Tensor.of(array, shape);
    }

    /** Gives {@code tensor}'s array back for later takes; the caller no longer reads or writes it. */
    synchronized void give(Tensor tensor) {
        float[] array = tensor.data();
        free.computeIfAbsent(array.length, count -> new ArrayDeque<>()).push(array);
        inUseBytes -= bytes(array);
    }

    /** Arrays created since this was made: a steady-state forward adds none. */
    synchronized long arraysCreated() {
        return arraysCreated;
    }

    /** Bytes of every array created (all kept for reuse): what the activations hold between forwards. */
    synchronized long heldBytes() {
        return heldBytes;
    }

    /** The most bytes of activations in use at once, over every forward so far. */
    synchronized long peakInUseBytes() {
        return peakInUseBytes;
    }

    private static long bytes(float[] array) {
        return (long) array.length * Float.BYTES;
    }
}
