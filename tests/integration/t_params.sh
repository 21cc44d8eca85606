# Typed params: every value given to `sluice trigger --param` is checked
# against its declaration before a run exists, and a refusal names the
# declaration's FILE:LINE; `dag show` lists types and rules. Names of DAGs,
# tasks, pools and secrets keep to one character set.

it_params_dag() {
    it_apply typed <<'YAML'
dag: typed
params:
  limit: {type: int, default: 1000, min: 1, max: 100000}
  ratio: {type: float, default: 0.5, min: 0, max: 1}
  dry: {type: bool, default: false}
  day: {type: date}
  mode: {type: string, enum: [full, delta], default: full}
  label: {type: string, pattern: "^[a-z0-9_-]+$", default: main}
tasks:
  - id: show
    run: echo "{{ params.limit }} {{ params.ratio }} {{ params.dry }} {{ params.day }} {{ params.mode }} {{ params.label }}"
YAML
}

# it_params_refused LINE NAME=VALUE: trigger refuses the value, citing the
# declaration on LINE of typed.yaml.
it_params_refused() {
    line=$1; shift
    rc=0
    "$SLUICE" trigger --dir "$IT_STATE" typed --param day=2026-12-07 \
        --param "$1" >"$IT_DIR/out" 2>"$IT_DIR/err" || rc=$?
    it_check "refused: $(printf '%q' "${1:0:60}") (rc $rc)" [ "$rc" != 0 ]
    it_check "cites typed.yaml:$line: $(head -c 300 "$IT_DIR/err")" \
        grep -qF "(declared at $IT_DIR/typed.yaml:$line)" "$IT_DIR/err"
    it_check "says how to give it: $(head -c 300 "$IT_DIR/err")" \
        grep -qF "give --param" "$IT_DIR/err"
}

t_params_hostile_values_refused() {
    it_cluster 1
    it_params_dag
    big=$(head -c 65536 /dev/zero | tr '\0' 7)
    for v in 0 100001 -5 '' '1; id' '$(id)' '`id`' $'5\nid' 1e3 0x10 \
        99999999999999999999 "$big" ' 5' '5 '; do
        it_params_refused 3 "limit=$v"
    done
    for v in '' nan inf 1.5 -0.1 '0.5; id' 0x1 "$big"; do
        it_params_refused 4 "ratio=$v"
    done
    for v in '' yes TRUE 1 'true; id' $'true\n'; do
        it_params_refused 5 "dry=$v"
    done
    for v in '' 2023-02-29 2026-13-01 2026-1-01 '2026-12-07; id' \
        '$(date +%F)' $'2026-12-07\n' 26-12-07; do
        it_params_refused 6 "day=$v"
    done
    for v in '' Full 'full; rm -rf /' $'full\n' "$big"; do
        it_params_refused 7 "mode=$v"
    done
    for v in '' 'a b' 'x;id' '$(id)' '../etc' $'abc\nid' $'caf\xc3\xa9' \
        $'\xff\xfe' "${big}X"; do
        it_params_refused 8 "label=$v"
    done
    # The required date: no value at all.
    rc=0
    "$SLUICE" trigger --dir "$IT_STATE" typed 2>"$IT_DIR/err" || rc=$?
    it_check "a missing required param is refused" [ "$rc" != 0 ]
    it_check "and named: $(cat "$IT_DIR/err")" grep -qF \
        "param 'day' is required and has no default (declared at $IT_DIR/typed.yaml:6); give --param day=YYYY-MM-DD" \
        "$IT_DIR/err"
    it_check "no run was created" [ "$(it_sql "SELECT count(*) FROM runs")" = 0 ]
    it_check "sluice runs lists none" \
        [ "$("$SLUICE" runs --dir "$IT_STATE" | grep -c typed)" = 0 ]
    # The message the user sees, whole, for one case.
    "$SLUICE" trigger --dir "$IT_STATE" typed --param day=2026-12-07 \
        --param limit=0 2>"$IT_DIR/err" || true
    it_check "the message: $(cat "$IT_DIR/err")" grep -qF \
        "param 'limit' = '0': below min 1 (declared at $IT_DIR/typed.yaml:3); give --param limit=N with 1 <= N <= 100000" \
        "$IT_DIR/err"
}

