package org.convcl.opencl.internal.driver;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.reflect.Array;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Locale;
import java.util.Optional;

/**
 * The C library's {@code sigaction(2)}, called from Java through the JDK's foreign function API
 * ({@code java.lang.foreign}, final in JDK 22). The library is compiled for Java 17, so the API is reached by
 * reflection, once; on older JDKs, other systems or other processors {@link #load()} is empty.
 *
 * <p>A {@code struct sigaction} is handled as opaque bytes: read whole, written back whole. Only glibc
 * layouts whose size is known are accepted (Linux on x86-64 and AArch64: 152 bytes, handler first).
 * Calls are serialised: one native buffer serves every call. Thread-safe.
 */
final class NativeSigaction {
    /** Bytes reserved for one {@code struct sigaction}; glibc's is 152 on the accepted platforms. */
    static final int ACTION_BYTES = 256;
    /**
     * glibc's layout on x86-64 and AArch64: handler (8 bytes), sa_mask (128, of which the kernel keeps the first
     * 8), sa_flags (4, then 4 of padding), sa_restorer (8).
     */
    private static final int MASK_OFFSET = 8;
    private static final int FLAGS_OFFSET = 136;
    private static final long SIG_DFL = 0;
    private static final long SIG_IGN = 1;
    private static final int SA_RESTORER = 0x04000000;

    private final MethodHandle sigaction;
    private final Object buffer;
    private final Object nullAddress;
    private final MethodHandle toBytes;
    private final MethodHandle copyFrom;
    private final MethodHandle ofArray;

    private NativeSigaction(MethodHandle sigaction, Object buffer, Object nullAddress, MethodHandle toBytes,
            MethodHandle copyFrom, MethodHandle ofArray) {
        this.sigaction = sigaction;
        this.buffer = buffer;
        this.nullAddress = nullAddress;
        this.toBytes = toBytes;
        this.copyFrom = copyFrom;
        this.ofArray = ofArray;
    }

