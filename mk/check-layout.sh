#!/bin/sh
# make check-layout: the architecture's rules, checked rather than remembered
# (docs/architecture.md, "What may include what").
#
#   1. Includes go down only: common/ <- proto/ <- {scheduler/, worker/, cli/};
#      the two daemons and the client never include each other. Generated
#      proto headers count as proto/.
#   2. Only proto/ packs and unpacks wire messages: no *__pack, *__unpack or
#      *get_packed_size call in common/, scheduler/, worker/ or cli/.
#   3. No file is past the style guide's size: 1,500 lines a .c file, 80 a
#      function (from the line with its name to its closing brace).
#   4. No dependency cycles between modules. A module is one .c file; it
#      depends on another when it calls a function or uses a variable the
#      other defines (read from the objects with nm, so a cycle through a
#      shared internal header is found too).
#
# usage: sh mk/check-layout.sh OBJECT...   (the library's objects)
set -u
export LC_ALL=C

fail=0

# $1: folder; the rest: folders it may include from.
check_folder() {
    dir=$1
    shift
    allowed=$*
    for f in $(find "$dir" -name '*.[ch]' 2>/dev/null | sort); do
        grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" |
        while IFS= read -r line; do
            path=$(printf '%s\n' "$line" | sed 's/.*include[[:space:]]*"\([^"]*\)".*/\1/')
            top=${path%%/*}
            [ "$top" = "$path" ] && continue # a file beside it
            ok=0
            for a in $allowed; do
                [ "$top" = "$a" ] && ok=1
            done
            if [ $ok -eq 0 ]; then
                echo "check-layout: $f:${line%%:*}: $dir/ may not include" \
                     "\"$path\" (it may use: $allowed)"
            fi
        done
    done
}

out=$( {
    check_folder common common
    check_folder proto common proto
    check_folder scheduler common proto scheduler
    check_folder worker common proto worker
    check_folder cli common proto cli
} )
if [ -n "$out" ]; then
    printf '%s\n' "$out"
    fail=1
fi

packing=$(grep -rnE '[a-z_]__(pack|unpack|get_packed_size)\(|protobuf_c_message_(pack|unpack|get_packed_size)\(' \
    common scheduler worker cli sluice.c 2>/dev/null |
    sed 's/^\([^:]*:[0-9]*\):.*/check-layout: \1: packs or unpacks wire bytes outside proto\/ (use a proto\/ function)/')
if [ -n "$packing" ]; then
    printf '%s\n' "$packing"
    fail=1
fi

# Sizes: a function starts at a line beginning with its name and "(" (the
# return type is on the line above) and ends at the first "}" in column 1.
sizes=$(for f in $(find common proto scheduler worker cli -name '*.c' | sort); do
    awk -v f="$f" 'FNR == 1501 { print "check-layout: " f ": over 1500 lines;" \
                       " split it into modules" }
        /^[a-z_][a-z_0-9]*\(/ { name = $0; sub(/\(.*/, "", name); start = FNR }
        /^}/ && start { if (FNR - start > 80) print "check-layout: " f ":" \
                            start ": " name "() is " FNR - start " lines" \
                            " (at most 80)"; start = 0 }' "$f"
done)
if [ -n "$sizes" ]; then
    printf '%s\n' "$sizes"
    fail=1
fi

# Module dependency graph from the objects: "user definer" pairs, then
# tsort, which names the members of any loop it finds.
if [ $# -gt 0 ]; then
    defs=$(mktemp) uses=$(mktemp) edges=$(mktemp)
    for o in "$@"; do
        case $o in */gen/*) continue ;; esac
        m=${o#*/*/}          # build/release/common/dag.o -> common/dag.o
        m=${m%.o}
        nm --defined-only -g "$o" | awk -v m="$m" 'NF == 3 { print $3, m }'
    done | sort -u >"$defs"
    for o in "$@"; do
        case $o in */gen/*) continue ;; esac
        m=${o#*/*/}
        m=${m%.o}
        nm -u "$o" | awk -v m="$m" '{ print $NF, m }'
    done | sort -u >"$uses"
    join "$uses" "$defs" | awk '$2 != $3 { print $2, $3 }' | sort -u >"$edges"
    loops=$(tsort "$edges" 2>&1 >/dev/null | grep -v 'input contains a loop')
    if [ -n "$loops" ]; then
        echo "check-layout: modules that depend on each other in a loop" \
             "(move what both need into a module below them):"
        # Two-module loops by name; longer loops as tsort found them.
        pairs=$(awk '{ e[$1 " " $2] = 1 } END { for (k in e) {
                    split(k, p, " "); if ((p[2] " " p[1]) in e && p[1] < p[2])
                        print "  " p[1] " <-> " p[2] } }' "$edges" | sort)
        if [ -n "$pairs" ]; then
            printf '%s\n' "$pairs"
        else
            printf '%s\n' "$loops" | sed 's/^tsort: //' | tr '\n' ' ' |
                sed 's/^/  loop: /; s/ $/\n/'
        fi
        fail=1
    fi
    rm -f "$defs" "$uses" "$edges"
fi

[ $fail -eq 0 ] && echo "check-layout: includes follow the layout, no module loops"
exit $fail
