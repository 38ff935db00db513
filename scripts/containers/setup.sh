#!/usr/bin/env bash
# Gantry's container machinery for tests and CI, in one idempotent script (docs/containers.md,
# "Containers on this machine"):
#   - installs the Debian packages if any is missing (root only),
#   - keeps all state under $GANTRY_CONTAINERS_DIR (default /var/tmp/gantry-containers, or
#     /var/tmp/gantry-containers-<uid> when not root),
#   - starts a registry (distribution 2.8, `docker-registry`) on 127.0.0.1:$GANTRY_CONTAINERS_REGISTRY_PORT
#     (default 5000) and podman's Docker Engine API service on <dir>/podman.sock,
#   - builds the base images gantry-base/busybox:1 and gantry-base/node:20 (no public registry is
#     reachable here) and pushes them to that registry.
#
# Usage:
#   scripts/containers/setup.sh            set up; a summary on stderr
#   scripts/containers/setup.sh --env      set up; shell exports on stdout: eval "$(scripts/containers/setup.sh --env)"
#   scripts/containers/setup.sh --stop     stop the API service and the registry (by pid file)
#   scripts/containers/setup.sh --purge    --stop, then delete the state folder (images, registry data)
#   scripts/containers/setup.sh --status   exit 0 when both answer, 1 otherwise
# Progress goes to stderr; stdout only carries the exports of --env. Quiet when warm.
set -euo pipefail

mode=setup
case "${1:-}" in
  '' ) ;;
  --env ) mode=env ;;
  --stop ) mode=stop ;;
  --purge ) mode=purge ;;
  --status ) mode=status ;;
  -h|--help ) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  * ) echo "setup.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
esac

uid=$(id -u)
if [ "$uid" -eq 0 ]; then default_dir=/var/tmp/gantry-containers; else default_dir=/var/tmp/gantry-containers-$uid; fi
DIR=${GANTRY_CONTAINERS_DIR:-$default_dir}
PORT=${GANTRY_CONTAINERS_REGISTRY_PORT:-5000}
REGISTRY=127.0.0.1:$PORT
BUSYBOX_REF=$REGISTRY/gantry-base/busybox:1
SOCK=$DIR/podman.sock
[ "${#SOCK}" -le 100 ] || { echo "setup.sh: $SOCK is too long for a unix socket path (108 bytes at most): choose a shorter GANTRY_CONTAINERS_DIR" >&2; exit 1; }
export CONTAINERS_CONF=$DIR/containers.conf
export CONTAINERS_STORAGE_CONF=$DIR/storage.conf
export CONTAINERS_REGISTRIES_CONF=$DIR/registries.conf

started_ms=$(date +%s%3N)
say() { printf '[containers %5sms] %s\n' "$(( $(date +%s%3N) - started_ms ))" "$*" >&2; }
die() {
  printf 'setup.sh: cannot set up containers: %s\n' "$1" >&2
  if [ -n "${2:-}" ] && [ -f "$2" ]; then
    printf -- '--- last lines of %s ---\n' "$2" >&2
    tail -n 25 "$2" >&2
  fi
  exit 1
}

# A pid that runs (a zombie does not count: orphans here are reaped late by PID 1).
running() {
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [ "${stat%% *}" != Z ]
}
# The process in a pid file runs; with a second argument, its command line must also hold it (our
# services name $DIR in theirs, so a pid reused after a reboot does not count).
alive() {
  [ -f "$1" ] || return 1
  local pid
  pid=$(cat "$1")
  running "$pid" || return 1
  [ -z "${2:-}" ] || [[ "$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" == *"$2"* ]]
}

stop_pid() { # pidfile name [cmdline-needle]
  if alive "$1" "${3:-}"; then
    local pid
    pid=$(cat "$1")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do running "$pid" || break; sleep 0.05; done
    running "$pid" && kill -9 "$pid" 2>/dev/null || true
    say "stopped $2 (pid $pid)"
  fi
  rm -f "$1"
}

registry_up() { curl -fsS -m 2 -o /dev/null "http://$REGISTRY/v2/" 2>/dev/null; }
engine_up() { [ -S "$SOCK" ] && [ "$(curl -sS -m 2 --unix-socket "$SOCK" http://d/_ping 2>/dev/null)" = OK ]; }

# Callers race (vitest's global setup, CI, a developer's shell): one set-up or stop at a time.
lock() {
  mkdir -p "$DIR" 2>/dev/null || die "cannot create $DIR (set GANTRY_CONTAINERS_DIR to a writable folder)"
  exec 9>>"$DIR/setup.lock"
  flock -w 900 9 || die "another scripts/containers/setup.sh still holds $DIR/setup.lock after 900 s"
}

