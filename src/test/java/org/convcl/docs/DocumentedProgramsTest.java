package org.convcl.docs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.io.IOException;
import java.io.StringWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;

/**
 * The whole programs the README and docs/ show (a {@code java} block declaring a public class with a {@code main}
 * method) compile against the library as it is: a renamed class or method fails here, not in a newcomer's first
 * build. Fragments and excerpts of the library's own classes are not compiled.
 */
class DocumentedProgramsTest {
    private static final Pattern JAVA_BLOCK = Pattern.compile("```java\\n(.*?)```", Pattern.DOTALL);
    private static final Pattern CLASS_NAME = Pattern.compile("(?m)^public (?:final )?class (\\w+)");

    @Test
    void everyDocumentedProgramCompiles() throws IOException {
        List<JavaFileObject> programs = new ArrayList<>();
        List<Path> pages = new ArrayList<>(List.of(Path.of("README.md")));
        try (Stream<Path> docs = Files.list(Path.of("docs"))) {
            docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(pages::add);
        }
        for (Path page : pages) {
            Matcher block = JAVA_BLOCK.matcher(Files.readString(page));
            while (block.find()) {
                Matcher name = CLASS_NAME.matcher(block.group(1));
                if (name.find() && block.group(1).contains("public static void main(")) {
                    programs.add(source(page, name.group(1), block.group(1)));
                }
            }
        }
        assertFalse(programs.isEmpty(), "the README's first library call is a whole program");
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        StringWriter diagnostics = new StringWriter();
        Path out = Files.createTempDirectory("documented-programs");
        boolean compiled = javac.getTask(diagnostics, null, null,
                List.of("-d", out.toString(), "-classpath", System.getProperty("java.class.path"), "-proc:none"),
                null, programs).call();
        assertEquals("", compiled ? "" : diagnostics.toString(), "the documented programs compile");
    }

    private static JavaFileObject source(Path page, String className, String text) {
        return new SimpleJavaFileObject(URI.create("string:///" + className + ".java"), JavaFileObject.Kind.SOURCE) {
            @Override
            public CharSequence getCharContent(boolean ignoreEncodingErrors) {
                return text;
            }

            @Override
            public String toString() {
                return page + ": " + className;
            }
        };
    }
}
