# Values never become code: a param in a command is one word whatever it
# holds, every param is in the task's environment, and a value cannot lead a
# declared path out with '..'.

t_values_injection_is_printed_not_run() {
    it_cluster 1
    it_apply hello <<'YAML'
dag: hello
params:
  name: world
tasks:
  - id: direct
    run: echo hello {{ params.name }}
  - id: shell
    run: echo "hello {{ params.name }}" && echo 'again {{ params.name }}' && echo hello {{ params.name }}
YAML
    value="x; id > $IT_DIR/proof; \$(id >$IT_DIR/proof2) \`id >$IT_DIR/proof3\` ' \" *"
    run=$("$SLUICE" trigger --dir "$IT_STATE" hello --param "name=$value")
    it_check "run ends" it_wait 20 it_run_final "$run"
    it_check "run succeeded" [ "$(it_run_state "$run")" = success ]
    it_check "nothing was run from the value" \
        sh -c "! ls '$IT_DIR'/proof* 2>/dev/null"
    "$SLUICE" logs --dir "$IT_STATE" "$run" direct >"$IT_DIR/direct.out" 2>&1
    it_check "direct task printed the value verbatim" \
        grep -qxF "hello $value" "$IT_DIR/direct.out"
    "$SLUICE" logs --dir "$IT_STATE" "$run" shell >"$IT_DIR/shell.out" 2>&1
    it_check "shell task printed it in double quotes" \
        grep -qxF "hello $value" "$IT_DIR/shell.out"
    it_check "... in single quotes" grep -qxF "again $value" "$IT_DIR/shell.out"
    it_check "... and as a word" [ "$(grep -cxF "hello $value" "$IT_DIR/shell.out")" = 2 ]
}

t_values_params_in_environment() {
    it_cluster 1
    it_apply envp <<'YAML'
dag: envp
params:
  my_day: "2026-01-01"
  note: plain
tasks:
  - id: show
    run: 'printf "%s|%s\n" "$SLUICE_PARAM_MY_DAY" "$SLUICE_PARAM_NOTE"'
YAML
    run=$("$SLUICE" trigger --dir "$IT_STATE" envp --param 'note=a "b" $c
d')
    it_check "run ends" it_wait 20 it_run_final "$run"
    it_check "run succeeded" [ "$(it_run_state "$run")" = success ]
    "$SLUICE" logs --dir "$IT_STATE" "$run" show >"$IT_DIR/show.out" 2>&1
    it_check "default and given value reach the env" \
        grep -qxF '2026-01-01|a "b" $c' "$IT_DIR/show.out"
    it_check "with its newline" grep -qxF 'd' "$IT_DIR/show.out"
}

t_values_dotdot_in_output_refused() {
    it_cluster 1
    it_apply paths <<YAML
dag: paths
params:
  dir: ok
tasks:
  - id: write
    run: 'true'
    outputs: ["$IT_DIR/out/{{ params.dir }}/x.csv"]
YAML
    run=$("$SLUICE" trigger --dir "$IT_STATE" paths --param 'dir=../../etc')
    it_check "run ends" it_wait 20 it_run_final "$run"
    it_check "run failed" [ "$(it_run_state "$run")" = failed ]
    "$SLUICE" run show --dir "$IT_STATE" "$run" >"$IT_DIR/show.out" 2>&1
    it_check "run show says why" grep -q "a template value put in a '..'" "$IT_DIR/show.out"
    it_check "the task never ran" [ "$(it_sql "SELECT count(*) FROM attempts WHERE run_id=$run AND exit_code=0")" = 0 ]
}

t_values_unquotable_place_refused() {
    it_cluster 1
    cat >"$IT_DIR/sub.yaml" <<'YAML'
dag: sub
params:
  name: world
tasks:
  - id: t
    run: echo $(echo {{ params.name }})
YAML
    "$SLUICE" dag validate "$IT_DIR/sub.yaml" >"$IT_DIR/validate.out" 2>&1
    it_check "validate warns at the line" \
        grep -q 'sub.yaml:6:.*warning:.*inside \$(...).*SLUICE_PARAM_NAME' "$IT_DIR/validate.out"
    "$SLUICE" dag apply --dir "$IT_STATE" "$IT_DIR/sub.yaml" >/dev/null 2>&1
    run=$("$SLUICE" trigger --dir "$IT_STATE" sub --param 'name=a; touch '"$IT_DIR/proof")
    it_check "run ends" it_wait 20 it_run_final "$run"
    it_check "run failed" [ "$(it_run_state "$run")" = failed ]
    it_check "nothing ran" [ ! -e "$IT_DIR/proof" ]
    "$SLUICE" run show --dir "$IT_STATE" "$run" >"$IT_DIR/show.out" 2>&1
    it_check "run show says to use the env" grep -q 'SLUICE_PARAM_NAME' "$IT_DIR/show.out"
    run=$("$SLUICE" trigger --dir "$IT_STATE" sub --param 'name=plain')
    it_check "a plain value runs" it_wait 20 it_run_final "$run"
    it_check "and succeeds" [ "$(it_run_state "$run")" = success ]
}
