# syntax=docker/dockerfile:1
# MedCore's image: compiled in a build stage that has the dev dependencies, run from a stage that
# has only the production ones, as the unprivileged `node` user. docker-compose.yml runs two of
# these behind nginx; test/packaging.test.ts checks what can be checked without a Docker daemon.
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would compile before the sources are copied; that is the next step.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
# The staff console (Vite) and the typed client it is built on.
COPY client ./client
COPY console ./console
# The compile, the OpenAPI document, the staff console (dist/console) and the embedded database's
# template (dist/db-template), so a container started on an empty /data without DATABASE_URL
# skips initdb.
RUN npm run build -- --template

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=8000 \
    DATA_DIR=/data
WORKDIR /app
COPY package.json package-lock.json ./
# No production dependency has an install script (test/packaging.test.ts checks the lockfile),
# so --ignore-scripts loses nothing and skips `prepare`, which needs the compiler.
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts \
 && npm cache clean --force
COPY --from=build /app/dist ./dist
# Read at run time from src/ (by dist/ too): the SQL migrations and the embedded database's thread.
COPY src/db/migrations ./src/db/migrations
COPY src/db/embedded/worker.js ./src/db/embedded/worker.js
# The data directory (embedded database, outbox, local documents) is the only writable place.
RUN mkdir -p /data/documents && chown -R node:node /data
VOLUME ["/data"]
# `node` (uid 1000), by number so that runAsNonRoot-style checks can verify it.
USER 1000:1000
EXPOSE 8000
# Liveness through Node itself (the slim image has no curl).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 8000) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# The command the multi-instance test runs (test/multi-instance-support.ts, serveCommand).
CMD ["node", "dist/cli.js", "serve"]
