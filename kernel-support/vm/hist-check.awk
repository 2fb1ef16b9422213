# Check one printed log2 histogram against the values ftrace recorded.
#
#   awk -f hist-check.awk -v style=bcc -v heading='Vhost-net RX log2 ...' -v label='recv pkts' \
#       -v values='0 50' -v name=rx_pkts  <vt-output
#   awk -f hist-check.awk -v style=bpftrace -v map=@rx -v values='0 50' -v name=rx  <vt-output
#
# style=bcc: finds the line `heading`, expects a line of dashes as long as it, then BCC's column
# header `     <label>           : count     distribution`, then rows `low -> high : count |stars|`
# (print_log2_hist: consecutive power-of-two ranges starting at `0 -> 1`).
# style=bpftrace: finds `<map>:`, then rows `[lo]` / `[lo, hi) count |@@@|` with K/M/G... suffixes.
# `-v valfile=FILE` (one value a line) instead of `-v values=...`: an argument holds at most 128 KiB,
# and the seed demo's runs are tens of thousands.
# Every row's count must equal the number of ftrace values inside its range, and the counts must
# add up to the number of values (so no value fell outside every row). Prints one `hist:` line;
# exit status 1 on any mismatch.
function num(s,    m, c) {
    gsub(/ /, "", s)
    m = 1; c = substr(s, length(s))
    if (c ~ /[KMGTPE]/) {
        m = 1024 ^ (index("KMGTPE", c)); s = substr(s, 1, length(s) - 1)
    }
    return s * m
}
function bad(msg) { problems = problems (problems == "" ? "" : "; ") msg }
BEGIN { n = split(values, v, " "); if (valfile != "") { n = 0; while ((getline l < valfile) > 0) v[++n] = l + 0; close(valfile) } state = 0; rows = 0 }
style == "bcc" && state == 0 && $0 == heading { state = 1; next }
style == "bcc" && state == 1 {
    dashes = heading; gsub(/./, "-", dashes)
    if ($0 != dashes) bad("no dashes under the heading")
    state = 2; next
}
style == "bcc" && state == 2 {
    want = sprintf("     %-19s : count     distribution", label)
    if ($0 != want) bad("column header is `" $0 "`, want `" want "`")
    state = 3; next
}
style == "bcc" && state == 3 {
    if (match($0, /^ *[0-9]+ -> [0-9]+ +: [0-9]+ +\|[* ]*\|$/)) {
        split($0, f, /(->|:|\|)/)
        lo[rows] = num(f[1]); hi[rows] = num(f[2]); cnt[rows] = f[3] + 0; lab[rows] = f[1] "->" f[2]
        gsub(/ +/, " ", lab[rows]); sub(/^ /, "", lab[rows]); sub(/ $/, "", lab[rows]); rows++
        next
    }
    state = 4
}
style == "bpftrace" && state == 0 && ($0 == map ":" || $0 == map ": ") { state = 3; next }
style == "bpftrace" && state == 3 {
    if (match($0, /^\[[0-9KMGTPE]+(, [0-9KMGTPE]+\))?\]? +[0-9]+ \|[@ ]*\|$/)) {
        l = $0; sub(/^\[/, "", l); split(l, f, /[])]/)
        if (index(f[1], ",")) { split(f[1], p, ","); lo[rows] = num(p[1]); hi[rows] = num(p[2]) - 1 }
        else { lo[rows] = num(f[1]); hi[rows] = lo[rows] }
        c = f[2]; sub(/^ +/, "", c); split(c, q, " "); cnt[rows] = q[1] + 0
        lab[rows] = substr($0, 1, index($0, (index($0, ")") ? ")" : "]")))
        rows++
        next
    }
    state = 4
}
END {
    what = (style == "bcc") ? "`" heading "`" : map
    if (state == 0) { printf "hist: %-9s %s not found\n", name, what; exit 1 }
    if (rows == 0) bad("no rows")
    total = 0
    for (r = 0; r < rows; r++) {
        if (r > 0 && lo[r] != hi[r - 1] + 1) bad("rows " lab[r - 1] " and " lab[r] " are not adjacent")
        if (style == "bcc" && r == 0 && (lo[r] != 0 || hi[r] != 1)) bad("first row is " lab[r] ", not 0 -> 1")
        e = 0
        for (i = 1; i <= n; i++) if (v[i] >= lo[r] && v[i] <= hi[r]) e++
        if (e != cnt[r]) bad("row " lab[r] " counts " cnt[r] ", ftrace has " e " values in it")
        total += cnt[r]
    }
    if (total != n) bad("counts sum to " total ", ftrace saw " n " runs")
    if (problems != "") { printf "hist: %-9s %d rows, sum %d, %d runs: MISMATCH: %s\n", name, rows, total, n, problems; exit 1 }
    printf "hist: %-9s %d rows, sum %d == %d runs, every row's count == ftrace values in its range ok\n", name, rows, total, n
}
