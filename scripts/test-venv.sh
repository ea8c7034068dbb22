#!/usr/bin/env bash
# Creates .build/test-venv with the Python packages the tests use (an independent implementation
# of Standard Webhooks to verify fetchq's signatures, Prometheus's text parser, and Selenium to
# drive Debian's chromium through chromium-driver for the dashboard). Idempotent.
set -euo pipefail
venv=.build/test-venv
if ! "$venv/bin/python" -c "import standardwebhooks, prometheus_client, selenium" >/dev/null 2>&1; then
    python3 -m venv "$venv" 2>/dev/null || { scripts/install-deps.sh python3-venv && python3 -m venv "$venv"; }
    "$venv/bin/pip" install --quiet --disable-pip-version-check "standardwebhooks==1.1.0" prometheus_client \
        "selenium==4.36.0"
fi
