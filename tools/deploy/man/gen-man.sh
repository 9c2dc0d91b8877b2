#!/usr/bin/env bash
# gen-man.sh KPULSE OUT: the kpulse(8) man page, made by help2man from the
# binary's own `--help` and `--version`, plus one section per command from
# `kpulse help COMMAND` (the commands are those `--help` lists), so the
# page cannot drift from what the binary accepts. Static sections come from
# kpulse.h2m next to this script.
set -euo pipefail
kpulse=$(realpath "$1")
out=$2
here=$(cd "$(dirname "$0")" && pwd)
inc=$(mktemp)
trap 'rm -f "$inc"' EXIT

# roff-safe verbatim text: backslashes doubled as \e, a leading . or '
# protected by \&
verbatim() { sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"; }

cat "$here/kpulse.h2m" > "$inc"
printf '\n[COMMANDS]\n' >> "$inc"
cmds=$("$kpulse" --help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { on = 0 }')
[ -n "$cmds" ] || { echo "gen-man: no commands in '$kpulse --help'" >&2; exit 1; }
for c in $cmds; do
	case $c in help|version) continue ;; esac
	printf '.SS "kpulse %s"\n.nf\n' "$c" >> "$inc"
	"$kpulse" help "$c" | verbatim >> "$inc"
	printf '.fi\n' >> "$inc"
done
help2man --no-info --section=8 --source="kpulse" --manual="System Administration" \
	--name="per-container CPU, memory and latency from eBPF" \
	--include="$inc" --output="$out.tmp" "$kpulse"
mv "$out.tmp" "$out"
