package org.convcl.backend.cpu.internal;

import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.convcl.ConvGeometry;

/**
 * The kernels' prepared forms (Winograd transforms, packed panels) kept across calls. A layer passes the same
 * kernel array on every call, and preparing it again each time cost more than the convolution itself on ResNet's
 * deep layers (a 3x3 512 -> 512 kernel is 9.4 MB; its transform 17 MB, allocated and written per call).
 *
 * <p>Entries are keyed by the kernel array's identity (held weakly: a dropped layer's entries go, at the next
 * lookup, once its kernel is collected) and by every geometry field that shapes the prepared form (all but the
 * batch). A form is kept from a kernel's second call on: the first only marks the array as seen, so kernels made
 * afresh for every call (flipped for a transposed convolution, a gradient's) cost nothing more than before. Host-tensor calls must use the
 * parameters' current values, which a training loop may change in place without telling anyone, so an entry
 * keeps a copy of the kernel it was prepared from and is used only while the array still holds exactly those
 * values: one comparison pass per call, against the transforms, allocations and the non-finite scan it saves.
 * Only finite kernels are kept, so a hit also says that no weight is NaN or infinite.
 *
 * <p>A kernel array whose owner promises that its values stay as they are ({@link #fix}: a layer built with fixed
 * parameters, for inference) is trusted instead: its forms are prepared on its first call, kept without a copy to
 * compare against, and used without the comparison pass, until {@link #release} drops them. At batch 1 that pass
 * is a second read of every weight per forward, from memory: a third of ResNet-50's time on two cores.
 *
 * <p>Bounded by the floats it holds (a quarter of the maximum heap), least recently used first out.
 * Thread-safe: lookups and insertions are synchronized; forms are prepared outside the lock, and never written
 * after they are stored.
 */
public final class PreparedKernels {
    /** What the prepared form is for: one entry each per kernel and geometry. */
    public enum Form {
        WINOGRAD_TILES, WINOGRAD_PHASES, DIRECT_ROWS, POINTWISE_PANELS, PATCH_PANELS
    }

    private static final PreparedKernels SHARED = new PreparedKernels(Runtime.getRuntime().maxMemory() / 4 / Float.BYTES);

    private final long capacityFloats;
    private final ReferenceQueue<float[]> cleared = new ReferenceQueue<>();
    private final LinkedHashMap<Key, Entry> entries = new LinkedHashMap<>(64, 0.75f, true);
    /** The arrays whose owners promised fixed values ({@link #fix}), by identity, held weakly. */
    private final Map<Key, Boolean> fixed = new HashMap<>();
    private long heldFloats;
    /** The part of {@link #heldFloats} that keeps kernels' values to compare against. */
    private long snapshotFloats;

    PreparedKernels(long capacityFloats) {
        this.capacityFloats = capacityFloats;
    }

    /** The JVM-wide cache the Java path uses. */
    public static PreparedKernels shared() {
        return SHARED;
    }

    /**
     * A prepared form and whether the kernel it was prepared from is known to hold no NaN and no infinity (true
     * for every stored form); {@code values} null when the preparation refused the kernel.
     */
    public record Prepared(float[] values, boolean finite) {
    }

    /**
     * Whether a prepared form holds exactly a kernel's values, read in the form's own order: for a form that is a
     * rearrangement of its kernel, which then needs no copy of the kernel to be compared against.
     */
    public interface Holds {
        boolean holds(float[] prepared, float[] kernel);
    }

    /** {@link #get(ConvGeometry, Form, float[], Supplier, BooleanSupplier, Holds)} comparing against a copy. */
    public Prepared get(ConvGeometry g, Form form, float[] kernel, Supplier<float[]> prepare,
            BooleanSupplier finite) {
        return get(g, form, kernel, prepare, finite, null);
    }

