# syntax=docker/dockerfile:1
# Build stage: install production dependencies only (Node 24 runs our TypeScript directly).
FROM node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts=false && npm cache clean --force

# Runtime stage: non-root, no build tools, no dev dependencies.
FROM node:24-slim
ENV NODE_ENV=production \
    PORT=3000 \
    HOST=0.0.0.0 \
    DATA_DIR=/var/lib/issuer
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY src ./src
COPY contexts ./contexts
COPY schemas ./schemas
COPY docs/openapi ./docs/openapi
COPY credential-configurations ./credential-configurations
RUN mkdir -p /var/lib/issuer && chown node:node /var/lib/issuer
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+process.env.PORT+'/health/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "src/main.ts"]
