#!/bin/sh
# Installs the package that `npm run package` built on this (disposable) machine with apt-get, as
# an operator would, and checks what it made: /usr/bin/spamsync, the user, the folders, the key
# and the unit with their owners and modes, an agent started as the spamsync user, a reinstall
# that keeps key and config, remove keeping config, key and data, and purge leaving nothing.
#
#   scripts/ci-package-check.sh build/spamsync_<version>_<arch>.deb      (as root)
#
# Refuses to run where spamsync is installed or its user or folders exist: purge removes them.
set -eu

deb=${1:?usage: scripts/ci-package-check.sh PATH/spamsync_VERSION_ARCH.deb}
deb=$(cd "$(dirname "$deb")" && pwd)/$(basename "$deb")

fail () { echo "ci-package-check: FAIL: $*" >&2; exit 1; }
ok () { echo "ci-package-check: ok: $*"; }
# owner:group and octal mode of a path.
mode () { stat -c '%U:%G %a' "$1"; }
expect_mode () {
	[ -e "$1" ] || fail "$1 is missing"
	[ "$(mode "$1")" = "$2" ] || fail "$1 is $(mode "$1"), expected $2"
	ok "$1 $2"
}

[ "$(id -u)" = 0 ] || fail "needs root (it installs and purges a package)"
[ -f "$deb" ] || fail "no package at $deb"
if dpkg -s spamsync >/dev/null 2>&1 || getent passwd spamsync >/dev/null || [ -e /etc/spamsync ] || [ -e /var/lib/spamsync ]; then
	fail "spamsync is installed here already, or its user or folders exist: this check would purge them"
fi

tmp=$(mktemp -d)
agent=
cleanup () {
	[ -z "$agent" ] || kill "$agent" 2>/dev/null || true
	rm -rf "$tmp"
	# Leaves the machine as it found it, also when a check failed half-way.
	if dpkg -s spamsync >/dev/null 2>&1; then DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq spamsync >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT INT TERM

echo "ci-package-check: apt-get install $deb"
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$deb"

[ "$(command -v spamsync)" = /usr/bin/spamsync ] || fail "spamsync on the PATH is $(command -v spamsync || echo nothing)"
version=$(spamsync --version)
echo "$version" | grep -Eq '^spamsync [0-9]+\.[0-9]+\.[0-9]+ \(protocol [0-9]+, Node\.js 24\.[0-9.]+\)$' || fail "spamsync --version said: $version"
ok "$version"
spamsync init --dir "$tmp/init" >/dev/null || fail "spamsync init into a temp folder"
[ -s "$tmp/init/spamsync.json" ] && [ -s "$tmp/init/cluster.key" ] || fail "init wrote no config or key"
ok "spamsync init --dir $tmp/init"

# The system user and the folders postinst made.
user=$(getent passwd spamsync) || fail "no spamsync user"
uid=$(echo "$user" | cut -d: -f3)
[ "$uid" -lt 1000 ] || fail "spamsync is not a system user (uid $uid)"
[ "$(echo "$user" | cut -d: -f6)" = /var/lib/spamsync ] || fail "spamsync's home: $user"
case $(echo "$user" | cut -d: -f7) in */nologin|/bin/false) ;; *) fail "spamsync has a login shell: $user" ;; esac
getent group spamsync >/dev/null || fail "no spamsync group"
ok "system user $user"
expect_mode /var/lib/spamsync 'spamsync:spamsync 700'
expect_mode /etc/spamsync 'root:root 755'
expect_mode /etc/spamsync/spamsync.json 'root:root 644'
expect_mode /etc/spamsync/cluster.key 'spamsync:spamsync 600'
expect_mode /etc/spamsync/settings 'spamsync:spamsync 755'
for list in whitelist blacklist autowhitelist; do expect_mode "/etc/spamsync/settings/$list.txt" 'spamsync:spamsync 644'; done
expect_mode /lib/systemd/system/spamsync.service 'root:root 644'
expect_mode /usr/bin/spamsync 'root:root 755'
expect_mode /usr/lib/spamsync/bin/node 'root:root 755'
grep -q '"dataDir": "/var/lib/spamsync"' /etc/spamsync/spamsync.json || fail "the config's dataDir is not /var/lib/spamsync"
dpkg-query -W -f='${Conffiles}\n' spamsync | grep -q '^ /etc/spamsync/spamsync.json ' || fail "spamsync.json is not a conffile"
ok "/etc/spamsync/spamsync.json is a conffile"
# Installed, not started and not enabled: the operator copies the cluster key first.
[ ! -e /etc/systemd/system/multi-user.target.wants/spamsync.service ] || fail "the install enabled the service"
ok "the service is not enabled"