    /**
     * The prepared form {@code form} of {@code kernel} (the caller's array, as the call received it) for
     * {@code g}: the stored one while {@code kernel} holds the values it was prepared from, else
     * {@code prepare.get()}, stored when it is not null, not {@code kernel} itself, and {@code finite} (asked then,
     * of the kernel it was prepared from) holds. {@code holds} (null: none) compares a stored form with the kernel
     * directly, where the form is made of the kernel's own values; otherwise the entry keeps a copy of them.
     */
    public Prepared get(ConvGeometry g, Form form, float[] kernel, Supplier<float[]> prepare,
            BooleanSupplier finite, Holds holds) {
        Key probe = new Key(kernel, signature(g, form), null);
        Entry entry;
        boolean trusted;
        synchronized (this) {
            dropCleared();
            entry = entries.get(probe);
            trusted = fixed.containsKey(new Key(kernel, FIXED, null));
        }
        if (entry != null && entry.prepared != null && (trusted || entry.holds(kernel))) {
            return new Prepared(entry.prepared, true);
        }
        float[] prepared = prepare.get();
        if (prepared == null || prepared == kernel) {
            return new Prepared(prepared, false);
        }
        if (entry == null && !trusted) {
            // First sight: only a mark. Kernels made afresh for each call (a transposed convolution's flipped
            // one, a gradient's) are never seen twice, and copying each to compare against would only cost them.
            store(probe, new Entry(null, null, 0, null));
            return new Prepared(prepared, false);
        }
        if (!finite.getAsBoolean()) {
            return new Prepared(prepared, false);
        }
        if (trusted) {
            // A trusted kernel's form is kept without anything to compare against.
            store(probe, new Entry(null, prepared, kernel.length, null));
            return new Prepared(prepared, true);
        }
        if (holds != null) {
            store(probe, new Entry(null, prepared, kernel.length, holds));
            return new Prepared(prepared, true);
        }
        // A packed form that starts with the kernel's own values needs no second copy to compare against.
        float[] snapshot = prepared.length >= kernel.length
                && Arrays.equals(kernel, 0, kernel.length, prepared, 0, kernel.length) ? prepared : kernel.clone();
        store(probe, new Entry(snapshot, prepared, kernel.length, null));
        return new Prepared(prepared, true);
    }

    /**
     * Trusts {@code kernel}'s values to stay as they are until {@link #release}{@code (kernel)}: its forms are then
     * used without comparing it to the values they were prepared from. Changing them in place before that gives
     * results computed from the old values where a form was kept.
     */
    public synchronized void fix(float[] kernel) {
        dropCleared();
        fixed.put(new Key(kernel, FIXED, cleared), Boolean.TRUE);
    }

    /** Ends {@link #fix}{@code (kernel)} and drops the forms prepared from it: the next call prepares them anew. */
    public synchronized void release(float[] kernel) {
        fixed.remove(new Key(kernel, FIXED, null));
        removeEntriesOf(kernel);
    }

    private void store(Key probe, Entry fresh) {
        if (fresh.floats() > capacityFloats) {
            return;
        }
        float[] kernel = probe.get();
        synchronized (this) {
            Entry old = entries.put(new Key(kernel, probe.signature, cleared), fresh);
            account(fresh, 1);
            if (old != null) {
                account(old, -1);
            }
            evictOverCapacity();
        }
    }

    /**
     * What the stored entries hold now: the bytes of the kernels' values they are checked against (a copy of each
     * kernel, or a packed form's first values, which are that copy: the price of seeing a kernel changed in place
     * without being told), and the bytes of the rest of the forms.
     */
    public synchronized Held held() {
        dropCleared();
        return new Held((heldFloats - snapshotFloats) * Float.BYTES, snapshotFloats * Float.BYTES);
    }

    /** See {@link #held()}. */
    public record Held(long formBytes, long snapshotBytes) {
    }

    /** Whether {@code kernel}'s current values have a stored form of {@code form} for {@code g} (for tests). */
    synchronized boolean holds(ConvGeometry g, Form form, float[] kernel) {
        Entry entry = entries.get(new Key(kernel, signature(g, form), null));
        return entry != null && entry.prepared != null
                && (fixed.containsKey(new Key(kernel, FIXED, null)) || entry.holds(kernel));
    }

