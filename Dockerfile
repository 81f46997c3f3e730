# Locality node image: a multi-stage build of the `locality` executable, run as a
# non-root user on a slim runtime image. Build from the repository root:
#   docker build -t locality:dev .
# The image runs `locality node`; every setting is a flag, a LOCALITY_* environment
# variable or a key of the --config file (see docs/deploy.md, deploy/kubernetes/).

FROM swift:6.3-noble AS build
WORKDIR /src
# Resolve packages in their own layer, so a source change does not fetch them again.
COPY Package.swift ./
RUN swift package resolve
COPY . .
RUN swift build -c release --product locality --static-swift-stdlib \
    && install -D .build/release/locality /out/locality

FROM ubuntu:noble AS runtime
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/locality --create-home locality
COPY --from=build /out/locality /usr/local/bin/locality
USER 10001:10001
WORKDIR /var/lib/locality
ENV LOCALITY_DATA_DIR=/var/lib/locality
# 7001: gossip (UDP and TCP); 8001: node transport (bind port + 1000); 8080: HTTP gateway.
EXPOSE 7001/udp 7001/tcp 8001/tcp 8080/tcp
ENTRYPOINT ["/usr/local/bin/locality", "node"]
