# Alerts: a failing task POSTs one signed webhook to a local receiver, also
# when the receiver refuses for its first 5 s and the scheduler restarts in
# between; a command target gets the event on stdin; routes to an unknown
# target are refused at apply; `alerts list` shows the deliveries; a task
# past its sla or its run's deadline is alerted once and not killed; an
# interval whose run has not succeeded by expect's success_by alerts.

IT_SINK="$PWD/${BUILD:-build/release}/tests/tools/http_sink"

# it_alerts_config PORT: alert targets appended to the scheduler's config,
# then a restart so it reads them.
it_alerts_config() {
    cat >>"$IT_STATE/config.yaml" <<YAML
alert_targets:
  ops:
    kind: webhook
    url: http://127.0.0.1:$1/hook
    secret: s3cret-key
    timeout: 5s
  mail:
    kind: command
    command: [sh, -c, 'cat >>$IT_DIR/mail.json; echo >>$IT_DIR/mail.json']
    timeout: 5s
YAML
    it_stop "$IT_SCHED_PID"
    it_start_scheduler --heartbeat-ms 300 || return 1
    it_wait 15 it_connected 1
}

it_bodies() { ls "$IT_DIR/hook" | grep -c '\.body$'; }

t_alerts_webhook_signed_once_after_outage_and_restart() {
    it_cluster 1
    port=$(it_free_port)
    mkdir -p "$IT_DIR/hook"
    it_alerts_config "$port" || return 1
    "$IT_SINK" --port "$port" --dir "$IT_DIR/hook" --fail-for 5 \
        --secret s3cret-key >"$IT_DIR/sink.log" 2>&1 &
    IT_PIDS="$IT_PIDS $!"
    it_apply failing <<'YAML'
dag: failing
alerts:
  - on: [failure]
    to: [ops, mail]
tasks:
  - id: boom
    run: sh -c 'echo first line; echo the end >&2; exit 3'
YAML
    r=$("$SLUICE" trigger --dir "$IT_STATE" failing)
    it_check "run ends" it_wait 30 it_run_final "$r"
    it_check "two alerts queued with the failure" \
        [ "$(it_sql "SELECT count(*) FROM alerts WHERE run_id=$r AND kind='failure'")" = 2 ]
    # Restart after a refused try: the alert and its tries are in the store.
    it_check "the receiver refuses the first try" \
        it_wait 30 test -f "$IT_DIR/hook/0.refused"
    it_stop "$IT_SCHED_PID"
    it_start_scheduler --heartbeat-ms 300 || return 1
    it_check "the webhook arrives" it_wait 60 test -f "$IT_DIR/hook/1.body"
    it_check "the signature verifies (receiver)" \
        grep -qx ok "$IT_DIR/hook/1.verified"
    if command -v openssl >/dev/null; then
        want=$(openssl dgst -sha256 -hmac s3cret-key -r <"$IT_DIR/hook/1.body" | cut -d' ' -f1)
        it_check "the signature verifies (openssl)" \
            grep -qi "^X-Sluice-Signature: sha256=$want" "$IT_DIR/hook/1.headers"
    fi
    body=$(cat "$IT_DIR/hook/1.body")
    it_log "$body"
    for want in '"kind":"failure"' '"dag":"failing"' "\"run\":$r" \
        '"task":"boom"' '"attempt":1' '"cause":"exit 3' '"first line"' \
        '"the end"' "sluice logs $r boom"; do
        it_check "the event has $want" sh -c "echo '$body' | grep -qF '$want'"
    done
    uid=$(echo "$body" | sed 's/.*"id":"\([0-9a-f]*\)".*/\1/')
    it_check "the alert id is a header" \
        grep -qi "^X-Sluice-Alert-Id: $uid" "$IT_DIR/hook/1.headers"
    it_check "the command target got the event on stdin" \
        it_wait 30 grep -qF '"kind":"failure"' "$IT_DIR/mail.json"
    it_check "both deliveries recorded" it_wait 10 sh -c \
        "[ \"\$(sqlite3 -readonly $IT_STATE/store.db \"SELECT count(*) FROM alerts WHERE state='sent'\")\" = 2 ]"
    sleep 2
    it_check "exactly one webhook (got $(it_bodies))" [ "$(it_bodies)" = 1 ]
    out=$("$SLUICE" alerts list --dir "$IT_STATE")
    it_log "$out"
    it_check "alerts list shows the webhook" \
        sh -c "echo '$out' | grep -q 'failure .*failing .*$r .*boom .*ops .*sent'"
    it_check "alerts list --json" sh -c \
        "$SLUICE alerts list --dir $IT_STATE --json | grep -q '\"target\": *\"mail\"'"
    failed=$("$SLUICE" alerts list --dir "$IT_STATE" --failed)
    it_check "--failed lists the webhook that was refused first" \
        sh -c "echo '$failed' | grep -q 'ops .*sent' || echo '$failed' | grep -q ID"
}

