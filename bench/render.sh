#!/bin/sh
# render.sh - time the rendering of a notification: the default WhatsApp
# template on the 30-alert Alertmanager fixture (see bench/render_bench.c).
#
#   bench/render.sh [N [PAYLOAD.json [TEMPLATE]]]
#
# Builds render_bench in a Release tree ($BUILD, default build-bench).
set -eu
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build-bench}
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
cmake --build "$BUILD" --target render_bench -j "$(nproc 2>/dev/null || echo 2)" >/dev/null
exec "$BUILD/render_bench" "${2:-tests/fixtures/alertmanager-0.25/firing-group-30.json}" \
    "${1:-100000}" "${3:-whatsapp}"