    /** Access to sigaction, or empty with no side effect where this JDK, system or processor does not allow it. */
    static Optional<NativeSigaction> load() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String arch = System.getProperty("os.arch", "");
        if (!os.contains("linux") || !(arch.equals("amd64") || arch.equals("x86_64") || arch.equals("aarch64"))
                || Runtime.version().feature() < 22) {
            return Optional.empty();
        }
        try {
            return Optional.of(bind());
        } catch (ReflectiveOperationException | RuntimeException e) {
            return Optional.empty();
        }
    }

    private static NativeSigaction bind() throws ReflectiveOperationException {
        Class<?> linkerClass = Class.forName("java.lang.foreign.Linker");
        Class<?> lookupClass = Class.forName("java.lang.foreign.SymbolLookup");
        Class<?> segmentClass = Class.forName("java.lang.foreign.MemorySegment");
        Class<?> layoutClass = Class.forName("java.lang.foreign.MemoryLayout");
        Class<?> valueLayoutClass = Class.forName("java.lang.foreign.ValueLayout");
        Class<?> descriptorClass = Class.forName("java.lang.foreign.FunctionDescriptor");
        Class<?> optionClass = Class.forName("java.lang.foreign.Linker$Option");
        Class<?> arenaClass = Class.forName("java.lang.foreign.Arena");
        Class<?> allocatorClass = Class.forName("java.lang.foreign.SegmentAllocator");

        Object linker = linkerClass.getMethod("nativeLinker").invoke(null);
        Object lookup = linkerClass.getMethod("defaultLookup").invoke(linker);
        Optional<?> symbol = (Optional<?>) lookupClass.getMethod("find", String.class).invoke(lookup, "sigaction");
        if (symbol.isEmpty()) {
            throw new IllegalStateException("no sigaction symbol");
        }
        // int sigaction(int signum, const struct sigaction *act, struct sigaction *oldact)
        Object intLayout = valueLayoutClass.getField("JAVA_INT").get(null);
        Object addressLayout = valueLayoutClass.getField("ADDRESS").get(null);
        Object arguments = Array.newInstance(layoutClass, 3);
        Array.set(arguments, 0, intLayout);
        Array.set(arguments, 1, addressLayout);
        Array.set(arguments, 2, addressLayout);
        Object descriptor = descriptorClass.getMethod("of", layoutClass, arguments.getClass())
                .invoke(null, intLayout, arguments);
        Object noOptions = Array.newInstance(optionClass, 0);
        MethodHandle sigaction = (MethodHandle) linkerClass
                .getMethod("downcallHandle", segmentClass, descriptorClass, noOptions.getClass())
                .invoke(linker, symbol.get(), descriptor, noOptions);

        Object arena = arenaClass.getMethod("global").invoke(null);
        Object buffer = allocatorClass.getMethod("allocate", long.class).invoke(arena, (long) ACTION_BYTES);
        Object byteLayout = valueLayoutClass.getField("JAVA_BYTE").get(null);
        MethodHandles.Lookup publicLookup = MethodHandles.publicLookup();
        Method toArray = segmentClass.getMethod("toArray", Class.forName("java.lang.foreign.ValueLayout$OfByte"));
        MethodHandle toBytes = MethodHandles.insertArguments(publicLookup.unreflect(toArray), 1, byteLayout);
        MethodHandle copyFrom = publicLookup.unreflect(segmentClass.getMethod("copyFrom", segmentClass));
        MethodHandle ofArray = publicLookup.unreflect(segmentClass.getMethod("ofArray", byte[].class));
        Object nullAddress = segmentClass.getField("NULL").get(null);
        return new NativeSigaction(sigaction, buffer, nullAddress, toBytes, copyFrom, ofArray);
    }

    /**
     * Whether two actions from {@link #get} handle the signal the same way: the same handler, and for a real
     * handler (not SIG_DFL or SIG_IGN) the same blocked signals and flags. glibc's own parts are left out: the
     * restorer it adds to every installed action (and the SA_RESTORER flag naming it), and the rest of its
     * 128-byte mask, filled from whatever lay on the stack.
     */
    static boolean sameAction(byte[] a, byte[] b) {
        ByteBuffer x = ByteBuffer.wrap(a).order(ByteOrder.nativeOrder());
        ByteBuffer y = ByteBuffer.wrap(b).order(ByteOrder.nativeOrder());
        long handler = x.getLong(0);
        if (handler != y.getLong(0)) {
            return false;
        }
        if (handler == SIG_DFL || handler == SIG_IGN) {
            return true;
        }
        return x.getLong(MASK_OFFSET) == y.getLong(MASK_OFFSET)
                && (x.getInt(FLAGS_OFFSET) & ~SA_RESTORER) == (y.getInt(FLAGS_OFFSET) & ~SA_RESTORER);
    }

    /** The action installed for {@code signal} now, as the C library's struct bytes. */
    synchronized byte[] get(int signal) {
        try {
            copyFrom.invoke(buffer, ofArray.invoke(new byte[ACTION_BYTES]));
            check((int) sigaction.invoke(signal, nullAddress, buffer), "read", signal);
            return (byte[]) toBytes.invoke(buffer);
        } catch (Throwable e) {
            throw failure(e, "read", signal);
        }
    }

    /** Installs {@code action} (bytes from {@link #get}) for {@code signal}. */
    synchronized void set(int signal, byte[] action) {
        try {
            copyFrom.invoke(buffer, ofArray.invoke(action));
            check((int) sigaction.invoke(signal, buffer, nullAddress), "install", signal);
        } catch (Throwable e) {
            throw failure(e, "install", signal);
        }
    }

    private static void check(int result, String what, int signal) {
        if (result != 0) {
            throw new IllegalStateException("sigaction could not " + what + " the action of signal " + signal);
        }
    }

    private static RuntimeException failure(Throwable e, String what, int signal) {
        Throwable cause = e instanceof InvocationTargetException target ? target.getCause() : e;
        if (cause instanceof RuntimeException runtime) {
            return runtime;
        }
        return new IllegalStateException("sigaction could not " + what + " the action of signal " + signal, cause);
    }
}
