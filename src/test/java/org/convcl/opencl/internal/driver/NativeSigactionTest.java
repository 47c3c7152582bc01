package org.convcl.opencl.internal.driver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

/** Which differences between two {@code struct sigaction}s matter when deciding to put a handler back. */
class NativeSigactionTest {
    private static byte[] action(long handler, long mask, int flags, long restorer, byte stackNoise) {
        ByteBuffer b = ByteBuffer.allocate(NativeSigaction.ACTION_BYTES).order(ByteOrder.nativeOrder());
        b.putLong(0, handler).putLong(8, mask);
        for (int i = 16; i < 136; i++) {
            b.put(i, stackNoise);
        }
        b.putInt(136, flags).putLong(144, restorer);
        return b.array();
    }

    @Test
    void theSameHandlerWithGlibcsOwnPartsChangedIsTheSame() {
        int saSiginfo = 4;
        int saRestorer = 0x04000000;
        assertTrue(NativeSigaction.sameAction(action(0x7f00, 0xff, saSiginfo, 0, (byte) 0),
                action(0x7f00, 0xff, saSiginfo | saRestorer, 0x7e00, (byte) 0x5a)));
        // SIG_DFL is SIG_DFL whatever mask and flags came with it.
        assertTrue(NativeSigaction.sameAction(action(0, 0, 0, 0, (byte) 0), action(0, 0x10, saRestorer, 0x7e00, (byte) 1)));
    }

    @Test
    void anotherHandlerMaskOrFlagIsADifference() {
        byte[] jvm = action(0x7f00, 0xff, 4, 0x7e00, (byte) 0);
        assertFalse(NativeSigaction.sameAction(jvm, action(0x7f08, 0xff, 4, 0x7e00, (byte) 0)));
        assertFalse(NativeSigaction.sameAction(jvm, action(0x7f00, 0xfe, 4, 0x7e00, (byte) 0)));
        assertFalse(NativeSigaction.sameAction(jvm, action(0x7f00, 0xff, 4 | 0x80000000, 0x7e00, (byte) 0)));
        assertFalse(NativeSigaction.sameAction(action(0, 0, 0, 0, (byte) 0), action(1, 0, 0, 0, (byte) 0)));
    }

    @Test
    void olderJdksGetNoAccessAndNoSideEffect() {
        // The tests run on the project's JDK (17): sigaction is out of reach there, and the guard is inactive.
        assumeTrue(Runtime.version().feature() < 22, "this JDK has the foreign function API");
        assertTrue(NativeSigaction.load().isEmpty());
        assertFalse(DriverSignalGuard.active());
        assertEquals(0, DriverSignalGuard.restoredSoFar());
    }
}
