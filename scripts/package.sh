#!/bin/sh
# Builds the Debian package spamsync_<version>_<arch>.deb from this checkout and prints its path
# as the last line. `npm run package` builds dist/ first and runs this; a test may run it on an
# existing dist/ with its own OUTDIR.
#
#   scripts/package.sh [OUTDIR]     (default OUTDIR: build/)
#
# The package holds the project's own Node.js (the real binary of the `node` devDependency,
# stripped), the bundled agent and CLI (dist/bundle, scripts/bundle.ts: what runs) and the
# production dependencies (npm ci --omit=dev from the lockfile, then pruned): the bundle loads
# only classic-level (LevelDB's native binding) from there, the rest are the sources and license
# files of what the bundle holds. All under /usr/lib/spamsync. Needs dpkg-deb and
# dpkg-shlibdeps (dpkg-dev); downloads nothing but npm packages (from npm's cache when there).
# DEBFULLNAME / DEBEMAIL name the maintainer (default: git's user.name / user.email).
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
outdir=${1:-$repo/build}
mkdir -p "$outdir"
outdir=$(cd "$outdir" && pwd)
cd "$repo"

say () { echo "package: $*"; }
fail () { echo "package: $*" >&2; exit 1; }

command -v dpkg-deb >/dev/null || fail "dpkg-deb is missing (apt-get install dpkg)"
command -v dpkg-shlibdeps >/dev/null || fail "dpkg-shlibdeps is missing (apt-get install dpkg-dev)"
[ -f dist/bundle/spamsync.js ] || fail "dist/bundle is not built: run npm run package (or npm run build first)"

arch=$(dpkg --print-architecture)
case $arch in
	amd64) nodearch=x64 ;;
	arm64) nodearch=arm64 ;;
	*) fail "no Node.js build of the node package for $arch" ;;
esac

# The `node` package's bin/node may be a shim; the binary is in its platform package.
node_pkg=
for d in "node_modules/node/node_modules/node-linux-$nodearch" "node_modules/node-linux-$nodearch"; do
	if [ -f "$d/bin/node" ]; then node_pkg=$d; break; fi
done
[ -n "$node_pkg" ] || fail "node_modules has no node-linux-$nodearch (run npm ci)"
node_bin=$node_pkg/bin/node
[ "$(head -c 4 "$node_bin" | od -An -c | tr -d ' ')" = '177ELF' ] || fail "$node_bin is not an ELF binary"

version=$("$node_bin" -p "require('./package.json').version")
deb=$outdir/spamsync_${version}_${arch}.deb

