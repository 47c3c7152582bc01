package org.convcl.opencl.internal.plan;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.convcl.ConvGeometry;
import org.convcl.ConvSpec;
import org.convcl.DType;
import org.convcl.EdgeMode;
import org.convcl.Precision;
import org.convcl.opencl.device.OpenClDevice;
import org.convcl.opencl.internal.runtime.ClKernel;
import org.convcl.opencl.internal.runtime.ClProgram;
import org.convcl.opencl.internal.runtime.ComputeCapability;
import org.convcl.opencl.internal.runtime.OpenClContext;

/**
 * The implicit-GEMM kernel ({@code kernels/conv_gemm.cl}) for ranks 1 to 3, blocked by a {@link Tiling}: register
 * blocks with FMA, or warp-level mma in TF32 on float32 storage or on float16 and bfloat16 operands (inline PTX on
 * tensor cores, emulated elsewhere). Input dilation is
 * decomposed into phases ({@link PhaseDecomposition}) whose skipped zeros a {@code phase_bias} kernel folds into
 * per-phase bias rows. Its options and launch arithmetic are {@link GemmLaunch}'s. Stateless.
 */
public final class GemmVariant implements ForwardVariant<KernelConfig.Gemm> {
    public static final GemmVariant INSTANCE = new GemmVariant();
    /** The program's files; the mma forms' probe verdicts are keyed by them too. */
    public static final List<String> SOURCES = List.of(ConvPlan.GEOMETRY_SOURCE, ConvPlan.TF32_SOURCE,
            StorageOption.SOURCE, "conv_gemm.cl");
    /** Why a device gets no probe case for a tensor-core form, or for an emulated one. */
    private static final String TENSOR_CORES_ONLY = "not on this device (NVIDIA compute capability 8.0 and later only)";
    private static final String TENSOR_CORES_INSTEAD = "not on this device (it runs the tensor-core form)";

    /** Register blocks with FMA: portable OpenCL C, the default on every device. */
    private final CodePath fma = CodePath.portable(this);
    /**
     * Warp-level mma without tensor cores: portable, but reached only through a tuning database, so proven before
     * it serves a call.
     */
    private final CodePath mmaEmulated = new CodePath(this, "MMA_EMULATED", "mma (emulated)", true,
            TENSOR_CORES_INSTEAD);
    /** Warp-level mma on tensor cores: inline PTX that only NVIDIA's compiler builds (no CI has it). */
    private final CodePath mmaTensorCores = new CodePath(this, "MMA_TENSOR_CORES", "mma (tensor cores)", true,
            TENSOR_CORES_ONLY);
    /**
     * The mma forms per storage type: TF32 on float32 (the paths above, named as before the 16-bit types), and
     * m16n8k16 on float16 and bfloat16, each with verdicts of its own (a driver may build one PTX type and not the
     * other).
     */
    private final Map<DType, MmaPaths> mmaPaths = Map.of(DType.FLOAT32, new MmaPaths(mmaEmulated, mmaTensorCores),
            DType.FLOAT16, halfMmaPaths(DType.FLOAT16), DType.BFLOAT16, halfMmaPaths(DType.BFLOAT16));

    /** A storage type's two mma forms. */
    private record MmaPaths(CodePath emulated, CodePath tensorCores) {
    }

    private GemmVariant() {
    }

    /** The 16-bit mma forms of {@code type}: {@code MMA_FLOAT16_EMULATED}, {@code mma float16 (tensor cores)}... */
    private MmaPaths halfMmaPaths(DType type) {
        String key = "MMA_" + type.name();
        String label = "mma " + type.cliName();
        return new MmaPaths(new CodePath(this, key + "_EMULATED", label + " (emulated)", true, TENSOR_CORES_INSTEAD),
                new CodePath(this, key + "_TENSOR_CORES", label + " (tensor cores)", true, TENSOR_CORES_ONLY));
    }

    @Override
    public String name() {
        return "gemm";
    }

    @Override
    public Class<KernelConfig.Gemm> configType() {
        return KernelConfig.Gemm.class;
    }

    @Override
    public List<String> sources() {
        return SOURCES;
    }

    /** Ranks 1 to 3; edge padding only without input dilation. */
    @Override
    public boolean supports(ConvGeometry g) {
        if (g.rank() > 3) {
            return false;
        }
        return g.edgeMode() == EdgeMode.ZERO || !hasInputDilation(g);
    }

    @Override
    public boolean fits(KernelConfig.Gemm config, ConvGeometry g, OpenClDevice device) {
        if (!supports(g)) {
            return false;
        }
        if (config.tiling().mma() && (!mmaOperands(g) || config.tiling().tileK() % GemmLaunch.mmaK(g) != 0)) {
            return false;
        }
        GemmLaunch launch = GemmLaunch.of(g, false, config.tiling(), ComputeCapability.hasTf32TensorCores(device));
        return launch.tiling().workGroupSize() <= device.maxWorkGroupSize()
                && launch.localMemoryBytes() <= device.localMemoryBytes()
                && launch.columnGroups() <= GemmLaunch.MAX_COLUMN_GROUPS;
    }

