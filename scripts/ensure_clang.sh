#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs Clang and its sanitizer and libFuzzer runtimes (Debian packages) when they are missing.
# Sourced by scripts/test_sanitize.sh and scripts/fuzz.sh.
clang_packages=(clang libclang-rt-14-dev)
clang_missing=()
for pkg in "${clang_packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || clang_missing+=("$pkg")
done
if ((${#clang_missing[@]})) && command -v apt-get >/dev/null; then
  echo "installing Debian packages: ${clang_missing[*]}"
  clang_sudo=()
  [ "$(id -u)" -eq 0 ] || clang_sudo=(sudo)
  "${clang_sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${clang_sudo[@]}" apt-get install -y -qq --no-install-recommends "${clang_missing[@]}"
fi
