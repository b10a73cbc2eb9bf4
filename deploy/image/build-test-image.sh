#!/usr/bin/env bash
# Builds the sidecar image locally, with no registry and no base image: the Node 24 binary of
# node_modules/node, the shared libraries `ldd` lists for it, the bundle `npm run build` makes
# (dist/sidecar.js), bin/ and package.json, put in a root folder, tarred and `podman import`ed
# with the same user, entrypoint, environment and labels as deploy/Dockerfile's runtime stage.
# A second image, the demo app (examples/demo/app.js on the same root), runs next to it in the
# example Pods. Both are tagged with the names deploy/ uses, so `podman kube play` finds them
# locally and pulls nothing:
#
#   ghcr.io/sidecar-dev/sidecar:VERSION            (VERSION from package.json)
#   ghcr.io/sidecar-dev/sidecar-demo-app:VERSION
#
# An image whose inputs did not change is kept (label dev.sidecar.inputs), so a rerun is quick;
# a rebuilt one replaces the previous images of the same names.
# Needs podman (and runc: see CONTAINERS_CONF below), tar, strip (binutils) and `npm ci` done.
#
#   bash deploy/image/build-test-image.sh          # prints the two image names
set -euo pipefail
cd "$(dirname "$0")/../.."
root_dir=$PWD

version=$(node_modules/.bin/node -p 'require("./package.json").version')
registry=${SIDECAR_IMAGE_REGISTRY:-ghcr.io/sidecar-dev}
sidecar_image="$registry/sidecar:$version"
demo_image="$registry/sidecar-demo-app:$version"
uid=10001

# podman's defaults fail on machines that forbid raising rlimits or run hybrid cgroups.
export CONTAINERS_CONF=${CONTAINERS_CONF:-$root_dir/deploy/image/containers.conf}

node_bin=$(readlink -f node_modules/node/bin/node)
[ -x "$node_bin" ] || { echo "build-test-image: node_modules/node/bin/node is missing: run npm ci" >&2; exit 2; }
node_major=$("$node_bin" -p 'process.versions.node.split(".")[0]')
[ "$node_major" = 24 ] || { echo "build-test-image: node_modules/node is Node $node_major, expected 24" >&2; exit 2; }

node_modules/.bin/node scripts/build.ts

inputs=$( { "$node_bin" --version; sha256sum dist/*.js dist/chunks/* bin/* package.json examples/demo/app.js deploy/image/build-test-image.sh; } | sha256sum | cut -c1-32)
current=$(podman image inspect --format '{{index .Labels "dev.sidecar.inputs"}}' "$sidecar_image" "$demo_image" 2>/dev/null || true)
if [ "$current" = "$inputs"$'\n'"$inputs" ]; then
  echo "$sidecar_image"
  echo "$demo_image"
  exit 0
fi

# The images these names point to now: removed once the new ones are tagged (unless in use).
previous=$(podman image inspect --format '{{.Id}}' "$sidecar_image" "$demo_image" 2>/dev/null || true)

work=$(mktemp -d "${TMPDIR:-/tmp}/sidecar-image-XXXXXX")
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"
mkdir -p "$rootfs"/{usr/local/bin,usr/bin,etc,tmp,app/bin,app/dist,var/lib/sidecar}

# Node, stripped as the release binaries are (127 MB with debug info → 109 MB), and what the
# dynamic linker needs.
strip --strip-all -o "$rootfs/usr/local/bin/node" "$node_bin"
cp /usr/bin/env "$rootfs/usr/bin/env"  # bin/sidecar.js starts with #!/usr/bin/env node
for bin in "$node_bin" /usr/bin/env; do
  ldd "$bin" | grep -oE '/[^ ]+' | while read -r lib; do
    mkdir -p "$rootfs$(dirname "$lib")"
    cp -L "$lib" "$rootfs$lib"
  done
done

cp package.json "$rootfs/app/"
cp -R bin/. "$rootfs/app/bin/"
cp -R dist/. "$rootfs/app/dist/"
ln -s /app/bin/sidecar.js "$rootfs/usr/local/bin/sidecar"
mkdir -p "$rootfs/app/demo" && cp examples/demo/app.js "$rootfs/app/demo/app.js"

printf 'root:x:0:0:root:/root:/sbin/nologin\nsidecar:x:%s:%s:sidecar:/var/lib/sidecar:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' "$uid" "$uid" >"$rootfs/etc/passwd"
printf 'root:x:0:\nsidecar:x:%s:\nnogroup:x:65534:\n' "$uid" >"$rootfs/etc/group"
chmod 1777 "$rootfs/tmp"
mkdir -p "$rootfs/var/log/app"  # the demo app's log directory (a volume in Compose copies its owner)
chown -R "$uid:$uid" "$rootfs/var/lib/sidecar" "$rootfs/var/log/app"

tar -C "$rootfs" --numeric-owner -cf "$work/rootfs.tar" .

common=(
  --change "USER $uid:$uid"
  --change "WORKDIR /app"
  --change "ENV PATH=/usr/local/bin:/usr/bin:/bin NODE_ENV=production"
  --change "LABEL org.opencontainers.image.version=$version"
  --change "LABEL org.opencontainers.image.licenses=Apache-2.0"
  --change "LABEL dev.sidecar.inputs=$inputs"
)
podman import --quiet "${common[@]}" \
  --change 'ENTRYPOINT ["sidecar"]' --change 'CMD ["--help"]' \
  --change "LABEL org.opencontainers.image.title=sidecar" \
  "$work/rootfs.tar" "$sidecar_image" >/dev/null
podman import --quiet "${common[@]}" \
  --change 'ENTRYPOINT ["node", "/app/demo/app.js"]' \
  --change "LABEL org.opencontainers.image.title=sidecar-demo-app" \
  "$work/rootfs.tar" "$demo_image" >/dev/null
for id in $previous; do podman rmi "$id" >/dev/null 2>&1 || true; done
echo "$sidecar_image"
echo "$demo_image"
