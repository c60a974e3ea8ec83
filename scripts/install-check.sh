#!/usr/bin/env bash
# make install-check: `make install` and `make install-debug` into scratch roots
# (PREFIX=/usr/local, DESTDIR=a temporary directory), then `make uninstall`.
#
# - every file docs/install.md lists is installed;
# - the binaries and the shared library carry no debug info and no symbol table
#   (strip --strip-unneeded), the static library no debug info (strip --strip-debug);
# - they still work: the shared library exports the API, the command runs, and the
#   README's host (examples_c/minimal_host.c) builds against the installed header with
#   the shared and with the static library, and runs;
# - install-debug adds one .debug file per stripped binary and library, with the debug
#   info, the same build id, and named by the stripped file's .gnu_debuglink, plus the
#   static library with its debug info;
# - uninstall removes every file again.
#
# Called by the Makefile with MAKE, VERSION and SOMAJOR set.
set -euo pipefail
cd "$(dirname "$0")/.."
MAKE=${MAKE:-make}
: "${VERSION:?}" "${SOMAJOR:?}"
prefix=/usr/local
elf=(bin/mtalog bin/mtalog_ctl "lib/libmtalog.so.$VERSION")
files=("${elf[@]}" "lib/libmtalog.so.$SOMAJOR" lib/libmtalog.so lib/libmtalog.a
       include/mtalog.h lib/pkgconfig/mtalog.pc)
debug=(lib/debug/usr/local/bin/mtalog.debug lib/debug/usr/local/bin/mtalog_ctl.debug
       "lib/debug/usr/local/lib/libmtalog.so.$VERSION.debug" lib/debug/usr/local/lib/libmtalog.a)

fail() { echo "make install-check: $*" >&2; exit 1; }
# (grep -c reads all of its input: grep -q would stop readelf early, and pipefail fails then)
has_section() { [ "$(readelf -S --wide "$1" 2>/dev/null | grep -c " $2 ")" -gt 0 ]; }
build_id() { readelf -n "$1" 2>/dev/null | sed -n 's/.*Build ID: //p'; }

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

check_stripped() {
  local top=$1 f
  for f in "${files[@]}"; do
    [ -e "$top/$f" ] || fail "$f missing"
  done
  for f in "${elf[@]}"; do
    ! has_section "$top/$f" .debug_info || fail "$f has debug info (not stripped)"
    ! has_section "$top/$f" .symtab || fail "$f has a symbol table (not stripped)"
  done
  ! has_section "$top/lib/libmtalog.a" .debug_info || fail "lib/libmtalog.a has debug info"
  [ "$(nm -D --defined-only "$top/lib/libmtalog.so.$VERSION" | grep -c ' mtalog_new$')" = 1 ] ||
    fail "lib/libmtalog.so.$VERSION does not export mtalog_new"
  "$top/bin/mtalog" check /dev/null >/dev/null 2>&1 || fail "bin/mtalog does not run"
  local rc=0
  "$top/bin/mtalog_ctl" >/dev/null 2>&1 || rc=$?
  [ $rc -eq 2 ] || fail "bin/mtalog_ctl does not run (usage: exit status $rc, expected 2)"
  local cc=${CC:-cc} out=$scratch/host
  mkdir -p "$out"
  "$cc" -std=c11 -Wall -Werror -I"$top/include" -o "$out/shared" examples_c/minimal_host.c \
    -L"$top/lib" -lmtalog || fail "the host does not build with the installed shared library"
  "$cc" -std=c11 -Wall -Werror -I"$top/include" -o "$out/static" examples_c/minimal_host.c \
    "$top/lib/libmtalog.a" -lpthread -ldl -lm ||
    fail "the host does not build with the installed static library"
  (cd "$out" && LD_LIBRARY_PATH="$top/lib" ./shared && ./static) ||
    fail "the host built against the installed files fails"
  [ "$(grep -c '@D@' "$out/mainlog.ec")" = 2 ] || fail "the host's deliveries are not in mainlog.ec"
  rm -rf "$out"
}

uninstall() {
  local root=$1 left
  $MAKE -s uninstall PREFIX=$prefix DESTDIR="$root" >/dev/null
  left=$(find "$root" ! -type d)
  [ -z "$left" ] || fail "make uninstall left: $left"
}

root=$scratch/install
$MAKE -s install PREFIX=$prefix DESTDIR="$root" >/dev/null
check_stripped "$root$prefix"
for f in "${debug[@]}"; do
  [ ! -e "$root$prefix/$f" ] || fail "make install installed $f (that is install-debug's)"
done
echo "make install: $(du -sh "$root$prefix" | cut -f1) in $prefix;" \
  "lib/libmtalog.so.$VERSION $(du -h "$root$prefix/lib/libmtalog.so.$VERSION" | cut -f1)," \
  "lib/libmtalog.a $(du -h "$root$prefix/lib/libmtalog.a" | cut -f1)"
uninstall "$root"

root=$scratch/install-debug
$MAKE -s install-debug PREFIX=$prefix DESTDIR="$root" >/dev/null
check_stripped "$root$prefix"
for f in "${debug[@]}"; do
  [ -e "$root$prefix/$f" ] || fail "make install-debug: $f missing"
  has_section "$root$prefix/$f" .debug_info || fail "$f has no debug info"
done
for f in "${elf[@]}"; do
  d=$root$prefix/lib/debug$prefix/$f.debug
  link=$(readelf --string-dump=.gnu_debuglink "$root$prefix/$f" | sed -n 's/.*\]  //p' | head -1)
  [ "$link" = "$(basename "$d")" ] || fail "$f names '$link' as its debug file"
  id=$(build_id "$root$prefix/$f")
  [ -n "$id" ] && [ "$id" = "$(build_id "$d")" ] ||
    fail "$f and its debug file have different build ids"
done
echo "make install-debug: $(du -sh "$root$prefix/lib/debug" | cut -f1) of debug files in $prefix/lib/debug"
uninstall "$root"
