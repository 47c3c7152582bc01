package org.convcl;

import org.convcl.backend.ConvBackend;
import org.convcl.backend.cpu.CpuBackend;
import org.convcl.testing.ChannelsFirstGoldenCases;

/**
 * Every golden case through {@code Layout.CHANNELS_FIRST} layers on the Java backend, with the golden data
 * moved to channels-first ({@link ChannelsFirstGoldenCases}); the OpenCL twin is
 * {@code opencl.ChannelsFirstGoldenOpenClTest}.
 */
class ChannelsFirstGoldenTest extends ChannelsFirstGoldenCases {
    @Override
    protected ConvBackend backend() {
        return CpuBackend.instance();
    }
}