    @Override
    public ForwardKernel compile(OpenClContext context, ConvGeometry g, boolean hasBias, EpilogueShape epilogue,
            KernelConfig.Gemm config) {
        OpenClDevice device = context.device();
        GemmLaunch gemm = GemmLaunch.of(g, hasBias, config.tiling(), ComputeCapability.hasTf32TensorCores(device));
        Tiling tiling = gemm.tiling();
        if (tiling.workGroupSize() > device.maxWorkGroupSize()) {
            throw new IllegalArgumentException("tiling " + tiling + ": needs work-groups of " + tiling.workGroupSize()
                    + " items but " + device.describe() + " allows " + device.maxWorkGroupSize());
        }
        if (gemm.localMemoryBytes() > device.localMemoryBytes()) {
            throw new IllegalArgumentException("tiling " + tiling + ": needs " + gemm.localMemoryBytes()
                    + " bytes of local memory but " + device.describe() + " has " + device.localMemoryBytes());
        }
        if (gemm.columnGroups() > GemmLaunch.MAX_COLUMN_GROUPS) {
            throw new IllegalArgumentException("tiling " + tiling + ": " + gemm.columnGroups() + " column work-groups "
                    + "exceed " + GemmLaunch.MAX_COLUMN_GROUPS + "; use a larger tileN or KernelConfig.General");
        }
        long phaseBiasLength = hasInputDilation(g)
                ? (long) PhaseDecomposition.phaseCount(PhaseDecomposition.of(g)) * g.outChannels() : 0;
        // Refused here, before anything is compiled, so that the default plan falls back to the general kernel
        // (which needs no rows) instead of the call failing partway.
        if (phaseBiasLength > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("tiling " + tiling + ": " + phaseBiasLength + " per-phase bias values "
                    + "(phases x output channels) exceed 2^31 - 1; use KernelConfig.General");
        }
        if (phaseBiasLength > 0) {
            BatchChunks.forDevice(device).checkBuffer(4 * phaseBiasLength, "tiling " + tiling
                    + ": per-phase bias rows");
        }
        String options = epilogue.options(gemm.options());
        ClProgram program = context.program(epilogue.sources(SOURCES), options);
        ClKernel kernel = context.kernel(program, "conv_gemm");
        ForwardKernel.checkKernelLimit(kernel, device, tiling.workGroupSize(), "tiling " + tiling);
        ClKernel phaseBias = null;
        if (phaseBiasLength > 0) {
            try {
                phaseBias = context.kernel(program, "phase_bias");
            } catch (RuntimeException e) {
                kernel.close();
                throw e;
            }
        }
        return new ForwardKernel(new KernelConfig.Gemm(tiling), options, kernel, List.of(), gemm::global,
                gemm.local(), tiling.vectorK(), tiling.vectorN(), phaseBias, phaseBiasLength);
    }

    /**
     * Whether the mma forms can multiply {@code g}'s operands: TF32 products of float32 storage, or float16 and
     * bfloat16 operands (whose products are exact in float32, so no precision is lost to the mma).
     */
    private static boolean mmaOperands(ConvGeometry g) {
        return g.storage() != DType.FLOAT32 || g.productPrecision() == Precision.TF32;
    }

    /** conv_gemm.cl's PHASED: input dilation in some dim, whose zeros the GEMM skips tap by tap. */
    static boolean hasInputDilation(ConvGeometry g) {
        for (int dilation : g.inputDilation()) {
            if (dilation != 1) {
                return true;
            }
        }
        return false;
    }

    /**
     * Warp-level mma tilings in TF32 or on 16-bit operands on a GPU with tensor cores, else register-blocked tilings
     * for the GPU or the CPU ({@link GemmTilings}).
     */
    @Override
    public List<KernelConfig.Gemm> candidates(ConvGeometry g, OpenClDevice device, boolean gpu) {
        boolean mma = gpu && mmaOperands(g) && ComputeCapability.hasTf32TensorCores(device);
        List<KernelConfig.Gemm> space = new ArrayList<>();
        for (Tiling tiling : mma ? GemmTilings.mma(g, device) : gpu ? GemmTilings.gpu(g, device)
                : GemmTilings.cpu(g)) {
            space.add(new KernelConfig.Gemm(tiling.fittedTo(g)));
        }
        return space;
    }

