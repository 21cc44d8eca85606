# Secrets and least privilege: secrets reach a task's env
# only, are masked in stored logs and never stored in plain text; a root
# worker runs each attempt as its own unprivileged uid; task rlimits apply;
# key files that others
# can read stop the scheduler.

SECRET_VALUE='sup3r-s3cret-VALUE-42'

t_secrets_masked_and_never_stored() {
    it_cluster 1
    printf '%s\n' "$SECRET_VALUE" | "$SLUICE" secret set --dir "$IT_STATE" API_TOKEN >"$IT_DIR/set.out"
    it_check "set says set" grep -q "secret 'API_TOKEN' set" "$IT_DIR/set.out"
    it_check "key file is 0600" [ "$(stat -c %a "$IT_STATE/secrets.key")" = 600 ]
    it_apply sec <<'YAML'
dag: sec
tasks:
  - id: a
    run: 'echo "token is $TOKEN"; echo "again: $TOKEN" >&2; printf "%s" "$TOKEN" | wc -c'
    env:
      TOKEN: "{{ secret.API_TOKEN }}"
YAML
    run=$("$SLUICE" trigger --dir "$IT_STATE" sec)
    it_check "run ends" it_wait 20 it_run_final "$run"
    it_check "run succeeded" [ "$(it_run_state "$run")" = success ]
    "$SLUICE" logs --dir "$IT_STATE" "$run" a >"$IT_DIR/logs.out" 2>&1
    it_check "stdout masked" grep -q 'token is \*\*\*' "$IT_DIR/logs.out"
    it_check "stderr masked" grep -q 'again: \*\*\*' "$IT_DIR/logs.out"
    it_check "the task saw the whole value (21 bytes)" grep -qx ' *21' "$IT_DIR/logs.out"
    it_check "the value is not in the logs" sh -c "! grep -q '$SECRET_VALUE' '$IT_DIR/logs.out'"
    sqlite3 "$IT_STATE/store.db" .dump >"$IT_DIR/dump.sql"
    it_check "the store has the secret's row" grep -q "INSERT INTO secrets" "$IT_DIR/dump.sql"
    it_check "the value is nowhere in the store" sh -c "! grep -q '$SECRET_VALUE' '$IT_DIR/dump.sql'"
    it_check "nor in the database files" sh -c "! cat '$IT_STATE'/store.db* | grep -aq '$SECRET_VALUE'"
    it_check "nor in the daemons' logs" sh -c "! grep -q '$SECRET_VALUE' '$IT_DIR'/*.log"
    "$SLUICE" dag show --dir "$IT_STATE" sec >"$IT_DIR/show.out" 2>&1 || true
    it_check "dag show keeps the template" sh -c "! grep -q '$SECRET_VALUE' '$IT_DIR/show.out'"
    "$SLUICE" run show --dir "$IT_STATE" "$run" >"$IT_DIR/run.out" 2>&1
    it_check "run show has no value" sh -c "! grep -q '$SECRET_VALUE' '$IT_DIR/run.out'"
    it_check "store.db is private" [ "$(stat -c %a "$IT_STATE/store.db")" = 600 ]
}

