package org.convcl.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The "did you mean" candidates: typing slips (swaps included) reach their word, unrelated words reach none. */
class SuggestionsTest {
    private static final List<String> COMMANDS = List.of("conv", "conv-transpose", "devices", "bench", "tune",
            "examples", "train-wavenet", "soak", "demo", "pool", "resnet", "help");

    @Test
    void aSwapOfNeighbouringLettersIsOneEdit() {
        assertEquals(1, Suggestions.distance("cnov", "conv"));
        assertEquals(2, Suggestions.distance("bneh", "bench"));
        assertEquals(0, Suggestions.distance("conv", "conv"));
        assertEquals(4, Suggestions.distance("", "conv"));
    }

    @Test
    void slipsReachTheCommandMeant() {
        assertEquals(List.of("conv"), Suggestions.closest("cnov", COMMANDS));
        assertEquals(List.of("conv"), Suggestions.closest("CONV", COMMANDS));
        assertEquals(List.of("bench"), Suggestions.closest("bneh", COMMANDS));
        assertEquals(List.of("tune"), Suggestions.closest("tnue", COMMANDS));
        assertEquals(List.of("conv-transpose"), Suggestions.closest("conv-tarnspose", COMMANDS));
    }

    @Test
    void aPrefixOfThreeLettersOrMoreReachesEveryCommandItStarts() {
        assertEquals(List.of("conv", "conv-transpose"), Suggestions.closest("conv-t", COMMANDS));
        assertEquals(List.of("--padding"), Suggestions.closest("--pad", List.of("--strides", "--padding")));
    }

    @Test
    void unrelatedWordsGetNoSuggestion() {
        assertEquals(List.of(), Suggestions.closest("xyzzy", COMMANDS));
        assertEquals(List.of(), Suggestions.closest("test", COMMANDS));
        assertEquals(List.of(), Suggestions.closest("", COMMANDS));
    }
}
