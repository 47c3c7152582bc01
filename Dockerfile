# A headless convcl: the CLI (scripts/convcl and the CLI jar) on a Java runtime, the OpenCL ICD loader and PoCL
# (OpenCL on the CPU); a GPU's OpenCL driver comes in from the host (README, docs/opencl.md#docker):
#   docker build -t convcl .
#   docker run --rm convcl examples
#   docker run --rm -v "$PWD:/data" convcl conv --input /data/x.npy --kernel /data/k.npy --output /data/y.npy
# The build stage builds the CLI jar only; the tests belong to CI (.ci/run), not to `docker build`. Every RUN step
# is a command that the README or .ci/run runs (DockerfileTest checks), since no container engine runs in CI;
# DockerImageLayoutIT lays out the runtime stage's COPY steps and runs the entrypoint.

# Build: a JDK and Maven, then the README's build command.
FROM debian:bookworm-slim AS build
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update -q \
    && apt-get install -y -q --no-install-recommends openjdk-17-jdk-headless maven
WORKDIR /src
COPY . .
RUN mvn -q -B -DskipTests package

# Run: a Java runtime (its lib/libjsig.so is what scripts/convcl preloads for signal chaining), the ICD loader and
# PoCL. scripts/convcl looks for the CLI jar in target/ beside its own scripts/ folder, hence this layout.
FROM debian:bookworm-slim
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update -q \
    && apt-get install -y -q --no-install-recommends openjdk-17-jre-headless ocl-icd-libopencl1 pocl-opencl-icd \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/convcl
COPY LICENSE NOTICE ./
COPY --from=build /src/scripts/convcl scripts/
COPY --from=build /src/target/convcl-*-cli.jar target/

ENTRYPOINT ["/opt/convcl/scripts/convcl"]
CMD ["--help"]
