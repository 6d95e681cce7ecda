# syntax=docker/dockerfile:1
# One image for every ebb component. Build: docker build -t ghcr.io/ebb-dev/ebb:dev .
# The base images are build arguments: a public build uses the public bases, and a machine with no
# registry passes bases it made itself (e2e/cluster/images/bases.ts).
# Behind a TLS-intercepting proxy, pass its CA as the secret `ca` (--secret id=ca,src=FILE): only
# the `npm ci` steps see it, and no layer keeps it.
ARG BUILD_IMAGE=node:24-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs24-debian12:nonroot

FROM ${BUILD_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# The "node" devDependency would download a second runtime; the base image already is Node 24.
RUN --mount=type=secret,id=ca,target=/run/secrets/ca.crt,required=false \
    if [ -f /run/secrets/ca.crt ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/ca.crt; fi; \
    npm ci --omit=optional --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM ${BUILD_IMAGE} AS deps
WORKDIR /src
COPY package.json package-lock.json ./
RUN --mount=type=secret,id=ca,target=/run/secrets/ca.crt,required=false \
    if [ -f /run/secrets/ca.crt ]; then export NODE_EXTRA_CA_CERTS=/run/secrets/ca.crt; fi; \
    npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${RUNTIME_IMAGE}
ARG VERSION=dev
LABEL org.opencontainers.image.title="ebb" \
      org.opencontainers.image.description="Knative Serving for any Kubernetes cluster: no mesh, no sidecar" \
      org.opencontainers.image.source="https://github.com/ebb-dev/ebb" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}"
WORKDIR /app
COPY --from=deps /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY crds ./crds
ENV NODE_ENV=production
# Distroless "nonroot" is uid 65532; nothing in /app needs to be written, so the root filesystem
# can be mounted read-only.
USER 65532:65532
ENTRYPOINT ["/nodejs/bin/node", "/app/bin/ebb.js"]
CMD ["--help"]
