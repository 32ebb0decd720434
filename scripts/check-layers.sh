#!/usr/bin/env bash
# The layers of src/ and the includes each may make:
#
#   cli                                    everything below
#   engine, outputs                        engine: core net store and the vendors' driver parts;
#                                          outputs: core net store
#   vendors/<v> simulator part, vendor.cpp core net sim and its own vendor's files
#   vendors/<v> driver part                core net and its own vendor's driver files
#   sim, store                             sim: core net; store: core
#   net                                    core
#   core                                   nothing of ours
#
# A vendor never includes another vendor, and nothing below the engine includes it. Prints
# the include counts between layers, then every include that breaks a rule (file:line), and
# exits 1 if there is one.
#   scripts/check-layers.sh [--quiet] [SRC_DIR]
# --quiet prints only the broken includes (the build runs it so, before compiling anything).
set -uo pipefail
quiet=0
if [ "${1:-}" = "--quiet" ]; then
  quiet=1
  shift
fi
src=${1:-$(cd "$(dirname "$0")/../src" && pwd)}
cd "$src" || exit 2

# One awk pass over every include of ours. A vendor file is part of the simulator when its name
# says so; everything else of the vendor (wire, client, mapping, driver, their unit tests) is the
# driver part.
tmp=$(mktemp)
find . -name '*.cpp' -o -name '*.hpp' | sed 's#^\./##' | sort | xargs grep -Hno '^#include "[^"]*"' |
  sed 's/^\([^:]*\):\([0-9]*\):#include "\(.*\)"$/\1 \2 \3/' | while read -r file line target; do
  [ -e "$target" ] && echo "$file $line $target"  # else a system or third-party header
done | awk '
function layer(p,   parts, v, base) {
  split(p, parts, "/")
  if (parts[1] == "vendors") {
    base = parts[3]
    if (base ~ /^(simulator|sim_fixture|plant_model|channels|month_run|vendor\.)/ || base ~ /_simtest\.cpp$/)
      return "vendor:" parts[2] ":sim"
    return "vendor:" parts[2] ":driver"
  }
  return parts[1]
}
function allowed(from, to,   v) {
  if (from == to) return 1
  if (from == "core") return 0
  if (from == "net" || from == "store") return to == "core"
  if (from == "sim") return to == "core" || to == "net"
  if (from ~ /:driver$/) return to == "core" || to == "net"
  if (from ~ /:sim$/) {
    v = from; sub(/:sim$/, ":driver", v)
    return to == "core" || to == "net" || to == "sim" || to == v
  }
  if (from == "engine") return to == "core" || to == "net" || to == "store" || to ~ /:driver$/
  if (from == "outputs") return to == "core" || to == "net" || to == "store"
  return 1  # cli
}
function label(l) {
  if (l ~ /:driver$/) return "vendors/driver"
  if (l ~ /:sim$/) return "vendors/sim"
  return l
}
{
  from = layer($1); to = layer($3)
  if (from != to) count[label(from) " -> " label(to)]++
  if (!allowed(from, to)) {
    printf "%s:%s: includes \"%s\": %s may not include %s\n", $1, $2, $3, from, to > "/dev/stderr"
    broken = 1
  }
}
END {
  for (k in count) printf "  %-32s %d\n", k, count[k] | "sort"
  close("sort")
  exit broken
}' > "$tmp"
rc=$?
if [ $quiet -eq 0 ]; then
  echo "includes between layers (from -> to: count):"
  cat "$tmp"
fi
rm -f "$tmp"
if [ $rc -ne 0 ]; then
  echo "layering broken: see the includes above" >&2
  exit 1
fi
[ $quiet -eq 1 ] || echo "every include runs down"