t_alerts_test_and_refusals() {
    it_cluster 1
    port=$(it_free_port)
    mkdir -p "$IT_DIR/hook"
    it_alerts_config "$port" || return 1
    "$IT_SINK" --port "$port" --dir "$IT_DIR/hook" --secret s3cret-key \
        >"$IT_DIR/sink.log" 2>&1 &
    IT_PIDS="$IT_PIDS $!"
    cfg=$("$SLUICE" scheduler --dir "$IT_STATE" --print-config)
    it_check "print-config shows the targets" \
        sh -c "echo '$cfg' | grep -q 'url: \"http://127.0.0.1:$port/hook\"'"
    it_check "print-config masks the secret" \
        sh -c "! echo '$cfg' | grep -q s3cret-key"
    "$SLUICE" alerts test --dir "$IT_STATE" ops >"$IT_DIR/test.out"
    it_check "the sample arrives" it_wait 30 test -f "$IT_DIR/hook/1.body"
    it_check "it says it is a test" grep -qF '"test":true' "$IT_DIR/hook/1.body"
    it_check "an unknown target is not found" sh -c \
        "! $SLUICE alerts test --dir $IT_STATE nope 2>$IT_DIR/nope.err"
    it_check "... and the message lists the defined ones" \
        grep -q "ops, mail" "$IT_DIR/nope.err"
    cat >"$IT_DIR/bad.yaml" <<'YAML'
dag: bad
alerts:
  - on: [failure]
    to: [pager]
tasks:
  - id: a
    run: "true"
YAML
    it_check "a route to an unknown target is refused" sh -c \
        "! $SLUICE dag apply --dir $IT_STATE $IT_DIR/bad.yaml 2>$IT_DIR/bad.err"
    it_check "... naming it and the defined ones" \
        grep -q "target 'pager'.*defined targets: ops, mail" "$IT_DIR/bad.err"
    cat >"$IT_DIR/typo.yaml" <<'YAML'
dag: typo
alerts:
  - on: [failur]
    to: [ops]
tasks:
  - id: a
    run: "true"
YAML
    it_check "a misspelt event is refused with FILE:LINE:COL" sh -c \
        "! $SLUICE dag apply --dir $IT_STATE $IT_DIR/typo.yaml 2>$IT_DIR/typo.err"
    it_check "... and a hint" grep -q "typo.yaml:3:.*'failur'.*'failure'" "$IT_DIR/typo.err"
}

t_alerts_sla_miss_once_nothing_killed() {
    it_cluster 1
    it_alerts_config "$(it_free_port)" || return 1
    it_apply slow <<'YAML'
dag: slow
alerts:
  - on: [sla_miss]
    to: [mail]
tasks:
  - id: nap
    run: sleep 4
    sla: 1s
YAML
    r=$("$SLUICE" trigger --dir "$IT_STATE" slow)
    it_check "the sla miss reaches the command target" \
        it_wait 30 grep -qF '"kind":"sla_miss"' "$IT_DIR/mail.json"
    it_check "run ends" it_wait 30 it_run_final "$r"
    it_check "the task was not killed" [ "$(it_run_state "$r")" = success ]
    it_check "one sla_miss alert" \
        [ "$(grep -c '"kind":"sla_miss"' "$IT_DIR/mail.json")" = 1 ]
    it_check "it names the task and the limit" \
        grep -qF '"task":"nap","attempt":0,"cause":"not done 1s after its run started (sla)"' "$IT_DIR/mail.json"
    it_check "one sla_miss event" \
        [ "$(it_sql "SELECT count(*) FROM events WHERE kind='sla_miss'")" = 1 ]
}

