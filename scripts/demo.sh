#!/usr/bin/env bash
# The main job on the demo book (this repository's root). Reads the book and
# renders into out/; it never commits to this repository.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH" CRMCTL_BOOK="$PWD"
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }
mkdir -p out
step crmctl doctor || true
step crmctl check
step crmctl user list
step crmctl account list --sort tier
step crmctl contact list --where account=saic-powertrain

# --- L2C demo ---

# --- MCR demo ---

# --- SFE demo ---
export CRMCTL_NOW="${CRMCTL_NOW:-2026-11-27T18:00:00+08:00}"   # the demo's quarter ends about here
step crmctl report sfe --period 2026-Q4
step crmctl visit list --rep li-na --week 2026-W49
step crmctl visit agenda --rep li-na --week 2026-W49
step crmctl visit plan --week 2026-W50 --dry-run
step crmctl visit calendar --rep li-na --week 2026-W49 --out out/li-na.ics
unset CRMCTL_NOW

# --- CPQ demo ---

echo; echo "demo done"
