#!/usr/bin/env bash
# Fetches the Prometheus parts the tests run (prometheus, promtool, prometheus-pushgateway,
# alertmanager, amtool) from Debian unstable, whose versions follow upstream closely, and unpacks
# them into .cache/debian-unstable/root; test/helpers/binaries.ts puts its usr/bin first on PATH.
# With a suite as argument (`trixie`), the packages of scripts/debian-<suite>.versions from that
# suite instead, into .cache/debian-<suite>/root (the Python consumer test's typing-extensions).
# apt uses a configuration of its own under .cache (the machine's apt setup is untouched), with the
# archive taken from the machine's own Debian sources. Wanted versions live in
# scripts/debian-unstable.versions; one that has left the archive is replaced by the newest there is.
set -euo pipefail
root_dir="$(cd "$(dirname "$0")/.." && pwd)"
suite="${1:-sid}"
name="$([ "$suite" = sid ] && echo unstable || echo "$suite")"
cache="${BATCH_MONITORING_BIN_CACHE:-$root_dir/.cache/debian-$name}"
[ $# -eq 0 ] || cache="$root_dir/.cache/debian-$name"
versions_file="$root_dir/scripts/debian-$name.versions"

archive_uri() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -e "$f" ] || continue
    # The first deb822 stanza that serves Debian's main archive (not the security one).
    awk 'BEGIN{RS=""} /Suites:[^\n]*(bookworm|trixie|sid|stable|testing|unstable)([ \n]|$)/ && !/security/ {
           for (i = 1; i <= NF; i++) if ($i == "URIs:") { print $(i+1); exit }
         }' "$f"
  done
  if [ -e /etc/apt/sources.list ]; then
    awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; exit } }' /etc/apt/sources.list
  fi
}
uri="$(archive_uri | head -1)"
[ -n "$uri" ] || { echo "no Debian archive found in /etc/apt/sources.list(.d): cannot fetch Debian unstable packages" >&2; exit 1; }

mkdir -p "$cache/apt/lists/partial" "$cache/apt/cache/archives/partial" "$cache/debs" "$cache/root"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $suite main" > "$cache/apt/sources.list"
apt_opts=(
  -o "Dir::Etc::SourceList=$cache/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
  -o "Dir::State::Lists=$cache/apt/lists" -o "Dir::Cache=$cache/apt/cache"
  -o Dir::State::status=/dev/null -o APT::Architecture=amd64 -o Debug::NoLocking=1 -o APT::Sandbox::User=root
)
apt-get -qq "${apt_opts[@]}" update

ran=()
while read -r pkg want; do
  case "$pkg" in ''|'#'*) continue ;; esac
  have="$(apt-cache "${apt_opts[@]}" madison "$pkg" | awk -v w="$want" '$3 == w { print $3; exit }')"
  if [ -z "$have" ]; then
    have="$(apt-cache "${apt_opts[@]}" policy "$pkg" | awk '/Candidate:/ { print $2 }')"
    [ -n "$have" ] && [ "$have" != "(none)" ] || { echo "$pkg is not in Debian $name" >&2; exit 1; }
    echo "note: $pkg $want has left Debian $name; using $have (update scripts/debian-$name.versions)" >&2
  fi
  # amd64, or all for an architecture-independent package (Python, scripts).
  deb="$(find "$cache/debs" -name "${pkg}_${have//:/%3a}_*.deb" | head -1)"
  if [ ! -s "$deb" ]; then
    rm -f "$cache/debs/${pkg}_"*.deb
    (cd "$cache/debs" && apt-get -qq "${apt_opts[@]}" download "$pkg=$have")
    deb="$(find "$cache/debs" -name "${pkg}_${have//:/%3a}_*.deb" | head -1)"
  fi
  dpkg-deb -x "$deb" "$cache/root"
  ran+=("$pkg $have")
done < "$versions_file"

printf 'Debian %s packages in %s:\n' "$name" "$cache/root"
printf '  %s\n' "${ran[@]}"
