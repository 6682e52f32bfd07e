#!/usr/bin/env bash
# Build the Debian benchmark corpus for nmf-topics.
#
# One plain-text document per binary package, grouped by archive section:
#
#     OUT/<section>/<package>.txt
#
# The text is the package's English description (synopsis line, blank line,
# long description), taken from the Translation-en indexes that apt keeps under
# /var/lib/apt/lists/, with the Description field of `apt-cache dumpavail` as a
# fallback. The section comes from `apt-cache dumpavail` with any area prefix
# (contrib/, non-free/, non-free-firmware/) removed.
#
# Usage: corpora/debian/build.sh [OUT]     (default: <repo>/data/debian)
#
# Needs: apt (Debian or Ubuntu), python3, root or sudo for `apt-get update`.
set -euo pipefail

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd "$script_dir/../.." && pwd)
out=${1:-$repo_root/data/debian}

for tool in apt-get apt-cache python3; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "build.sh: '$tool' not found; this script needs a Debian-based system with python3" >&2
        exit 1
    fi
done

# Refuse to clobber a folder this script did not create.
marker=.nmf-topics-debian-corpus
if [ -d "$out" ] && [ -n "$(ls -A "$out" 2>/dev/null)" ] && [ ! -e "$out/$marker" ]; then
    echo "build.sh: $out exists, is not empty and was not made by this script; choose another folder" >&2
    exit 1
fi

# Refresh the package lists, asking apt for the English translation indexes
# (many container images set Acquire::Languages "none").
apt_opts=(-o Acquire::Languages=en)
if [ "$(id -u)" -eq 0 ]; then
    apt-get update "${apt_opts[@]}" >&2
elif command -v sudo >/dev/null 2>&1; then
    sudo apt-get update "${apt_opts[@]}" >&2
else
    echo "build.sh: not root and sudo is not available, so 'apt-get update' cannot run." >&2
    echo "build.sh: run 'apt-get update -o Acquire::Languages=en' as root, then rerun this script;" >&2
    echo "build.sh: continuing with the package lists already on disk." >&2
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Decompress every Translation-en index (apt may store them as .lz4, .gz, ...).
: > "$tmp/translations"
n_trans=0
while IFS= read -r f; do
    [ -n "$f" ] && [ -e "$f" ] || continue
    /usr/lib/apt/apt-helper cat-file "$f" >> "$tmp/translations"
    printf '\n' >> "$tmp/translations"
    n_trans=$((n_trans + 1))
done < <(apt-get "${apt_opts[@]}" indextargets --format '$(FILENAME)' \
             'Created-By: Translations' 'Language: en' 2>/dev/null | sort -u)
if [ "$n_trans" -eq 0 ]; then
    echo "build.sh: no Translation-en index found; falling back to apt-cache descriptions" >&2
fi

apt-cache dumpavail > "$tmp/dumpavail"

rm -rf "$out"
mkdir -p "$out"
: > "$out/$marker"

python3 - "$tmp/translations" "$tmp/dumpavail" "$out" <<'PY'
import os
import sys

trans_path, avail_path, out = sys.argv[1:4]


def stanzas(path):
    """Yield deb822 stanzas as dicts; continuation lines stay in the value."""
    with open(path, encoding="utf-8", errors="replace") as fh:
        fields, key = {}, None
        for line in fh:
            line = line.rstrip("\n")
            if not line.strip():
                if fields:
                    yield fields
                fields, key = {}, None
            elif line[0] in " \t":
                if key is not None:
                    fields[key] += "\n" + line
            else:
                key, _, value = line.partition(":")
                key = key.strip()
                fields[key] = value.strip()
        if fields:
            yield fields


def plain(description):
    """Turn a Description value into plain text: synopsis, blank line, body."""
    lines = description.split("\n")
    synopsis = lines[0].strip()
    body = []
    for raw in lines[1:]:
        line = raw[1:] if raw[:1] in (" ", "\t") else raw
        if line.strip() == ".":
            body.append("")
        else:
            body.append(line.rstrip())
    while body and not body[0]:
        body.pop(0)
    while body and not body[-1]:
        body.pop()
    text = synopsis
    if body:
        text += "\n\n" + "\n".join(body)
    return text.strip()


# Long descriptions from Translation-en, keyed by (package, md5) and by md5.
by_pkg_md5, by_md5 = {}, {}
for st in stanzas(trans_path):
    desc = st.get("Description-en")
    if not desc:
        continue
    md5 = st.get("Description-md5", "")
    by_pkg_md5.setdefault((st.get("Package", ""), md5), desc)
    if md5:
        by_md5.setdefault(md5, desc)

seen = set()
docs = words = empty = from_fallback = 0
sections = {}
for st in stanzas(avail_path):
    pkg = st.get("Package")
    if not pkg or pkg in seen:
        continue
    seen.add(pkg)
    md5 = st.get("Description-md5", "")
    desc = by_pkg_md5.get((pkg, md5)) or by_md5.get(md5) if md5 else None
    if not desc:
        desc = st.get("Description", "")
        from_fallback += 1 if desc else 0
    text = plain(desc) if desc else ""
    if not text:
        empty += 1
        continue
    section = st.get("Section", "").strip() or "unknown"
    section = section.rsplit("/", 1)[-1] or "unknown"
    section = "".join(c if c.isalnum() or c in "+-._" else "_" for c in section)
    name = pkg.replace("/", "_")
    folder = os.path.join(out, section)
    if section not in sections:
        os.makedirs(folder, exist_ok=True)
        sections[section] = 0
    with open(os.path.join(folder, name + ".txt"), "w", encoding="utf-8") as fh:
        fh.write(text + "\n")
    sections[section] += 1
    docs += 1
    words += len(text.split())

print(f"output:     {out}")
print(f"documents:  {docs}")
print(f"sections:   {len(sections)}")
print(f"words:      {words}")
print(f"skipped:    {empty} packages with an empty description")
print(f"fallback:   {from_fallback} descriptions taken from apt-cache (no Translation-en entry)")
top = sorted(sections.items(), key=lambda kv: -kv[1])[:10]
print("largest sections: " + ", ".join(f"{s} ({n})" for s, n in top))
PY
