package org.convcl.testing;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Which org.convcl package depends on which, as the JDK's jdeps reports it ({@code jdeps -verbose:package
 * -filter:none JAR}), and the groups of packages that depend on each other (the cycles), found as
 * shared/tools/package_cycles.py finds them.
 */
public final class PackageGraph {
    /** A line of jdeps -verbose:package: {@code   org.convcl.a   -> org.convcl.b   convcl.jar} (or "not found"). */
    private static final Pattern EDGE = Pattern.compile("^\\s+(org\\.convcl[\\w.]*)\\s+->\\s+(org\\.convcl[\\w.]*)\\s.*$");

    private final SortedMap<String, SortedSet<String>> edges;

    private PackageGraph(SortedMap<String, SortedSet<String>> edges) {
        this.edges = edges;
    }

    /** The org.convcl packages of jdeps' output and their dependencies on each other (not on themselves). */
    public static PackageGraph fromJdeps(String output) {
        SortedMap<String, SortedSet<String>> edges = new TreeMap<>();
        for (String line : output.lines().toList()) {
            Matcher matcher = EDGE.matcher(line);
            if (matcher.matches()) {
                SortedSet<String> targets = edges.computeIfAbsent(matcher.group(1), p -> new TreeSet<>());
                edges.computeIfAbsent(matcher.group(2), p -> new TreeSet<>());
                if (!matcher.group(1).equals(matcher.group(2))) {
                    targets.add(matcher.group(2));
                }
            }
        }
        return new PackageGraph(edges);
    }

    /** Every package seen, as a source or as a target, sorted. */
    public SortedSet<String> packages() {
        return new TreeSet<>(edges.keySet());
    }

    /** The packages {@code source} depends on, sorted. */
    public SortedSet<String> dependenciesOf(String source) {
        return edges.getOrDefault(source, new TreeSet<>());
    }

    /**
     * The strongly connected groups of more than one package: each package of a group reaches every other through
     * its dependencies. Each group sorted, the groups by their first package.
     */
    public List<List<String>> cycles() {
        Tarjan tarjan = new Tarjan();
        for (String node : edges.keySet()) {
            if (!tarjan.index.containsKey(node)) {
                tarjan.visit(node);
            }
        }
        tarjan.groups.sort((a, b) -> a.get(0).compareTo(b.get(0)));
        return tarjan.groups;
    }

    /** The dependencies of each package of {@code group} on the group's other packages, one line each. */
    public List<String> edgesWithin(List<String> group) {
        List<String> lines = new ArrayList<>();
        for (String source : group) {
            List<String> inside = dependenciesOf(source).stream().filter(group::contains).toList();
            lines.add(source + " -> " + String.join(", ", inside));
        }
        return lines;
    }

    /** Tarjan's strongly connected components (recursive: the graph has a few dozen packages). */
    private final class Tarjan {
        final Map<String, Integer> index = new HashMap<>();
        final Map<String, Integer> low = new HashMap<>();
        final Deque<String> stack = new ArrayDeque<>();
        final Set<String> onStack = new HashSet<>();
        final List<List<String>> groups = new ArrayList<>();

        void visit(String node) {
            index.put(node, index.size());
            low.put(node, index.get(node));
            stack.push(node);
            onStack.add(node);
            for (String next : dependenciesOf(node)) {
                if (!index.containsKey(next)) {
                    visit(next);
                    low.put(node, Math.min(low.get(node), low.get(next)));
                } else if (onStack.contains(next)) {
                    low.put(node, Math.min(low.get(node), index.get(next)));
                }
            }
            if (low.get(node).equals(index.get(node))) {
                List<String> group = new ArrayList<>();
                String member;
                do {
                    member = stack.pop();
                    onStack.remove(member);
                    group.add(member);
                } while (!member.equals(node));
                if (group.size() > 1) {
                    group.sort(null);
                    groups.add(group);
                }
            }
        }
    }
}
