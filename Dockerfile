# clearsim — the CLI and `clearsim serve` (apps/server) on Node 24, the current LTS line
# (the tests run on it too: test/node-lts.sh).
# Untested on the project's machines (no Docker engine there); see README.md "Service".
#
#   docker build -t clearsim .
#   docker run --rm -p 127.0.0.1:8080:8080 -v clearsim-data:/data clearsim           # serve, embedded file store
#   docker run --rm -v "$PWD/examples:/in:ro" clearsim run /in/ccp-margin-call.jsonl --store memory:

# --- build: all dependencies, compile TypeScript to dist/ ---
FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# `prepare` (the build) needs the sources: install first, build after the copy
RUN npm ci --ignore-scripts
COPY . .
RUN npm run build

# --- runtime: production dependencies, dist/, the bin and the rules presets ---
FROM node:24-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY bin ./bin
# packageRoot() looks for package.json next to libs/; presets are read at run time
COPY libs/rules/presets ./libs/rules/presets
# the live page's files (/ui) are read from the sources at start (apps/server/src/ui/ui.controller.ts)
COPY apps/server/src/ui/static ./apps/server/src/ui/static
COPY examples ./examples
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8080
ENTRYPOINT ["./bin/clearsim"]
# listen on every interface of the container (publish the port on 127.0.0.1 of the host);
# keys from CLEARSIM_API_KEYS (without any, a random admin key is printed at start)
CMD ["serve", "--host", "0.0.0.0", "--port", "8080", "--store", "file:/data"]
