#!/usr/bin/env bash
# Install Debian's chromium for the real-browser tests (Playwright drives /usr/bin/chromium;
# `playwright install` cannot download its own browser here), plus a CJK font so Chinese labels
# render in the page, its screenshots and the exported PNG charts. Idempotent.
set -euo pipefail
need=()
[[ -x /usr/bin/chromium ]] || need+=(chromium)
[[ -d /usr/share/fonts/opentype/noto ]] && ls /usr/share/fonts/opentype/noto/NotoSansCJK* \
  >/dev/null 2>&1 || need+=(fonts-noto-cjk)
if [[ ${#need[@]} -eq 0 ]]; then
  echo "chromium present: $(/usr/bin/chromium --version 2>/dev/null || echo unknown)"
  exit 0
fi
sudo_=""
if [[ "$(id -u)" != "0" ]]; then sudo_="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo_ apt-get update -qq
$sudo_ apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
echo "installed ${need[*]}: $(/usr/bin/chromium --version 2>/dev/null || echo unknown)"
