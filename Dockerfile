# The swarm image: the CLI, the updater (with its supervisor) and the reference agent.
# Used by docker-compose.yml; needs a machine with a Docker engine.
FROM node:22-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 compiles from source when no prebuilt binary matches.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY . .
RUN npm ci

FROM node:22-bookworm-slim
WORKDIR /app
COPY --from=build /app /app
ENV SWARM_LOG_LEVEL=info
ENTRYPOINT ["node", "/app/packages/cli/bin/swarm.js"]
CMD ["--help"]
