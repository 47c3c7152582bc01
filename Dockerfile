# A headless convcl: JDK 17, Maven, the OpenCL ICD loader, PoCL and Mesa's rusticl (CPU OpenCL drivers), the
# project built and tested with the same steps as CI (.ci/run), and the CLI as entrypoint:
#   docker build -t convcl .
#   docker run --rm convcl examples
#   docker run --rm -v "$PWD:/data" convcl conv --input /data/x.npy --kernel /data/k.npy --output /data/y.npy
FROM debian:bookworm-slim

ENV DEBIAN_FRONTEND=noninteractive
# The JDK and Maven first, in their own layer; .ci/run installs the OpenCL packages (and would install
# these too on a machine without them).
RUN apt-get update -q \
    && apt-get install -y -q --no-install-recommends openjdk-17-jdk-headless maven \
        ocl-icd-libopencl1 ocl-icd-opencl-dev pocl-opencl-icd mesa-opencl-icd \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/convcl
COPY . .
# Exactly what CI runs: install the OpenCL packages, then `mvn -B verify` (tests, the CLI jar, end-to-end tests).
RUN CI=true bash .ci/run && rm -rf /var/lib/apt/lists/*

# scripts/convcl runs every command with the JDK's signal chaining (libjsig preloaded: PoCL's LLVM would otherwise
# take the JVM's SIGSEGV handler) and finds the OpenCL loader even where only libOpenCL.so.1 is installed.
ENTRYPOINT ["/opt/convcl/scripts/convcl"]
CMD ["--help"]
