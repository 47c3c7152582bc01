package org.convcl.api;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.convcl.nn.Conv;
import org.convcl.ConvGeometry;
import org.convcl.ConvSpec;
import org.convcl.nn.ConvTranspose;
import org.convcl.ConvTransposeSpec;
import org.convcl.EdgeMode;
import org.convcl.EdgePadding;
import org.convcl.Padding;
import org.convcl.PoolGeometry;
import org.convcl.PoolSpec;
import org.convcl.Precision;
import org.convcl.Tensor;
import org.convcl.backend.ConvBackend;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.opencl.DeviceTensor;
import org.convcl.opencl.OpenClBackend;
import org.convcl.testing.OpenClTesting;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Every public method and constructor of the API packages ({@code org.convcl}, {@code org.convcl.backend},
 * {@code org.convcl.opencl}), given null for one reference parameter at a time (and small valid values for the
 * others), either accepts it or refuses it with an exception whose message names what was wrong: a
 * {@link NullPointerException} passes only when its message starts with the parameter's name (as
 * {@code Objects.requireNonNull(x, "x")} throws it), never the JVM's own ({@code Cannot invoke ... because "g" is
 * null}, {@code "<local3>" is null}) or none. (The refusals the issue named are checked message by message in
 * {@code ApiRefusalsTest}.)
 */
class NullArgumentSweepTest {
    private static final List<String> PACKAGES = List.of("org.convcl", "org.convcl.backend", "org.convcl.opencl");
    /** Not swept: device discovery is another change's (its arguments come from the library itself). */
    private static final List<String> SKIPPED_CLASSES = List.of("org.convcl.opencl.DeviceDiscovery");

    private final Map<Class<?>, Supplier<Object>> samples = new LinkedHashMap<>();
    private final List<AutoCloseable> made = new ArrayList<>();

    @Test
    @Timeout(120)
    void nullArgumentsAreRefusedByName() throws Exception {
        registerSamples();
        List<String> problems = new ArrayList<>();
        int calls = 0;
        try {
            for (Class<?> type : apiClasses()) {
                List<Executable> members = new ArrayList<>(Arrays.asList(type.getConstructors()));
                members.addAll(Arrays.asList(type.getMethods()));
                for (Executable member : members) {
                    // An enum's valueOf(String) is the compiler's, and its NullPointerException ("Name is null")
                    // the JDK's documented contract.
                    if (member.getDeclaringClass() != type || member.isSynthetic()
                            || (member instanceof Method m && (m.getName().equals("equals")
                                    || (type.isEnum() && m.getName().equals("valueOf"))))) {
                        continue;
                    }
                    Class<?>[] parameters = member.getParameterTypes();
                    for (int i = 0; i < parameters.length; i++) {
                        if (parameters[i].isPrimitive()) {
                            continue;
                        }
                        assertTrue(member.getParameters()[i].isNamePresent(), member + ": no parameter names in the "
                                + "class files; main must be compiled with -parameters (pom.xml)");
                        Optional<String> problem = callWithNull(type, member, i);
                        if (problem != null) {
                            calls++;
                            problem.ifPresent(problems::add);
                        }
                    }
                }
            }
        } finally {
            for (AutoCloseable each : made) {
                try {
                    each.close();
                } catch (Exception e) {
                    // Shared backends refuse close(); the tensors and layers made here close.
                }
            }
        }
        assertTrue(calls > 100, "the sweep made " + calls + " calls; it should reach the whole API");
        assertTrue(problems.isEmpty(), problems.size() + " of " + calls + " calls with a null argument failed "
                + "without naming it:\n" + String.join("\n", problems));
    }

    /**
     * Calls {@code member} with null as parameter {@code index}: empty when it accepted or refused it properly, a
     * description of the NullPointerException otherwise, null when no sample exists for another parameter or the
     * receiver (the call is not made).
     */
    private Optional<String> callWithNull(Class<?> type, Executable member, int index) throws Exception {
        Object receiver = null;
        if (member instanceof Method m && !Modifier.isStatic(m.getModifiers())) {
            receiver = sample(type);
            if (receiver == null) {
                return null;
            }
        }
        Class<?>[] parameters = member.getParameterTypes();
        Object[] args = new Object[parameters.length];
        for (int i = 0; i < parameters.length; i++) {
            if (i != index) {
                args[i] = sample(parameters[i]);
                if (args[i] == null) {
                    return null;
                }
            }
        }
        try {
            Object result = member instanceof Method m ? m.invoke(receiver, args)
                    : ((Constructor<?>) member).newInstance(args);
            if (result instanceof AutoCloseable closeable) {
                made.add(closeable);
            }
            return Optional.empty();
        } catch (InvocationTargetException e) {
            Throwable thrown = e.getCause();
            // A NullPointerException passes only as Objects.requireNonNull(x, "x") throws it: its message starts
            // with the parameter's name. The JVM's own messages ("Cannot invoke ... because \"g\" is null", or
            // "<local3>" without a local-variable table) describe the library's code, not the caller's mistake.
            String name = member.getParameters()[index].getName();
            if (thrown instanceof NullPointerException && !namesParameter(thrown.getMessage(), name)) {
                return Optional.of(member + " with null " + name + ": " + thrown);
            }
            return Optional.empty();
        }
    }

