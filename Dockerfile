# Release build of ordervault, run as an unprivileged user.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin ordervault

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/ordervault --create-home ordervault
COPY --from=build /src/target/release/ordervault /usr/local/bin/ordervault
USER ordervault
WORKDIR /var/lib/ordervault
ENV ORDERVAULT__SERVER__BIND=0.0.0.0:8080 \
    ORDERVAULT__LOG__FORMAT=json
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --retries=5 CMD curl -fsS http://127.0.0.1:8080/healthz || exit 1
ENTRYPOINT ["ordervault"]
CMD ["serve"]
