package org.convcl.spark;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.SparkEnv;
import org.convcl.nn.Conv;
import org.convcl.internal.BoundedShutdown;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The layers of one executor JVM: one {@link Conv} per recipe and backend, built on the first task that needs it
 * and kept for the tasks after it (building one uploads the weights to the device, once), the way Spark's own
 * batch inference keeps one model per executor.
 *
 * <p>Tasks take a layer through a {@link Lease} and give it back when they finish. At most {@value #CAPACITY}
 * layers are kept: past that, the one unused longest is retired, and closed (releasing its device copies) once its
 * last lease is given back; a notebook that transforms with ever new weights thus holds a bounded amount of device
 * memory. Every layer still kept is closed by a shutdown hook when the executor exits. Thread-safe.
 */
final class ExecutorConvs {
    private static final Logger LOG = LoggerFactory.getLogger(ExecutorConvs.class);
    static final int CAPACITY = 8;

    /** Access order, so that the first entry is the one unused longest. Guarded by itself. */
    private static final Map<String, Entry> ENTRIES = new LinkedHashMap<>(16, 0.75f, true);
    private static boolean shutdownHookInstalled;

    private ExecutorConvs() {
    }

    /** A layer lent to one task. Closing gives it back; closing twice does nothing. */
    static final class Lease implements AutoCloseable {
        private final Entry entry;
        private boolean returned;

        private Lease(Entry entry) {
            this.entry = entry;
        }

        Conv conv() {
            return entry.conv;
        }

        @Override
        public void close() {
            synchronized (ENTRIES) {
                if (!returned) {
                    returned = true;
                    entry.leases--;
                    entry.closeIfDone();
                }
            }
        }
    }

    private static final class Entry {
        final Conv conv;
        int leases;
        boolean retired;

        Entry(Conv conv) {
            this.conv = conv;
        }

        /** Closes a retired layer that no task uses any more. Called under the lock. */
        void closeIfDone() {
            if (retired && leases == 0) {
                closeQuietly(conv);
            }
        }
    }

    /** The executor's layer for {@code recipe} on {@code selection}'s backend, built now if it has none. */
    static Lease lease(ConvRecipe recipe, TaskBackends.Selection selection) {
        String key = recipe.key() + "@" + selection.key();
        synchronized (ENTRIES) {
            Entry entry = ENTRIES.get(key);
            if (entry == null) {
                // Built under the lock: it is quick (the weights' upload happens on the first call, under the
                // layer's own lock), and tasks arriving meanwhile must wait for this layer rather than build twins.
                entry = new Entry(recipe.build(selection.backend()));
                ENTRIES.put(key, entry);
                LOG.info("convcl: executor {} runs ConvTransformer {} (layer {}) on {} ({})", executorId(),
                        recipe.transformerUid(), recipe.key(), selection.where(), selection.why());
                installShutdownHook();
                retireOverflow();
            }
            entry.leases++;
            return new Lease(entry);
        }
    }

    /** How many layers this JVM keeps now (retired ones still in use not counted). */
    static int size() {
        synchronized (ENTRIES) {
            return ENTRIES.size();
        }
    }

    /** Closes every kept layer, as at executor exit; layers lent out now are closed when given back. */
    static void closeAll() {
        synchronized (ENTRIES) {
            for (Entry entry : ENTRIES.values()) {
                entry.retired = true;
                entry.closeIfDone();
            }
            ENTRIES.clear();
        }
    }

    private static void retireOverflow() {
        Iterator<Entry> oldestFirst = ENTRIES.values().iterator();
        while (ENTRIES.size() > CAPACITY && oldestFirst.hasNext()) {
            Entry oldest = oldestFirst.next();
            oldestFirst.remove();
            oldest.retired = true;
            oldest.closeIfDone();
        }
    }

    private static void closeQuietly(Conv conv) {
        try {
            conv.close();
        } catch (RuntimeException e) {
            // At exit the shared OpenCL backend may have been released first; the memory goes with the process.
            LOG.debug("closing {} failed: {}", conv, e.toString());
        }
    }

    private static String executorId() {
        SparkEnv env = SparkEnv.get();
        return env == null ? "(none)" : env.executorId();
    }

    private static void installShutdownHook() {
        if (!shutdownHookInstalled) {
            shutdownHookInstalled = true;
            // Bounded, as Backends' hook: closing a layer can wait for a call in flight on it.
            Runtime.getRuntime().addShutdownHook(BoundedShutdown.hook("convcl-spark-layers", ExecutorConvs::closeAll,
                    "shutting down with a Spark task's call in flight; its layers left to the driver"));
        }
    }
}