    /** Whether {@code message} begins with the parameter's name as a word ({@code "x"}, {@code "x: got null; ..."}). */
    static boolean namesParameter(String message, String name) {
        return message != null && message.startsWith(name) && (message.length() == name.length()
                || !Character.isJavaIdentifierPart(message.charAt(name.length())));
    }

    private Object sample(Class<?> type) {
        if (type.isEnum()) {
            return type.getEnumConstants()[0];
        }
        Supplier<Object> supplier = samples.get(type);
        return supplier == null ? null : supplier.get();
    }

    private void registerSamples() {
        samples.put(int.class, () -> 1);
        samples.put(long.class, () -> 1L);
        samples.put(float.class, () -> 0f);
        samples.put(double.class, () -> 0.0);
        samples.put(boolean.class, () -> false);
        samples.put(int[].class, () -> new int[] {1, 1, 1});
        samples.put(int[][].class, () -> new int[][] {{0, 0}});
        samples.put(float[].class, () -> new float[] {0f});
        samples.put(short[].class, () -> new short[] {0});
        samples.put(ShortBuffer.class, () -> ShortBuffer.allocate(1));
        samples.put(String.class, () -> "1");
        samples.put(Object.class, Object::new);
        samples.put(FloatBuffer.class, () -> FloatBuffer.allocate(1));
        samples.put(Tensor.class, () -> Tensor.zeros(1, 1, 1));
        samples.put(ConvSpec.class, ConvSpec::defaults);
        samples.put(ConvSpec.Builder.class, ConvSpec::builder);
        samples.put(ConvTransposeSpec.class, ConvTransposeSpec::defaults);
        samples.put(ConvTransposeSpec.Builder.class, ConvTransposeSpec::builder);
        samples.put(Padding.class, () -> Padding.SAME);
        samples.put(PoolSpec.class, () -> PoolSpec.builder().window(1).build());
        samples.put(PoolSpec.Builder.class, () -> PoolSpec.builder().window(1));
        samples.put(PoolGeometry.class, () -> PoolSpec.builder().window(1).build().resolve(new int[] {1, 1, 1}));
        samples.put(Precision.class, () -> Precision.HIGHEST);
        samples.put(EdgeMode.class, () -> EdgeMode.ZERO);
        samples.put(ConvGeometry.class, () -> ConvSpec.defaults().resolve(new int[] {1, 1, 1}, new int[] {1, 1, 1}));
        samples.put(EdgePadding.class, () -> EdgePadding.ofInput(ConvSpec.defaults().resolve(new int[] {1, 3, 1},
                new int[] {3, 1, 1})));
        samples.put(ConvBackend.class, CpuBackend::sequential);
        samples.put(CpuBackend.class, CpuBackend::sequential);
        samples.put(Conv.class, () -> keep(Conv.builder(Tensor.zeros(1, 1, 1)).backend(CpuBackend.sequential())
                .build()));
        samples.put(Conv.Builder.class, () -> Conv.builder(Tensor.zeros(1, 1, 1)));
        samples.put(ConvTranspose.class, () -> keep(ConvTranspose.builder(Tensor.zeros(1, 1, 1))
                .backend(CpuBackend.sequential()).build()));
        samples.put(ConvTranspose.Builder.class, () -> ConvTranspose.builder(Tensor.zeros(1, 1, 1)));
        OpenClTesting.deviceIfAny().ifPresent(device -> {
            OpenClBackend backend = (OpenClBackend) OpenClTesting.sharedBackendIfAvailable().orElseThrow();
            samples.put(OpenClBackend.class, () -> backend);
            samples.put(DeviceTensor.class, () -> keep(backend.allocate(1, 1, 1)));
        });
    }

    private <T extends AutoCloseable> T keep(T closeable) {
        made.add(closeable);
        return closeable;
    }

    /** The public top-level and nested classes of the API packages, from the compiled classes' directories. */
    private static List<Class<?>> apiClasses() throws URISyntaxException, ClassNotFoundException {
        List<Class<?>> classes = new ArrayList<>();
        File root = new File(Tensor.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        for (String pkg : PACKAGES) {
            File[] files = new File(root, pkg.replace('.', '/')).listFiles((dir, name) -> name.endsWith(".class"));
            assertTrue(files != null && files.length > 0, "compiled classes of " + pkg + " under " + root);
            for (File file : files) {
                String name = pkg + "." + file.getName().replace(".class", "");
                if (name.endsWith("package-info") || SKIPPED_CLASSES.contains(name)) {
                    continue;
                }
                Class<?> type = Class.forName(name, false, NullArgumentSweepTest.class.getClassLoader());
                if (Modifier.isPublic(type.getModifiers()) && !type.isAnonymousClass()
                        && (type.getEnclosingClass() == null || Modifier.isPublic(type.getEnclosingClass().getModifiers()))) {
                    classes.add(type);
                }
            }
        }
        return classes;
    }
}
