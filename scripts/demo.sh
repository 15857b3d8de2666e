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
# batch import, dry run: checks every row against the demo book and writes nothing
step crmctl import leads examples/import/expo-leads.csv --mapping examples/import/expo-leads.yaml --dry-run

# --- MCR demo ---

# --- SFE demo ---

# --- CPQ demo ---

echo; echo "demo done"
