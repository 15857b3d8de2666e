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
step crmctl report forecast --pdf out/forecast.pdf
# the book at any date: a copy of the demo book with eight weeks of history, in its own git repository
HISTORY="$(mktemp -d)"; trap 'rm -rf "$HISTORY"' EXIT
step python scripts/demo_history.py "$HISTORY/book"
step crmctl --book "$HISTORY/book" report pipeline --as-of 2026-10-15
step crmctl --book "$HISTORY/book" report changes --from 2026-10-01 --period 2026-Q4
step crmctl --book "$HISTORY/book" log 2ndtj4mm3vkw --fields --limit 2
step crmctl --book "$HISTORY/book" diff 2026-10-01 2026-11-27 opportunities
step crmctl --book "$HISTORY/book" report changes --from 2026-10-01 --period 2026-Q4 --pdf out/changes.pdf
unset CRMCTL_NOW
# batch import, dry run: checks every row against the demo book and writes nothing
step crmctl import leads examples/import/expo-leads.csv --mapping examples/import/expo-leads.yaml --dry-run

# --- MCR demo ---
step crmctl account show saic-group --timeline 8
step crmctl account lifecycle
step crmctl report customers
step crmctl report customers --pdf out/customers.pdf
step crmctl account merge saic-group saic-volkswagen-parts --dry-run
step crmctl contact export-vcf --account saic-pt-nanjing

# --- SFE demo ---
export CRMCTL_NOW="${CRMCTL_NOW:-2026-11-27T18:00:00+08:00}"   # the demo's quarter ends about here
step crmctl report sfe --period 2026-Q4
step crmctl report sfe --period 2026-Q4 --pdf out/sfe.pdf
step crmctl visit list --rep li-na --week 2026-W49
step crmctl visit agenda --rep li-na --week 2026-W49
step crmctl visit plan --week 2026-W50 --dry-run
step crmctl visit calendar --rep li-na --week 2026-W49 --out out/li-na.ics
unset CRMCTL_NOW

# --- CPQ demo ---
step crmctl product list
step crmctl price vmc-850 --option control=fanuc-31i --option magazine=atc40 --option spindle=s12k --qty 3 --account suzhou-precision --date 2026-11-20
step crmctl price bt40-holder-set --qty 60 --account suzhou-precision --date 2026-11-20
step crmctl quote list
step crmctl quote show 2ndtq0r1f8n1
step crmctl quote render 2ndtpn4c4ech --out out/QT-2026-0001-v1.zh-CN.pdf          # the Chinese quote
step crmctl quote render 2ndtpvn1c44n --lang en --out out/QT-2026-0002-v2.en.pdf

echo; echo "demo done"
