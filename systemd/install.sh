#!/usr/bin/env bash
# Install or upgrade odoo-edge-agent as a systemd service on a Debian or
# Ubuntu gateway. Run it as root from a checkout or an unpacked release:
#
#   sudo ./systemd/install.sh
#
# Safe to run again: an upgrade replaces the program and the unit file, keeps
# /etc/edge-agent (config and credentials) and /var/lib/edge-agent (outbox,
# OPC UA certificates) as they are, and restarts the service only if it was
# running.
#
# What it does:
#   1. checks Node.js (the version package.json asks for) and npm;
#   2. creates the system user and group edge-agent, member of dialout
#      (serial ports) and input (keyboard-mode scanners);
#   3. builds the program in a temporary folder (npm ci, which compiles the
#      TypeScript, then npm prune --omit=dev) and puts it in /opt/edge-agent;
#   4. installs /etc/systemd/system/edge-agent.service and the command
#      /usr/local/bin/edge-agent;
#   5. creates /etc/edge-agent (0750 root:edge-agent) with config.yaml from
#      config.example.yaml if there is none (0640 root:edge-agent), and
#      /etc/edge-agent/credentials (0700 root:root);
#   6. systemctl daemon-reload, and prints the next steps.
#
# Environment:
#   DESTDIR=/some/dir   stage everything under that folder instead of /, for
#                       packaging or a dry run: no user is created, no owner
#                       is changed, systemctl is not called.
#   NODE=/path/to/node  the Node.js to run the agent with (default: the
#                       `node` found on PATH).
set -euo pipefail

readonly SERVICE=edge-agent
readonly SERVICE_USER=edge-agent
readonly DEVICE_GROUPS=(dialout input)

SRC_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly SRC_DIR
readonly DESTDIR=${DESTDIR:-}
readonly APP_DIR=$DESTDIR/opt/edge-agent
readonly CONF_DIR=$DESTDIR/etc/edge-agent
readonly UNIT_DIR=$DESTDIR/etc/systemd/system
readonly BIN_DIR=$DESTDIR/usr/local/bin

say() { printf '%s\n' "edge-agent install: $*"; }
die() { printf '%s\n' "edge-agent install: ERROR: $*" >&2; exit 1; }

staging() { [[ -n $DESTDIR ]]; }

# --- 1. Checks -------------------------------------------------------------
if ! staging; then
  [[ $(id -u) -eq 0 ]] || die "run as root (sudo $0)"
  command -v systemctl >/dev/null 2>&1 || die "systemctl not found: this script is for gateways running systemd"
fi
[[ -f $SRC_DIR/package.json && -f $SRC_DIR/package-lock.json ]] \
  || die "package.json and package-lock.json not found in $SRC_DIR"
[[ -f $SRC_DIR/systemd/edge-agent.service ]] || die "systemd/edge-agent.service not found in $SRC_DIR"

NODE_BIN=${NODE:-$(command -v node || true)}
[[ -n $NODE_BIN && -x $NODE_BIN ]] \
  || die "Node.js not found. Install Node.js (the LTS line, from your distribution or NodeSource) and run again"
NODE_BIN=$(readlink -f "$NODE_BIN")
readonly NODE_BIN
command -v npm >/dev/null 2>&1 || die "npm not found (it comes with Node.js; on Debian: apt-get install npm)"

# The engines field of package.json is ">=MAJOR.MINOR.PATCH".
if ! "$NODE_BIN" -e '
  const want = (require(process.argv[1]).engines.node.match(/(\d+)\.(\d+)\.(\d+)/) || []).slice(1).map(Number);
  const have = process.versions.node.split(".").map(Number);
  for (let i = 0; i < 3; i++) { if (have[i] !== want[i]) process.exit(have[i] > want[i] ? 0 : 1); }
' "$SRC_DIR/package.json"; then
  die "Node.js $("$NODE_BIN" --version) is too old; package.json asks for $("$NODE_BIN" -p "require('$SRC_DIR/package.json').engines.node")"
fi
say "using Node.js $("$NODE_BIN" --version) at $NODE_BIN"

# --- 2. User and groups ----------------------------------------------------
if staging; then
  say "DESTDIR set: not creating user $SERVICE_USER"
else
  getent group "$SERVICE_USER" >/dev/null || groupadd --system "$SERVICE_USER"
  if ! id -u "$SERVICE_USER" >/dev/null 2>&1; then
    useradd --system --gid "$SERVICE_USER" --home-dir /var/lib/edge-agent --no-create-home \
      --shell /usr/sbin/nologin --comment "Odoo edge agent" "$SERVICE_USER"
    say "created system user $SERVICE_USER"
  fi
  for group in "${DEVICE_GROUPS[@]}"; do
    getent group "$group" >/dev/null || groupadd --system "$group"
    usermod --append --groups "$group" "$SERVICE_USER"
  done
fi

# --- 3. Build into a temporary folder, then put it in place ----------------
BUILD_DIR=$(mktemp -d)
trap 'rm -rf "$BUILD_DIR"' EXIT
say "building in $BUILD_DIR"
# Sources only: never the checkout's node_modules, dist or local state.
tar -C "$SRC_DIR" --exclude=./node_modules --exclude=./dist --exclude=./.build \
  --exclude=./.git --exclude=./state -cf - . | tar -C "$BUILD_DIR" -xf -
