#!/usr/bin/env bash
# Installs NPanel on a Debian 12 server: system users, folders, the built code under /opt/npanel, the
# environment files (secrets generated once), systemd units for the API and a worker per node, nginx with the
# five ports (deploy/nginx), the Temporal server (MySQL 8 persistence) and Web UI (codec endpoint = the API),
# Prometheus rules and scrape config, Grafana provisioning and dashboards, Loki, Promtail and logrotate.
# Idempotent: a second run updates code, units and monitoring configs but never overwrites env files or secrets.
#
#   deploy/install.sh [--node ID] [--node-ip IP] [--roles control,node] [--panel-host HOST] [--panel-domain DOMAIN]
#                     [--prefix DIR] [--no-packages] [--no-systemctl] [--no-code]
#
# --prefix installs into DIR instead of / (a dry run the test suite checks: test/integration/deploy-config.test.ts);
# it implies --no-systemctl and skips user creation and ownership changes.
set -euo pipefail

SRC="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)"
PREFIX="" NODE_ID=a NODE_IP=127.0.0.1 ROLES=control,node PANEL_HOST="$(hostname -f 2>/dev/null || hostname)" PANEL_DOMAIN=""
PACKAGES=1 SYSTEMCTL=1 CODE=1

while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) PREFIX="${2%/}"; SYSTEMCTL=0; shift 2 ;;
    --node) NODE_ID="$2"; shift 2 ;;
    --node-ip) NODE_IP="$2"; shift 2 ;;
    --roles) ROLES="$2"; shift 2 ;;
    --panel-host) PANEL_HOST="$2"; shift 2 ;;
    --panel-domain) PANEL_DOMAIN="$2"; shift 2 ;;
    --no-packages) PACKAGES=0; shift ;;
    --no-systemctl) SYSTEMCTL=0; shift ;;
    --no-code) CODE=0; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "install.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
done
[ -n "$PANEL_DOMAIN" ] || PANEL_DOMAIN="${PANEL_HOST#*.}"
# Node ids become task queue names and file names: the same rule as config/schema.ts.
[[ "$NODE_ID" =~ ^[a-z0-9]{1,32}$ ]] || { echo "install.sh: --node must be 1-32 lowercase letters/digits" >&2; exit 2; }
[[ "$ROLES" =~ ^(control|node)(,(control|node))?$ ]] || { echo "install.sh: --roles is control, node or control,node" >&2; exit 2; }
[[ "$PANEL_HOST" =~ ^[A-Za-z0-9.-]+$ ]] || { echo "install.sh: --panel-host must be a host name" >&2; exit 2; }
if [ -z "$PREFIX" ] && [ "$(id -u)" -ne 0 ]; then echo "install.sh: run as root (or use --prefix DIR)" >&2; exit 1; fi

log() { printf 'install: %s\n' "$*" >&2; }
real() { [ -z "$PREFIX" ]; }
secret() { openssl rand -base64 "${1:-24}" | tr -d '\n/+=' | cut -c1-32; }

# --- packages -------------------------------------------------------------------------------------------
if [ "$PACKAGES" = 1 ] && real; then
  log "Debian packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq nginx mariadb-server mariadb-client pdns-server pdns-backend-mysql dovecot-imapd \
    dovecot-lmtpd exim4-daemon-light pure-ftpd openssh-client rsync openssl curl jq prometheus logrotate >/dev/null
  # Grafana, Loki and Promtail come from Grafana's apt repository (apt.grafana.com); the Temporal server,
  # temporal-sql-tool and temporal-ui-server from Temporal's release tarballs into /usr/local/bin.
  for p in grafana loki promtail; do apt-get install -y -qq "$p" >/dev/null 2>&1 || log "package $p not available: add apt.grafana.com"; done
  for b in temporal-server temporal-ui-server temporal-sql-tool; do command -v "$b" >/dev/null || log "missing /usr/local/bin/$b (Temporal release tarball)"; done
  command -v node >/dev/null && [ "$(node -p 'process.versions.node.split(".")[0]')" -ge 20 ] || { log "Node.js 20+ is required at /usr/bin/node"; exit 1; }
fi

# --- users and folders ----------------------------------------------------------------------------------
if real; then
  id -u npanel >/dev/null 2>&1 || useradd --system --home-dir /var/lib/npanel --shell /usr/sbin/nologin npanel
  id -u temporal >/dev/null 2>&1 || useradd --system --home-dir /var/lib/temporal --shell /usr/sbin/nologin temporal