if [ "$mode" = stop ] || [ "$mode" = purge ]; then
  lock
  stop_pid "$DIR/run/podman-service.pid" "podman system service" "$DIR"
  stop_pid "$DIR/run/registry.pid" "registry" "$DIR"
  # Rootless podman keeps a pause process holding its user namespace; it lives in tmp_dir.
  [ "$uid" -eq 0 ] || stop_pid "$DIR/podman/tmp/pause.pid" "podman's rootless pause process"
  rm -f "$SOCK"
  if [ "$mode" = purge ]; then
    # Podman's overlay driver leaves a private bind mount of its home (and container rootfs mounts).
    awk -v d="$DIR/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r |
      while read -r m; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
    rm -rf "$DIR"
    say "removed $DIR"
  fi
  exit 0
fi
if [ "$mode" = status ]; then
  registry_up && engine_up && alive "$DIR/run/registry.pid" "$DIR" && exit 0
  exit 1
fi

lock

# --- 1. packages -------------------------------------------------------------------------------
PACKAGES=(podman runc catatonit slirp4netns netavark aardvark-dns iptables buildah docker-registry skopeo busybox-static uidmap curl)
# One dpkg-query for all of them (about 20 ms), so the warm path stays fast.
installed=" $(dpkg-query -W -f='${db:Status-Status}:${Package} ' "${PACKAGES[@]}" 2>/dev/null || true) "
missing=()
for p in "${PACKAGES[@]}"; do
  [[ $installed == *" installed:$p "* ]] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  command -v apt-get >/dev/null || die "packages missing (${missing[*]}) and there is no apt-get"
  [ "$uid" -eq 0 ] || die "packages missing (${missing[*]}) and not root: ask an administrator to run
  apt-get install -y --no-install-recommends ${PACKAGES[*]}"
  say "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 || die "apt-get update failed"
  apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >&2 || die "apt-get install failed"