(
  cd "$BUILD_DIR"
  PATH="$(dirname "$NODE_BIN"):$PATH"
  export PATH
  # npm ci installs the exact locked versions and runs the "prepare" script,
  # which compiles the TypeScript into dist/. better-sqlite3 and serialport
  # are native modules: they are fetched prebuilt for this CPU when
  # possible, else compiled (that needs python3, make and g++).
  npm ci --no-audit --no-fund
  [[ -f dist/agent/cli/main.js ]] || npm run build
  npm prune --omit=dev --no-audit --no-fund
)
[[ -f $BUILD_DIR/dist/agent/cli/main.js ]] || die "build did not produce dist/agent/cli/main.js"

NEW_DIR=$APP_DIR.new
rm -rf "$NEW_DIR"
mkdir -p "$NEW_DIR/docs"
cp -a "$BUILD_DIR/package.json" "$BUILD_DIR/package-lock.json" "$BUILD_DIR/dist" "$BUILD_DIR/node_modules" "$NEW_DIR/"
[[ -f $BUILD_DIR/docs/install.md ]] && cp "$BUILD_DIR/docs/install.md" "$NEW_DIR/docs/"
[[ -f $BUILD_DIR/config.example.yaml ]] && cp "$BUILD_DIR/config.example.yaml" "$NEW_DIR/"
# The program is owned by root and read-only for the service.
chmod -R u+rwX,go+rX,go-w "$NEW_DIR"
staging || chown -R root:root "$NEW_DIR"

# Stop a running agent before swapping: Node loads some modules only when
# first used, and must not mix two versions.
WAS_ACTIVE=no
if ! staging && systemctl is-active --quiet "$SERVICE"; then
  WAS_ACTIVE=yes
  say "stopping $SERVICE for the upgrade"
  systemctl stop "$SERVICE"
fi
mkdir -p "$(dirname "$APP_DIR")"
if [[ -d $APP_DIR ]]; then
  rm -rf "$APP_DIR.old"
  mv "$APP_DIR" "$APP_DIR.old"
fi
mv "$NEW_DIR" "$APP_DIR"
rm -rf "$APP_DIR.old"
say "program installed in $APP_DIR"

# --- 4. Unit file and command ----------------------------------------------
mkdir -p "$UNIT_DIR" "$BIN_DIR"
install -m 0644 "$SRC_DIR/systemd/edge-agent.service" "$UNIT_DIR/$SERVICE.service"
DROPIN_DIR=$UNIT_DIR/$SERVICE.service.d
NODE_DROPIN=$DROPIN_DIR/10-node-path.conf
if [[ $NODE_BIN != /usr/bin/node ]]; then
  # The unit runs /usr/bin/node; point it at this gateway's Node instead.
  mkdir -p "$DROPIN_DIR"
  {
    printf '%s\n' "# Written by systemd/install.sh: Node.js is at $NODE_BIN on this gateway."
    printf '%s\n' '[Service]' 'ExecStart='
    grep '^ExecStart=' "$SRC_DIR/systemd/edge-agent.service" | sed "s#^ExecStart=/usr/bin/node #ExecStart=$NODE_BIN #"
  } >"$NODE_DROPIN"
  chmod 0644 "$NODE_DROPIN"
  say "Node.js is not /usr/bin/node: wrote $NODE_DROPIN"
else
  rm -f "$NODE_DROPIN"
  rmdir "$DROPIN_DIR" 2>/dev/null || true
fi
cat >"$BIN_DIR/edge-agent" <<EOF
#!/bin/sh
# Written by odoo-edge-agent's systemd/install.sh.
exec "$NODE_BIN" /opt/edge-agent/dist/agent/cli/main.js "\$@"
EOF
chmod 0755 "$BIN_DIR/edge-agent"

# --- 5. Configuration and credentials --------------------------------------
mkdir -p "$CONF_DIR/credentials"
chmod 0750 "$CONF_DIR"
chmod 0700 "$CONF_DIR/credentials"
if ! staging; then
  chown root:"$SERVICE_USER" "$CONF_DIR"
  chown root:root "$CONF_DIR/credentials"
fi
if [[ -f $CONF_DIR/config.yaml ]]; then
  say "keeping the existing $CONF_DIR/config.yaml"
elif [[ -f $SRC_DIR/config.example.yaml ]]; then
  install -m 0640 "$SRC_DIR/config.example.yaml" "$CONF_DIR/config.yaml"
  staging || chown root:"$SERVICE_USER" "$CONF_DIR/config.yaml"
  say "created $CONF_DIR/config.yaml from config.example.yaml: edit it before starting"
else
  say "WARNING: no config.example.yaml in $SRC_DIR; write $CONF_DIR/config.yaml yourself (mode 0640, root:$SERVICE_USER)"
fi

# --- 6. Tell systemd, then the operator ------------------------------------
if staging; then
  say "DESTDIR set: not calling systemctl"
else
  systemctl daemon-reload
  if [[ $WAS_ACTIVE == yes ]]; then
    systemctl start "$SERVICE"
    say "upgrade done; $SERVICE restarted (systemctl status $SERVICE)"
    exit 0
  fi
fi

cat <<EOF

Next steps:
  1. Put the Odoo API key in a file readable by root only:
       install -m 0600 /dev/null $CONF_DIR/credentials/odoo-api-key
       editor $CONF_DIR/credentials/odoo-api-key
     (one line, no quotes; config.yaml refers to it as \${credential:odoo-api-key})
  2. Edit $CONF_DIR/config.yaml (Odoo URL and database, sources, rules).
  3. Check it:
       CREDENTIALS_DIRECTORY=$CONF_DIR/credentials edge-agent check-config --config $CONF_DIR/config.yaml
  4. Start it now and at every boot:
       systemctl enable --now $SERVICE
       journalctl -u $SERVICE -f
  5. Status page on the gateway: http://127.0.0.1:8470/ (health: /healthz)
EOF
