#!/usr/bin/env bash
# Makes sure a RabbitMQ answers at AMQP_URL: uses a running one, else starts (or installs) the local one.
set -euo pipefail
source "$(dirname "$0")/common.sh"

host="$(url_host "$AMQP_URL")"; port="$(url_port "$AMQP_URL" 5672)"
if port_open "$host" "$port"; then
  say "RabbitMQ answers at $host:$port"; exit 0
fi
case "$host" in 127.*|localhost|::1) ;; *) die "RabbitMQ at $host:$port does not answer, and it is not local: start it, or point AMQP_URL elsewhere";; esac

if ! command -v rabbitmq-server >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "rabbitmq-server is not installed: installing Debian's package"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rabbitmq-server >/dev/null
  else
    die "no RabbitMQ at $host:$port and rabbitmq-server is not installed. Install it (apt-get install rabbitmq-server), run one in Docker (docker run -p 5672:5672 rabbitmq:3.13), or set AMQP_URL."
  fi
fi
say "starting rabbitmq-server"
rabbitmq-server -detached >/dev/null 2>&1 || true
wait_port "$host" "$port" 90 || die "rabbitmq-server did not open $host:$port within 90 s (see /var/log/rabbitmq)"
# the port opens before the node is fully booted
command -v rabbitmqctl >/dev/null 2>&1 && timeout 60 rabbitmqctl await_startup >/dev/null 2>&1 || true
say "RabbitMQ answers at $host:$port"
