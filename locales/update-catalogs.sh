#!/usr/bin/env bash
# Extract the messages from the code and merge them into the vi and en catalogs.
# Then translate the new entries in locales/vi/LC_MESSAGES/messages.po (tests fail on a missing one).
set -euo pipefail
cd "$(dirname "$0")/.."
pybabel extract -F babel.cfg -k t -k _p:2 -k N_ -k ParseError -k gettext -k ngettext:1,2 --no-location --sort-output \
  --project "tro-ly-bao-cao-cong-doan" -o locales/messages.pot .
for lang in vi en; do
  po="locales/$lang/LC_MESSAGES/messages.po"
  if [ -f "$po" ]; then
    pybabel update --no-fuzzy-matching --ignore-obsolete -i locales/messages.pot -d locales -l "$lang"
  else
    pybabel init -i locales/messages.pot -d locales -l "$lang"
  fi
done
