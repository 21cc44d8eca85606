# bench_scale_report.awk: turns bench_scale.sh's "section key value" lines
# into the printed table with the targets marked ok/MISSED, the JSON file
# (-v json=PATH) and the chart's data files (-v dat=PREFIX: PREFIX-fleet.dat
# and PREFIX-growth.dat). Settings come from the environment.

function num(v) { return v == "" || v == "nan" ? "null" : v + 0 }
function mark(ok) { return ok ? "ok" : "MISSED" }
function target(name, value, op, limit, unit,    ok) {
    if (value == "failed") {
        printf "  %-44s %10s %-5s (target %s %s %s: MISSED)\n", name, "failed", "",
            op, limit, unit
        ok = "false"
    } else if (value == "" || value == "nan") {
        printf "  %-44s %10s   (target %s %s %s: n/a)\n", name, "-", op, limit, unit
        ok = "null"
    } else {
        ok = (op == ">=") ? value + 0 >= limit : value + 0 < limit
        printf "  %-44s %10s %-5s (target %s %s %s: %s)\n", name, value, unit,
            op, limit, unit, mark(ok)
        ok = ok ? "true" : "false"
    }
    tj = tj (tj == "" ? "" : ",\n") sprintf("    {\"name\": \"%s\", \"value\": %s, \"op\": \"%s\", \"limit\": %s, \"unit\": \"%s\", \"ok\": %s}",
        name, num(value), op, limit, unit, ok)
}

{ v[$1, $2] = $3 }

