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
step crmctl account show saic-group --timeline 8
step crmctl account lifecycle
step crmctl report customers
step crmctl account merge saic-group saic-volkswagen-parts --dry-run
step crmctl contact export-vcf --account saic-pt-nanjing

# --- SFE demo ---

# --- CPQ demo ---

echo; echo "demo done"
