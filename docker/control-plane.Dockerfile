# syntax=docker/dockerfile:1
# The control plane and the engine in one image (the engine pods the control plane starts on
# Kubernetes use it too: SLUICE_ENGINE_IMAGE defaults to it in the Helm chart). Not built on the
# development machines (no container daemon, no base-image registry there):
# .github/workflows/images.yml builds and pushes it on a forge. Build context: the repository root.
#   docker build -f docker/control-plane.Dockerfile -t ghcr.io/sluice/sluice:dev .
#
# The base is pinned to an exact Node.js release; pin its digest too where the registry is
# reachable (`FROM node:20.20.2-bookworm-slim@sha256:…`), and let an update bot move both.
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV NPM_CONFIG_UPDATE_NOTIFIER=false
COPY . .
# The sources run through tsx/@swc-node (no separate build step), which are dev dependencies: the
# full install is what runs in production, as in the tests. The dashboard has its own image.
# Then the dependency patches and the Prisma client (generated offline), as scripts/ensure-deps.sh
# does, the engine bundle (engines start from JavaScript, not through tsx: seconds per start), and
# nothing the running image does not need.
RUN npm ci --no-audit --no-fund \
    && npx patch-package --error-on-fail \
    && npm run -s db:generate \
    && npm run -s engine:bundle -- --out dist/engine.js \
    && rm -rf .git .nx tools/kafka bench apps/dashboard node_modules/.cache

FROM ${NODE_IMAGE} AS runtime
WORKDIR /app
ENV NODE_ENV=production \
    SLUICE_HOME=/var/lib/sluice
COPY --from=build --chown=0:0 /app /app
COPY --chmod=0755 docker/sluice-entrypoint.sh /usr/local/bin/sluice-entrypoint
# Non-root, numeric so Kubernetes' runAsNonRoot can verify it; the files stay root-owned and
# read-only to this user (the chart mounts a read-only root filesystem plus /tmp and SLUICE_HOME).
RUN mkdir -p /var/lib/sluice && chown 10001:10001 /var/lib/sluice
USER 10001:10001
EXPOSE 4400 4402 9464
ENTRYPOINT ["/usr/local/bin/sluice-entrypoint"]
CMD ["control-plane"]