fi
install -d -m 0755 "$PREFIX/opt/npanel" "$PREFIX/var/lib/npanel" "$PREFIX/var/lib/npanel/acme-challenge" \
  "$PREFIX/etc/systemd/system" "$PREFIX/etc/temporal/config" "$PREFIX/etc/logrotate.d" \
  "$PREFIX/etc/prometheus/rules" "$PREFIX/etc/prometheus/npanel-workers" "$PREFIX/etc/grafana/provisioning/datasources" \
  "$PREFIX/etc/grafana/provisioning/dashboards" "$PREFIX/var/lib/grafana/dashboards/npanel" "$PREFIX/etc/loki" \
  "$PREFIX/etc/promtail" "$PREFIX/var/lib/promtail"
install -d -m 0750 "$PREFIX/etc/npanel" "$PREFIX/etc/npanel/certs" "$PREFIX/var/log/npanel" "$PREFIX/var/log/temporal"
if real; then
  chown root:npanel /etc/npanel; chown npanel:adm /var/log/npanel; chown temporal:temporal /var/log/temporal
  chown npanel:npanel /var/lib/npanel
fi

# --- code -----------------------------------------------------------------------------------------------
if [ "$CODE" = 1 ]; then
  [ -f "$SRC/dist/api/server.js" ] && [ -f "$SRC/dist/workflow-bundle.js" ] || { log "build first: npm run build"; exit 1; }
  log "code -> $PREFIX/opt/npanel"
  for d in dist node_modules web runbooks deploy; do
    [ -e "$SRC/$d" ] && rsync -a --delete "$SRC/$d/" "$PREFIX/opt/npanel/$d/"
  done
  install -m 0644 "$SRC/package.json" "$SRC/temporal.yaml" "$PREFIX/opt/npanel/"
fi

# --- environment (written once: never overwrites secrets) -------------------------------------------------
render() { # template, destination, mode
  [ -e "$2" ] && { log "keeping $2"; return 0; }
  sed -e "s|@CODEC_KEY@|$(openssl rand -base64 32)|" -e "s|@CODEC_KEY_ID@|prod-$(date +%Y%m%d)|" \
      -e "s|@INVENTORY_PASSWORD@|$(secret)|" -e "s|@MYSQL_ADMIN_PASSWORD@|$(secret)|" -e "s|@PDNS_API_KEY@|$(secret)|" \
      -e "s|@PANEL_HOST@|$PANEL_HOST|g" -e "s|@PANEL_DOMAIN@|$PANEL_DOMAIN|g" -e "s|@NODE_ID@|$NODE_ID|g" \
      -e "s|@NODE_IP@|$NODE_IP|g" -e "s|@ROLES@|$ROLES|g" "$1" >"$2.tmp"
  chmod "$3" "$2.tmp"; mv "$2.tmp" "$2"
  real && chgrp npanel "$2" || true
  log "wrote $2"
}
render "$SRC/deploy/npanel.env.template" "$PREFIX/etc/npanel/npanel.env" 0640
render "$SRC/deploy/node.env.template" "$PREFIX/etc/npanel/node-$NODE_ID.env" 0640
[ -e "$PREFIX/etc/npanel/temporal.yaml" ] || install -m 0644 "$SRC/deploy/temporal.production.yaml" "$PREFIX/etc/npanel/temporal.yaml"
[ -e "$PREFIX/etc/npanel/admin-token" ] || { (umask 077; echo "npa_$(secret 32)$(secret 32)" >"$PREFIX/etc/npanel/admin-token"); real && chown npanel "$PREFIX/etc/npanel/admin-token" || true; }

# --- systemd ----------------------------------------------------------------------------------------------
install -m 0644 "$SRC"/deploy/systemd/*.service "$PREFIX/etc/systemd/system/"

# --- Temporal ---------------------------------------------------------------------------------------------
install -m 0644 "$SRC"/deploy/temporal/config/*.yaml "$PREFIX/etc/temporal/config/"
[ -e "$PREFIX/etc/temporal/temporal.env" ] || { sed "s|change-me|$(secret)|" "$SRC/deploy/temporal/temporal.env.example" >"$PREFIX/etc/temporal/temporal.env"; chmod 0640 "$PREFIX/etc/temporal/temporal.env"; }
sed -i "s|panel.example.net|$PANEL_HOST|g" "$PREFIX/etc/temporal/config/ui-production.yaml"

# --- ports: each written once, where its listener is defined; every upstream and scrape target is filled in --
envval() { sed -n "s/^$1=//p" "$2" | tail -n 1; }
API_PORT="$(envval NPANEL_API_PORT "$PREFIX/etc/npanel/npanel.env")"
WORKER_PORT="$(envval NPANEL_METRICS_WORKER_PORT "$PREFIX/etc/npanel/npanel.env")"
TEMPORAL_METRICS_PORT="$(envval TEMPORAL_METRICS_PORT "$PREFIX/etc/temporal/temporal.env")"
GRAFANA_PORT="$(sed -n 's/^http_port *= *//p' "$SRC/deploy/grafana/grafana.ini")"
LOKI_PORT="$(sed -n 's/^ *http_listen_port: *//p' "$SRC/deploy/loki/loki.yaml")"
for v in API_PORT WORKER_PORT TEMPORAL_METRICS_PORT GRAFANA_PORT LOKI_PORT; do
  [[ "${!v}" =~ ^[0-9]+$ ]] || { log "cannot read $v from the env files / configs"; exit 1; }
