# Strangers: what a key that no one admitted can make the scheduler hold,
# store and log. tests/tools/stranger connects with fresh keys and sends
# oversized frames or floods of Registers with a bad join token and a
# hostile name; the scheduler's memory (VmHWM), its event table and its log
# must grow by a bounded amount, and what the stranger chose must reach
# the operator escaped.

STRANGER="$BUILD/tests/tools/stranger"

# The join line without the helper's token: a stranger has none.
strangers_plain_join() { echo "${IT_JOIN%%\?token=*}"; }

# strangers_kb FIELD: the scheduler's VmHWM or VmRSS in kB.
strangers_kb() {
    awk -v f="$1:" '$1 == f { print $2 }' "/proc/$IT_SCHED_PID/status"
}

# strangers_accepted FP: true once key FP is accepted.
strangers_accepted() {
    "$SLUICE" keys list --dir "$IT_STATE" | awk -v fp="$1" \
        '$1 == fp && $3 ~ /^accepted/ { found = 1 } END { exit !found }'
}

# strangers_valid_json CMD...: CMD's output parses as JSON.
strangers_valid_json() {
    if command -v jq >/dev/null 2>&1; then
        "$@" | jq . >/dev/null
    else
        "$@" | python3 -m json.tool >/dev/null
    fi
}

# A frame past the 32 MiB limit is refused from its header: three of
# 40 MB from a stranger leave the scheduler's peak memory where it was.
t_strangers_oversized_frames_are_not_buffered() {
    it_cluster 0
    before=$(strangers_kb VmHWM)
    timeout 60 "$STRANGER" --join "$(strangers_plain_join)" \
        --frames 3 --size 40000000 >"$IT_DIR/stranger.out"
    cat "$IT_DIR/stranger.out"
    it_check "the scheduler is still up" kill -0 "$IT_SCHED_PID"
    it_check "it still answers" "$SLUICE" workers --dir "$IT_STATE"
    after=$(strangers_kb VmHWM)
    echo "scheduler VmHWM: $before kB before, $after kB after"
    it_check "its peak memory grew by less than 8 MB ($before -> $after kB)" \
        [ $((after - before)) -lt 8192 ]
}

# 20,000 Registers with a bad token and a name of control characters from
# one stranger: a bounded number of event rows and log lines, no raw
# control character in the log, and what the stranger chose shows escaped
# in `keys list` and `workers`, whose --json stays valid JSON.
t_strangers_bad_token_flood_is_bounded() {
    it_cluster 0
    token=$("$SLUICE" token create --dir "$IT_STATE" --uses 1 --ttl 1h)
    events=$(it_sql "SELECT count(*) FROM events")
    lines=$(wc -l <"$IT_DIR/scheduler.log")
    esc=$(printf '\033')
    name=$(printf 'w1\n2026-01-01T00:00:00.000Z info  [scheduler] forged\033[2J')
    host=$(printf 'h\033]0;pwned\007\tx')
    timeout 120 "$STRANGER" --join "$(strangers_plain_join)" \
        --register 20000 --name "$name" --hostname "$host" \
        --token sjt_0000000000000000000000000000000000000000000000000000000000000000 \
        --then-token "$token" >"$IT_DIR/stranger.out"
    cat "$IT_DIR/stranger.out"
    fp=$(awk '/^stranger: key/ { print $3 }' "$IT_DIR/stranger.out")
    it_check "the last Register (a good token) was read" \
        it_wait 60 strangers_accepted "$fp"
    grown=$(( $(it_sql "SELECT count(*) FROM events") - events ))
    logged=$(( $(wc -l <"$IT_DIR/scheduler.log") - lines ))
    echo "events +$grown, log lines +$logged"
    it_check "the event table grew by a few rows, not 20,000 ($grown)" \
        [ "$grown" -le 6 ]
    it_check "the log grew by a few lines, not 20,000 ($logged)" \
        [ "$logged" -le 12 ]
    it_check "the refusals (its name is checked first) are one event of this key" \
        [ "$(it_sql "SELECT count(*) FROM events WHERE kind='name_refused' AND subject='$fp'")" = 1 ]
    it_check "no line of the log holds a raw ESC" \
        sh -c "! grep -q '$esc' '$IT_DIR/scheduler.log'"
    it_check "no forged line starts in the log" \
        sh -c "! grep -q '^2026-01-01T00:00:00.000Z' '$IT_DIR/scheduler.log'"
    "$SLUICE" keys list --dir "$IT_STATE" >"$IT_DIR/keys.out"
    "$SLUICE" workers --dir "$IT_STATE" >"$IT_DIR/workers.out"
    cat "$IT_DIR/keys.out" "$IT_DIR/workers.out"
    for out in keys workers; do
        it_check "'$out' shows the host name escaped" \
            grep -qF 'h\x1b]0;pwned\x07\x09x' "$IT_DIR/$out.out"
        it_check "'$out' holds no raw ESC" \
            sh -c "! grep -q '$esc' '$IT_DIR/$out.out'"
    done
    it_check "keys list --json is valid JSON" \
        strangers_valid_json "$SLUICE" keys list --dir "$IT_STATE" --json
    it_check "workers --json is valid JSON" \
        strangers_valid_json "$SLUICE" workers --dir "$IT_STATE" --json
}
