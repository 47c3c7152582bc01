package org.convcl.spark;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.apache.spark.TaskContext;
import org.convcl.backend.BackendChoice;
import org.convcl.nn.Backends;
import org.convcl.backend.ConvBackend;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.opencl.DeviceDiscovery;
import org.convcl.opencl.OpenClBackend;
import org.convcl.opencl.device.OpenClDevice;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The backend a task's rows run on. Without Spark GPU resources, the transformer's backend choice as everywhere in
 * convcl ({@link Backends#select}: {@code auto} takes a GPU or accelerator OpenCL device when there is one). With
 * them, the OpenCL device the task's first GPU address names ({@link GpuDeviceMapping}): Spark gave that GPU to this
 * task, so no other is used. Where the address names no OpenCL device, {@code opencl} fails the task, and
 * {@code auto} runs on the Java path rather than on a GPU that Spark may have given to another task, with a WARN.
 * {@code cpu} always runs on the Java path. Decisions are kept per choice and address for the executor's life (the
 * devices do not change while it runs). Thread-safe.
 */
final class TaskBackends {
    private static final Logger LOG = LoggerFactory.getLogger(TaskBackends.class);
    private static final Map<String, Selection> DECISIONS = new ConcurrentHashMap<>();

    private TaskBackends() {
    }

    /**
     * A backend and what it is.
     *
     * @param backend the shared backend (never closed by its users)
     * @param key     what tells it from the executor's other backends: {@code cpu} or {@code opencl#<index>}
     * @param where   what it runs on, for the executor's log: the Java path, or the OpenCL device
     * @param why     why, for the executor's log
     */
    record Selection(ConvBackend backend, String key, String where, String why) {
    }

    /** The backend for the task running on this thread (or for no task, outside Spark). */
    static Selection forCurrentTask(BackendChoice choice) {
        TaskContext task = TaskContext.get();
        List<String> addresses = task == null ? List.of() : GpuDeviceMapping.gpuAddresses(task.resourcesJMap());
        String address = addresses.isEmpty() ? "" : addresses.get(0);
        return DECISIONS.computeIfAbsent(choice + "|" + address,
                k -> select(choice, address, DeviceDiscovery::discover));
    }

    /**
     * The backend for {@code choice} and a task's first GPU address ({@code ""} for none), with the OpenCL devices
     * that {@code discovery} finds (asked only when an address needs them).
     */
    static Selection select(BackendChoice choice, String address, Supplier<DeviceDiscovery.Result> discovery) {
        if (choice == BackendChoice.CPU) {
            return onJavaPath("backend cpu");
        }
        if (address.isEmpty()) {
            ConvBackend backend = Backends.select(choice);
            if (backend instanceof OpenClBackend device) {
                return new Selection(backend, "opencl#" + device.device().index(),
                        "OpenCL device " + device.device().describe(), "backend " + choice + ", no Spark GPU resources");
            }
            return onJavaPath("backend " + choice + ", no Spark GPU resources, and no GPU or accelerator OpenCL device");
        }
        DeviceDiscovery.Result found = discovery.get();
        List<GpuDeviceMapping.Candidate> candidates = found.devices().stream()
                .map(GpuDeviceMapping.Candidate::of).toList();
        GpuDeviceMapping.Mapping mapping = candidates.isEmpty()
                ? GpuDeviceMapping.Mapping.none("no OpenCL device: " + found.problem().orElse("none was found"))
                : GpuDeviceMapping.choose(address, candidates);
        Optional<OpenClDevice> device = mapping.deviceIndex()
                .flatMap(index -> found.devices().stream().filter(d -> d.index() == index).findFirst());
        if (device.isPresent()) {
            return new Selection(Backends.openClBackend(device.get()), "opencl#" + device.get().index(),
                    "OpenCL device " + device.get().describe(), "backend " + choice + ", " + mapping.reason());
        }
        if (choice == BackendChoice.OPENCL) {
            throw new IllegalArgumentException("backend: opencl was requested, but the task's GPU cannot be used: "
                    + mapping.reason());
        }
        LOG.warn("convcl: the task was given Spark GPU address '{}', but it names no usable OpenCL device ({}); "
                + "backend auto runs this executor's rows on the Java path instead", address, mapping.reason());
        return onJavaPath("backend auto, Spark GPU address '" + address + "' unusable: " + mapping.reason());
    }

    private static Selection onJavaPath(String why) {
        return new Selection(CpuBackend.instance(), "cpu", "the Java path", why);
    }
}
