# The HTTP server itself: where it listens, what every answer carries, its
# errors, TLS, and a clear refusal when its port is taken.

# http_get PATH [CURL ARGS...]: the body; the status goes to $IT_DIR/status.
http_get() {
    path=$1; shift
    curl -sS -o "$IT_DIR/body" -w '%{http_code}' "$@" "http://$IT_HTTP$path" \
        >"$IT_DIR/status" || echo 000 >"$IT_DIR/status"
    cat "$IT_DIR/body"
}

http_status() { cat "$IT_DIR/status"; }

t_http_serves_health_ui_and_json_errors() {
    it_cluster 0
    it_check "the scheduler says where the UI is" \
        grep -q "HTTP API and web UI on http://$IT_HTTP/" "$IT_DIR/scheduler.log"
    it_check "/healthz answers without a token" \
        sh -c "curl -fsS http://$IT_HTTP/healthz | grep -q '\"status\":\"ok\"'"
    curl -sS -D "$IT_DIR/headers" -o /dev/null "http://$IT_HTTP/"
    it_check "the UI's page is served" grep -q '^HTTP/1.1 200' "$IT_DIR/headers"
    it_check "with a strict Content-Security-Policy" \
        grep -qi "^Content-Security-Policy: default-src 'self';.*script-src 'self'" "$IT_DIR/headers"
    it_check "that nothing may frame" grep -qi '^X-Frame-Options: DENY' "$IT_DIR/headers"
    http_get /no/such/page >/dev/null
    it_check "an unknown path is a 404 ($(http_status))" [ "$(http_status)" = 404 ]
    it_check "whose error is JSON that says where the API is described" \
        grep -q '"error":{"status":404,"message":".*openapi.json' "$IT_DIR/body"
    http_get /healthz -X DELETE >/dev/null
    it_check "a wrong method is a 405 ($(http_status))" [ "$(http_status)" = 405 ]
}

t_http_closed_health_needs_a_token() {
    it_cluster 0 --http-open-metrics false
    http_get /healthz >/dev/null
    it_check "/healthz without a token is a 401 when not open ($(http_status))" \
        [ "$(http_status)" = 401 ]
    it_check "the answer says how to get a token" \
        grep -q "sluice token create --api" "$IT_DIR/body"
    http_get /healthz -H 'Authorization: Bearer sat_made_up' >/dev/null
    it_check "a made-up token is a 401 too ($(http_status))" [ "$(http_status)" = 401 ]
}

t_http_port_taken_or_off() {
    it_cluster 0
    other="$IT_DIR/other"
    "$SLUICE" init --dir "$other" --listen "tcp://127.0.0.1:$(it_free_port)" \
        --client-listen "tcp://127.0.0.1:$(it_free_port)" \
        --http-listen "$IT_HTTP" >/dev/null
    rc=0
    timeout 20 "$SLUICE" scheduler --dir "$other" >"$IT_DIR/other.log" 2>&1 || rc=$?
    it_check "a second scheduler on a taken HTTP port stops (rc $rc)" [ "$rc" = 1 ]
    it_check "and says which setting to change" \
        grep -q "cannot serve HTTP on $IT_HTTP.*http_listen" "$IT_DIR/other.log"
    it_stop "$IT_SCHED_PID"
    it_start_scheduler --http-listen ""
    it_check "with http_listen empty nothing listens" \
        sh -c "! curl -s -o /dev/null http://$IT_HTTP/healthz"
    it_check "and the log does not claim a UI" \
        sh -c "[ \$(grep -c 'HTTP API and web UI on' '$IT_DIR/scheduler.log') = 1 ]"
}

