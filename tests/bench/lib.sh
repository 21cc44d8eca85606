# lib.sh: what the bench scripts share; sourced by bench.sh and
# bench_scale.sh (POSIX sh).

# A free TCP port on this machine, other than $P1 (the one picked first).
free_port() {
    used=$(ss -Htan 2>/dev/null | awk '{ n = split($4, a, ":"); print a[n] }')
    for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
        p=$(awk -v s="$$$(date +%N)" 'BEGIN { srand(s); print 20000 + int(rand() * 12000) }')
        if ! echo "$used" | grep -qx "$p" && [ "$p" != "${P1:-}" ]; then
            echo "$p"
            return 0
        fi
    done
    return 1
}

# CPU seconds (utime + stime) of process $1 so far. The command name in
# field 2 may hold spaces, so count fields after its closing parenthesis.
proc_cpu_s() {
    sed 's/.*) //' "/proc/$1/stat" 2>/dev/null |
        awk -v hz="$(getconf CLK_TCK)" '{ printf "%.4f\n", ($12 + $13) / hz }'
}
