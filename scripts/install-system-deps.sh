#!/usr/bin/env bash
# Installs the system tools the e2e tests and benchmarks use (Debian/Ubuntu, as root or with sudo).
# `npm test` needs none of them; `npm run test:e2e` and `npm run bench:*` do.
set -euo pipefail
packages=(
  prometheus      # promtool: checks /metrics
  syslog-ng-core  # a real syslog receiver for the logs role
  nginx-light     # the reference proxy in bench/proxy
  wrk             # the load generator of bench/proxy
  iproute2        # ip netns: test hosts of the tests' own
  etcd-server     # a real etcd for the config role's etcd source (test/e2e, bench/config)
  inotify-tools   # inotifywait: the reference reload script of bench/config
  curl            # how that reference script notifies the app
  chromium        # renders the admin status page in test/e2e/status-page.test.ts
  fonts-dejavu-core  # a font for Chromium's screenshot of it
  openssl         # s_client and test certificates in test/e2e/tls-openssl.test.ts
)
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  $sudo apt-get update -qq
  # --no-install-recommends keeps this small; none of these packages starts a service here.
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
echo "system tools ready: ${packages[*]}"
