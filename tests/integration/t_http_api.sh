# The JSON API under /api/v1: every route for a viewer and an operator
# token (reads for both, writes for operators only, and a write is visible
# once its reply came), refused tokens, paging, live log streaming, and the
# routes of the C tables against web/api/openapi.json.

# api NAME METHOD PATH [CURL ARGS...]: the body of an API call with token
# $NAME (a variable name; "" = no token); the status goes to
# $IT_DIR/status.
api() {
    tokvar=$1; method=$2; path=$3; shift 3
    auth=""
    [ -n "$tokvar" ] && auth="Authorization: Bearer $(eval echo "\$$tokvar")"
    curl -sS -X "$method" ${auth:+-H "$auth"} -o "$IT_DIR/body" \
        -w '%{http_code}' --max-time 20 "$@" "http://$IT_HTTP$path" \
        >"$IT_DIR/status" || echo 000 >"$IT_DIR/status"
    cat "$IT_DIR/body"
}

api_status() { cat "$IT_DIR/status"; }

# api_is NAME METHOD PATH STATUS [CURL ARGS...]: the call answers STATUS.
api_is() {
    want=$4
    api "$1" "$2" "$3" "${@:5}" >/dev/null
    if [ "$(api_status)" != "$want" ]; then
        echo "$2 $3 answered $(api_status), not $want: $(cat "$IT_DIR/body")" >&2
        return 1
    fi
}

# api_json PYTHON-EXPR: evaluates EXPR with d = the last body's JSON.
api_json() {
    python3 -c "import json,sys; d=json.load(open('$IT_DIR/body')); print($1)"
}

api_tokens() {
    VIEWER=$("$SLUICE" token create --api --role viewer --name v --dir "$IT_STATE" 2>/dev/null)
    OPERATOR=$("$SLUICE" token create --api --role operator --name o --dir "$IT_STATE" 2>/dev/null)
    it_check "tokens made" [ -n "$VIEWER" ] && [ -n "$OPERATOR" ]
}

api_dag() {
    it_apply web <<'YAML'
dag: web
schedule: "0 3 * * *"
params:
  greeting: hi
tasks:
  - id: hello
    run: echo "{{ params.greeting }} from web"
  - id: after
    after: [hello]
    run: echo done
YAML
}

t_http_api_roles_reads_and_writes() {
    it_cluster 1
    api_tokens
    api_dag
    it_check "a viewer may not trigger" api_is VIEWER POST /api/v1/dags/web/trigger 403 \
        -d '{}'
    it_check "an operator triggers with params" api_is OPERATOR POST \
        /api/v1/dags/web/trigger 200 -d '{"params": {"greeting": "hey"}}'
    run=$(api_json "d['run_id']")
    it_check "the run exists once the reply came" [ "$(it_run_state "$run")" != "" ]
    it_check "run $run ends" it_wait 30 it_run_final "$run"
    for who in VIEWER OPERATOR; do
        for path in /api/v1/dags /api/v1/dags/web /api/v1/dags/web/next \
            /api/v1/dags/web/grid /api/v1/runs "/api/v1/runs/$run" \
            "/api/v1/runs/$run/tasks/hello/logs" /api/v1/workers \
            /api/v1/autoscaler /api/v1/pools /api/v1/datasets /api/v1/events \
            "/api/v1/reports?run=$run" /api/v1/metrics "/api/v1/metrics?dag=web&task=hello" \
            /api/v1/openapi.json; do
            it_check "$who reads $path" api_is "$who" GET "$path" 200
        done
    done
    api VIEWER GET "/api/v1/runs/$run/tasks/hello/logs" >/dev/null
    it_check "the log holds the param" [ "$(api_json "d['data']")" = "hey from web" ]
    it_check "the log is final" [ "$(api_json "d['final']")" = True ]
    api VIEWER GET "/api/v1/runs/$run/tasks/hello/logs?offset=4" >/dev/null
    it_check "a log read from an offset" [ "$(api_json "d['data']")" = "from web" ]
    api VIEWER GET /api/v1/dags/web/grid >/dev/null
    it_check "the grid has the run's cells" [ "$(api_json "d['tasks'], d['runs'][0]['cells']")" \
        = "['hello', 'after'] ['success', 'success']" ]
    api VIEWER GET "/api/v1/runs/$run" >/dev/null
    it_check "run show has the CLI's field names" [ "$(api_json "d['run']['state']")" = success ]
    # Writes: refused to a viewer, done for an operator and visible at once.
    it_check "a viewer may not pause" api_is VIEWER POST /api/v1/dags/web/pause 403 \
        -d '{"paused": true}'
    it_check "an operator pauses" api_is OPERATOR POST /api/v1/dags/web/pause 200 \
        -d '{"paused": true}'
    api VIEWER GET /api/v1/dags >/dev/null
    it_check "paused at once" [ "$(api_json "[x.get('paused') for x in d['dags'] if x['name']=='web'][0]")" = True ]
    it_check "a viewer may not retry" api_is VIEWER POST "/api/v1/runs/$run/retry" 403
    it_check "a viewer may not cancel" api_is VIEWER POST "/api/v1/runs/$run/cancel" 403
    it_check "an operator retries a task" api_is OPERATOR POST "/api/v1/runs/$run/retry" 200 \
        -d '{"task": "after"}'
    it_check "run $run ends again" it_wait 30 it_run_final "$run"
    it_check "the retried task ran again" \
        [ "$(it_sql "SELECT count(*) FROM attempts WHERE run_id=$run AND task_id='after'")" = 2 ]
    # Bad input is a 400 that says what is allowed; unknown things a 404.
    it_check "limit=0 refused" api_is VIEWER GET '/api/v1/runs?limit=0' 400
    it_check "and the message says what is allowed" grep -q 'from 1 to 1000' "$IT_DIR/body"
    it_check "limit=abc refused" api_is VIEWER GET '/api/v1/runs?limit=abc' 400
    it_check "state=bogus refused" api_is VIEWER GET '/api/v1/runs?state=bogus' 400
    it_check "a bad body refused" api_is OPERATOR POST /api/v1/dags/web/pause 400 -d '{"paused": 1}'
    it_check "an unknown member refused" api_is OPERATOR POST /api/v1/dags/web/trigger 400 \
        -d '{"parms": {}}'
    it_check "a run id that is no number" api_is VIEWER GET /api/v1/runs/x1 400
    it_check "an unknown run" api_is VIEWER GET /api/v1/runs/999999 404
    it_check "an unknown run's error is JSON" grep -q '"error":{"status":404' "$IT_DIR/body"
    it_check "an unknown DAG" api_is VIEWER GET /api/v1/dags/nope/grid 404
    it_check "an unknown task's log" api_is VIEWER GET "/api/v1/runs/$run/tasks/nope/logs" 404
    it_check "an unknown DAG to trigger" api_is OPERATOR POST /api/v1/dags/nope/trigger 404
}

