#!/usr/bin/env bash
# Extract the messages from the code and merge them into the vi and en catalogs.
# Then translate the new entries in locales/vi/LC_MESSAGES/messages.po (tests fail on a missing one).
set -euo pipefail
cd "$(dirname "$0")/.."
pybabel extract -F babel.cfg -k t -k _p:2 -k N_ -k ParseError -k gettext -k ngettext:1,2 --no-location --sort-output \
  --project "tro-ly-bao-cao-cong-doan" -o locales/messages.pot .
# The catalogs keep their line widths (vi 100, en Babel's 76), so an update shows only the entries that changed.
for lang in vi en; do
  po="locales/$lang/LC_MESSAGES/messages.po"
  width=76
  [ "$lang" = vi ] && width=100
  if [ -f "$po" ]; then
    pybabel update --no-fuzzy-matching --ignore-obsolete -w "$width" -i locales/messages.pot -d locales -l "$lang"
  else
    pybabel init -w "$width" -i locales/messages.pot -d locales -l "$lang"
  fi
done