t_http_tls() {
    command -v openssl >/dev/null || { it_log "skipped: no openssl"; return 0; }
    it_cluster 0
    openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 \
        -keyout "$IT_DIR/tls.key" -out "$IT_DIR/tls.crt" 2>/dev/null
    it_stop "$IT_SCHED_PID"
    it_start_scheduler --http-tls-cert "$IT_DIR/tls.crt" --http-tls-key "$IT_DIR/tls.key"
    it_check "the scheduler says https" \
        grep -q "HTTP API and web UI on https://$IT_HTTP/" "$IT_DIR/scheduler.log"
    it_check "/healthz answers over TLS with our certificate" \
        sh -c "curl -fsS --cacert '$IT_DIR/tls.crt' https://$IT_HTTP/healthz | grep -q ok"
    it_check "plain HTTP gets no page" \
        sh -c "! curl -fsS -m 5 http://$IT_HTTP/healthz >/dev/null 2>&1"
    it_stop "$IT_SCHED_PID"
    rc=0
    timeout 20 "$SLUICE" scheduler --dir "$IT_STATE" --http-tls-cert "$IT_DIR/tls.crt" \
        >"$IT_DIR/nokey.log" 2>&1 || rc=$?
    it_check "a certificate without a key is refused at start (rc $rc)" [ "$rc" = 1 ]
    it_check "with a message naming both settings" \
        grep -q "http_tls_cert is set but http_tls_key is not" "$IT_DIR/nokey.log"
}

# The web UI's login: a token becomes an HttpOnly, SameSite=Strict cookie;
# a write with that cookie needs the CSRF value the login returned.
t_http_session_cookie_and_csrf() {
    it_cluster 0
    cat >"$IT_DIR/d.yaml" <<'YAML'
dag: d
tasks:
  - {id: a, run: "true"}
YAML
    "$SLUICE" dag apply --dir "$IT_STATE" "$IT_DIR/d.yaml" >/dev/null
    tok=$("$SLUICE" token create --api --role operator --name ui --dir "$IT_STATE" 2>/dev/null)
    jar="$IT_DIR/jar"
    curl -sS -c "$jar" -D "$IT_DIR/h" -o "$IT_DIR/login" -H 'Content-Type: application/json' \
        -d "{\"token\":\"$tok\"}" "http://$IT_HTTP/api/v1/session"
    it_check "the login sets an HttpOnly, SameSite=Strict cookie" \
        grep -qi '^Set-Cookie: sluice_session=sat_.*HttpOnly.*SameSite=Strict' "$IT_DIR/h"
    it_check "and answers with the role and a CSRF value" \
        grep -q '"role":"operator".*"csrf":"[0-9a-f]\{64\}"' "$IT_DIR/login"
    csrf=$(sed 's/.*"csrf":"\([0-9a-f]*\)".*/\1/' "$IT_DIR/login")
    http_get /api/v1/session -b "$jar" >/dev/null
    it_check "the cookie alone reads ($(http_status))" [ "$(http_status)" = 200 ]
    http_get /api/v1/dags/d/pause -b "$jar" -X POST -d '{"paused":true}' >/dev/null
    it_check "a write with the cookie and no CSRF header is a 403 ($(http_status))" \
        [ "$(http_status)" = 403 ]
    http_get /api/v1/dags/d/pause -b "$jar" -X POST -d '{"paused":true}' \
        -H "X-CSRF-Token: 00$csrf" >/dev/null
    it_check "and with a wrong one too ($(http_status))" [ "$(http_status)" = 403 ]
    http_get /api/v1/dags/d/pause -b "$jar" -X POST -d '{"paused":true}' \
        -H "X-CSRF-Token: $csrf" >/dev/null
    it_check "with the right one it is done ($(http_status))" [ "$(http_status)" = 200 ]
    it_check "and the DAG is paused" \
        sh -c "'$SLUICE' dag list --dir '$IT_STATE' --json | grep -q '\"paused\": *true'"
    http_get /api/v1/session -X POST -d '{"token":"sat_nope"}' >/dev/null
    it_check "a login with a made-up token is a 401 ($(http_status))" [ "$(http_status)" = 401 ]
    head -c 2000000 /dev/zero | tr '\0' 'x' >"$IT_DIR/big"
    http_get /api/v1/session -X POST --data-binary @"$IT_DIR/big" >/dev/null
    it_check "a 2 MB body is a 413 ($(http_status))" [ "$(http_status)" = 413 ]
    curl -sS -b "$jar" -c "$jar" -D "$IT_DIR/h2" -o /dev/null -X DELETE \
        -H "X-CSRF-Token: $csrf" "http://$IT_HTTP/api/v1/session"
    it_check "logging out ends the cookie" grep -qi '^Set-Cookie: sluice_session=;' "$IT_DIR/h2"
}
