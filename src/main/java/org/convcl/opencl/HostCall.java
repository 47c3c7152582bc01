package org.convcl.opencl;

import java.util.ArrayList;
import java.util.List;
import org.convcl.Tensor;

/**
 * How a host-array operation of an {@link OpenClBackend} runs: as its device-tensor form, over memory from the
 * backend's caching allocator. The operands are uploaded into device tensors, the device operation runs, its
 * result is downloaded into the caller's array, and every tensor is closed, which gives its memory back to the
 * pool; so a loop of host-array calls allocates no device memory after its first round, and the host and
 * device forms cannot drift apart (one execution path). Stateless.
 */
final class HostCall {
    private HostCall() {
    }

    /** A device-tensor operation writing {@code result} from {@code operands} (an operand may be null). */
    interface DeviceWork {
        void run(DeviceTensor[] operands, DeviceTensor result);
    }

    /**
     * Uploads {@code operands} (each null, or values with the shape the device operation checks), runs
     * {@code work} into a device tensor of {@code resultShape}, and copies that into {@code result}, which the
     * caller has checked holds {@code resultShape}. An empty result needs no work.
     */
    static void run(OpenClBackend backend, Tensor[] operands, float[] result, int[] resultShape, DeviceWork work) {
        if (result.length == 0) {
            return;
        }
        List<DeviceTensor> made = new ArrayList<>();
        try {
            DeviceTensor[] onDevice = new DeviceTensor[operands.length];
            for (int i = 0; i < operands.length; i++) {
                if (operands[i] != null) {
                    onDevice[i] = backend.upload(operands[i]);
                    made.add(onDevice[i]);
                }
            }
            DeviceTensor out = backend.allocate(resultShape);
            made.add(out);
            work.run(onDevice, out);
            backend.download(out, result); // waits for the work, then copies straight into the caller's array
        } finally {
            made.forEach(DeviceTensor::close);
        }
    }
}
