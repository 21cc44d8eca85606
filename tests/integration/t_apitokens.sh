# API tokens: 'sluice token create --api' prints the token once, the store
# keeps only its hash, list never shows it, revoke marks it, and only an
# operator may do any of it.

# apitokens_has TEXT PATTERN: PATTERN (extended regex) is in TEXT, read as
# one line.
apitokens_has() {
    printf '%s' "$1" | tr '\n' ' ' | grep -Eq -- "$2"
}

apitokens_lacks() {
    ! apitokens_has "$@"
}

t_apitokens_create_list_revoke() {
    it_cluster 0
    tok=$("$SLUICE" token create --api --role viewer --name grafana --ttl 30d \
        --dir "$IT_STATE" 2>"$IT_DIR/create.err")
    it_check "the token alone on stdout: '$tok'" apitokens_has "$tok" '^sat_[0-9a-f]{64}$'
    it_check "stderr says it is shown once" grep -q "shown only now" "$IT_DIR/create.err"
    hash=$(printf '%s' "$tok" | b2sum -l 256 | cut -d' ' -f1)
    it_check "the store keeps the BLAKE2b hash" [ "$(it_sql "SELECT name || ',' || role
        FROM api_tokens WHERE hash='$hash'")" = "grafana,viewer" ]
    it_check "the store never holds the token" [ "$(it_sql "SELECT count(*) FROM api_tokens
        WHERE hash LIKE '%${tok#sat_}%' OR name LIKE '%${tok#sat_}%'")" = 0 ]
    it_check "30 days to live" [ "$(it_sql "SELECT (expires_at - created_at) / 86400000
        FROM api_tokens WHERE name='grafana'")" = 30 ]
    json=$("$SLUICE" token create --api --role operator --json --dir "$IT_STATE" 2>/dev/null)
    echo "$json"
    it_check "--json carries the token and a default name" \
        apitokens_has "$json" '"name": "token-2", +"role": "operator", +"token": "sat_[0-9a-f]{64}"'
    it_check "never expires by default" [ "$(it_sql "SELECT expires_at FROM api_tokens
        WHERE name='token-2'")" = 0 ]
    list=$("$SLUICE" token list --api --dir "$IT_STATE")
    echo "$list"
    it_check "list shows both" apitokens_has "$list" 'grafana +viewer'
    it_check "list shows the operator token" apitokens_has "$list" 'token-2 +operator'
    it_check "list never shows a token" apitokens_lacks "$list" 'sat_'
    json=$("$SLUICE" token list --api --json --dir "$IT_STATE")
    it_check "list --json never shows a token" apitokens_lacks "$json" 'sat_'
    it_check "list --json names them" apitokens_has "$json" '"grafana"'
    rc=0
    out=$("$SLUICE" token create --api --role viewer --name grafana --dir "$IT_STATE" 2>&1) || rc=$?
    echo "$out"
    it_check "a name is taken once (exit $rc)" [ "$rc" = 4 ]
    it_check "the refusal says what to do" apitokens_has "$out" "choose another --name"
    out=$("$SLUICE" token revoke grafana --dir "$IT_STATE")
    it_check "revoked: $out" apitokens_has "$out" "^API token 'grafana' \(id 1\) revoked at"
    out=$("$SLUICE" token revoke --api 1 --dir "$IT_STATE")
    it_check "again by id: $out" apitokens_has "$out" "was already revoked"
    it_check "list shows the revocation" apitokens_has \
        "$("$SLUICE" token list --dir "$IT_STATE")" 'grafana .*revoked'
    rc=0
    out=$("$SLUICE" token revoke 99 --dir "$IT_STATE" 2>&1) || rc=$?
    it_check "an unknown id is exit 4 (got $rc): $out" [ "$rc" = 4 ]
    it_check "and says how to list them" apitokens_has "$out" "token list --api"
    it_check "audited" [ "$(it_sql "SELECT group_concat(kind || ':' || subject, ' ')
        FROM events WHERE kind LIKE 'api_token_%'")" = \
        "api_token_created:grafana api_token_created:token-2 api_token_revoked:grafana" ]
    rc=0
    "$SLUICE" token create --api --role admin --dir "$IT_STATE" 2>/dev/null || rc=$?
    it_check "an unknown role is a usage error (got $rc)" [ "$rc" = 2 ]
    rc=0
    "$SLUICE" token create --api --role viewer --name 42 --dir "$IT_STATE" 2>/dev/null || rc=$?
    it_check "an all-digit name is refused (got $rc)" [ "$rc" = 4 ]
    tok=$("$SLUICE" token create --ttl 1h --dir "$IT_STATE" 2>/dev/null)
    it_check "without --api: still a join token" [ "$(it_sql "SELECT count(*) FROM join_tokens")" -ge 1 ]
    it_check "which is no API token" apitokens_lacks "$tok" '^sat_'
}

