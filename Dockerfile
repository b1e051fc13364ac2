# syntax=docker/dockerfile:1
#
# The mcpserver-webhook image: `docker build -t <registry>/mcpserver-webhook:<version> .`
#
# Three stages: `build` compiles the TypeScript with every dependency; `deps` installs only the
# production dependencies (with --ignore-scripts: the prepare script runs tsc, which an
# --omit=dev install does not have); the runtime stage copies the compiled code and those
# dependencies onto a distroless Node.js image: no shell, no package manager, no npm, running as
# the image's numeric nonroot user 65532 (the Helm chart's runAsUser).
#
# No certificate is baked in: the serving certificate is mounted at /certs (CERT_DIR) from a
# kubernetes.io/tls Secret.

ARG NODE_VERSION=22

FROM node:${NODE_VERSION}-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# Dependencies first, so that a change to the sources reuses this layer.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY schemas ./schemas
RUN npm run build

FROM node:${NODE_VERSION}-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

FROM gcr.io/distroless/nodejs${NODE_VERSION}-debian12:nonroot
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="mcpserver-webhook" \
      org.opencontainers.image.description="Validating admission webhook and offline checker for Muster MCPServer resources" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.source="https://github.com/giantswarm/mcpserver-webhook" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.base.name="gcr.io/distroless/nodejs${NODE_VERSION}-debian12:nonroot"
ENV NODE_ENV=production \
    CERT_DIR=/certs
WORKDIR /app
# package.json marks the code as ES modules and gives `--version`; schemas/ is read at run time.
COPY --from=deps /app/package.json ./package.json
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY bin ./bin
COPY schemas ./schemas
USER 65532:65532
EXPOSE 8443
# The distroless image's node is /nodejs/bin/node and is not on PATH. A young generation of at
# most 8 MiB per semi-space (V8's default grows to 16) keeps the peak RSS under load about 20 MiB
# lower at the same throughput. An old generation allowed to grow to 1.5 times what the last
# full GC kept (V8's --heap-growing-percent, read by MemoryController::GrowingFactor in
# src/heap/heap-controller.cc; by default V8 lets it grow up to 4 times while GC is cheap) keeps
# the garbage of the audit's first pass from piling up: 147 instead of 203 MiB at 10,000
# MCPServers, at the same admission throughput (1.25 times cost 15 % of it; docs/performance.md).
# `npm run bench` and `npm run bench:scale` run the webhook with the flags given here.
ENTRYPOINT ["/nodejs/bin/node", "--max-semi-space-size=8", "--heap-growing-percent=50", "bin/mcpserver-webhook.js"]
CMD ["serve"]
