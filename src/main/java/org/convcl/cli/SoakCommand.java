package org.convcl.cli;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.convcl.backend.BackendChoice;
import org.convcl.nn.Backends;
import org.convcl.backend.ConvBackend;
import org.convcl.diagnostics.Soak;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code convcl soak}: many small calls, watching live native objects and resident memory for leaks. */
@Command(name = "soak", mixinStandardHelpOptions = true, usageHelpWidth = 100,
        header = "Runs many small calls and watches live OpenCL objects and resident memory for leaks.",
        description = {"",
            "Runs many small forward, backward and (on OpenCL) device-tensor calls and reports the library's live "
                + "OpenCL objects and the process's resident memory as it goes. Exit 1 when live objects "
                + "accumulate or resident memory grows by more than --max-growth-mib after the first quarter of "
                + "the run."})
public final class SoakCommand implements Callable<Integer> {

    @Spec
    private CommandSpec spec;

    @Option(names = "--calls", defaultValue = "20000", description = "Iterations (default: ${DEFAULT-VALUE}).")
    int calls;

    @Option(names = "--sample-every", defaultValue = "1000",
            description = "Iterations between samples (default: ${DEFAULT-VALUE}).")
    int sampleEvery;

    @Option(names = "--backend", paramLabel = "auto|cpu|opencl", defaultValue = "auto",
            description = "Backend (default: ${DEFAULT-VALUE}).")
    String backend;

    @Option(names = "--max-growth-mib", defaultValue = "32",
            description = "Largest acceptable resident growth after warm-up, MiB (default: ${DEFAULT-VALUE}).")
    long maxGrowthMib;

    @Override
    public Integer call() {
        if (calls < 1 || sampleEvery < 1) {
            throw new IllegalArgumentException((calls < 1 ? "--calls: got " + calls : "--sample-every: got "
                    + sampleEvery) + "; must be >= 1");
        }
        ConvBackend target = Backends.select(BackendChoice.parse(backend));
        PrintWriter out = spec.commandLine().getOut();
        out.printf(Locale.ROOT, "soak: %d iterations on %s%n", calls, target.name());
        Soak.Report report = Soak.run(target, calls, sampleEvery);
        out.printf(Locale.ROOT, "%8s  %-60s %10s%n", "calls", "live OpenCL objects", "rss_mib");
        for (Soak.Sample sample : report.samples()) {
            out.printf(Locale.ROOT, "%8d  %-60s %10s%n", sample.callsDone(), sample.counts(),
                    sample.residentBytes().isPresent()
                            ? String.format(Locale.ROOT, "%.1f", sample.residentBytes().getAsLong() / 1048576.0) : "-");
        }
        out.printf(Locale.ROOT, "before: %s%nafter release: %s%n", report.before(), report.after());
        boolean flat = report.countsFlat();
        long growth = report.residentGrowthAfterWarmup().orElse(0);
        boolean memoryFlat = growth <= maxGrowthMib * 1048576;
        out.printf(Locale.ROOT, "live objects flat: %s; resident growth after warm-up: %.1f MiB (limit %d)%n",
                flat, growth / 1048576.0, maxGrowthMib);
        return flat && memoryFlat ? Main.EXIT_OK : Main.EXIT_IO;
    }
}