t_secrets_list_shows_names_only() {
    it_cluster 0
    printf 'v1' | "$SLUICE" secret set --dir "$IT_STATE" B_ONE >/dev/null
    printf '%s' "$SECRET_VALUE" | "$SLUICE" secret set --dir "$IT_STATE" A_TWO >/dev/null
    printf 'v2' | "$SLUICE" secret set --dir "$IT_STATE" B_ONE >"$IT_DIR/replace.out"
    it_check "replace says replaced" grep -q replaced "$IT_DIR/replace.out"
    "$SLUICE" secret list --dir "$IT_STATE" >"$IT_DIR/list.out"
    it_check "names in order" [ "$(awk 'NR>1 {print $1}' "$IT_DIR/list.out" | tr '\n' ' ')" = "A_TWO B_ONE " ]
    it_check "no values" sh -c "! grep -q '$SECRET_VALUE' '$IT_DIR/list.out'"
    "$SLUICE" secret list --dir "$IT_STATE" --json >"$IT_DIR/list.json"
    it_check "json has names" grep -q '"A_TWO"' "$IT_DIR/list.json"
    it_check "json has no values" sh -c "! grep -q '$SECRET_VALUE' '$IT_DIR/list.json'"
    "$SLUICE" secret rm --dir "$IT_STATE" A_TWO >/dev/null
    it_check "rm removes" [ "$("$SLUICE" secret list --dir "$IT_STATE" | grep -c A_TWO)" = 0 ]
    rc=0; "$SLUICE" secret rm --dir "$IT_STATE" A_TWO 2>"$IT_DIR/rm.err" || rc=$?
    it_check "rm of a missing one fails" [ "$rc" = 4 ]
    it_check "and says so" grep -q "no secret 'A_TWO'" "$IT_DIR/rm.err"
    rc=0; printf 'x' | "$SLUICE" secret set --dir "$IT_STATE" bad/name 2>"$IT_DIR/bad.err" || rc=$?
    it_check "bad name refused (rc $rc)" [ "$rc" = 2 ]
    rc=0; printf '\n' | "$SLUICE" secret set --dir "$IT_STATE" EMPTY 2>"$IT_DIR/empty.err" || rc=$?
    it_check "empty value refused (rc $rc)" [ "$rc" = 2 ]
    it_check "events record it without the value" [ "$(it_sql "SELECT count(*) FROM events WHERE kind LIKE 'secret_%' AND detail NOT LIKE '%$SECRET_VALUE%'")" -ge 4 ]
}

t_secrets_missing_fails_the_task() {
    it_cluster 1
    it_apply nosec <<'YAML'
dag: nosec
tasks:
  - id: a
    run: echo "$T"
    env:
      T: "{{ secret.NOT_THERE }}"
  - id: b
    run: echo fine
YAML
    run=$("$SLUICE" trigger --dir "$IT_STATE" nosec)
    it_check "run ends" it_wait 20 it_run_final "$run"
    it_check "run failed" [ "$(it_run_state "$run")" = failed ]
    it_check "b still ran" [ "$(it_task_state "$run" b)" = success ]
    it_check "a failed with the fix in its error" [ "$(it_sql "SELECT error FROM attempts WHERE run_id=$run AND task_id='a'")" = "secret 'NOT_THERE' is not set; set it with 'sluice secret set NOT_THERE'" ]
    it_check "scheduler still up" kill -0 "$IT_SCHED_PID"
    # Set it and retry: now it runs.
    printf 'late' | "$SLUICE" secret set --dir "$IT_STATE" NOT_THERE >/dev/null
    "$SLUICE" retry --dir "$IT_STATE" "$run" >/dev/null
    it_check "retried run ends" it_wait 20 it_run_final "$run"
    it_check "retried run succeeded" [ "$(it_run_state "$run")" = success ]
}

t_secrets_outside_env_refused() {
    IT_DIR=$(mktemp -d /tmp/sluice-it.XXXXXX)
    cat >"$IT_DIR/bad.yaml" <<'YAML'
dag: bad
tasks:
  - id: a
    run: 'curl -H "X-Token={{ secret.API_TOKEN }}" http://x'
YAML
    rc=0
    "$SLUICE" dag validate "$IT_DIR/bad.yaml" >"$IT_DIR/v.out" 2>&1 || rc=$?
    it_check "validate fails (rc $rc)" [ "$rc" = 1 ]
    it_check "at the template, saying to use env" grep -q "bad.yaml:4:.*secret 'API_TOKEN'; secrets may only be used in 'env'" "$IT_DIR/v.out"
}

