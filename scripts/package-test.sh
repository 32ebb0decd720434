#!/usr/bin/env bash
# The Debian package as an operator meets it (CTest "Package.InstallsUpgradesAndRemovesCleanly",
# docs/install.md): built from this build with cpack, lintian without errors, the systemd unit
# verified; then, as root with dpkg, installed on this machine: the user made, the example
# configuration root:sunbridge 0640 and valid for check-config, --version; an edited
# configuration kept across an upgrade and a removal; purge removing it but not the history
# unless SUNBRIDGE_PURGE_DATA=yes. Usage: scripts/package-test.sh BUILD_DIR
set -euo pipefail
build="$(cd "$1" && pwd)"
fail() { echo "FAIL $*" >&2; exit 1; }
ok() { echo "ok   $*"; }

cd "$build"
rm -f sunbridge_*.deb
cpack -G DEB > cpack.log 2>&1 || { cat cpack.log >&2; fail "cpack"; }
deb=$(ls sunbridge_*.deb)
ok "built $deb ($(du -h "$deb" | cut -f1))"

if command -v lintian >/dev/null; then
  lint=$(lintian --fail-on error "$deb" 2>&1 | grep -v 'running with root privileges' || true)
  echo "$lint" | grep -q '^E:' && { echo "$lint" >&2; fail "lintian reports errors"; }
  ok "lintian: no errors$( [ -n "$lint" ] && echo " ($(echo "$lint" | grep -c .) notes)")"
else
  echo "skip lintian: not installed"
fi

# The unit as systemd reads it, from the package (works where systemd does not run).
unpacked=$(mktemp -d)
trap 'rm -rf "$unpacked"' EXIT
dpkg-deb -x "$deb" "$unpacked"
unit="$unpacked/usr/lib/systemd/system/sunbridge.service"
[ -f "$unit" ] || fail "the package has no systemd unit"
for want in 'User=sunbridge' 'StateDirectory=sunbridge' 'ConfigurationDirectory=sunbridge' \
            'ProtectSystem=strict' 'NoNewPrivileges=yes' 'PrivateTmp=yes' 'CapabilityBoundingSet=' \
            'ExecReload=/bin/kill -HUP $MAINPID'; do
  grep -qxF "$want" "$unit" || fail "the unit lacks $want"
done
if command -v systemd-analyze >/dev/null; then
  # The unit names /usr/bin/sunbridge: verify it against the unpacked tree.
  sed "s|/usr/bin/sunbridge|$unpacked/usr/bin/sunbridge|g" "$unit" > "$unpacked/sunbridge.service"
  # --man=no: the man page is in the package, not installed yet.
  verify=$(systemd-analyze verify --man=no "$unpacked/sunbridge.service" 2>&1 || true)
  # Outside a booted system it may say so; anything about the unit itself is a failure.
  if echo "$verify" | grep -v -e 'System has not been booted' -e 'Failed to connect to bus' \
       -e '^$' | grep -q .; then
    echo "$verify" >&2
    fail "systemd-analyze verify"
  fi
  ok "systemd-analyze verify: clean"
fi

if [ "$(id -u)" -ne 0 ] || ! command -v dpkg >/dev/null; then
  echo "skip install: needs root and dpkg"
  exit 0
fi
if dpkg-query -W -f='${Status}' sunbridge 2>/dev/null | grep -q 'install ok'; then
  SUNBRIDGE_PURGE_DATA=no dpkg --purge sunbridge >/dev/null 2>&1 || true
fi

dpkg -i "$deb" > dpkg.log 2>&1 || { cat dpkg.log >&2; fail "dpkg -i"; }
ok "installed"
getent passwd sunbridge >/dev/null || fail "no system user sunbridge"
[ "$(stat -c '%U:%G %a' /etc/sunbridge/sunbridge.yaml)" = "root:sunbridge 640" ] ||
  fail "the configuration is $(stat -c '%U:%G %a' /etc/sunbridge/sunbridge.yaml), not root:sunbridge 640"
ok "user sunbridge, /etc/sunbridge/sunbridge.yaml root:sunbridge 0640"
/usr/bin/sunbridge --version | grep -q "^sunbridge " || fail "sunbridge --version"
ok "$(/usr/bin/sunbridge --version)"
/usr/bin/sunbridge check-config -c /etc/sunbridge/sunbridge.yaml > check.log 2>&1 ||
  { cat check.log >&2; fail "check-config on the installed example"; }
ok "check-config: $(cat check.log)"
man -w sunbridge >/dev/null 2>&1 && ok "man page"

# The owner edits the configuration; an upgrade (the same package again) keeps it.
echo "# edited by the owner" >> /etc/sunbridge/sunbridge.yaml
mkdir -p /var/lib/sunbridge && echo history > /var/lib/sunbridge/marker
dpkg -i "$deb" > dpkg.log 2>&1 || { cat dpkg.log >&2; fail "upgrade"; }
grep -q "edited by the owner" /etc/sunbridge/sunbridge.yaml || fail "the upgrade lost the edit"
ok "upgrade keeps the edited configuration"
dpkg -r sunbridge > dpkg.log 2>&1 || { cat dpkg.log >&2; fail "dpkg -r"; }
[ ! -e /usr/bin/sunbridge ] || fail "removal left the binary"
grep -q "edited by the owner" /etc/sunbridge/sunbridge.yaml || fail "removal lost the configuration"
[ -f /var/lib/sunbridge/marker ] || fail "removal lost the history"
ok "removal keeps the configuration and the history"
dpkg --purge sunbridge > dpkg.log 2>&1 || { cat dpkg.log >&2; fail "dpkg --purge"; }
[ ! -e /etc/sunbridge/sunbridge.yaml ] || fail "purge left the configuration"
[ -f /var/lib/sunbridge/marker ] || fail "purge removed the history without being asked"
ok "purge removes the configuration, keeps the history ($(grep -o 'the history in .* is kept' dpkg.log || echo said))"
dpkg -i "$deb" > dpkg.log 2>&1 && SUNBRIDGE_PURGE_DATA=yes dpkg --purge sunbridge > dpkg.log 2>&1 ||
  { cat dpkg.log >&2; fail "purge with SUNBRIDGE_PURGE_DATA=yes"; }
[ ! -e /var/lib/sunbridge ] || fail "SUNBRIDGE_PURGE_DATA=yes left /var/lib/sunbridge"
ok "SUNBRIDGE_PURGE_DATA=yes purge removes the history too"
