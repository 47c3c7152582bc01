package org.convcl.diagnostics;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;

/** The process's resident set size, read from {@code /proc/self/status} (Linux); empty elsewhere. */
public final class ResidentMemory {
    private ResidentMemory() {
    }

    /** Resident bytes now, or empty where the platform does not say. */
    public static OptionalLong bytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    String[] fields = line.substring(6).trim().split("\\s+");
                    return OptionalLong.of(Long.parseLong(fields[0]) * 1024);
                }
            }
        } catch (IOException | RuntimeException e) {
            return OptionalLong.empty();
        }
        return OptionalLong.empty();
    }
}
