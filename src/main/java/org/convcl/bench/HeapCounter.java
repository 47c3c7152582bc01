package org.convcl.bench;

import java.lang.management.ManagementFactory;

/**
 * Counts the Java heap every thread allocates while a call runs, through HotSpot's
 * {@code com.sun.management.ThreadMXBean}. That interface lives in the {@code jdk.management} module, which
 * a trimmed runtime (a jlink image such as the one carried to the GPU machine) may leave out; there the count
 * is unknown rather than a crash, so the module is looked up before any of its classes is touched.
 */
final class HeapCounter {
    /** What {@link #allocatedBy} returns where the runtime cannot count. */
    static final long UNKNOWN = -1;

    private static final boolean AVAILABLE = ModuleLayer.boot().findModule("jdk.management").isPresent();

    private HeapCounter() {
    }

    /** Bytes of Java heap allocated by every thread while {@code call} runs, or {@link #UNKNOWN}. */
    static long allocatedBy(Runnable call) {
        if (!AVAILABLE) {
            call.run();
            return UNKNOWN;
        }
        return HotSpotCount.allocatedBy(call);
    }

    /** Separate so that the JVM resolves {@code com.sun.management} only where the module exists. */
    private static final class HotSpotCount {
        static long allocatedBy(Runnable call) {
            java.lang.management.ThreadMXBean bean = ManagementFactory.getThreadMXBean();
            if (!(bean instanceof com.sun.management.ThreadMXBean counting)
                    || !counting.isThreadAllocatedMemorySupported()) {
                call.run();
                return UNKNOWN;
            }
            long before = total(counting);
            call.run();
            return Math.max(0, total(counting) - before);
        }

        private static long total(com.sun.management.ThreadMXBean bean) {
            long total = 0;
            for (long bytes : bean.getThreadAllocatedBytes(bean.getAllThreadIds())) {
                total += Math.max(0, bytes);
            }
            return total;
        }
    }
}
