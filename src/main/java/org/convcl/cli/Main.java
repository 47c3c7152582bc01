package org.convcl.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.Callable;
import org.convcl.internal.Settings;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * The {@code convcl} command-line tool. Exit codes are a contract that scripts rely on:
 * <ul>
 *   <li>0: success;</li>
 *   <li>1: reading or writing a file failed once begun, or an unexpected failure;</li>
 *   <li>2: the command line, the configuration, a file path or an input file's content is invalid (the paths
 *       are checked before any work, see {@link PathChecks}).</li>
 * </ul>
 * Every failure is one line on stderr, {@code convcl: <reason>}; a stack trace follows only when the
 * environment variable {@code CONVCL_DEBUG} is set to 1. Stdout carries results only.
 *
 * <p>{@link #execute} builds new command objects on every call, so in-process calls on several threads are
 * independent of each other, apart from the files they name.
 */
@Command(name = "convcl", mixinStandardHelpOptions = true, versionProvider = Version.class,
        description = {"N-dimensional convolution with the exact semantics of flax nnx.Conv and "
                + "nnx.ConvTranspose, with gradients, on OpenCL or in pure Java.", ""},
        subcommands = {ConvCommand.class, ConvTransposeCommand.class, PoolCommand.class, DevicesCommand.class,
            BenchCommand.class, TuneCommand.class, ResNetCommand.class, ExamplesCommand.class,
            TrainWavenetCommand.class, SoakCommand.class, DemoCommand.class, CommandLine.HelpCommand.class},
        footerHeading = "%nExit codes:%n",
        footer = {"  0  success",
            "  1  reading or writing a file failed once begun (or an unexpected failure)",
            "  2  invalid command line, configuration, file path or input file content",
            "", "Run 'convcl COMMAND --help' for a command's options."})
public final class Main implements Callable<Integer> {
    public static final int EXIT_OK = 0;
    public static final int EXIT_IO = 1;
    public static final int EXIT_INVALID = 2;

    static {
        // Before any logger exists: slf4j-simple reads its settings once, when the first logger is made.
        LoggingSetup.configure();
    }

    @Spec
    private CommandSpec spec;

    /** Runs the tool and exits the JVM with its exit code. */
    public static void main(String[] args) {
        PrintWriter out = new PrintWriter(System.out, true);
        PrintWriter err = new PrintWriter(System.err, true);
        int code;
        try {
            code = execute(out, err, args);
        } catch (Throwable unexpected) {
            // Errors (OutOfMemoryError, ...) pass through picocli's handlers; they still get one line.
            code = reportUnexpected(err, unexpected);
        }
        out.flush();
        err.flush();
        System.exit(code);
    }

    /** Runs the tool in-process with the given streams and returns its exit code (never exits the JVM). */
    public static int execute(PrintWriter out, PrintWriter err, String... args) {
        CommandLine commandLine = new CommandLine(new Main());
        commandLine.setOut(out);
        commandLine.setErr(err);
        // Values such as "--padding -2:1,0:-3" start with '-': they are values, not unknown options.
        commandLine.setUnmatchedOptionsAllowedAsOptionParameters(true);
        commandLine.setParameterExceptionHandler(Main::handleUsageError);
        commandLine.setExecutionExceptionHandler((failure, failed, parseResult) ->
                handleFailure(failed.getErr(), failure));
        return commandLine.execute(args);
    }

    /** {@code convcl} alone: a usage error, since there is nothing to do without a command. */
    @Override
    public Integer call() {
        // Listed from the registered subcommands, so that the message cannot fall behind them.
        throw new ParameterException(spec.commandLine(), "missing a command: give "
                + String.join(", ", spec.subcommands().keySet()) + " (see convcl --help)");
    }

    private static int handleUsageError(ParameterException usage, String[] args) {
        String where = usage.getCommandLine().getCommandName();
        String hint = where.equals("convcl") ? "convcl --help" : "convcl " + where + " --help";
        String message = oneLine(usage.getMessage()) + suggestion(usage);
        if (!message.contains("--help")) {
            message += " (see " + hint + ")";
        }
        usage.getCommandLine().getErr().println("convcl: " + message);
        return EXIT_INVALID;
    }

    /**
     * "Did you mean" for a mistyped command or option ({@code cnov}: conv; {@code --stride}: --strides), joined to
     * the one line the contract allows, where picocli's default handler would print lines of its own. Empty when
     * nothing is close (see {@link Suggestions} for why not picocli's own candidates).
     */
    private static String suggestion(ParameterException usage) {
        if (!(usage instanceof UnmatchedArgumentException unmatched) || unmatched.getUnmatched().isEmpty()) {
            return "";
        }
        CommandSpec where = unmatched.getCommandLine().getCommandSpec();
        String typed = unmatched.getUnmatched().get(0);
        Collection<String> candidates = unmatched.isUnknownOption()
                ? where.optionsMap().keySet() : where.subcommands().keySet();
        List<String> close = Suggestions.closest(typed.split("=", 2)[0], candidates);
        if (close.isEmpty()) {
            return "";
        }
        String options = close.size() == 1 ? close.get(0)
                : String.join(", ", close.subList(0, close.size() - 1)) + " or " + close.get(close.size() - 1);
        return "; did you mean " + options + "?";
    }

    private static int handleFailure(PrintWriter err, Exception failure) {
        if (failure instanceof IllegalArgumentException invalid) {
            err.println("convcl: " + oneLine(invalid.getMessage()));
            printTraceIfDebugging(err, failure);
            return EXIT_INVALID;
        }
        if (failure instanceof FileAccessException fileProblem) {
            err.println("convcl: " + oneLine(fileProblem.getMessage()));
            printTraceIfDebugging(err, failure);
            return EXIT_IO;
        }
        if (failure instanceof IOException io) {
            err.println("convcl: " + oneLine(FileAccessException.describe(io)));
            printTraceIfDebugging(err, failure);
            return EXIT_IO;
        }
        return reportUnexpected(err, failure);
    }

    private static int reportUnexpected(PrintWriter err, Throwable failure) {
        String reason = failure instanceof OutOfMemoryError
                ? "out of memory; give the JVM more with CONVCL_JAVA_OPTS=-Xmx<size>"
                : "unexpected " + failure.getClass().getSimpleName()
                        + (failure.getMessage() == null ? "" : ": " + failure.getMessage());
        err.println("convcl: " + oneLine(reason)
                + (debugging() ? "" : " (set CONVCL_DEBUG=1 for a stack trace)"));
        printTraceIfDebugging(err, failure);
        return EXIT_IO;
    }

    private static void printTraceIfDebugging(PrintWriter err, Throwable failure) {
        if (debugging()) {
            StringWriter trace = new StringWriter();
            failure.printStackTrace(new PrintWriter(trace));
            err.print(trace);
            err.flush();
        }
    }

    private static boolean debugging() {
        try {
            return Settings.CLI_DEBUG.get();
        } catch (IllegalArgumentException e) {
            // Not refused: this is read while a failure is reported, and throwing would replace that failure.
            // Anything but 1 is off, as before.
            return false;
        }
    }

    /** The contract promises one line per failure, whatever a message holds. */
    static String oneLine(String message) {
        if (message == null || message.isBlank()) {
            return "failed (no reason given)";
        }
        // Line breaks join the parts; any other control character (from a file name or a hostile header)
        // becomes a space, so that the error stays one line and cannot drive the terminal.
        return message.strip().replaceAll("\\s*[\\r\\n\\u0085\\u2028\\u2029]+\\s*", "; ")
                .replaceAll("\\p{Cntrl}", " ");
    }
}
