package org.convcl.bench;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.convcl.internal.Json;

/**
 * The benchmark suite: the embedded default (a copy of shared/bench/shapes.json), an embedded network suite by
 * name ({@link #NAMED}: a network's distinct convolution shapes, each with its count), or a file of that form.
 */
public final class BenchSuite {
    private static final String DEFAULT_RESOURCE = "/bench/shapes.json";
    /** The embedded suites that {@code --suite NAME} selects, each at /bench/NAME.json. */
    public static final List<String> NAMED = List.of("resnet50", "resnet18");

    private final List<BenchShape> shapes;

    private BenchSuite(List<BenchShape> shapes) {
        this.shapes = List.copyOf(shapes);
    }

    public static BenchSuite loadDefault() throws IOException {
        return loadResource(DEFAULT_RESOURCE);
    }

    /** The embedded suite called {@code name}, one of {@link #NAMED}. */
    public static BenchSuite loadNamed(String name) throws IOException {
        if (!NAMED.contains(name)) {
            throw new IllegalArgumentException("suite: got '" + name + "'; the embedded suites are " + NAMED);
        }
        return loadResource("/bench/" + name + ".json");
    }

    private static BenchSuite loadResource(String resource) throws IOException {
        try (InputStream in = BenchSuite.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IOException("the embedded suite " + resource + " is missing from the jar");
            }
            return parse(in, "embedded suite " + resource);
        }
    }

    public static BenchSuite load(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return parse(in, file.toString());
        }
    }

    private static BenchSuite parse(InputStream in, String source) throws IOException {
        byte[] bytes = in.readAllBytes();
        Map<String, Object> json;
        try {
            json = Json.parseObject(StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString());
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("suite: " + source + " is not valid JSON: it is not UTF-8 text");
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("suite: " + source + " is not valid JSON: " + e.getMessage());
        }
        if (!(json.get("shapes") instanceof List<?> rows)) {
            throw new IllegalArgumentException("suite: " + source + " has no 'shapes' list");
        }
        List<BenchShape> shapes = new ArrayList<>();
        for (Object row : rows) {
            if (!(row instanceof Map<?, ?> map)) {
                throw new IllegalArgumentException("suite: " + source + " has a shape that is not an object: " + row);
            }
            shapes.add(BenchShape.fromJson(map));
        }
        // A network's total (sum of count x time) is only meaningful when every shape says how often it occurs.
        List<String> uncounted = shapes.stream().filter(shape -> !shape.counted()).map(BenchShape::name).toList();
        if (!uncounted.isEmpty() && uncounted.size() < shapes.size()) {
            throw new IllegalArgumentException("suite: " + source + " gives 'count' on some shapes but not on "
                    + uncounted + "; give it on every shape or on none");
        }
        return new BenchSuite(shapes);
    }

    /** Whether every shape has a count, so that the suite stands for a network whose total can be reported. */
    public boolean counted() {
        return !shapes.isEmpty() && shapes.get(0).counted();
    }

    public List<BenchShape> shapes() {
        return shapes;
    }

    /** The shapes named in {@code names} (in suite order), refusing unknown names. */
    public BenchSuite select(List<String> names) {
        if (names == null || names.isEmpty()) {
            return this;
        }
        Set<String> wanted = new LinkedHashSet<>(names);
        List<BenchShape> chosen = new ArrayList<>();
        for (BenchShape shape : shapes) {
            if (wanted.remove(shape.name())) {
                chosen.add(shape);
            }
        }
        if (!wanted.isEmpty()) {
            throw new IllegalArgumentException("shapes: unknown " + wanted + "; the suite has "
                    + shapes.stream().map(BenchShape::name).toList());
        }
        return new BenchSuite(chosen);
    }
}
