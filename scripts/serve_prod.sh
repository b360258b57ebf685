#!/usr/bin/env bash
# Production mode: several app processes behind nginx, each watched by the watchdog.
#
#   bash scripts/serve_prod.sh [--procs N] [--port 8080] [--base-port 8601]
#
# Starts N processes of the app (default: one per core) on 127.0.0.1:BASE..BASE+N-1 under
# scripts/watchdog.py (restarts a process that dies or stops answering health), and nginx
# (Debian's package; installed with apt-get when missing, as root) on PORT in front of them.
# Sticky sessions: nginx gives each browser a random `st_route` cookie on its first request
# and hashes it to pick the process, so the page, its websocket, reconnects and media/download
# URLs of one browser all reach the same process; a websocket client without the cookie is
# pinned to one process for its connection's life. Logs and nginx's config: data/logs, data/run.
# Ctrl-C or SIGTERM stops nginx and every app process.
set -euo pipefail
cd "$(dirname "$0")/.."
procs=$(nproc); port=8080; base=8601
while [ $# -gt 0 ]; do
  case "$1" in
    --procs) procs=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --base-port) base=$2; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing nginx with apt-get"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null \
      || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null
  else
    echo "nginx is missing: run as root or apt-get install nginx" >&2; exit 1
  fi
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

run=$PWD/data/run; logs=$PWD/data/logs
mkdir -p "$run" "$logs"
ports=""; servers=""
for i in $(seq 0 $((procs - 1))); do
  p=$((base + i)); ports="$ports${ports:+,}$p"
  servers="$servers    server 127.0.0.1:$p max_fails=0;\n"
done

cat > "$run/nginx.conf" <<EOF
# written by scripts/serve_prod.sh; edit the script, not this file
worker_processes 1;
pid $run/nginx.pid;
error_log $logs/nginx-error.log warn;
events { worker_connections 4096; }
http {
  access_log $logs/nginx-access.log;
  client_body_temp_path $run/body; proxy_temp_path $run/proxy;
  fastcgi_temp_path $run/fastcgi; uwsgi_temp_path $run/uwsgi; scgi_temp_path $run/scgi;
  map \$http_upgrade \$connection_upgrade { default upgrade; '' close; }
  # sticky: the browser's st_route cookie, or a fresh random key that becomes its cookie
  map \$cookie_st_route \$st_route { '' \$request_id; default \$cookie_st_route; }
  map \$cookie_st_route \$st_set_cookie { '' "st_route=\$request_id; Path=/; HttpOnly; SameSite=Lax"; default ''; }
  upstream streamlit {
    hash \$st_route consistent;
$(printf "%b" "$servers")  }
  server {
    listen $port;
    client_max_body_size 200m;
    location / {
      proxy_pass http://streamlit;
      proxy_http_version 1.1;
      proxy_set_header Host \$http_host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header Upgrade \$http_upgrade;
      proxy_set_header Connection \$connection_upgrade;
      proxy_read_timeout 1d; proxy_send_timeout 1d;
      proxy_buffering off;
      proxy_next_upstream error timeout http_502;   # a restarting process: try the next one
      add_header Set-Cookie \$st_set_cookie always;
    }
  }
}
EOF
"$NGINX" -t -c "$run/nginx.conf" -p "$run" 2>&1 | grep -v "^nginx: the configuration file" || true

python3 scripts/watchdog.py --ports "$ports" --log-dir "$logs" &
wd=$!
"$NGINX" -c "$run/nginx.conf" -p "$run" -g 'daemon off;' &
ngx=$!
cleanup() { trap - INT TERM EXIT; kill "$ngx" "$wd" 2>/dev/null || true; wait "$wd" 2>/dev/null || true; }
trap cleanup INT TERM EXIT
echo "serving http://0.0.0.0:$port with $procs app processes ($ports); logs in $logs"
wait $ngx
