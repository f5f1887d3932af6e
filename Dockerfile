# perfcast-server image: build on Debian 12 with the -dev packages, run on debian:12-slim with the
# runtime libraries only.
#   docker build -t perfcast:0.1.0 .
#   docker run --rm -p 50051:50051 -p 9090:9090 -v perfcast:/var/lib/perfcast perfcast:0.1.0
# For a release, pin both bases by digest:
#   --build-arg BUILD_IMAGE=debian:12@sha256:... --build-arg RUNTIME_IMAGE=debian:12-slim@sha256:...
ARG BUILD_IMAGE=debian:12
ARG RUNTIME_IMAGE=debian:12-slim

FROM ${BUILD_IMAGE} AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config \
      libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler \
      libabsl-dev libeigen3-dev libspdlog-dev prometheus-cpp-dev \
      libxgboost-dev xgboost libceres-dev libsqlite3-dev libpq-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DPERFCAST_BUILD_TESTS=OFF -DPERFCAST_BUILD_BENCHMARKS=OFF \
      -DCMAKE_RUNTIME_OUTPUT_DIRECTORY=/src/build/bin \
 && cmake --build build -j"$(nproc)" \
 && install -D -s -m 0755 -t /out/usr/local/bin build/bin/perfcast-server build/bin/perfcast \
 && install -D -m 0644 data/default_benchmarks.csv /out/opt/perfcast/data/default_benchmarks.csv \
 && install -D -m 0644 -t /out/opt/perfcast/data/catalogue data/catalogue/*.csv

FROM ${RUNTIME_IMAGE}
# Runtime libraries of perfcast-server and perfcast (Debian 12 names); their own dependencies
# (libgrpc29, libfmt9, libgomp1, LAPACK, glog, ...) come in through apt.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libgrpc++1.51 libprotobuf32 libabsl20220623 libceres3 libxgboost0 libspdlog1.10 \
      libprometheus-cpp-core1.0 libsqlite3-0 libpq5 \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 65532 perfcast \
 && useradd --system --uid 65532 --gid 65532 --home-dir /var/lib/perfcast --no-create-home \
      --shell /usr/sbin/nologin perfcast \
 && install -d -o 65532 -g 65532 -m 0750 \
      /var/lib/perfcast /var/lib/perfcast/data /var/lib/perfcast/models
COPY --from=build /out/ /
# Fail the build here, not at run time, if a shared library is missing.
RUN if ldd /usr/local/bin/perfcast-server /usr/local/bin/perfcast | grep 'not found'; then exit 1; fi

USER 65532:65532
WORKDIR /var/lib/perfcast
VOLUME ["/var/lib/perfcast"]
EXPOSE 50051 9090
# No gRPC health probe binary is packaged in Debian 12: the CLI asks the server instead.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["/usr/local/bin/perfcast", "status", "--server", "127.0.0.1:50051"]
# Exec form so SIGTERM reaches the server (graceful drain). CMD holds the default flags.
ENTRYPOINT ["/usr/local/bin/perfcast-server"]
CMD ["--port=50051", "--metrics-port=9090", \
     "--data-dir=/var/lib/perfcast/data", "--model-dir=/var/lib/perfcast/models", \
     "--seed-data=/opt/perfcast/data/default_benchmarks.csv", \
     "--catalogue=/opt/perfcast/data/catalogue"]
