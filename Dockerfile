# comanda: one binary. Build stage compiles it; the runtime image holds the binary, the
# PostgreSQL client tools (for `comanda backup` / `restore` on PostgreSQL) and CA roots.
# Build: docker build -t comanda .
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p comanda \
 && install -m 0755 target/release/comanda /usr/local/bin/comanda

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates postgresql-client \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/comanda --create-home comanda
COPY --from=build /usr/local/bin/comanda /usr/local/bin/comanda
USER 10001:10001
WORKDIR /var/lib/comanda
ENV COMANDA_DATA_DIR=/var/lib/comanda \
    COMANDA_LISTEN=0.0.0.0:8080 \
    COMANDA_LOG_FORMAT=json
VOLUME ["/var/lib/comanda"]
EXPOSE 8080
# The binary checks itself: no curl in the image.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["comanda", "smoke", "http://127.0.0.1:8080", "--probes-only", "--timeout-secs", "3"]
ENTRYPOINT ["comanda"]
CMD ["serve"]