END {
    nf = split(ENVIRON["FLEETS"], fleets, " ")
    ng = split(ENVIRON["GROWTH_SIZES"], sizes, " ")
    ne = split(ENVIRON["EARLIER"], earlier, " ")
    print ""
    printf "%-8s %9s %8s %11s %9s %8s %8s %10s %12s %5s\n", "workers", "tasks",
        "tasks/s", "cpu us/task", "rss MB", "p50 ms", "p99 ms", "idle %cpu",
        "sim us/task", "lost"
    fj = ""; worst_p99 = ""; worst_rss = ""; idle1k = ""; rate1k = ""
    printf "" > (dat "-fleet.dat")
    for (i = 1; i <= nf; i++) {
        s = "fleet" fleets[i]
        printf "%-8s %9s %8s %11s %9s %8s %8s %10s %12s %5s\n", fleets[i],
            v[s, "tasks"], v[s, "tasks_per_s"], v[s, "cpu_us_per_task"],
            v[s, "peak_rss_mb"], v[s, "ready_p50_ms"], v[s, "ready_p99_ms"],
            v[s, "idle_cpu_pct"], v[s, "simfleet_cpu_us_per_task"],
            v[s, "lost_links"]
        if (v[s, "failed"]) {
            printf "%-8s did not finish (see above); the numbers shown are what it measured first\n", ""
            failed_any = 1
        }
        if (v[s, "tasks_per_s"] != "")
            print fleets[i], v[s, "tasks_per_s"], v[s, "cpu_us_per_task"] >> (dat "-fleet.dat")
        p99 = v[s, "ready_p99_ms"] == "" ? "failed" : v[s, "ready_p99_ms"]
        if (worst_p99 != "failed" && (worst_p99 == "" || p99 == "failed" || p99 + 0 > worst_p99 + 0)) worst_p99 = p99
        rss = v[s, "peak_rss_mb"] == "" ? "failed" : v[s, "peak_rss_mb"]
        if (worst_rss != "failed" && (worst_rss == "" || rss == "failed" || rss + 0 > worst_rss + 0)) worst_rss = rss
        per1k = v[s, "idle_cpu_pct"] == "" ? "" : sprintf("%.2f", v[s, "idle_cpu_pct"] * 1000 / fleets[i])
        if (fleets[i] == 1000) {
            idle1k = v[s, "idle_cpu_pct"] == "" ? "failed" : v[s, "idle_cpu_pct"]
            rate1k = v[s, "tasks_per_s"] == "" ? "failed" : v[s, "tasks_per_s"]
        }
        fj = fj (fj == "" ? "" : ",\n") sprintf("    {\"workers\": %s, \"slots\": %s, \"prefetch\": %s, \"tasks\": %s, \"seconds\": %s, \"tasks_per_s\": %s, \"cpu_us_per_task\": %s, \"simfleet_cpu_us_per_task\": %s, \"peak_rss_mb\": %s, \"chain_tasks\": %s, \"ready_p50_ms\": %s, \"ready_p99_ms\": %s, \"idle_cpu_pct\": %s, \"idle_cpu_pct_per_1000\": %s, \"lost_links\": %s, \"finished\": %s}",
            fleets[i], ENVIRON["SLOTS"], ENVIRON["PREFETCH"], num(v[s, "tasks"]),
            num(v[s, "seconds"]), num(v[s, "tasks_per_s"]), num(v[s, "cpu_us_per_task"]),
            num(v[s, "simfleet_cpu_us_per_task"]), num(v[s, "peak_rss_mb"]),
            num(v[s, "chain_tasks"]), num(v[s, "ready_p50_ms"]), num(v[s, "ready_p99_ms"]),
            num(v[s, "idle_cpu_pct"]), num(per1k), num(v[s, "lost_links"]),
            v[s, "failed"] ? "false" : "true")
    }
    print ""
    printf "%-22s %9s %12s %8s %11s\n", "growth", "tasks", "runs before", "tasks/s", "cpu us/task"
    gj = ""; lo = ""; hi = ""
    printf "" > (dat "-growth.dat")
    for (i = 1; i <= ng + ne; i++) {
        if (i <= ng) { s = "size" sizes[i]; label = "dag of " sizes[i] " tasks" }
        else { s = "earlier" earlier[i - ng]; label = earlier[i - ng] " earlier runs" }
        if (v[s, "cpu_us_per_task"] == "") continue
        printf "%-22s %9s %12s %8s %11s\n", label, v[s, "tasks"],
            v[s, "earlier_runs"], v[s, "tasks_per_s"], v[s, "cpu_us_per_task"]
        if (i <= ng) print sizes[i], v[s, "tasks_per_s"], v[s, "cpu_us_per_task"] >> (dat "-growth.dat")
        c = v[s, "cpu_us_per_task"] + 0
        if (lo == "" || c < lo) lo = c
        if (hi == "" || c > hi) hi = c
        gj = gj (gj == "" ? "" : ",\n") sprintf("    {\"case\": \"%s\", \"tasks\": %s, \"runs_before\": %s, \"tasks_per_s\": %s, \"cpu_us_per_task\": %s}",
            label, num(v[s, "tasks"]), num(v[s, "earlier_runs"]),
            num(v[s, "tasks_per_s"]), num(v[s, "cpu_us_per_task"]))
    }
    spread = lo > 0 ? sprintf("%.2f", hi / lo) : ""
    if (v["growth", "failed"]) {
        print "growth did not finish (see above): the rows shown are what it measured first"
        spread = "failed"
        if (v["cli", "apply_s"] == "") v["cli", "apply_failed"] = sizes[ng]
    }
    print ""
    print "targets:"
    tj = ""
    target("tasks/s with 1,000 workers", rate1k, ">=", 10000, "/s")
    target("p99 ready -> dispatched (worst fleet)", worst_p99, "<", 50, "ms")
    target("peak RSS (worst fleet)", worst_rss, "<", 256, "MB")
    target("idle heartbeats of 1,000 workers", idle1k, "<", 5, "%")
    target("growth: cpu/task max / min", spread, "<", 1.2, "x")
    if (v["cli", "apply_failed"] + 0 > v["cli", "apply_tasks"] + 0) {
        target("dag apply of " v["cli", "apply_failed"] " tasks", "failed", "<", 2, "s")
        target("run show of its run", "", "<", 1, "s")
    } else {
        target("dag apply of " v["cli", "apply_tasks"] " tasks", v["cli", "apply_s"], "<", 2, "s")
        target("run show of its run", v["cli", "run_show_s"], "<", 1, "s")
    }
    "nproc" | getline cores
    printf "{\n  \"machine\": {\"cores\": %d, \"note\": \"measured on a shared machine unless said otherwise: noisy\"},\n", cores > json
    printf "  \"config\": {\"fleets\": \"%s\", \"slots\": %s, \"prefetch\": %s, \"tasks\": %s, \"growth_sizes\": \"%s\", \"earlier\": \"%s\", \"store_sync\": \"full\", \"elapsed_s\": %s},\n",
        ENVIRON["FLEETS"], ENVIRON["SLOTS"], ENVIRON["PREFETCH"], ENVIRON["TASKS"],
        ENVIRON["GROWTH_SIZES"], ENVIRON["EARLIER"], ENVIRON["ELAPSED"] > json
    printf "  \"fleets\": [\n%s\n  ],\n", fj > json
    printf "  \"growth\": [\n%s\n  ],\n", gj > json
    printf "  \"growth_spread\": %s,\n", spread == "failed" ? "null" : num(spread) > json
    printf "  \"cli\": {\"apply_tasks\": %s, \"apply_s\": %s, \"run_show_s\": %s, \"apply_failed_tasks\": %s},\n",
        num(v["cli", "apply_tasks"]), num(v["cli", "apply_s"]), num(v["cli", "run_show_s"]),
        num(v["cli", "apply_failed"]) > json
    printf "  \"targets\": [\n%s\n  ]\n}\n", tj > json
    close(json)
}
