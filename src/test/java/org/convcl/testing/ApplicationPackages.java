package org.convcl.testing;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.jar.JarFile;
import java.util.zip.ZipEntry;

/**
 * The application packages and resources (the CLI and what only it runs), which the build keeps out of the library
 * artifact. The list is the pom's ({@code convcl.applicationPackages}, {@code convcl.applicationResources}), passed
 * by failsafe as system properties of the same names, so that the integration tests check the build's own list.
 */
public final class ApplicationPackages {
    private final List<String> packages;
    private final List<String> resourceFolders;

    private ApplicationPackages(List<String> packages, List<String> resourceFolders) {
        this.packages = packages;
        this.resourceFolders = resourceFolders;
    }

    /** The pom's lists, or null when the test runs outside Maven's failsafe (which passes them). */
    public static ApplicationPackages fromBuild() {
        String packages = System.getProperty("convcl.applicationPackages");
        String resources = System.getProperty("convcl.applicationResources");
        if (packages == null || resources == null) {
            return null;
        }
        return new ApplicationPackages(split(packages), split(resources));
    }

    /** The application packages, as the pom names them. */
    public List<String> packages() {
        return packages;
    }

    /** Whether {@code packageName} is an application package or lies inside one (org.convcl.spark.demo.x). */
    public boolean isApplication(String packageName) {
        return packages.stream().anyMatch(p -> packageName.equals(p) || packageName.startsWith(p + "."));
    }

    /**
     * Whether the jar entry {@code name} belongs to the applications: a file in an application package (a class,
     * a source file or a resource such as org/convcl/cli/version.properties) or under an application resource
     * folder. Directory entries count too: an empty org/convcl/cli/ still says the split leaks.
     */
    public boolean isApplicationEntry(String name) {
        for (String folder : resourceFolders) {
            if (name.equals(folder + "/") || name.startsWith(folder + "/")) {
                return true;
            }
        }
        int slash = name.endsWith("/") ? name.length() - 1 : name.lastIndexOf('/');
        return slash > 0 && isApplication(name.substring(0, slash).replace('/', '.'));
    }

    /** The entries of {@code jar} that belong to the applications, in the jar's order. */
    public List<String> applicationEntriesOf(Path jar) throws IOException {
        try (JarFile file = new JarFile(jar.toFile())) {
            return Collections.list(file.entries()).stream().map(ZipEntry::getName).filter(this::isApplicationEntry)
                    .toList();
        }
    }

    private static List<String> split(String list) {
        return Arrays.stream(list.split(",")).map(String::strip).filter(s -> !s.isEmpty()).toList();
    }
}
