# Check one histogram of `vt --metrics`'s exposition against the values ftrace recorded and the
# histogram vt printed at exit (BCC's layout, as hist-check.awk reads it).
#
#   awk -f metrics-check.awk -v name=rx_pkts -v heading='Vhost-net RX ...' -v values='0 50' \
#       printed.txt exposition.txt
#
# (`-v valfile=FILE`, one value a line, instead of `-v values=...` for long lists, as hist-check.awk.)
# The family vt_<name> must be a histogram; every bucket `le` must count the values <= le (`+Inf`:
# all), `_count` the values, `_sum` their sum; and each printed row `lo -> hi : n` must be the bucket
# le=hi, counting the printed rows up to it (or, below vt's first bucket, count nothing). Prints one `metrics:` line; exit status 1 on a mismatch.
function bad(msg) { problems = problems (problems == "" ? "" : "; ") msg }
BEGIN { n = split(values, v, " "); if (valfile != "") { n = 0; while ((getline l < valfile) > 0) v[++n] = l + 0; close(valfile) } sum = 0; for (i = 1; i <= n; i++) sum += v[i]; state = 0; rows = 0; cum = 0 }
# The printed histogram (first file).
FNR == NR {
    if (state == 0 && $0 == heading) { state = 1; skip = 2; next }
    if (state == 1 && skip > 0) { skip--; next }
    if (state == 1 && match($0, /^ *[0-9]+ -> [0-9]+ +: [0-9]+ +\|[* ]*\|$/)) {
        split($0, f, /(->|:|\|)/); gsub(/ /, "", f[2]); cum += f[3]
        hi[rows] = f[2]; pc[rows] = cum; rows++; next
    }
    if (state == 1) state = 2
    next
}
# The exposition (second file).
$0 == "# TYPE vt_" name " histogram" { typed = 1 }
index($0, "vt_" name "_bucket{le=\"") == 1 {
    le = $0; sub(/^[^"]*"/, "", le); sub(/".*/, "", le)
    bucket[le] = $2 + 0; order[nb++] = le
}
$1 == "vt_" name "_count" { count = $2; got_count = 1 }
$1 == "vt_" name "_sum" { got_sum = $2; has_sum = 1 }
END {
    if (!typed) bad("no `# TYPE vt_" name " histogram`")
    if (nb == 0) bad("no buckets")
    prev = -1
    for (b = 0; b < nb; b++) {
        le = order[b]; e = 0
        for (i = 1; i <= n; i++) if (le == "+Inf" || v[i] <= le + 0) e++
        if (bucket[le] != e) bad("le=" le " is " bucket[le] ", ftrace has " e " values <= it")
        if (bucket[le] < prev) bad("le=" le " is below the bucket before it")
        prev = bucket[le]
    }
    if (!("+Inf" in bucket)) bad("no +Inf bucket")
    if (!got_count || count != n) bad("_count is " count ", ftrace saw " n)
    if (!has_sum || got_sum != sum) bad("_sum is " got_sum ", ftrace's values sum to " sum)
    if (rows == 0) bad("printed histogram `" heading "` not found")
    for (r = 0; r < rows; r++)
        # (No bucket below the first the map held: the printed rows there are empty.)
        if ((hi[r] in bucket) ? bucket[hi[r]] != pc[r] : pc[r] != 0) bad("printed rows up to " hi[r] " count " pc[r] ", bucket le=" hi[r] " is " bucket[hi[r]])
    if (problems != "") { printf "metrics: vt_%-7s MISMATCH: %s\n", name, problems; exit 1 }
    printf "metrics: vt_%-7s histogram, %d buckets == ftrace values <= le, _count %d, _sum %d, %d printed rows == buckets ok\n", name, nb, n, sum, rows
}