fi
BUSYBOX_BIN=/bin/busybox
ldd "$BUSYBOX_BIN" >/dev/null 2>&1 && die "$BUSYBOX_BIN is dynamically linked: install busybox-static"
NODE_BIN=$(readlink -f "$(command -v node)") || die "no node on PATH (the node base image copies it)"
NODE_VERSION=$("$NODE_BIN" --version) || die "$NODE_BIN --version failed"
NODE_MAJOR=${NODE_VERSION#v}
NODE_MAJOR=${NODE_MAJOR%%.*}
NODE_REF=$REGISTRY/gantry-base/node:$NODE_MAJOR

# --- 2. can containers run here at all? ---------------------------------------------------------
if [ "$uid" -ne 0 ]; then
  unshare -Ur true 2>/dev/null || die "not root and user namespaces are not available (unshare -Ur fails: \
$(unshare -Ur true 2>&1 | head -n1)); run as root or enable unprivileged user namespaces (kernel.unprivileged_userns_clone=1, user.max_user_namespaces>0)"
  grep -q "^$(id -un):" /etc/subuid 2>/dev/null || say "warning: no /etc/subuid entry for $(id -un); images with files owned by other uids will not unpack"
fi

# --- 3. state folder and configuration ----------------------------------------------------------
mkdir -p "$DIR"/{podman/root,podman/run,podman/tmp,podman/networks,registry/data,run,logs,build}
chmod 700 "$DIR/podman/run" 2>/dev/null || true

write_if_changed() { # file content
  if [ ! -f "$1" ] || [ "$(cat "$1")" != "$2" ]; then printf '%s\n' "$2" > "$1.tmp" && mv "$1.tmp" "$1"; fi
}

limit() { # value cap
  if [ "$1" = unlimited ] || [ "$1" -gt "$2" ]; then echo "$2"; else echo "$1"; fi
}
# This VM drops CAP_SYS_RESOURCE: no runtime may raise an rlimit above the hard limit, and podman's
# defaults for root (1048576) are above it. conmon runs with nproc 32768 here, hence that cap.
NOFILE=$(limit "$(ulimit -Hn)" 1048576)
NPROC=$(limit "$(ulimit -Hu)" 32768)

write_if_changed "$CONTAINERS_CONF" "# Written by scripts/containers/setup.sh; see docs/containers.md.
[containers]
default_ulimits = [\"nofile=$NOFILE:$NOFILE\", \"nproc=$NPROC:$NPROC\"]

[engine]
runtime = \"runc\"
cgroup_manager = \"cgroupfs\"
events_logger = \"file\"
events_logfile_path = \"$DIR/logs/podman-events.log\"
tmp_dir = \"$DIR/podman/tmp\"

[network]
network_config_dir = \"$DIR/podman/networks\""

write_if_changed "$CONTAINERS_REGISTRIES_CONF" "# Written by scripts/containers/setup.sh; see docs/containers.md.
# No public registry is reachable: short names are not resolved anywhere.
unqualified-search-registries = []

[[registry]]
location = \"$REGISTRY\"
insecure = true"

if [ -f "$DIR/storage-driver" ]; then
  DRIVER=$(cat "$DIR/storage-driver")
else
  DRIVER=${GANTRY_CONTAINERS_STORAGE_DRIVER:-overlay}
fi
storage_conf() {
  write_if_changed "$CONTAINERS_STORAGE_CONF" "# Written by scripts/containers/setup.sh; see docs/containers.md.
[storage]
driver = \"$1\"
graphroot = \"$DIR/podman/root\"
runroot = \"$DIR/podman/run\""
}
storage_conf "$DRIVER"
if [ ! -f "$DIR/storage-driver" ]; then
  # A fresh store: keep overlay when podman can use it here, else fall back to vfs (slow, always works).
  if [ "$DRIVER" = overlay ] && ! podman info >"$DIR/logs/podman-info.log" 2>&1; then
    say "overlay storage does not work here; falling back to vfs (see $DIR/logs/podman-info.log)"
    umount "$DIR/podman/root/overlay" 2>/dev/null || true
    rm -rf "$DIR/podman/root" "$DIR/podman/run"
    mkdir -p "$DIR/podman/root" "$DIR/podman/run"
    DRIVER=vfs
    storage_conf vfs
    podman info >"$DIR/logs/podman-info.log" 2>&1 || die "podman does not work here, even with vfs storage" "$DIR/logs/podman-info.log"
  fi
  echo "$DRIVER" > "$DIR/storage-driver"
fi

write_if_changed "$DIR/registry/config.yml" "# Written by scripts/containers/setup.sh; see docs/containers.md.
version: 0.1
log: { level: info, fields: { service: registry } }
storage:
  cache: { blobdescriptor: inmemory }
  filesystem: { rootdirectory: $DIR/registry/data }
  delete: { enabled: true }
http:
  addr: $REGISTRY
  secret: gantry-local-registry
  headers: { X-Content-Type-Options: [nosniff] }"

# --- 4. registry and API service ----------------------------------------------------------------
wait_for() { # what check seconds log pidfile
  local deadline=$(( $(date +%s) + $3 ))
  until $2; do
    alive "$5" "$DIR" || die "$1 exited before answering" "$4"
    [ "$(date +%s)" -lt "$deadline" ] || die "$1 did not answer within $3 s" "$4"
    sleep 0.1
  done
}

if ! alive "$DIR/run/registry.pid" "$DIR"; then
  if registry_up; then
    die "something else already answers on http://$REGISTRY/v2/ (not this script's registry, no live pid in $DIR/run/registry.pid);
  stop it, or choose another port with GANTRY_CONTAINERS_REGISTRY_PORT"
  fi
  say "starting registry on $REGISTRY"
  : > "$DIR/logs/registry.log"
  (setsid docker-registry serve "$DIR/registry/config.yml" </dev/null >>"$DIR/logs/registry.log" 2>&1 9>&- &
   echo $! > "$DIR/run/registry.pid")
fi
if ! registry_up; then
  wait_for "the registry on http://$REGISTRY/v2/" registry_up 30 "$DIR/logs/registry.log" "$DIR/run/registry.pid"
fi

if ! engine_up; then
  stop_pid "$DIR/run/podman-service.pid" "a podman service that does not answer" "$DIR"
  rm -f "$SOCK"
  say "starting podman system service on $SOCK"
  : > "$DIR/logs/podman-service.log"
  (setsid podman system service --time=0 "unix://$SOCK" </dev/null >>"$DIR/logs/podman-service.log" 2>&1 9>&- &
   echo $! > "$DIR/run/podman-service.pid")
  wait_for "podman system service on $SOCK (/_ping)" engine_up 60 "$DIR/logs/podman-service.log" "$DIR/run/podman-service.pid"
fi

# --- 5. base images -----------------------------------------------------------------------------
# Built only when missing: in the registry, in podman's storage, or built from other host binaries
# (the stamp records the inputs, so a node upgrade rebuilds the node image).
image_ok() { # ref stamp-file stamp
  local name=${1#"$REGISTRY"/} repo tag
  repo=${name%:*}; tag=${name##*:}
  [ -f "$2" ] && [ "$(cat "$2")" = "$3" ] &&
    curl -fsS -m 5 -o /dev/null -I \
      -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
      -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
      "http://$REGISTRY/v2/$repo/manifests/$tag" 2>/dev/null &&
    curl -fsS -m 5 -o /dev/null --unix-socket "$SOCK" "http://d/v1.41/images/$1/json" 2>/dev/null
}

busybox_rootfs() { # dir
  local root=$1 applet
  mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,root,tmp,var/tmp,home,proc,sys,dev}
  chmod 1777 "$root/tmp" "$root/var/tmp"
  chmod 700 "$root/root"
  cp "$BUSYBOX_BIN" "$root/bin/busybox"
  for applet in $("$BUSYBOX_BIN" --list-full); do
    [ "$applet" = bin/busybox ] && continue
    [ -e "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"
}

import_and_push() { # rootfs ref changes...
  local root=$1 ref=$2 log="$DIR/logs/build-${2##*/}.log"
  shift 2
  local args=()
  for c in "$@"; do args+=(--change "$c"); done
  : > "$log"
  tar -C "$root" --numeric-owner --owner=0 --group=0 -cf - . |
    podman import "${args[@]}" - "$ref" >>"$log" 2>&1 || die "podman import of $ref failed" "$log"
  podman push --tls-verify=false "$ref" >>"$log" 2>&1 || die "podman push of $ref failed" "$log"
}

BASE_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
busybox_stamp="busybox $(stat -Lc '%s %Y' "$BUSYBOX_BIN") v1"
if ! image_ok "$BUSYBOX_REF" "$DIR/run/busybox.stamp" "$busybox_stamp"; then
  say "building $BUSYBOX_REF"
  rm -rf "$DIR/build/busybox"
  busybox_rootfs "$DIR/build/busybox"
  import_and_push "$DIR/build/busybox" "$BUSYBOX_REF" "ENV PATH=$BASE_PATH" 'CMD ["/bin/sh"]' \
    'LABEL org.opencontainers.image.title=gantry-base/busybox'
  rm -rf "$DIR/build/busybox"
  echo "$busybox_stamp" > "$DIR/run/busybox.stamp"
fi

node_stamp="node $NODE_BIN $(stat -Lc '%s %Y' "$NODE_BIN") $busybox_stamp"
if ! image_ok "$NODE_REF" "$DIR/run/node.stamp" "$node_stamp"; then
  say "building $NODE_REF from $NODE_BIN"
  root=$DIR/build/node
  rm -rf "$root"
  busybox_rootfs "$root"
  mkdir -p "$root/usr/local/bin"
  cp "$NODE_BIN" "$root/usr/local/bin/node"
  # The libraries at the paths the dynamic loader looks them up by (what ldd prints), symlinks resolved.
  for lib in $(ldd "$NODE_BIN" | awk '/=> \// { print $3 } /^\t\// { print $1 }'); do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
  import_and_push "$root" "$NODE_REF" "ENV PATH=$BASE_PATH" \
    'LABEL org.opencontainers.image.title=gantry-base/node'
  rm -rf "$root"
  echo "$node_stamp" > "$DIR/run/node.stamp"
fi

# --- 6. report ----------------------------------------------------------------------------------
q() { printf "'%s'" "${1//\'/\'\\\'\'}"; }
if [ "$mode" = env ]; then
  for kv in \
    "GANTRY_CONTAINERS_DIR=$DIR" \
    "DOCKER_HOST=unix://$SOCK" \
    "CONTAINERS_CONF=$CONTAINERS_CONF" \
    "CONTAINERS_STORAGE_CONF=$CONTAINERS_STORAGE_CONF" \
    "CONTAINERS_REGISTRIES_CONF=$CONTAINERS_REGISTRIES_CONF" \
    "GANTRY_TEST_REGISTRY=$REGISTRY" \
    "GANTRY_TEST_BASE_BUSYBOX=$BUSYBOX_REF" \
    "GANTRY_TEST_BASE_NODE=$NODE_REF"; do
    echo "export ${kv%%=*}=$(q "${kv#*=}")"
  done
else
  say "ready: DOCKER_HOST=unix://$SOCK registry=$REGISTRY storage=$DRIVER state=$DIR"
  say "base images: $BUSYBOX_REF $NODE_REF"
  say "use: eval \"\$($0 --env)\"; stop: $0 --stop"
fi