# A viewer client may not create, list or revoke API tokens; the refusal is
# an event.
t_apitokens_viewer_refused() {
    it_cluster 0
    dir="$IT_DIR/viewer"
    key=$("$SLUICE" keys client-key --dir "$dir" 2>/dev/null)
    for f in config.yaml scheduler.pub scheduler.curve.pub; do
        [ -e "$IT_STATE/$f" ] && cp "$IT_STATE/$f" "$dir/"
    done
    "$SLUICE" keys add-client --dir "$IT_STATE" "$key" --role viewer --name ann
    it_check "the viewer reads" "$SLUICE" dag list --dir "$dir"
    for verb in "create --api --role viewer" "list --api" "revoke 1"; do
        rc=0
        out=$("$SLUICE" token $verb --dir "$dir" 2>&1) || rc=$?
        echo "$out"
        it_check "viewer 'token $verb' refused (exit $rc)" [ "$rc" = 4 ]
        it_check "the refusal names the operator role" apitokens_has "$out" "needs the operator role"
    done
    it_check "no token was made" [ "$(it_sql "SELECT count(*) FROM api_tokens")" = 0 ]
    it_check "the refusals are events" [ "$(it_sql "SELECT count(*) FROM events
        WHERE kind='refused' AND subject LIKE 'api_token%'")" = 3 ]
}

# apitokens_http PATH [CURL ARGS...]: the status of a GET, the body in
# $IT_DIR/body.
apitokens_http() {
    path=$1; shift
    curl -sS -o "$IT_DIR/body" -w '%{http_code}' "$@" "http://$IT_HTTP$path" ||
        echo 000
}

# The HTTP server takes a live token and refuses an unknown, expired or
# revoked one with a message that says what to do.
t_apitokens_http_bearer() {
    it_cluster 0 --http-open-metrics false
    tok=$("$SLUICE" token create --api --role viewer --name dash --dir "$IT_STATE" 2>/dev/null)
    short=$("$SLUICE" token create --api --role viewer --name short --ttl 1s \
        --dir "$IT_STATE" 2>/dev/null)
    it_check "a live token opens /healthz" \
        [ "$(apitokens_http /healthz -H "Authorization: Bearer $tok")" = 200 ]
    code=$(apitokens_http /healthz -H "Authorization: Bearer sat_$(printf '%064d' 0)")
    it_check "an unknown token is a 401 ($code)" [ "$code" = 401 ]
    it_check "that says how to make one" grep -q "not known.*sluice token create --api" "$IT_DIR/body"
    it_check "a token past its ttl is refused" it_wait 5 sh -c \
        "[ \$(curl -s -o /dev/null -w '%{http_code}' \
           -H 'Authorization: Bearer $short' http://$IT_HTTP/healthz) = 401 ]"
    apitokens_http /healthz -H "Authorization: Bearer $short" >/dev/null
    it_check "and says when it expired and what to do" grep -q \
        "API token 'short' expired at .*sluice token create --api --role viewer" "$IT_DIR/body"
    "$SLUICE" token revoke dash --dir "$IT_STATE" >/dev/null
    code=$(apitokens_http /healthz -H "Authorization: Bearer $tok")
    it_check "a revoked token is refused at once ($code)" [ "$code" = 401 ]
    it_check "and says it was revoked" grep -q "API token 'dash' was revoked at" "$IT_DIR/body"
}
