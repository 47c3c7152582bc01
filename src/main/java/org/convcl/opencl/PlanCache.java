package org.convcl.opencl;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.convcl.internal.Settings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one cache of an {@link OpenClBackend}'s plans of every kind (forward plans per geometry and config,
 * kernel-gradient and edge-padding plans per shape, the size-agnostic element and layout kernels), bounded and
 * least recently used first out, as oneDNN's primitive cache: a long run over many shapes keeps the plans it
 * uses lately instead of growing without end.
 *
 * <p>Plans hold native objects (kernels, table buffers), so a call takes a {@link Lease} for as long as it
 * enqueues with a plan; an evicted plan is closed when its last lease ends, never under a call. (Work already
 * enqueued is safe: OpenCL keeps a released kernel or buffer alive until the commands using it have run.)
 * Thread-safe; plans are built one at a time, outside the lock that lookups take, so a compile does not stall
 * calls whose plans are cached.
 */
final class PlanCache implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PlanCache.class);
    private final int capacity;
    /** In access order: the first entry is the least recently used. Guarded by itself. */
    private final LinkedHashMap<Object, Entry> entries = new LinkedHashMap<>(16, 0.75f, true);
    /** The entries by plan, so that a plan handed out earlier ({@link #leaseOf}) finds its entry. */
    private final Map<Object, Entry> byPlan = new IdentityHashMap<>();
    private final Object buildLock = new Object();
    private long evictions;

    PlanCache(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity: got " + capacity + "; a plan cache holds at least 1 plan");
        }
        this.capacity = capacity;
    }

    /** A cache of {@link #configuredCapacity()} plans. */
    static PlanCache configured() {
        return new PlanCache(configuredCapacity());
    }

    /**
     * The capacity {@link Settings#OPENCL_PLAN_CACHE_SIZE} sets, else its default; a value its rule refuses is an
     * error naming the setting, as for every setting.
     */
    static int configuredCapacity() {
        return Settings.OPENCL_PLAN_CACHE_SIZE.get();
    }

    /** The key of a plan of {@code kind} (its class of plans) for {@code signature} (what it was built for). */
    record Key(String kind, String signature) {
    }

    /** A plan in use by one call: closing the lease lets the cache close the plan once evicted. */
    static final class Lease<T> implements AutoCloseable {
        private final PlanCache cache;
        private final Entry entry;
        private boolean closed;

        private Lease(PlanCache cache, Entry entry) {
            this.cache = cache;
            this.entry = entry;
        }

        @SuppressWarnings("unchecked")
        T plan() {
            return (T) entry.plan;
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                cache.end(entry);
            }
        }
    }

    /**
     * The plan cached under {@code key}, else the one {@code create} builds (then cached, which may evict the
     * least recently used plan), leased to the caller. A key's kind fixes its plan's type: keys of different
     * kinds are of different classes, or carry the kind.
     */
    <T extends AutoCloseable> Lease<T> acquire(Object key, Supplier<T> create) {
        Lease<T> hit = leaseCached(key);
        if (hit != null) {
            return hit;
        }
        synchronized (buildLock) {
            hit = leaseCached(key);
            if (hit != null) {
                return hit;
            }
            T plan = create.get();
            List<Entry> evicted = new ArrayList<>();
            Lease<T> lease;
            synchronized (entries) {
                Entry entry = new Entry(key, plan);
                entry.users = 1;
                entries.put(key, entry);
                byPlan.put(plan, entry);
                lease = new Lease<>(this, entry);
                Iterator<Entry> eldest = entries.values().iterator();
                while (entries.size() > capacity) {
                    Entry out = eldest.next();
                    eldest.remove();
                    byPlan.remove(out.plan);
                    out.evicted = true;
                    evictions++;
                    if (out.users == 0) {
                        evicted.add(out);
                    }
                }
            }
            evicted.forEach(Entry::close);
            return lease;
        }
    }

    /** The plan of {@code lease}, which ends at once: for a caller that does not enqueue with it (a tuner's look). */
    static <T> T peek(Lease<T> lease) {
        try (lease) {
            return lease.plan();
        }
    }

    /** A lease of {@code plan} while it is still cached; empty once evicted (a caller then builds it again). */
    <T> Optional<Lease<T>> leaseOf(T plan) {
        synchronized (entries) {
            Entry entry = byPlan.get(plan);
            if (entry == null) {
                return Optional.empty();
            }
            entries.get(entry.key); // a use, for the access order
            entry.users++;
            return Optional.of(new Lease<>(this, entry));
        }
    }

    private <T> Lease<T> leaseCached(Object key) {
        synchronized (entries) {
            Entry entry = entries.get(key);
            if (entry == null) {
                return null;
            }
            entry.users++;
            return new Lease<>(this, entry);
        }
    }

    private void end(Entry entry) {
        boolean last;
        synchronized (entries) {
            entry.users--;
            last = entry.evicted && entry.users == 0;
        }
        if (last) {
            entry.close();
        }
    }

    /** Plans cached now. */
    int size() {
        synchronized (entries) {
            return entries.size();
        }
    }

    int capacity() {
        return capacity;
    }

    /** Plans evicted so far. */
    long evictions() {
        synchronized (entries) {
            return evictions;
        }
    }

    /** Closes every cached plan; the backend calls it once no call is in flight. */
    @Override
    public void close() {
        List<Entry> all;
        synchronized (entries) {
            all = new ArrayList<>(entries.values());
            entries.clear();
            byPlan.clear();
        }
        all.forEach(Entry::close);
    }

    private static final class Entry {
        final Object key;
        final AutoCloseable plan;
        /** Leases not yet closed. Guarded by the cache's entries. */
        int users;
        boolean evicted;

        Entry(Object key, AutoCloseable plan) {
            this.key = key;
            this.plan = plan;
        }

        void close() {
            try {
                plan.close();
            } catch (Exception e) {
                LOG.debug("closing the evicted plan {} failed: {}", plan, e.toString());
            }
        }
    }
}
