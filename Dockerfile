# The agent's image: the Rust binaries on Debian 12 slim with the OpenSSH client (GitSources
# over ssh:// run `ssh`, as gix does; see README "Run it on a cluster" for why this and not a
# pure-Rust transport) and CA certificates, running as the non-root user 65532.
# Build: docker build -t ghcr.io/sigil-dev/sigil-agent:dev .
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p sigil-agent --bin sigil-agent -p sealer --bin sealer \
 && cp target/release/sigil-agent target/release/sealer /usr/local/bin/

FROM debian:12-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends openssh-client ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --gid 65532 sigil \
 && useradd --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin sigil
COPY --from=build /usr/local/bin/sigil-agent /sigil-agent
COPY --from=build /usr/local/bin/sealer /sealer
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/sigil-agent"]