work=$(mktemp -d "${TMPDIR:-/tmp}/spamsync-package.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
root=$work/root
lib=$root/usr/lib/spamsync
umask 022
mkdir -p "$lib/bin" "$root/usr/bin" "$root/lib/systemd/system" "$root/etc/spamsync" \
	"$root/usr/share/doc/spamsync" "$root/DEBIAN"

say "production dependencies (npm ci --omit=dev)"
mkdir "$work/npm"
cp package.json package-lock.json "$work/npm/"
# Scripts off: the only native module (classic-level) ships prebuilt binaries.
(cd "$work/npm" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error) >&2
mv "$work/npm/node_modules" "$lib/node_modules"

say "pruning what does not run"
nm=$lib/node_modules
rm -rf "$nm/.package-lock.json" "$nm/.bin" "$nm/@types"
# Sources, maps and docs: Node strips no types inside node_modules, so .ts never runs.
find "$nm" -type f \( -name '*.ts' -o -name '*.mts' -o -name '*.cts' -o -name '*.map' \
	-o -iname '*.md' -o -iname '*.markdown' -o -name '*.tsbuildinfo' -o -name '.npmignore' \
	-o -name '.eslintrc*' -o -name '.prettierrc*' -o -name '.editorconfig' -o -name '.travis.yml' \
	-o -name '.gitattributes' -o -name '*.html' -o -name '*.sh' \) -delete
# Test, doc and example folders at a package's top.
find "$nm" -mindepth 2 -maxdepth 3 -type d \( -name test -o -name tests -o -name __tests__ \
	-o -name docs -o -name doc -o -name example -o -name examples -o -name bench -o -name benchmark \
	-o -name benchmarks -o -name .github -o -name .husky \) -exec sh -c 'for d; do [ -f "$d/../package.json" ] && rm -rf "$d"; done' sh {} +
# Native modules: the build's sources, and prebuilt binaries for other platforms and for musl.
for gyp in $(find "$nm" -name binding.gyp); do
	pkg=$(dirname "$gyp")
	rm -rf "$pkg/deps" "$pkg/binding.gyp" "$pkg"/*.cc "$pkg"/*.h
done
for pre in $(find "$nm" -type d -name prebuilds); do
	for p in "$pre"/*; do
		[ "$(basename "$p")" = "linux-$nodearch" ] || rm -rf "$p"
	done
	find "$pre" -name '*.musl.node' -delete
done
find "$nm" -type d -empty -delete
# Nothing in there is run directly (their `#!/usr/bin/env node` bins would want Debian's nodejs).
find "$nm" -type d -exec chmod 0755 {} +
find "$nm" -type f -exec chmod 0644 {} +

say "code and runtime"
# Not executable: /usr/bin/spamsync runs it on the package's node, never its #! line.
install -m 0644 bin/spamsync.js "$lib/bin/spamsync.js"
mkdir "$lib/dist"
tar -C dist --exclude='*.map' -cf - bundle | tar -C "$lib/dist" -xf -
# AGENT_VERSION is read from here, and "type": "module" makes the .js files ES modules.
"$node_bin" -e "
const p = require('./package.json')
const out = { name: p.name, version: p.version, description: p.description, type: p.type, license: p.license, private: true, dependencies: p.dependencies }
require('fs').writeFileSync(process.argv[1], JSON.stringify(out, null, 2) + '\n')
" "$lib/package.json"
strip --strip-unneeded --remove-section=.comment --remove-section=.note -o "$lib/bin/node" "$node_bin"
chmod 0755 "$lib/bin/node"
find "$nm" -name '*.node' -exec strip --strip-unneeded --remove-section=.comment --remove-section=.note {} +

cat > "$root/usr/bin/spamsync" <<'WRAPPER'
#!/bin/sh
# Runs spamsync on the Node.js that the package brings (found next to this script's real path,
# so an unpacked copy of the package runs too).
lib=$(dirname "$(readlink -f "$0")")/../lib/spamsync
exec "$lib/bin/node" "$lib/bin/spamsync.js" "$@"
WRAPPER
chmod 0755 "$root/usr/bin/spamsync"

install -m 0644 contrib/spamsync.service "$root/lib/systemd/system/spamsync.service"

# The conffile: init's starting config, written by the packaged runtime, with the data folder
# the unit may write. postinst makes the key and the settings folder next to it.
"$root/usr/bin/spamsync" init --dir "$work/init" --data-dir /var/lib/spamsync >/dev/null
install -m 0644 "$work/init/spamsync.json" "$root/etc/spamsync/spamsync.json"

say "documentation and control files"
maint_name=${DEBFULLNAME:-$(git config user.name 2>/dev/null || echo 'spamsync packager')}
maint_email=${DEBEMAIL:-$(git config user.email 2>/dev/null || echo 'spamsync@example.org')}
maintainer="$maint_name <$maint_email>"
# The last commit's time, so that a rebuild of the same checkout gives the same changelog.
epoch=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
doc=$root/usr/share/doc/spamsync
install -m 0644 README.md "$doc/README.md"
cat > "$work/changelog" <<EOF
spamsync ($version) unstable; urgency=medium

  * Built from the spamsync checkout at commit $commit.

 -- $maintainer  $(LC_ALL=C date -u -R -d "@$epoch")
EOF
gzip -9n < "$work/changelog" > "$doc/changelog.gz"
{
	year=$(date -u -d "@$epoch" +%Y)
	cat <<EOF
spamsync: keeps anti-spam settings identical across mail servers.

Copyright (C) $year the spamsync authors
License: MIT

 Permission is hereby granted, free of charge, to any person obtaining a copy of this software
 and associated documentation files (the "Software"), to deal in the Software without
 restriction, including without limitation the rights to use, copy, modify, merge, publish,
 distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the
 Software is furnished to do so, subject to the following conditions:
 .
 The above copyright notice and this permission notice shall be included in all copies or
 substantial portions of the Software.
 .
 THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING
 BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
 NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM,
 DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
 OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.

Bundled in /usr/lib/spamsync/node_modules (each with its license file there; the Apache
License 2.0 is in /usr/share/common-licenses/Apache-2.0):
EOF
	"$node_bin" -e "
const { readdirSync, readFileSync, existsSync } = require('fs')
const { join } = require('path')
const rows = []
const walk = (dir) => {
  for (const name of readdirSync(dir).sort()) {
    const pkg = join(dir, name)
    if (name.startsWith('@')) { walk(pkg); continue }
    const file = join(pkg, 'package.json')
    if (!existsSync(file)) continue
    const p = JSON.parse(readFileSync(file, 'utf8'))
    rows.push(' ' + p.name + ' ' + p.version + ': ' + (typeof p.license === 'string' ? p.license : JSON.stringify(p.license ?? 'see its files')))
    if (existsSync(join(pkg, 'node_modules'))) walk(join(pkg, 'node_modules'))
  }
}
walk(process.argv[1])
console.log(rows.join('\n'))
" "$nm"
	echo
	echo "Bundled as /usr/lib/spamsync/bin/node: Node.js $("$node_bin" -p process.versions.node) (MIT). Its license"
	echo "file, with the licenses of the libraries built into it, is /usr/share/doc/spamsync/LICENSE.node."
} > "$doc/copyright"
chmod 0644 "$doc/copyright"
install -m 0644 "$node_pkg/LICENSE" "$doc/LICENSE.node"
mkdir -p "$root/usr/share/lintian/overrides"
install -m 0644 contrib/debian/lintian-overrides "$root/usr/share/lintian/overrides/spamsync"

# Shared-library dependencies of the runtime and the native module, as dpkg-shlibdeps reads them.
mkdir -p "$work/shlibs/debian"
printf 'Source: spamsync\n\nPackage: spamsync\nArchitecture: any\n' > "$work/shlibs/debian/control"
shlibs=$(cd "$work/shlibs" && dpkg-shlibdeps -O "$lib/bin/node" $(find "$nm" -name '*.node') 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[ -n "$shlibs" ] || fail "dpkg-shlibdeps found no dependencies"

installed_size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat > "$root/DEBIAN/control" <<EOF
Package: spamsync
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $installed_size
Depends: $shlibs, adduser, init-system-helpers (>= 1.54~)
Section: mail
Priority: optional
Description: keeps anti-spam settings identical across mail servers
 spamsync is a peer-to-peer agent that keeps the whitelist, blacklist and
 auto-whitelist files and the SpamAssassin Bayes database of several mail
 servers identical: the agents find each other, elect a master, and a change
 made on any server reaches the others in well under a second.
 .
 The package brings its own Node.js runtime under /usr/lib/spamsync.
EOF
echo /etc/spamsync/spamsync.json > "$root/DEBIAN/conffiles"
install -m 0755 contrib/debian/postinst contrib/debian/prerm contrib/debian/postrm "$root/DEBIAN/"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\./||' | LC_ALL=C sort | xargs md5sum) > "$root/DEBIAN/md5sums"
chmod 0644 "$root/DEBIAN/control" "$root/DEBIAN/conffiles" "$root/DEBIAN/md5sums"

say "dpkg-deb (xz)"
rm -f "$deb"
# xz -1: 32 MB instead of -6's 28 MB, in a sixth of the time (the Node.js binary is most of it).
dpkg-deb --root-owner-group -Zxz -z1 --build "$root" "$deb" >&2
say "$(du -k "$deb" | cut -f1) KiB, installed $installed_size KiB"
echo "$deb"
