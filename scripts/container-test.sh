#!/usr/bin/env bash
# Builds the Containerfile where a container tool works (CTest "Package.ContainerImageBuilds");
# skipped (exit 77) where there is none, or only a client without its engine.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tool=""
for t in podman docker; do
  if command -v "$t" >/dev/null && "$t" info >/dev/null 2>&1; then tool=$t; break; fi
done
if [ -z "$tool" ]; then
  echo "skip: no working podman or docker here (the Containerfile is built where one is)"
  exit 77
fi
"$tool" build -t sunbridge-test -f "$root/Containerfile" "$root"
"$tool" run --rm --entrypoint sunbridge sunbridge-test --version
"$tool" run --rm --entrypoint sunbridge sunbridge-test check-config -c /etc/sunbridge/sunbridge.yaml
echo "ok   $tool built and ran the image"
