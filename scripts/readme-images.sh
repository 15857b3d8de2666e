#!/usr/bin/env bash
# The README's pictures, made from the demo book (never drawn by hand): page 1 of the
# Chinese quote and of the pipeline report, rendered by crmctl and rasterised by
# pdftoppm (poppler-utils, in the Makefile's DEBS). Run `make readme-images` after a
# change to the quote or report templates, and commit docs/images/.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH" CRMCTL_BOOK="$PWD"
export CRMCTL_NOW="${CRMCTL_NOW:-2026-11-27T10:00:00+08:00}"   # the demo's day, so the pictures do not change by themselves
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p docs/images
crmctl quote render 2ndtpn4c4ech --out "$tmp/quote-zh.pdf" >/dev/null
crmctl report pipeline --pdf "$tmp/pipeline.pdf" 2>/dev/null
for name in quote-zh pipeline; do
  pdftoppm -png -r 80 -f 1 -l 1 -singlefile "$tmp/$name.pdf" "docs/images/$name"
  echo "docs/images/$name.png"
done