    private void evictOverCapacity() {
        Iterator<Map.Entry<Key, Entry>> oldestFirst = entries.entrySet().iterator();
        while (heldFloats > capacityFloats && oldestFirst.hasNext()) {
            account(oldestFirst.next().getValue(), -1);
            oldestFirst.remove();
        }
    }

    /** Removes the entries whose kernel array the garbage collector has taken. */
    private void dropCleared() {
        if (cleared.poll() == null) {
            return;
        }
        while (cleared.poll() != null) {
            // Drained: one sweep below removes every cleared key.
        }
        removeEntriesOf(null);
        fixed.keySet().removeIf(key -> key.get() == null);
    }

    /** Removes the entries of {@code kernel} (by identity; null: those whose array was collected). */
    private void removeEntriesOf(float[] kernel) {
        Iterator<Map.Entry<Key, Entry>> all = entries.entrySet().iterator();
        while (all.hasNext()) {
            Map.Entry<Key, Entry> next = all.next();
            if (next.getKey().get() == kernel) {
                account(next.getValue(), -1);
                all.remove();
            }
        }
    }

    /** Adds ({@code sign} 1) or removes (-1) {@code entry}'s floats from the totals. */
    private void account(Entry entry, int sign) {
        heldFloats += sign * entry.floats();
        snapshotFloats += sign * entry.snapshotFloats();
    }

    /** The signature under which {@link #fixed} holds its arrays: no geometry's (those start with a form). */
    private static final int[] FIXED = {};

    /** Every field of {@code g} that the prepared forms depend on: all but the batch, which only counts tiles. */
    private static int[] signature(ConvGeometry g, Form form) {
        int rank = g.rank();
        int[] s = new int[7 + 7 * rank];
        int at = 0;
        s[at++] = form.ordinal();
        s[at++] = rank;
        s[at++] = g.inChannels();
        s[at++] = g.outChannels();
        s[at++] = g.groups();
        s[at++] = g.edgeMode().ordinal();
        s[at++] = g.productPrecision().ordinal();
        for (int[] part : new int[][] {g.inSpatial(), g.kernelSpatial(), g.strides(), g.inputDilation(),
                g.kernelDilation(), g.padLo(), g.padHi()}) {
            System.arraycopy(part, 0, s, at, rank);
            at += rank;
        }
        return s;
    }

    /** A kernel array by identity, held weakly, with the signature of the form prepared from it. */
    private static final class Key extends WeakReference<float[]> {
        private final int[] signature;
        private final int hash;

        Key(float[] kernel, int[] signature, ReferenceQueue<float[]> queue) {
            super(kernel, queue);
            this.signature = signature;
            this.hash = System.identityHashCode(kernel) * 31 + Arrays.hashCode(signature);
        }

        @Override
        public boolean equals(Object other) {
            if (this == other) {
                return true;
            }
            if (!(other instanceof Key key)) {
                return false;
            }
            float[] kernel = get();
            return kernel != null && kernel == key.get() && Arrays.equals(signature, key.signature);
        }

        @Override
        public int hashCode() {
            return hash;
        }
    }

    /**
     * The kernel's values the form was prepared from (null where {@code holds} compares the form itself, and for a
     * trusted kernel's form), and the form; both null for a kernel seen once.
     */
    private record Entry(float[] snapshot, float[] prepared, int kernelLength, Holds holds) {
        /** Whether {@code kernel} still holds the values the form was prepared from (never known for a trusted one). */
        boolean holds(float[] kernel) {
            if (prepared == null || (holds == null && snapshot == null)) {
                return false;
            }
            return holds != null ? holds.holds(prepared, kernel)
                    : Arrays.equals(kernel, 0, kernel.length, snapshot, 0, kernel.length);
        }

        long floats() {
            if (prepared == null) {
                return 0;
            }
            return prepared.length + (snapshot == null || snapshot == prepared ? 0L : snapshot.length);
        }

        /** The floats kept to compare against: a copy of its own, or the form's first values; none for holds. */
        long snapshotFloats() {
            return prepared == null || snapshot == null ? 0 : kernelLength;
        }
    }
}