t_http_api_refused_tokens() {
    it_cluster 0
    api_tokens
    it_check "no token" api_is "" GET /api/v1/runs 401
    SHORT=$("$SLUICE" token create --api --role operator --name short --ttl 1s \
        --dir "$IT_STATE" 2>/dev/null)
    GONE=$("$SLUICE" token create --api --role operator --name gone --dir "$IT_STATE" 2>/dev/null)
    it_check "the revocable token works first" api_is GONE GET /api/v1/runs 200
    "$SLUICE" token revoke --api gone --dir "$IT_STATE" >/dev/null
    it_check "a revoked token" api_is GONE GET /api/v1/runs 401
    sleep 2
    it_check "an expired token" api_is SHORT GET /api/v1/runs 401
    BAD=sat_0000
    it_check "a made-up token" api_is BAD GET /api/v1/runs 401
}

t_http_api_runs_paging() {
    it_cluster 1
    api_tokens
    api_dag
    for i in 1 2 3 4 5; do
        api_is OPERATOR POST /api/v1/dags/web/trigger 200 -d '{}'
    done
    seen=""
    before=""
    pages=0
    while [ "$pages" -lt 10 ]; do
        api_is VIEWER GET "/api/v1/runs?dag=web&limit=2${before:+&before=$before}" 200
        seen="$seen $(api_json "' '.join(str(r['run_id']) for r in d['runs'])")"
        before=$(api_json "d['next'] if d['next'] is not None else ''")
        pages=$((pages + 1))
        [ -n "$before" ] || break
    done
    it_check "3 pages of 2, 2 and 1 ($seen)" [ "$pages" = 3 ]
    it_check "every run once, newest first ($seen)" \
        [ "$(echo $seen)" = "$(it_sql "SELECT group_concat(id, ' ') FROM (SELECT id FROM runs ORDER BY id DESC)")" ]
    api_is VIEWER GET "/api/v1/runs?state=success&limit=1000" 200
    api_is VIEWER GET "/api/v1/events?limit=2" 200
    it_check "events page" [ "$(api_json "len(d['events'])")" = 2 ]
    next=$(api_json "d['next']")
    api_is VIEWER GET "/api/v1/events?limit=2&before=$next" 200
    it_check "the next events are older" [ "$(api_json "max(e['id'] for e in d['events'])")" -lt "$next" ]
}

