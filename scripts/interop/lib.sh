# What the interop scripts share: a scratch folder removed on exit (with the simulator they
# started), a package from the npm registry unpacked into it, and `sunbridge simulate` started
# on a free loopback port. Source it after setting `bin`.
work="$(mktemp -d)"
sim_pid=""
cleanup() {
  [[ -n "$sim_pid" ]] && kill "$sim_pid" 2>/dev/null && wait "$sim_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
command -v npm >/dev/null || { echo "npm is missing: apt-get install npm" >&2; exit 1; }

# npm_unpack NAME@VERSION: the package's files in $work/package.
npm_unpack() {
  (cd "$work" && npm pack --silent "$1" >/dev/null && tar xzf ./*.tgz)
}

# start_sim VENDOR ARGS...: runs `sunbridge simulate` in the background; sets $port.
start_sim() {
  "$bin" simulate "$@" --listen 127.0.0.1:0 >"$work/sim.out" &
  sim_pid=$!
  for _ in $(seq 50); do grep -q "^listening on" "$work/sim.out" 2>/dev/null && break; sleep 0.1; done
  port="$(sed -n 's|^listening on http://127.0.0.1:\([0-9]*\)$|\1|p' "$work/sim.out")"
  [[ -n "$port" ]] || { echo "the simulator did not start:" >&2; cat "$work/sim.out" >&2; exit 1; }
}
