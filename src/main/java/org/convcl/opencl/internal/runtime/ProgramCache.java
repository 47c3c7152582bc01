package org.convcl.opencl.internal.runtime;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.convcl.opencl.device.KernelBuildException;
import org.convcl.opencl.device.OpenClDevice;
import org.convcl.opencl.internal.driver.DriverSignalGuard;
import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.cl_device_id;
import org.jocl.cl_program;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Built programs of one context, by the hash of their source files and build options: in memory for the
 * context's life, and as device binaries on disk ({@link ProgramBinaryCache}) across processes. A disk entry
 * is only a shortcut: when the driver rejects it the entry is discarded and the program is built from
 * source. A source that does not compile raises {@link KernelBuildException} with the compiler's log.
 * Thread-safe; two threads asking for the same program build it once.
 */
public final class ProgramCache {
    private static final Logger LOG = LoggerFactory.getLogger(ProgramCache.class);

    private final OpenClContext context;
    private final ProgramBinaryCache disk;
    private final Map<String, ClProgram> programs = new ConcurrentHashMap<>();
    private final AtomicInteger memoryHits = new AtomicInteger();
    private final AtomicInteger binaryLoads = new AtomicInteger();
    private final AtomicInteger sourceBuilds = new AtomicInteger();

    public ProgramCache(OpenClContext context, ProgramBinaryCache disk) {
        this.context = context;
        this.disk = disk;
    }

    /** How programs were obtained so far: from memory, from a disk binary, or compiled from source. */
    public record Stats(int memoryHits, int binaryLoads, int sourceBuilds) {
    }

    public Stats stats() {
        return new Stats(memoryHits.get(), binaryLoads.get(), sourceBuilds.get());
    }

    ProgramBinaryCache disk() {
        return disk;
    }

    /** The program for {@code source} built with {@code options}. */
    public ClProgram program(KernelSources.ProgramSource source, String options) {
        String memoryKey = source.sha256() + " " + options;
        ClProgram cached = programs.get(memoryKey);
        if (cached != null && !cached.isClosed()) {
            memoryHits.incrementAndGet();
            return cached;
        }
        synchronized (this) {
            cached = programs.get(memoryKey);
            if (cached != null && !cached.isClosed()) {
                memoryHits.incrementAndGet();
                return cached;
            }
            ClProgram built = build(source, options);
            programs.put(memoryKey, built);
            return built;
        }
    }

    /**
     * Everything a device binary depends on, as text: the disk cache's key. Every source file the program is
     * built from has a line of its own, in order, so an edit to any of them (shared code included) is
     * another key.
     */
    String diskKey(KernelSources.ProgramSource source, String options) {
        OpenClDevice device = context.device();
        StringBuilder key = new StringBuilder().append("device=").append(device.name())
                .append("\nvendor=").append(device.vendor()).append("\ndriver=").append(device.driverVersion())
                .append("\ndeviceVersion=").append(device.openClVersion())
                .append("\nplatform=").append(device.platformName()).append(' ').append(device.platformVersion());
        for (KernelSources.Source file : source.files()) {
            key.append("\nsource=").append(file.name()).append(':').append(file.sha256());
        }
        return key.append("\noptions=").append(options).append('\n').toString();
    }

    private ClProgram build(KernelSources.ProgramSource source, String options) {
        String diskKey = diskKey(source, options);
        Optional<byte[]> binary = disk.load(diskKey);
        if (binary.isPresent()) {
            ClProgram loaded = fromBinary(source, options, binary.get(), diskKey);
            if (loaded != null) {
                binaryLoads.incrementAndGet();
                return loaded;
            }
        }
        ClProgram program = fromSource(source, options);
        sourceBuilds.incrementAndGet();
        if (!disk.writes()) {
            return program;
        }
        try {
            disk.store(diskKey, program.binary());
        } catch (RuntimeException e) {
            LOG.debug("program binary of {} could not be read back for caching: {}", source.name(), e.toString());
        }
        return program;
    }

    private ClProgram fromSource(KernelSources.ProgramSource source, String options) {
        cl_device_id device = context.device().handle();
        String[] texts = source.texts();
        cl_program handle = Cl.call("clCreateProgramWithSource(" + source.name() + ")",
                () -> CL.clCreateProgramWithSource(context.handle(), texts.length, texts, null, null));
        ClProgram program = context.own(new ClProgram(handle, source.name() + " [" + options + "]"));
        long started = System.nanoTime();
        try {
            build(handle, device, options);
        } catch (CLException e) {
            String log = program.buildLog(device);
            program.close();
            throw new KernelBuildException(source.describe(), context.device().describe(),
                    options, log + "\n(" + CL.stringFor_errorCode(e.getStatus()) + ")", e);
        }
        LOG.debug("built {} for {} from source in {} ms with options [{}]", source.name(),
                context.device().name(), (System.nanoTime() - started) / 1_000_000, options);
        return program;
    }

    /** A program from a cached binary, or null (entry discarded) when the driver refuses it. */
    private ClProgram fromBinary(KernelSources.ProgramSource source, String options, byte[] binary, String diskKey) {
        cl_device_id device = context.device().handle();
        cl_program handle;
        try {
            handle = CL.clCreateProgramWithBinary(context.handle(), 1, new cl_device_id[] {device},
                    new long[] {binary.length}, new byte[][] {binary}, new int[1], null);
        } catch (CLException e) {
            disk.discard(disk.fileFor(diskKey), "the driver refused the binary (" + CL.stringFor_errorCode(e.getStatus())
                    + ")");
            return null;
        }
        ClProgram program = context.own(new ClProgram(handle, source.name() + " [" + options + "] (cached binary)"));
        try {
            build(handle, device, options);
            return program;
        } catch (CLException e) {
            program.close();
            disk.discard(disk.fileFor(diskKey), "building the cached binary failed ("
                    + CL.stringFor_errorCode(e.getStatus()) + ")");
            return null;
        }
    }

    /** clBuildProgram; the compiler a driver runs in-process may install signal handlers (see DriverSignalGuard). */
    private static void build(cl_program handle, cl_device_id device, String options) {
        DriverSignalGuard.around("clBuildProgram", () -> CL.clBuildProgram(handle, 1, new cl_device_id[] {device},
                options, null, null));
    }

    /** Drops the in-memory entries; the programs themselves are closed by the context. */
    public void clear() {
        programs.clear();
    }
}
