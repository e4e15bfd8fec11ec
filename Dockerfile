# ordervault, run as a fixed unprivileged user (uid/gid 10001).
#
# The binary comes from one of two builder stages, chosen with the build arg BUILDER:
#   BUILDER=cargo (default)  compile in rust:1.95-bookworm (needs crates.io from inside the build)
#   BUILDER=prebuilt         copy a binary built on a Debian bookworm host (same glibc), e.g.
#       cargo build --release --bin ordervault
#       podman build --build-arg BUILDER=prebuilt -t ordervault .
#     BINARY picks which one (default target/release/ordervault; .dockerignore lets only the
#     release and debug ordervault binaries out of target/). scripts/compose-smoke.sh uses
#     BINARY=target/debug/ordervault so CI needs no release build.
# The unused builder stage is skipped (BuildKit and buildah both skip stages the target does not use).
ARG BUILDER=cargo

FROM rust:1.95-bookworm AS builder-cargo
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin ordervault \
    && install -D target/release/ordervault /out/ordervault

FROM scratch AS builder-prebuilt
ARG BINARY=target/release/ordervault
COPY ${BINARY} /out/ordervault

FROM builder-${BUILDER} AS builder

FROM debian:bookworm-slim
# A fixed uid/gid, so the master key file (a bind-mounted file secret, keeping its host owner and
# mode) can be given to exactly this user on the host: chown 10001:10001 secrets/master.key.
ARG APP_UID=10001
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid "${APP_UID}" ordervault \
    && useradd --uid "${APP_UID}" --gid "${APP_UID}" --no-log-init \
        --home-dir /var/lib/ordervault --create-home --shell /usr/sbin/nologin ordervault \
    && install -d -m 0700 -o "${APP_UID}" -g "${APP_UID}" /var/lib/ordervault/keyring
COPY --from=builder /out/ordervault /usr/local/bin/ordervault
USER ${APP_UID}:${APP_UID}
WORKDIR /var/lib/ordervault
ENV ORDERVAULT__SERVER__BIND=0.0.0.0:8080 \
    ORDERVAULT__LOG__FORMAT=json
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --retries=5 CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["ordervault"]
CMD ["serve"]
