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
# the demo's deals and payments were made as of 2026-11-27; report on that day
export CRMCTL_NOW="${CRMCTL_NOW:-2026-11-27T10:00:00+08:00}"
step crmctl lead list --where owner= --where status=new
step crmctl whois "+86 138-0013-8000"
step crmctl lead recycle --dry-run
step crmctl opp list --sort stage
step crmctl order list
step crmctl report pipeline
step crmctl report pipeline --as-of 2026-08-31
step crmctl report funnel
step crmctl report forecast
step crmctl report receivables
step crmctl report pipeline --pdf out/pipeline.pdf
step crmctl report receivables --pdf out/receivables.pdf
unset CRMCTL_NOW

# --- MCR demo ---

# --- SFE demo ---

# --- CPQ demo ---

echo; echo "demo done"
