# syntax=docker/dockerfile:1
# The dashboard (Next.js, apps/dashboard). Not built on the development machines (no container
# daemon, no base-image registry there): .github/workflows/images.yml builds and pushes it on a
# forge. Build context: the repository root.
#   docker build -f docker/dashboard.Dockerfile -t ghcr.io/sluice/dashboard:dev .
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
ENV NPM_CONFIG_UPDATE_NOTIFIER=false \
    NEXT_TELEMETRY_DISABLED=1
COPY . .
# Next.js compiles the workspace library it imports (@sluice/query-plan), so the whole workspace
# is installed, as on a developer machine.
RUN npm ci --no-audit --no-fund \
    && npx patch-package --error-on-fail \
    && npx next build apps/dashboard

FROM ${NODE_IMAGE} AS runtime
WORKDIR /app
ENV NODE_ENV=production \
    NEXT_TELEMETRY_DISABLED=1 \
    SLUICE_DASHBOARD_PORT=4401
COPY --from=build --chown=0:0 /app /app
# Next.js writes its cache here; the chart mounts an emptyDir over it (read-only root filesystem).
RUN mkdir -p apps/dashboard/.next/cache && chown 10001:10001 apps/dashboard/.next/cache
USER 10001:10001
EXPOSE 4401
# SLUICE_API_URL (the control plane's API) is set by the Helm chart.
CMD ["sh", "-c", "exec node_modules/.bin/next start apps/dashboard -H 0.0.0.0 -p \"$SLUICE_DASHBOARD_PORT\""]
