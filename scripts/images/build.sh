#!/usr/bin/env bash
# The local images (no registry is reachable): busybox:latest from Debian's busybox-static,
# the pod sandbox image coxswain/pause:latest, and busybox plus curl or Node.js
# (coxswain/curl:latest, coxswain/node:latest). Each image carries a label with the hash
# of this recipe (this folder plus the busybox, curl and node versions), so it is rebuilt only when missing
# or when the recipe changed.
#
#   scripts/images/build.sh [--docker-socket PATH]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SOCKET=/var/run/docker.sock
while [ $# -gt 0 ]; do
  case "$1" in
    --docker-socket) [ $# -ge 2 ] || { echo "build-images: --docker-socket needs a path" >&2; exit 2; }; SOCKET="$2"; shift ;;
    *) echo "build-images: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

die() { echo "build-images: $*" >&2; exit 1; }
docker_() { docker -H "unix://$SOCKET" "$@"; }

BUSYBOX=/bin/busybox
[ -x "$BUSYBOX" ] || die "$BUSYBOX is missing (install Debian's busybox-static)"
# A dynamically linked busybox (Debian's plain `busybox`) would not run in an empty image.
# (Outputs are captured before matching: with pipefail, a reader that stops early, like
# `grep -q` or `head`, can fail the pipeline through SIGPIPE at random.)
if command -v file >/dev/null 2>&1; then
  KIND=$(file -L "$BUSYBOX")
  [[ "$KIND" == *"statically linked"* ]] || die "$BUSYBOX is not statically linked (install busybox-static)"
fi
docker_ info >/dev/null 2>&1 || die "no dockerd answers on $SOCKET"

BUSYBOX_BANNER=$("$BUSYBOX" 2>&1 || true)
BUSYBOX_BANNER=${BUSYBOX_BANNER%%$'\n'*}
CURL=$(command -v curl || true)
[ -n "$CURL" ] || die "curl is missing (install Debian's curl)"
CURL_VERSION=$("$CURL" --version 2>/dev/null || true)
CURL_VERSION=${CURL_VERSION%%$'\n'*}
NODE=$(command -v node || true)
[ -n "$NODE" ] || die "node is missing"
NODE_VERSION=$("$NODE" --version)
RECIPE_HASH=$( { cat "$HERE"/*; echo "$BUSYBOX_BANNER"; echo "$CURL_VERSION"; echo "$NODE_VERSION"; } | sha256sum | cut -c1-16)
RECIPE_LABEL=io.coxswain.recipe

image_current() {
  local got
  got=$(docker_ image inspect -f "{{ index .Config.Labels \"$RECIPE_LABEL\" }}" "$1" 2>/dev/null || true)
  [ "$got" = "$RECIPE_HASH" ]
}

# A root folder with busybox, a link per applet, minimal users and groups, /tmp and a web
# root for `httpd -f -p 80 -h /var/www`.
busybox_root() {
  local root="$1" applet
  mkdir -p "$root"/{bin,etc,tmp,var/www,root,proc,sys,dev,home}
  cp "$BUSYBOX" "$root/bin/busybox"
  for applet in $("$BUSYBOX" --list); do
    [ "$applet" = busybox ] || ln -s busybox "$root/bin/$applet"
  done
  # Applets are looked up on PATH; the usual sbin and usr folders point at /bin.
  ln -s bin "$root/sbin"
  mkdir -p "$root/usr"
  ln -s ../bin "$root/usr/bin"
  ln -s ../bin "$root/usr/sbin"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  chmod 1777 "$root/tmp"
  echo '<h1>busybox httpd</h1>' >"$root/var/www/index.html"
}

# add_binary ROOT FILE: a dynamically linked program and the shared libraries it loads,
# at the same paths as on this machine (Debian's curl has no static build).
add_binary() {
  local root="$1" file="$2" lib libs
  libs=$(ldd "$file" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
  for lib in "$file" $libs; do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
}

# import DIR IMAGE CHANGE...: the folder as a one-layer image, owned by root. The image it
# replaces goes too, unless a container still uses it.
import() {
  local dir="$1" image="$2" args=() change old
  shift 2
  for change in "$@" "LABEL $RECIPE_LABEL=$RECIPE_HASH"; do args+=(--change "$change"); done
  old=$(docker_ image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
  tar --numeric-owner --owner=0 --group=0 -C "$dir" -c . | docker_ import "${args[@]}" - "$image" >/dev/null \
    || die "docker import of $image failed"
  [ -z "$old" ] || docker_ image rm "$old" >/dev/null 2>&1 || true
}

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
BUILT=()

if ! image_current busybox:latest; then
  busybox_root "$WORK/busybox"
  import "$WORK/busybox" busybox:latest 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin' 'CMD ["sh"]'
  BUILT+=(busybox:latest)
fi

if ! image_current coxswain/pause:latest; then
  busybox_root "$WORK/pause"
  install -m 0755 "$HERE/pause.sh" "$WORK/pause/pause"
  import "$WORK/pause" coxswain/pause:latest 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin' 'ENTRYPOINT ["/pause"]'
  BUILT+=(coxswain/pause:latest)
fi

# busybox plus a real curl: what a pod calls the API with (`curl --cacert … https://kubernetes.default.svc`);
# busybox's own TLS cannot verify certificates.
if ! image_current coxswain/curl:latest; then
  busybox_root "$WORK/curl"
  rm -f "$WORK/curl/bin/curl"
  add_binary "$WORK/curl" "$CURL"
  import "$WORK/curl" coxswain/curl:latest 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin' 'CMD ["sh"]'
  BUILT+=(coxswain/curl:latest)
fi

# busybox plus this machine's Node.js: a controller shipped as a script (in a ConfigMap) runs
# as a pod, the way an operator does (`node /operator/main.mjs`).
if ! image_current coxswain/node:latest; then
  busybox_root "$WORK/node"
  add_binary "$WORK/node" "$NODE"
  [ -e "$WORK/node/bin/node" ] || ln -s "$NODE" "$WORK/node/bin/node"
  import "$WORK/node" coxswain/node:latest 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin' 'CMD ["node"]'
  BUILT+=(coxswain/node:latest)
fi

if [ "${#BUILT[@]}" -gt 0 ]; then
  echo "build-images: built ${BUILT[*]} (recipe $RECIPE_HASH)"
else
  echo "build-images: busybox:latest, coxswain/pause:latest, coxswain/curl:latest and coxswain/node:latest are current (recipe $RECIPE_HASH)"
fi
