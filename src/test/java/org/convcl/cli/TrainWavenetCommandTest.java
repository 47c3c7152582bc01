package org.convcl.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code convcl train-wavenet}: the worked example from the command line, its loss printed going down. */
class TrainWavenetCommandTest {
    private static final Pattern LOSS_LINE = Pattern.compile("(?m)^step +(\\d+) +loss ([0-9.]+)$");

    @ParameterizedTest
    @MethodSource("org.convcl.cli.CliBackends#names")
    void printsTheLossFallingStepAfterStep(String backend) {
        CliRun run = CliRun.of("train-wavenet", "--steps", "30", "--backend", backend);

        run.assertSuccess();
        assertEquals("", run.stderr());
        Matcher lines = LOSS_LINE.matcher(run.stdout());
        List<double[]> printed = lines.results()
                .map(m -> new double[] {Integer.parseInt(m.group(1)), Double.parseDouble(m.group(2))}).toList();
        assertEquals(List.of(0.0, 10.0, 20.0, 30.0), printed.stream().map(p -> p[0]).toList(), run.stdout());
        for (int i = 1; i < printed.size(); i++) {
            assertTrue(printed.get(i)[1] < printed.get(i - 1)[1], "the loss falls: " + run.stdout());
        }
        assertTrue(printed.get(printed.size() - 1)[1] < printed.get(0)[1] / 4, run.stdout());
        assertTrue(run.stdout().contains("backend " + backend) && run.stdout().contains("loss fell"), run.stdout());
    }

    @ParameterizedTest
    @ValueSource(strings = {"--steps=-1", "--learning-rate=0", "--learning-rate=-0.1", "--learning-rate=NaN",
        "--learning-rate=Infinity", "--steps=many", "--backend=gpu"})
    void refusesSettingsThatCannotTrain(String setting) {
        String line = CliRun.of("train-wavenet", setting).assertFailure(Main.EXIT_INVALID, null);
        String option = setting.substring(0, setting.indexOf('='));
        assertTrue(line.contains(option.substring(2)) || line.contains(option), line);
    }
}