t_least_privilege_root_worker_runs_attempts_as_own_uids() {
    if [ "$(id -u)" != 0 ]; then
        it_log "skipped: needs root"
        return 0
    fi
    it_cluster 1
    it_apply who <<'YAML'
dag: who
tasks:
  - id: a
    run: 'id -u; touch "$SLUICE_OUTPUT_DIR/ok" && echo wrote; cat /proc/self/status | grep -i ^groups'
YAML
    run=$("$SLUICE" trigger --dir "$IT_STATE" who)
    it_check "run ends" it_wait 20 it_run_final "$run"
    "$SLUICE" logs --dir "$IT_STATE" "$run" a >"$IT_DIR/who.out" 2>&1
    uid=$(awk 'NR==1 && /^[0-9]+$/' "$IT_DIR/who.out")
    it_check "task ran as an unprivileged uid of the range ($uid)" sh -c "[ -n '$uid' ] && [ '$uid' -ge 61001 ] && [ '$uid' -le 61999 ]"
    it_check "its one supplementary group is the tasks' group" grep -Eq "^Groups:[[:space:]]*61000[[:space:]]*$" "$IT_DIR/who.out"
    it_check "task could write its work dir" grep -qx wrote "$IT_DIR/who.out"
    it_check "run succeeded" [ "$(it_run_state "$run")" = success ]
    it_check "worker said so" grep -q "each attempt runs as its own uid from 61000-61999, in group 61000" "$IT_DIR/w1.log"
    it_check "and which uid" grep -q "started as sluice-$uid" "$IT_DIR/w1.log"
    it_check "worker key is private" [ "$(stat -c %a "$IT_DIR/w1/worker.key")" = 600 ]
    # The test dir is setgid (it_shared_dir): only the permission bits count.
    it_check "outbox is private" [ "$(stat -c %a "$IT_DIR/w1/outbox" | tail -c 4)" = 700 ]
}

t_least_privilege_nofile_limit() {
    it_cluster 1
    it_apply lim <<'YAML'
dag: lim
tasks:
  - id: a
    run: 'bash -c "ulimit -n; for i in \$(seq 1 40); do exec {fd}</dev/null || exit 7; done; echo opened-all"'
    limits: {nofile: 16}
  - id: b
    run: 'bash -c "for i in \$(seq 1 40); do exec {fd}</dev/null || exit 7; done; echo opened-all"'
YAML
    run=$("$SLUICE" trigger --dir "$IT_STATE" lim)
    it_check "run ends" it_wait 20 it_run_final "$run"
    "$SLUICE" logs --dir "$IT_STATE" "$run" a >"$IT_DIR/a.out" 2>&1 || true
    it_check "limit in force" grep -qx 16 "$IT_DIR/a.out"
    it_check "a could not open 40 files" sh -c "! grep -q opened-all '$IT_DIR/a.out'"
    it_check "a failed" [ "$(it_task_state "$run" a)" = failed ]
    it_check "b (no limit) did" [ "$(it_task_state "$run" b)" = success ]
}

t_least_privilege_key_mode_refused() {
    it_cluster 0
    printf 'x' | "$SLUICE" secret set --dir "$IT_STATE" K >/dev/null
    it_stop "$IT_SCHED_PID"
    chmod 644 "$IT_STATE/secrets.key"
    rc=0
    "$SLUICE" scheduler --dir "$IT_STATE" >"$IT_DIR/refused.log" 2>&1 || rc=$?
    it_check "scheduler refuses to start (rc $rc)" [ "$rc" = 1 ]
    it_check "and says how to fix it" grep -q "chmod 600 $IT_STATE/secrets.key" "$IT_DIR/refused.log"
    chmod 600 "$IT_STATE/secrets.key"
    chmod 644 "$IT_STATE/scheduler.key"
    rc=0
    "$SLUICE" scheduler --dir "$IT_STATE" >"$IT_DIR/refused2.log" 2>&1 || rc=$?
    it_check "scheduler key too (rc $rc)" [ "$rc" = 1 ]
    it_check "with the chmod" grep -q "chmod 600 $IT_STATE/scheduler.key" "$IT_DIR/refused2.log"
}
