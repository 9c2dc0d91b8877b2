#!/usr/bin/env bash
# build.sh: .output/kpulse_<version>_<arch>.deb with dpkg-deb, from the
# built ./kpulse and .output/man/kpulse.8 (`make deb` builds both first).
# Files: `make install` into a staging root (PREFIX=/usr, the unit in
# /lib/systemd/system), the man page gzipped, /etc/kpulse/kpulse.yaml a
# conffile; Depends from dpkg-shlibdeps; maintainer scripts next to this.
set -euo pipefail
cd "$(dirname "$0")/../../.."
here=tools/deploy/deb
out=.output/deb
version=$(./kpulse --version | awk '{ print $2 }')
arch=$(dpkg --print-architecture)
root=$out/root

rm -rf "$out"
make --no-print-directory install DESTDIR="$PWD/$root" PREFIX=/usr \
	UNITDIR=/lib/systemd/system SYSUSERSDIR=/usr/lib/sysusers.d SYSCONFDIR=/etc
gzip -9n "$root/usr/share/man/man8/kpulse.8"
install -Dm0644 README.md "$root/usr/share/doc/kpulse/README.md"

# shared-library dependencies, as dpkg-shlibdeps computes them for Debian
mkdir -p "$out/src/debian"
printf 'Source: kpulse\n\nPackage: kpulse\nArchitecture: any\n' > "$out/src/debian/control"
deps=$(cd "$out/src" && dpkg-shlibdeps -O -e"$PWD/../root/usr/bin/kpulse" 2>/dev/null |
	sed -n 's/^shlibs:Depends=//p')
[ -n "$deps" ] || { echo "deb: dpkg-shlibdeps found no dependencies" >&2; exit 1; }

mkdir -p "$root/DEBIAN"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat > "$root/DEBIAN/control" <<CONTROL
Package: kpulse
Version: $version
Architecture: $arch
Maintainer: kpulse developers <kpulse@localhost>
Installed-Size: $size
Depends: $deps
Recommends: systemd
Section: admin
Priority: optional
Description: per-container CPU, memory and latency from eBPF
 kpulse loads BPF programs on scheduler, memory-reclaim, OOM and TCP
 tracepoints and serves per-container CPU, run-queue latency, reclaim
 stalls, OOM kills, PSI, TCP and request latency as Prometheus metrics, a
 JSON API and a web dashboard; snapshot, top, latency, slow and check
 commands work at the terminal. Includes a systemd unit (Type=notify, runs
 as user kpulse with CAP_BPF and CAP_PERFMON only).
CONTROL
echo /etc/kpulse/kpulse.yaml > "$root/DEBIAN/conffiles"
install -m0755 "$here/postinst" "$here/prerm" "$here/postrm" "$root/DEBIAN/"

deb=.output/kpulse_${version}_${arch}.deb
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "deb: $deb"