done
ports() { sed -e "s|@NPANEL_API_PORT@|$API_PORT|g" -e "s|@TEMPORAL_METRICS_PORT@|$TEMPORAL_METRICS_PORT|g" \
              -e "s|@GRAFANA_PORT@|$GRAFANA_PORT|g" -e "s|@LOKI_PORT@|$LOKI_PORT|g" "$1"; }

# --- nginx (deploy/nginx: the five ports) -------------------------------------------------------------------
if [ -d "$SRC/deploy/nginx" ]; then
  # Where npanel.conf's includes look: /etc/nginx/conf.d (http context) and /etc/nginx/snippets.
  install -d -m 0755 "$PREFIX/etc/nginx/conf.d" "$PREFIX/etc/nginx/snippets" "$PREFIX/etc/nginx/npanel-sites"
  ports "$SRC/deploy/nginx/npanel.conf" >"$PREFIX/etc/nginx/conf.d/npanel.conf"
  install -m 0644 "$SRC"/deploy/nginx/snippets/*.conf "$PREFIX/etc/nginx/snippets/"
  if real && [ "$SYSTEMCTL" = 1 ]; then nginx -t && systemctl reload nginx; fi
else
  log "deploy/nginx is missing: nginx not configured"
fi

# --- monitoring and logs -------------------------------------------------------------------------------------
ports "$SRC/deploy/prometheus/prometheus.yml" >"$PREFIX/etc/prometheus/prometheus.yml"
install -m 0644 "$SRC"/deploy/prometheus/rules/*.yml "$PREFIX/etc/prometheus/rules/"
printf -- "- targets: ['%s:%s']\n  labels:\n    node: %s\n" "$NODE_IP" "$WORKER_PORT" "$NODE_ID" >"$PREFIX/etc/prometheus/npanel-workers/$NODE_ID.yml"
install -m 0644 "$SRC/deploy/grafana/provisioning/datasources/npanel.yaml" "$PREFIX/etc/grafana/provisioning/datasources/"
install -m 0644 "$SRC/deploy/grafana/provisioning/dashboards/npanel.yaml" "$PREFIX/etc/grafana/provisioning/dashboards/"
install -m 0644 "$SRC"/deploy/grafana/dashboards/*.json "$PREFIX/var/lib/grafana/dashboards/npanel/"
install -m 0644 "$SRC/deploy/grafana/grafana.ini" "$PREFIX/etc/grafana/grafana.ini"
install -m 0644 "$SRC/deploy/loki/loki.yaml" "$PREFIX/etc/loki/config.yml"
install -m 0644 "$SRC/deploy/loki/promtail.yaml" "$PREFIX/etc/promtail/config.yml"
install -m 0644 "$SRC/deploy/logrotate/npanel" "$PREFIX/etc/logrotate.d/npanel"

# --- start ----------------------------------------------------------------------------------------------------
if real && [ "$SYSTEMCTL" = 1 ]; then
  systemctl daemon-reload
  promtool check config /etc/prometheus/prometheus.yml >/dev/null && systemctl restart prometheus || log "prometheus config rejected"
  systemctl enable --now temporal-server.service temporal-ui.service
  systemctl enable --now "npanel-worker@$NODE_ID.service"
  [[ "$ROLES" == *control* ]] && systemctl enable --now npanel-api.service
  for s in grafana-server loki promtail; do systemctl list-unit-files "$s.service" >/dev/null 2>&1 && systemctl restart "$s" || true; done
  log "done: check with  curl -s http://127.0.0.1:$API_PORT/health/ready | jq ."
else
  log "installed into ${PREFIX:-/} (services not started)"
fi
