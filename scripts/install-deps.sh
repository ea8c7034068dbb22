#!/usr/bin/env bash
# Installs the system packages fetchq builds against, when they are missing (Debian/Ubuntu).
set -euo pipefail

missing=()
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
if command -v pkg-config >/dev/null 2>&1; then
    pkg-config --exists libmicrohttpd || missing+=(libmicrohttpd-dev)
    pkg-config --exists sqlite3 || missing+=(libsqlite3-dev)
    pkg-config --exists zlib || missing+=(zlib1g-dev)
    pkg-config --exists libbrotlidec libbrotlienc || missing+=(libbrotli-dev)
else
    missing+=(libmicrohttpd-dev libsqlite3-dev zlib1g-dev libbrotli-dev)
fi
for extra in "$@"; do
    dpkg -s "$extra" >/dev/null 2>&1 || missing+=("$extra")
done

if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    sudo_cmd=()
    [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi
