package org.convcl.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The project's Dockerfile as the tests need it, since no container engine runs here to build it: its stages, each
 * with its working directory, the shell commands of its RUN steps (split at {@code &&}), its COPY steps and its
 * exec-form ENTRYPOINT. Only the forms the Dockerfile uses are read; anything else is refused, so that a new form
 * gets a reading here before a test trusts it.
 */
public final class DockerfileModel {
    private static final Pattern FROM = Pattern.compile("(\\S+)(?:\\s+AS\\s+(\\S+))?", Pattern.CASE_INSENSITIVE);
    private static final Pattern EXEC_FORM = Pattern.compile("\"([^\"]*)\"");

    /** One COPY: from the build context ({@code fromStage} null) or another stage; destination as written. */
    public record Copy(String fromStage, List<String> sources, String destination, String workdir) {
    }

    /** One FROM and what follows it. */
    public static final class Stage {
        private final String name;
        private String workdir = "/";
        private final List<String> commands = new ArrayList<>();
        private final List<Copy> copies = new ArrayList<>();
        private List<String> entrypoint = List.of();

        Stage(String name) {
            this.name = name;
        }

        public String name() {
            return name;
        }

        public String workdir() {
            return workdir;
        }

        /** The shell commands of every RUN step, in order, each trimmed. */
        public List<String> commands() {
            return commands;
        }

        public List<Copy> copies() {
            return copies;
        }

        public List<String> entrypoint() {
            return entrypoint;
        }
    }

    private final List<Stage> stages = new ArrayList<>();

    private DockerfileModel() {
    }

    public static DockerfileModel read(Path dockerfile) throws IOException {
        DockerfileModel model = new DockerfileModel();
        for (String instruction : instructions(Files.readAllLines(dockerfile))) {
            String[] parts = instruction.split("\\s+", 2);
            String keyword = parts[0].toUpperCase(java.util.Locale.ROOT);
            String rest = parts.length > 1 ? parts[1].trim() : "";
            model.apply(keyword, rest);
        }
        return model;
    }

    public List<Stage> stages() {
        return stages;
    }

    /** The last stage: the image that `docker build` produces. */
    public Stage finalStage() {
        return stages.get(stages.size() - 1);
    }

    public Stage stage(String name) {
        return stages.stream().filter(stage -> name.equals(stage.name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no stage named " + name));
    }

    private void apply(String keyword, String rest) {
        if (keyword.equals("FROM")) {
            Matcher from = FROM.matcher(rest);
            if (!from.matches()) {
                throw new IllegalArgumentException("FROM " + rest + ": expected `image [AS name]`");
            }
            stages.add(new Stage(from.group(2)));
            return;
        }
        if (stages.isEmpty()) {
            throw new IllegalArgumentException(keyword + " before the first FROM");
        }
        Stage stage = finalStage();
        switch (keyword) {
            case "RUN" -> {
                if (rest.startsWith("[")) {
                    throw new IllegalArgumentException("RUN " + rest + ": only the shell form is read");
                }
                Arrays.stream(rest.split("&&")).map(String::trim).forEach(stage.commands::add);
            }
            case "WORKDIR" -> stage.workdir = rest.startsWith("/") ? rest : join(stage.workdir, rest);
            case "COPY" -> {
                List<String> words = new ArrayList<>(Arrays.asList(rest.split("\\s+")));
                String fromStage = null;
                if (words.get(0).startsWith("--from=")) {
                    fromStage = words.remove(0).substring("--from=".length());
                }
                if (words.stream().anyMatch(word -> word.startsWith("--")) || words.size() < 2) {
                    throw new IllegalArgumentException("COPY " + rest + ": only `[--from=stage] src... dest` is read");
                }
                String destination = words.remove(words.size() - 1);
                stage.copies.add(new Copy(fromStage, List.copyOf(words), destination, stage.workdir));
            }
            case "ENTRYPOINT" -> {
                if (!rest.startsWith("[")) {
                    throw new IllegalArgumentException("ENTRYPOINT " + rest + ": only the exec form is read");
                }
                List<String> words = new ArrayList<>();
                Matcher word = EXEC_FORM.matcher(rest);
                while (word.find()) {
                    words.add(word.group(1));
                }
                stage.entrypoint = List.copyOf(words);
            }
            case "ENV", "CMD", "ARG", "LABEL", "EXPOSE", "USER" -> {
                // Nothing the tests read.
            }
            default -> throw new IllegalArgumentException(keyword + ": an instruction DockerfileModel does not read");
        }
    }

    /** Joins a relative path onto a directory, as WORKDIR and COPY destinations do. */
    public static String join(String directory, String path) {
        if (path.startsWith("/")) {
            return path;
        }
        return (directory.endsWith("/") ? directory : directory + "/") + path;
    }

    /** The Dockerfile's instructions: comments and blank lines dropped, backslash-continued lines joined. */
    private static List<String> instructions(List<String> lines) {
        List<String> instructions = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : lines) {
            String trimmed = line.trim();
            if (trimmed.startsWith("#") || (trimmed.isEmpty() && current.length() == 0)) {
                continue;
            }
            boolean continues = trimmed.endsWith("\\");
            current.append(continues ? trimmed.substring(0, trimmed.length() - 1) : trimmed).append(' ');
            if (!continues) {
                instructions.add(current.toString().trim());
                current.setLength(0);
            }
        }
        if (current.length() > 0) {
            instructions.add(current.toString().trim());
        }
        return instructions;
    }
}
