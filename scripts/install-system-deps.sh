#!/usr/bin/env bash
# Installs the system tools the e2e tests and benchmarks use (Debian/Ubuntu, as root or with sudo).
# `npm test` needs none of them; `npm run test:e2e` and `npm run bench:*` do.
set -euo pipefail
packages=(
  prometheus      # promtool: checks /metrics
  prometheus-node-exporter  # the reference `sidecar node` is compared with, side by side
  python3-prometheus-client # an OpenMetrics parser of another implementation (promtool reads text only)
  syslog-ng-core  # a real syslog receiver for the logs role
  nginx-light     # the reference proxy in bench/proxy
  wrk             # the load generator of bench/proxy
  hey             # bench/proxy's fixed-rate mode (a set req/s, where wrk runs flat out)
  iproute2        # ip netns: test hosts of the tests' own
  podman          # runs the shipped Kubernetes manifests as real Pods (podman kube play)
  runc            # podman's OCI runtime here (deploy/image/containers.conf)
  catatonit       # the pause process of podman's Pods
  containernetworking-plugins  # the Pods' network (bridge, port mapping)
  iptables        # the port mapping of the Pods' ports to 127.0.0.1
  binutils        # strip: the Node binary of the test image
  etcd-server     # a real etcd for the config role's etcd source (test/e2e, bench/config)
  inotify-tools   # inotifywait: the reference reload script of bench/config
  curl            # how that reference script notifies the app
  chromium        # renders the admin status page in test/e2e/status-page.test.ts
  fonts-dejavu-core  # a font for Chromium's screenshot of it
  openssl         # s_client and test certificates in test/e2e/tls-openssl.test.ts
  rclone          # the reference of bench/sync (rclone sync)
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
# kubectl (>= 1.27, with kustomize 5) renders deploy/'s kustomizations in test/e2e. Debian's
# kubernetes-client is 1.20, too old for them, so it is not installed from here: the machines
# have kubectl on their image; elsewhere install it from the Kubernetes release.
command -v kubectl >/dev/null || echo "warning: kubectl not found: test/e2e/deploy-*.test.ts will fail until it is installed" >&2
echo "system tools ready: ${packages[*]}"
