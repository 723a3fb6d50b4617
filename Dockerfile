# dockops itself. Node 22 (Node 20 is past its end of life); the app supports 20 and newer.
# Build needs the npm registry only. Run it with the Docker socket mounted (see docker-compose.yml).
FROM node:22-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json

FROM node:22-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY jobs ./jobs
EXPOSE 8080
ENV DOCKOPS_BIND=0.0.0.0
USER node
# `--`: Node 20 reads an `--env-file` anywhere in argv otherwise (`docker run --env-file F` in a command).
ENTRYPOINT ["node", "--", "dist/main.js"]
CMD ["start"]
