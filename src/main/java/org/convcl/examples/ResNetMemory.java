package org.convcl.examples;

import java.lang.management.ManagementFactory;
import javax.management.JMException;
import javax.management.ObjectName;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.nn.Conv;
import org.convcl.opencl.OpenClBackend;

/**
 * What a {@link ResNet}'s forwards hold, taken after them (issue 27's memory target: the weights plus the largest
 * activations at once; the blocks add their shortcuts in place, so two of the largest at most). On the Java path: the layers' parameters, the kernels' prepared forms and the snapshots
 * they are checked against ({@link CpuBackend#preparedKernelMemory()}, JVM-wide: in a process that runs one network,
 * that network's), and the activation arrays ({@link ResNet#hostActivations()}). On OpenCL: the parameters (the
 * host arrays the layers hold; their device copies are among the buffers), the device buffers the backend's caching
 * allocator created (its peak while it released none), the most of them in use at once (the rest was kept free
 * meanwhile, in size classes no request of the moment fitted) and how many the last batch created. Either way the
 * float arrays live in the heap (a class histogram, which collects first): everything the process still holds,
 * copies the items above do not name (a channels-first layer's moved kernel, a caller's source weights), the
 * reference batch and the images included. Not the heap in use after a collection: G1 gives each large array whole
 * regions, so that figure counts their unused tails too.
 *
 * @param lastBatchBuffers device buffers the last batch created, or -1 on the Java path
 */
public record ResNetMemory(long parameterBytes, long preparedFormBytes, long preparedSnapshotBytes,
        long activationPeakBytes, long activationHeldBytes, long deviceBufferBytes, long deviceBufferPeakInUseBytes,
        long lastBatchBuffers,
        long liveFloatArrayBytes) {

    /** {@code net}'s memory now; {@code lastBatchBuffers} as counted by the caller around its last batch. */
    public static ResNetMemory of(ResNet net, long lastBatchBuffers) {
        boolean device = net.backend() instanceof OpenClBackend;
        CpuBackend.PreparedMemory prepared = device ? new CpuBackend.PreparedMemory(0, 0)
                : CpuBackend.preparedKernelMemory();
        ResNet.ActivationMemory activations = net.hostActivations();
        OpenClBackend opencl = device ? (OpenClBackend) net.backend() : null;
        return new ResNetMemory(parameterBytes(net.convs()), prepared.formBytes(), prepared.snapshotBytes(),
                activations.peakInUseBytes(), activations.heldBytes(), device ? opencl.bufferBytesCreated() : 0,
                device ? opencl.peakBufferBytesInUse() : 0, device ? lastBatchBuffers : -1,
                measureLiveFloatArrays());
    }

    /** Bytes of the layers' parameters as they hold them: kernels, biases, the folded norms' scales and shifts. */
    static long parameterBytes(List<Conv> convs) {
        long floats = 0;
        for (Conv conv : convs) {
            floats += conv.kernel().size();
            floats += conv.bias() == null ? 0 : conv.bias().size();
            floats += conv.scale() == null ? 0 : conv.scale().size();
            floats += conv.shift() == null ? 0 : conv.shift().size();
        }
        return floats * Float.BYTES;
    }

    /** Bytes of the float arrays live now, from HotSpot's class histogram (it collects first); -1 elsewhere. */
    private static long measureLiveFloatArrays() {
        String histogram;
        try {
            histogram = (String) ManagementFactory.getPlatformMBeanServer().invoke(
                    new ObjectName("com.sun.management:type=DiagnosticCommand"), "gcClassHistogram",
                    new Object[] {null}, new String[] {String[].class.getName()});
        } catch (JMException | RuntimeException e) {
            return -1;
        }
        // A row: "   1:   146   250514112  [F (java.base@17)": rank, instances, bytes, class.
        for (String line : histogram.split("\n")) {
            String[] fields = line.trim().split("\\s+");
            if (fields.length >= 4 && fields[3].equals("[F")) {
                return Long.parseLong(fields[2]);
            }
        }
        return 0;
    }

    /** The report's lines, in MB (10^6 bytes). */
    public List<String> lines() {
        String heap = String.format("live_float_arrays %.1f", mb(liveFloatArrayBytes));
        if (lastBatchBuffers >= 0) {
            return List.of(String.format("memory_mb    parameters %.1f  device_buffers %.1f  "
                    + "device_buffers_peak_in_use %.1f  %s", mb(parameterBytes), mb(deviceBufferBytes),
                    mb(deviceBufferPeakInUseBytes), heap),
                    String.format("device_buffers_created_by_last_batch  %d", lastBatchBuffers));
        }
        return List.of(String.format("memory_mb    parameters %.1f  prepared_forms %.1f  kernel_snapshots %.1f  "
                + "activations_peak %.1f  activations_held %.1f  %s", mb(parameterBytes), mb(preparedFormBytes),
                mb(preparedSnapshotBytes), mb(activationPeakBytes), mb(activationHeldBytes), heap));
    }

    /** The report's fields for a JSON object, in bytes. */
    public Map<String, Object> json() {
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("parameter_bytes", parameterBytes);
        fields.put("prepared_form_bytes", preparedFormBytes);
        fields.put("prepared_snapshot_bytes", preparedSnapshotBytes);
        fields.put("activation_peak_bytes", activationPeakBytes);
        fields.put("activation_held_bytes", activationHeldBytes);
        fields.put("device_buffer_bytes", deviceBufferBytes);
        fields.put("device_buffer_peak_in_use_bytes", deviceBufferPeakInUseBytes);
        fields.put("device_buffers_created_by_last_batch", lastBatchBuffers);
        fields.put("live_float_array_bytes", liveFloatArrayBytes);
        return fields;
    }

    private static double mb(long bytes) {
        return bytes / 1e6;
    }
}
