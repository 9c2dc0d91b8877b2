#!/usr/bin/env bash
# build.sh [KPULSE] [OUTDIR]: the kpulse container image, without a
# registry or a base image: the built binary, the shared libraries `ldd`
# says it loads (and their loader), a CA bundle for HTTPS alert receivers,
# and passwd/group entries for root. Writes OUTDIR/rootfs/ and
# OUTDIR/kpulse-image.tar (a root filesystem tarball); then, if a docker or
# podman engine answers (or IMAGE_IMPORT names one), imports it as
# kpulse:<version> with the entrypoint and port set (`docker import`).
# Defaults: ./kpulse, .output/image. IMAGE_IMPORT=none skips the import.
set -euo pipefail
kpulse=$(realpath "${1:-kpulse}")
out=$(realpath -m "${2:-.output/image}")
root=$out/rootfs
version=$("$kpulse" --version | awk '{ print $2 }')
tag=${IMAGE_TAG:-kpulse:$version}

rm -rf "$root"
mkdir -p "$root"/{usr/bin,etc/kpulse,etc/ssl/certs,proc,sys,dev,tmp}
install -m 0755 "$kpulse" "$root/usr/bin/kpulse"

# every library the binary loads, at the path the loader looks for it,
# plus the loader itself (the "=> /path" and the bare "/lib64/ld-..." lines)
ldd "$kpulse" | awk '/=> \// { print $3 } /^\t\// { print $1 }' | while read -r lib; do
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done
# merged-/usr hosts resolve /lib64 through a symlink: keep that shape
for l in /lib /lib64; do
	if [ -L "$l" ] && [ -d "$root$l" ] && [ ! -d "$root/usr$l" ]; then
		mkdir -p "$root/usr"
		mv "$root$l" "$root/usr$l"
		ln -s "usr$l" "$root$l"
	fi
done
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
	cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
fi
echo 'root:x:0:0:root:/:/usr/bin/kpulse' > "$root/etc/passwd"
echo 'root:x:0:' > "$root/etc/group"
chmod 1777 "$root/tmp"

tar --numeric-owner --owner=0 --group=0 -C "$root" -cf "$out/kpulse-image.tar" .
echo "image: rootfs $root, tarball $out/kpulse-image.tar ($(du -sh "$out/kpulse-image.tar" | cut -f1))"

engine=${IMAGE_IMPORT:-}
if [ -z "$engine" ]; then
	for e in docker podman; do
		if command -v "$e" >/dev/null && "$e" info >/dev/null 2>&1; then
			engine=$e
			break
		fi
	done
fi
if [ -n "$engine" ] && [ "$engine" != none ]; then
	"$engine" import \
		--change 'ENTRYPOINT ["/usr/bin/kpulse"]' \
		--change 'CMD ["daemon"]' \
		--change 'EXPOSE 9477' \
		--change 'LABEL org.opencontainers.image.title=kpulse' \
		--change "LABEL org.opencontainers.image.version=$version" \
		"$out/kpulse-image.tar" "$tag"
	echo "image: imported as $tag ($engine)"
fi
