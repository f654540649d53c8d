#!/usr/bin/env bash
# Installs the runtime matrix's runtimes (runtimes/package.json: Bun, Deno, workerd through
# miniflare, Node 20.0, 22 and 24) unless what is installed matches the lock; npm's cache keeps the
# downloads between runs on the same machine. Then checks that each binary runs.
set -euo pipefail
cd "$(dirname "$0")/../runtimes"
stamp=node_modules/.installed-lock
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" >"$stamp"
fi
# Binary packages can ship without their binary (@oven/bun-linux-x64@1.4.5 did): fail here, by name.
for binary in @oven/bun-linux-x64/bin/bun @deno/linux-x64-glibc/deno node20/bin/node node22/bin/node node24/bin/node \
  @cloudflare/workerd-linux-64/bin/workerd; do
  "node_modules/$binary" --version >/dev/null || { echo "runtimes: $binary does not run" >&2; exit 1; }
done
