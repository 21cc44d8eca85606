# A state that others can write is never trusted: init makes or fixes a
# private directory, the daemons refuse one that group or others can write
# or another user owns, and a client.pub swapped in after init is refused
# until the person starting the scheduler trusts it.

# s_statedir_init DIR: a fresh state in DIR on free ports.
s_statedir_init() {
    wp=$(it_free_port); cp=$(it_free_port)
    "$SLUICE" init --dir "$1" --listen "tcp://127.0.0.1:$wp" \
        --client-listen "tcp://127.0.0.1:$cp" --advertise "127.0.0.1:$wp" \
        >"$IT_DIR/init.out" 2>"$IT_DIR/init.err"
}

# s_statedir_refused DIR FILE: the scheduler of DIR exits at once; its output in FILE.
s_statedir_refused() {
    rc=0
    timeout 10 "$SLUICE" scheduler --dir "$1" >"$2" 2>&1 || rc=$?
    [ "$rc" = 1 ]
}

t_statedir_init_fixes_an_open_directory() {
    IT_DIR=$(mktemp -d /tmp/sluice-it.XXXXXX)
    mkdir -m 0777 "$IT_DIR/open"
    chmod 0777 "$IT_DIR/open"
    it_check "init succeeds" s_statedir_init "$IT_DIR/open"
    it_check "the directory is now 0700" [ "$(stat -c %a "$IT_DIR/open")" = 700 ]
    it_check "and init said so" grep -q "was mode 777.*made it 0700" "$IT_DIR/init.err"
    it_check "key files are 0600" [ "$(stat -c %a "$IT_DIR/open/scheduler.key")" = 600 ]
}

t_statedir_open_directory_and_key_refused() {
    IT_DIR=$(mktemp -d /tmp/sluice-it.XXXXXX)
    it_check "init" s_statedir_init "$IT_DIR/s"
    chmod 0777 "$IT_DIR/s"
    it_check "0777 directory: scheduler refuses" s_statedir_refused "$IT_DIR/s" "$IT_DIR/dir.out"
    it_check "and names the fix" grep -q "can be written by group or others (mode 777).*chmod 700 $IT_DIR/s" "$IT_DIR/dir.out"
    chmod 0700 "$IT_DIR/s"
    chmod 0666 "$IT_DIR/s/scheduler.key"
    it_check "0666 key file: refused" s_statedir_refused "$IT_DIR/s" "$IT_DIR/key.out"
    it_check "with the chmod" grep -q "chmod 600 $IT_DIR/s/scheduler.key" "$IT_DIR/key.out"
    chmod 0600 "$IT_DIR/s/scheduler.key"
    rc=0
    mkdir -m 0777 "$IT_DIR/w"; chmod 0777 "$IT_DIR/w"
    timeout 10 "$SLUICE" worker --dir "$IT_DIR/w" --join "$(sed -n 's/.*--join //p' "$IT_DIR/init.out")" \
        >"$IT_DIR/worker.out" 2>&1 || rc=$?
    it_check "a worker refuses a 0777 state directory (rc $rc)" [ "$rc" != 0 ] && [ "$rc" != 124 ]
    it_check "and names the fix" grep -q "chmod 700 $IT_DIR/w" "$IT_DIR/worker.out"
}

t_statedir_owned_by_another_user_refused() {
    [ "$(id -u)" = 0 ] || { it_log "skipped: needs root to chown"; return 0; }
    IT_DIR=$(mktemp -d /tmp/sluice-it.XXXXXX)
    it_check "init" s_statedir_init "$IT_DIR/s"
    chown -R nobody "$IT_DIR/s"
    it_check "scheduler refuses" s_statedir_refused "$IT_DIR/s" "$IT_DIR/own.out"
    it_check "and says who owns it" grep -q "is owned by uid $(id -u nobody), not by this user.*chown" "$IT_DIR/own.out"
    mkdir -m 0755 "$IT_DIR/other"; chown nobody "$IT_DIR/other"
    rc=0; "$SLUICE" init --dir "$IT_DIR/other" >/dev/null 2>"$IT_DIR/init2.err" || rc=$?
    it_check "init refuses a directory of another user (rc $rc)" [ "$rc" != 0 ]
    it_check "saying so" grep -q "owned by uid" "$IT_DIR/init2.err"
}

t_statedir_swapped_client_key_refused_until_trusted() {
    it_cluster 0
    it_stop "$IT_SCHED_PID"
    # Someone replaces the local operator key with their own.
    s_statedir_init "$IT_DIR/other"
    cp "$IT_DIR/other/client.key" "$IT_DIR/other/client.pub" "$IT_STATE/"
    it_check "scheduler refuses the swapped key" s_statedir_refused "$IT_STATE" "$IT_DIR/swap.out"
    it_check "and says how to trust it" grep -q "client.pub' is not the client key trusted before.*--trust-client-key" "$IT_DIR/swap.out"
    it_start_scheduler --trust-client-key
    it_check "with --trust-client-key it starts and answers the new key" "$SLUICE" workers --dir "$IT_STATE"
    it_check "the audit log records it" [ "$(it_sql "SELECT count(*) FROM events WHERE kind='local_client_trusted'")" = 1 ]
    it_check "only one local operator key is trusted" [ "$(it_sql "SELECT count(*) FROM client_keys WHERE name='local CLI'")" = 1 ]
    it_stop "$IT_SCHED_PID"
    it_start_scheduler
    it_check "later starts need no flag" "$SLUICE" workers --dir "$IT_STATE"
}