# Lines arrive over SSE while the task still prints them.
t_http_api_streams_follow() {
    it_cluster 1
    api_tokens
    it_apply slow <<'YAML'
dag: slow
tasks:
  - id: talk
    run: for i in 1 2 3 4 5 6; do echo "line $i"; sleep 1; done
YAML
    api_is OPERATOR POST /api/v1/dags/slow/trigger 200 -d '{}'
    run=$(api_json "d['run_id']")
    curl -sS -N --max-time 30 -H "Authorization: Bearer $VIEWER" \
        "http://$IT_HTTP/api/v1/runs/$run/stream" >"$IT_DIR/run.sse" &
    runpid=$!
    it_check "the task starts" it_wait 15 api_is VIEWER GET "/api/v1/runs/$run/tasks/talk/logs" 200
    curl -sS -N --max-time 30 -H "Authorization: Bearer $VIEWER" \
        "http://$IT_HTTP/api/v1/runs/$run/tasks/talk/logs/stream" >"$IT_DIR/log.sse" &
    logpid=$!
    it_check "a line arrives over the stream" it_wait 10 grep -q 'line 2' "$IT_DIR/log.sse"
    it_check "before the task ends" [ "$(it_task_state "$run" talk)" = running ]
    it_check "the log stream ends" it_wait 20 sh -c "! kill -0 $logpid 2>/dev/null"
    wait "$logpid" || true
    it_check "every line came" grep -q 'data: "line 6\\n"' "$IT_DIR/log.sse"
    it_check "then the end" grep -q '^event: end' "$IT_DIR/log.sse"
    it_check "the run stream ends" it_wait 20 sh -c "! kill -0 $runpid 2>/dev/null"
    wait "$runpid" || true
    it_check "task changes came" grep -q '"task":"talk","state":"running"' "$IT_DIR/run.sse"
    it_check "and the final state" grep -q '"task":"talk","state":"success"' "$IT_DIR/run.sse"
    it_check "then the run's" grep -q '^event: run' "$IT_DIR/run.sse"
    cat "$IT_DIR/log.sse" "$IT_DIR/run.sse"
}

# The routes in the C tables (scheduler/*http*.c: this module's, the
# session's, the graphs') are the routes of the OpenAPI document, and every
# documented GET answers 2xx for an operator.
t_http_api_matches_openapi() {
    it_cluster 1
    api_tokens
    D="$IT_DIR/data"
    it_shared_dir "$D"
    it_apply web <<YAML
dag: web
schedule: "0 3 * * *"
tasks:
  - id: hello
    run: sh -c 'echo hello > $D/out.txt'
    outputs: [$D/out.txt]
YAML
    api_is OPERATOR POST /api/v1/dags/web/trigger 200 -d '{}'
    run=$(api_json "d['run_id']")
    it_check "run $run ends" it_wait 30 it_run_final "$run"
    grep -h '{"\(GET\|POST\|DELETE\)", *"/api/v1' scheduler/*http*.c |
        sed 's/.*{"\([A-Z]*\)", *"\([^"]*\)".*/\1 \2/' | sort -u >"$IT_DIR/c_routes"
    python3 - web/api/openapi.json >"$IT_DIR/doc_routes" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
for path, ops in doc["paths"].items():
    for method in ops:
        print(method.upper(), path)
PY
    sort -u -o "$IT_DIR/doc_routes" "$IT_DIR/doc_routes"
    diff "$IT_DIR/c_routes" "$IT_DIR/doc_routes" >&2 || true
    it_check "the C tables and the OpenAPI document list the same routes" \
        cmp -s "$IT_DIR/c_routes" "$IT_DIR/doc_routes"
    grep '^GET ' "$IT_DIR/doc_routes" | while read -r _ path; do
        url=$(echo "$path" | sed "s/{dag}/web/; s/{run}/$run/; s/{task}/hello/")
        case "$url" in
            */reports) url="$url?run=$run" ;;
            */lineage|*/lineage.svg) url="$url?uri=$D/out.txt" ;;
        esac
        it_check "GET $url answers 2xx" api_is OPERATOR GET "$url" 200 || exit 1
    done
}

# The grid of a 10,000-task DAG with 25 runs stays fast: the rows are
# written straight into the store (running 250,000 tasks would take long),
# then the grid is asked for over HTTP.
t_http_api_grid_big() {
    it_cluster 0
    api_tokens
    {
        echo "dag: big"
        echo "tasks:"
        i=0
        while [ "$i" -lt 10000 ]; do
            echo "  - id: t$i"
            echo "    run: 'true'"
            i=$((i + 1))
        done
    } | it_apply big
    version=$(it_sql "SELECT current_version FROM dags WHERE name='big'")
    sqlite3 "$IT_STATE/store.db" "PRAGMA busy_timeout = 10000;
        BEGIN;
        WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 25)
        INSERT INTO runs (dag, version, state, created_at)
            SELECT 'big', '$version', 'success', n FROM r;
        WITH RECURSIVE t(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM t WHERE n < 9999)
        INSERT INTO task_instances (run_id, task_id, state, updated_at)
            SELECT runs.id, 't' || t.n, 'success', 1 FROM runs, t WHERE runs.dag = 'big'
            ORDER BY runs.id, t.n;
        COMMIT;"
    start=$(date +%s%N)
    it_check "the grid answers" api_is VIEWER GET '/api/v1/dags/big/grid?limit=25' 200
    ms=$(( ($(date +%s%N) - start) / 1000000 ))
    it_log "grid of 25 runs x 10000 tasks: $ms ms, $(wc -c <"$IT_DIR/body") bytes"
    it_check "25 runs of 10000 cells" [ "$(api_json "len(d['runs']), len(d['tasks']), len(d['runs'][0]['cells'])")" = "25 10000 10000" ]
    it_check "in DAG order" [ "$(api_json "d['tasks'][0], d['tasks'][9999]")" = "t0 t9999" ]
}