t_params_good_values_run() {
    it_cluster 1
    it_params_dag
    "$SLUICE" trigger --dir "$IT_STATE" typed --param day=2024-02-29 \
        --param limit=100000 --param ratio=1 --param dry=true \
        --param mode=delta --param label=a-b_1 --wait
    run=$(it_sql "SELECT max(id) FROM runs")
    it_check "run succeeded" [ "$(it_run_state "$run")" = success ]
    out=$("$SLUICE" logs --dir "$IT_STATE" "$run" show)
    it_check "values as given: '$out'" \
        [ "$out" = "100000 1 true 2024-02-29 delta a-b_1" ]
    "$SLUICE" trigger --dir "$IT_STATE" typed --param day=2026-12-07 --wait
    run=$(it_sql "SELECT max(id) FROM runs")
    out=$("$SLUICE" logs --dir "$IT_STATE" "$run" show)
    it_check "defaults fill the rest: '$out'" \
        [ "$out" = "1000 0.5 false 2026-12-07 full main" ]
}

t_params_dag_show_lists_types() {
    it_cluster 0
    it_params_dag
    "$SLUICE" dag show --dir "$IT_STATE" typed --json >"$IT_DIR/show.json"
    it_check "dag show --json lists each param with its type and rules" \
        python3 - "$IT_DIR/show.json" "$IT_DIR/typed.yaml" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
params = {p["name"]: p for p in doc["params"]}
assert [p["name"] for p in doc["params"]] == \
    ["limit", "ratio", "dry", "day", "mode", "label"], doc["params"]
assert params["limit"]["type"] == "int", params["limit"]
assert params["limit"]["default"] == "1000"
assert params["limit"]["min"] == "1" and params["limit"]["max"] == "100000"
assert params["limit"]["required"] is False
assert params["limit"]["declared_at"] == sys.argv[2] + ":3"
assert params["ratio"]["type"] == "float"
assert params["dry"]["type"] == "bool"
assert params["day"]["type"] == "date" and params["day"]["required"] is True
assert params["mode"]["enum"] == ["full", "delta"]
assert params["label"]["pattern"] == "^[a-z0-9_-]+$"
PY
    "$SLUICE" dag show --dir "$IT_STATE" typed >"$IT_DIR/show.txt"
    it_check "dag show: limit's rules" \
        grep -qE '^limit +int +1000 +1 <= value <= 100000$' "$IT_DIR/show.txt"
    it_check "dag show: day is required" \
        grep -qE '^day +date +\(required\) +-$' "$IT_DIR/show.txt"
    it_check "dag show: mode's enum" \
        grep -qE '^mode +string +full +one of full, delta$' "$IT_DIR/show.txt"
}

t_params_names_charset() {
    it_cluster 0
    rc=0
    "$SLUICE" pool set --dir "$IT_STATE" a/b 1 2>"$IT_DIR/err" || rc=$?
    it_check "pool 'a/b' refused" [ "$rc" != 0 ]
    it_check "says which names: $(cat "$IT_DIR/err")" \
        grep -qF "pool name 'a/b' may only use letters, digits" "$IT_DIR/err"
    rc=0
    "$SLUICE" pool set --dir "$IT_STATE" .. 1 2>"$IT_DIR/err" || rc=$?
    it_check "pool '..' refused" [ "$rc" != 0 ]
    it_check "no pool was made" [ "$(it_sql "SELECT count(*) FROM pools")" = 0 ]
    rc=0
    printf 'v' | "$SLUICE" secret set --dir "$IT_STATE" a/b 2>"$IT_DIR/err" || rc=$?
    it_check "secret 'a/b' refused" [ "$rc" != 0 ]
    it_check "says which names: $(cat "$IT_DIR/err")" \
        grep -qF "'a/b' is not a secret name" "$IT_DIR/err"
    printf 'v' | "$SLUICE" secret set --dir "$IT_STATE" db.read-only >/dev/null
    it_check "secret 'db.read-only' taken" \
        "$SLUICE" secret list --dir "$IT_STATE" | grep -q db.read-only
    cat >"$IT_DIR/bad.yaml" <<'YAML'
dag: ../x
tasks:
  - id: a/b
    run: echo
    pool: p q
YAML
    rc=0
    "$SLUICE" dag validate "$IT_DIR/bad.yaml" 2>"$IT_DIR/err" || rc=$?
    it_check "bad names refused at validate" [ "$rc" != 0 ]
    for at in 1:6 3:9 5:11; do
        it_check "names refused at $at: $(cat "$IT_DIR/err")" \
            grep -qF "$IT_DIR/bad.yaml:$at:" "$IT_DIR/err"
    done
}
