# The agent's image: a static-ish Rust binary on distroless (glibc, CA certificates, no shell),
# running as the non-root user 65532. Build: docker build -t ghcr.io/sigil-dev/sigil-agent:dev .
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p sigil-agent --bin sigil-agent -p sealer --bin sealer \
 && cp target/release/sigil-agent target/release/sealer /usr/local/bin/

FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /usr/local/bin/sigil-agent /sigil-agent
COPY --from=build /usr/local/bin/sealer /sealer
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/sigil-agent"]