t_alerts_deadline_miss_once() {
    it_cluster 1
    it_alerts_config "$(it_free_port)" || return 1
    it_apply late <<YAML
dag: late
deadline: 1s
alerts:
  - on: [deadline_miss, success, retry]
    to: [mail]
tasks:
  - id: nap
    run: sleep 4
  - id: flaky
    run: sh -c 'test -f $IT_DIR/flaky.ok || { touch $IT_DIR/flaky.ok; exit 5; }'
    retries: 1
    retry_delay: 1s
YAML
    r=$("$SLUICE" trigger --dir "$IT_STATE" late)
    it_check "the deadline miss reaches the command target" \
        it_wait 30 grep -qF '"kind":"deadline_miss"' "$IT_DIR/mail.json"
    it_check "run ends" it_wait 30 it_run_final "$r"
    it_check "the run was not killed" [ "$(it_run_state "$r")" = success ]
    it_check "one deadline_miss alert" \
        [ "$(grep -c '"kind":"deadline_miss"' "$IT_DIR/mail.json")" = 1 ]
    it_check "it names the run and the limit" \
        grep -qF "\"run\":$r,\"logical_date\"" "$IT_DIR/mail.json"
    it_check "one deadline_miss event" \
        [ "$(it_sql "SELECT count(*) FROM events WHERE kind='deadline_miss'")" = 1 ]
    it_check "the retry alerted" \
        it_wait 10 grep -qF '"kind":"retry","dag":"late","run":'$r',"logical_date"' "$IT_DIR/mail.json"
    it_check "... with its cause" grep -qF '"task":"flaky","attempt":1,"cause":"exit 5"' "$IT_DIR/mail.json"
    it_check "the success alerted, for the run" \
        it_wait 10 grep -qF '"kind":"success"' "$IT_DIR/mail.json"
    it_check "... once" [ "$(grep -c '"kind":"success"' "$IT_DIR/mail.json")" = 1 ]
}

t_alerts_expect_miss() {
    it_cluster 1
    it_alerts_config "$(it_free_port)" || return 1
    # The daily interval that ended at midnight UTC should have succeeded
    # by a minute ago; its run fails.
    by=$(date -u -d '-1 min' +%H:%M)
    start=$(date -u -d '-3 days' +%Y-%m-%d)
    it_apply fresh <<YAML
dag: fresh
schedule: "@daily"
timezone: UTC
start_date: $start
expect: {success_by: "$by"}
alerts:
  - on: [expect_miss]
    to: [mail]
tasks:
  - id: feed
    run: "false"
YAML
    it_check "the expect miss reaches the command target" \
        it_wait 30 grep -qF '"kind":"expect_miss"' "$IT_DIR/mail.json"
    it_log "$(cat "$IT_DIR/mail.json")"
    it_check "it says by when" \
        grep -qF "had not succeeded by $by UTC" "$IT_DIR/mail.json"
    sleep 2
    it_check "once" [ "$(grep -c '"kind":"expect_miss"' "$IT_DIR/mail.json")" = 1 ]
    it_check "an expect_miss event" \
        [ "$(it_sql "SELECT count(*) FROM events WHERE kind='expect_miss'")" = 1 ]
    cat >"$IT_DIR/nosched.yaml" <<'YAML'
dag: nosched
expect: {success_by: "12:00"}
tasks:
  - id: a
    run: "true"
YAML
    it_check "expect without a schedule is refused" sh -c \
        "! $SLUICE dag apply --dir $IT_STATE $IT_DIR/nosched.yaml 2>$IT_DIR/nosched.err"
    it_check "... saying why" grep -q "'expect' needs a 'schedule'" "$IT_DIR/nosched.err"
}

# A task whose worker dies, with retry_on that does not name lost, fails
# without any Result reaching the scheduler: it is alerted all the same.
t_alerts_lost_attempt_that_fails_its_task() {
    it_cluster 1
    it_alerts_config "$(it_free_port)" || return 1
    it_apply lostfail <<YAML
dag: lostfail
alerts:
  - on: [failure]
    to: [mail]
tasks:
  - id: long
    run: echo \$\$ >$IT_DIR/long.pid; exec sleep 60
    retry_on: [oom]
YAML
    r=$("$SLUICE" trigger --dir "$IT_STATE" lostfail)
    it_check "the task runs" it_wait 20 sh -c \
        "[ \"\$(sqlite3 -readonly $IT_STATE/store.db \"SELECT state FROM task_instances WHERE run_id=$r\")\" = running ]"
    it_wait 10 test -s "$IT_DIR/long.pid"
    kill -KILL "$IT_PID_w1"
    it_check "run ends" it_wait 30 it_run_final "$r"
    # The worker died, its task did not (at-least-once): end it here.
    kill -KILL "$(cat "$IT_DIR/long.pid")" 2>/dev/null || true
    it_check "run failed" [ "$(it_run_state "$r")" = failed ]
    it_check "the attempt was lost" [ "$(it_sql "SELECT cause FROM attempts WHERE run_id=$r")" = lost ]
    it_check "the command target got the failure" \
        it_wait 30 grep -qF '"kind":"failure"' "$IT_DIR/mail.json"
    it_check "with the cause lost" grep -qF '"cause":"lost' "$IT_DIR/mail.json"
}