if [ -d /run/systemd/system ]; then
	systemctl is-active --quiet spamsync && fail "the install started the service"
	systemd-analyze verify /lib/systemd/system/spamsync.service || fail "systemd-analyze verify"
	ok "systemd-analyze verify (systemd is running here)"
elif command -v systemd-analyze >/dev/null; then
	# Without a running systemd the unit is still checked (syntax, user, ExecStart).
	systemd-analyze verify /lib/systemd/system/spamsync.service || fail "systemd-analyze verify"
	ok "systemd-analyze verify (systemd does not run here: the unit is checked, not started)"
else
	echo "ci-package-check: systemd-analyze is not installed: the unit is not verified"
fi

# The agent as the unit runs it: the spamsync user, the shipped config (loopback only here).
port=$(/usr/lib/spamsync/bin/node -e "const s = require('net').createServer().listen(0, '127.0.0.1', () => { console.log(s.address().port); s.close() })")
# setpriv execs (runuser would stay in between and turn SIGTERM into its own exit status).
setpriv --reuid=spamsync --regid=spamsync --init-groups spamsync start --config /etc/spamsync/spamsync.json --no-mdns \
	--listen /ip4/127.0.0.1/tcp/0 --http-port "$port" >"$tmp/agent.log" 2>&1 &
agent=$!
tries=0
until spamsync status --http-port "$port" >/dev/null 2>&1; do
	tries=$((tries + 1))
	kill -0 "$agent" 2>/dev/null || { cat "$tmp/agent.log" >&2; fail "the agent exited"; }
	[ "$tries" -lt 120 ] || { cat "$tmp/agent.log" >&2; fail "the agent does not answer on 127.0.0.1:$port"; }
	sleep 0.5
done
kill -TERM "$agent"
wait "$agent" || { cat "$tmp/agent.log" >&2; fail "the agent did not stop cleanly"; }
agent=
[ -n "$(ls -A /var/lib/spamsync)" ] || fail "the agent wrote nothing to /var/lib/spamsync"
ok "the agent ran as spamsync on the shipped config and stopped cleanly"

# A reinstall (the upgrade path) keeps the key and the config.
key=$(md5sum /etc/spamsync/cluster.key)
config=$(md5sum /etc/spamsync/spamsync.json)
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --reinstall "$deb" >/dev/null
[ "$(md5sum /etc/spamsync/cluster.key)" = "$key" ] || fail "the reinstall changed the cluster key"
[ "$(md5sum /etc/spamsync/spamsync.json)" = "$config" ] || fail "the reinstall changed the config"
ok "a reinstall keeps the key and the config"

DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq spamsync >/dev/null
[ ! -e /usr/bin/spamsync ] && [ ! -e /usr/lib/spamsync ] || fail "remove left the program"
for kept in /etc/spamsync/spamsync.json /etc/spamsync/cluster.key /etc/spamsync/settings/blacklist.txt /var/lib/spamsync; do
	[ -e "$kept" ] || fail "remove deleted $kept"
done
ok "remove keeps the config, the key, the settings and the data"

DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq spamsync >/dev/null
left=
for path in /etc/spamsync /var/lib/spamsync /usr/lib/spamsync /usr/bin/spamsync /usr/share/doc/spamsync \
	/lib/systemd/system/spamsync.service /etc/systemd/system/spamsync.service \
	/etc/systemd/system/multi-user.target.wants/spamsync.service /usr/share/lintian/overrides/spamsync; do
	if [ -e "$path" ] || [ -L "$path" ]; then left="$left $path"; fi
done
left="$left$(find /var/lib/systemd/deb-systemd-helper-enabled /var/lib/systemd/deb-systemd-helper-masked -name '*spamsync*' 2>/dev/null | sed 's/^/ /' | tr -d '\n')"
getent passwd spamsync >/dev/null && left="$left user:spamsync"
getent group spamsync >/dev/null && left="$left group:spamsync"
dpkg -s spamsync >/dev/null 2>&1 && left="$left dpkg-status"
[ -z "$left" ] || fail "purge left:$left"
ok "purge leaves nothing"