    /**
     * {@code "tile_m": 128, "tile_n": 64, "tile_k": 16, "wpt_m": 8, "wpt_n": 4, "vwm": 4, "vwn": 4, "vec_k": 4,
     * "stages": 2}, with {@code "mma": true} for a warp-level mma tiling.
     */
    @Override
    public Map<String, Object> toJson(KernelConfig.Gemm config) {
        Tiling t = config.tiling();
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("tile_m", t.tileM());
        json.put("tile_n", t.tileN());
        json.put("tile_k", t.tileK());
        json.put("wpt_m", t.workPerItemM());
        json.put("wpt_n", t.workPerItemN());
        json.put("vwm", t.vectorM());
        json.put("vwn", t.vectorN());
        json.put("vec_k", t.vectorK());
        json.put("stages", t.stages());
        if (t.mma()) {
            json.put("mma", true);
        }
        return json;
    }

    /** As {@link #toJson}; {@code "stages"} is 1 and {@code "mma"} false when absent. */
    @Override
    public KernelConfig.Gemm fromJson(Map<?, ?> json) {
        return new KernelConfig.Gemm(new Tiling(ConfigJson.number(json, "tile_m"), ConfigJson.number(json, "tile_n"),
                ConfigJson.number(json, "tile_k"), ConfigJson.number(json, "wpt_m"), ConfigJson.number(json, "wpt_n"),
                ConfigJson.number(json, "vwm"), ConfigJson.number(json, "vwn"), ConfigJson.number(json, "vec_k"),
                json.containsKey("stages") ? ConfigJson.number(json, "stages") : 1, ConfigJson.flag(json, "mma")));
    }

    /**
     * In TF32 or on 16-bit operands on a GPU with tensor cores (unless {@code portableOnly}), the mma tiling of
     * {@link GemmDefaults#mma};
     * else the FMA tiling for the device's class ({@link GemmDefaults#fma}); each only when it fits the device.
     */
    @Override
    public Optional<KernelConfig.Gemm> untuned(ConvGeometry g, OpenClDevice device, boolean portableOnly) {
        if (!supports(g)) {
            return Optional.empty();
        }
        long maxWorkGroup = Math.max(1, device.maxWorkGroupSize());
        if (!portableOnly && mmaOperands(g) && ComputeCapability.hasTf32TensorCores(device)) {
            KernelConfig.Gemm mma = new KernelConfig.Gemm(GemmDefaults.mma(g, maxWorkGroup, device.localMemoryBytes()));
            if (fits(mma, g, device)) {
                return Optional.of(mma);
            }
        }
        KernelConfig.Gemm gemm = new KernelConfig.Gemm(GemmDefaults.fma(g, DeviceClass.of(device), maxWorkGroup,
                device.localMemoryBytes()));
        return fits(gemm, g, device) ? Optional.of(gemm) : Optional.empty();
    }

    /** The FMA form, then the mma forms: emulated, and on tensor cores; TF32's, then float16's and bfloat16's. */
    @Override
    public List<CodePath> codePaths() {
        List<CodePath> paths = new ArrayList<>(List.of(fma));
        for (DType type : DType.values()) {
            paths.add(mmaPaths.get(type).emulated());
            paths.add(mmaPaths.get(type).tensorCores());
        }
        return paths;
    }

    /**
     * The FMA form, or the mma form of {@code g}'s storage type: on tensor cores when the device has them, emulated
     * elsewhere.
     */
    @Override
    public CodePath codePath(KernelConfig.Gemm config, ConvGeometry g, boolean tensorCores) {
        if (!config.tiling().mma()) {
            return fma;
        }
        MmaPaths paths = mmaPaths.get(g.storage());
        return tensorCores ? paths.tensorCores() : paths.emulated();
    }

    /**
     * Several K tiles, two batch elements, edges: with the portable default for the FMA form, and with the mma
     * default (in TF32, or stored in its 16-bit type) for an mma form the device runs; empty for the others.
     */
    @Override
    public Optional<CodePath.Probe> probe(CodePath path, OpenClDevice device) {
        if (path.equals(fma)) {
            ConvGeometry g = ConvSpec.defaults().resolve(new int[] {2, 6, 7, 16}, new int[] {3, 3, 16, 16});
            return untuned(g, device, true).map(config -> new CodePath.Probe(g, config));
        }
        for (DType type : DType.values()) {
            MmaPaths paths = mmaPaths.get(type);
            if (!path.equals(paths.emulated()) && !path.equals(paths.tensorCores())) {
                continue;
            }
            if (path.equals(paths.tensorCores()) != ComputeCapability.hasTf32TensorCores(device)) {
                return Optional.empty();
            }
            ConvSpec spec = type == DType.FLOAT32 ? ConvSpec.builder().precision(Precision.TF32).build()
                    : ConvSpec.defaults();
            ConvGeometry g = spec.resolve(new int[] {2, 5, 6, 16}, new int[] {3, 3, 16, 16}).withStorage(type);
            return Optional.of(new CodePath.Probe(g, new KernelConfig.Gemm(GemmDefaults.mma(g,
                    Math.max(1, device.maxWorkGroupSize()), device.localMemoryBytes()))));
        }
        return Optional.empty();
    }
}
