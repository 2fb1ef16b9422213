#!/bin/sh
# Run in the guest (guest.sh --with guest-lib.sh --with this file; test.sh runs it after kprobe-test.sh in the same boot):
# fentry/fexit (and kfunc/kretfunc) on workloads of known shape, checked exactly; one `check:` line
# each; exits with the number that failed.
. guest-lib.sh # check, links, start, stop, val, ok_rc, refused

echo "kernel $(uname -r), module BTF: $(ls /sys/kernel/btf | tr '\n' ' ')"

# 1. vmlinux functions, exact: shapes makes 1000 getppid calls (its parent is this shell), then 100
# writes of 1..100 bytes to /dev/null (5050 bytes).
start a 8 'fentry:vfs_write /comm == "shapes"/ { @e = count(); @len = sum(args.count); @name[str(args.file->f_path.dentry->d_name.name)] = count(); }
fexit:vfs_write /comm == "shapes"/ { @x = count(); @ret = sum(retval); @xlen = sum(args.count); }
kfunc:vfs_write /comm == "shapes"/ { @k17 = sum(args->count); @k17name[str(args->file->f_path.dentry->d_name.name)] = count(); }
kretfunc:vmlinux:vfs_write /comm == "shapes"/ { @kr = count(); }
fentry:vfs_writ? /comm == "shapes"/ { @w[probe, func] = count(); }
fentry:vfs_write /comm == "shapes"/ { @st[kstack] = count(); }
fentry:__do_sys_getppid /comm == "shapes"/ { @g = count(); }
fexit:__do_sys_getppid /comm == "shapes"/ { @gr[retval] = count(); }' && {
    shapes --now getppid 1000 + writes 100
    stop a
    check "fentry:vfs_write count" "$(val a @e)" 100
    check "fentry:vfs_write sum(args.count)" "$(val a @len)" 5050
    check "fentry:vfs_write args.file->f_path.dentry->d_name.name" "$(val a '@name\[null\]')" 100
    check "fexit:vfs_write count" "$(val a @x)" 100
    check "fexit:vfs_write sum(retval)" "$(val a @ret)" 5050
    check "fexit:vfs_write sum(args.count)" "$(val a @xlen)" 5050
    check "kfunc:vfs_write sum(args->count) (0.17 syntax)" "$(val a @k17)" 5050
    check "kfunc:vfs_write args->file->...->d_name.name" "$(val a '@k17name\[null\]')" 100
    check "kretfunc:vmlinux:vfs_write count" "$(val a @kr)" 100
    check "fentry:vfs_writ? probe, func" "$(val a '@w\[fentry:vfs_write, vfs_write\]')" 100
    check "fentry:vfs_write kstack: stacks through ksys_write" "$(grep -c 'ksys_write' /tmp/a.out)" "$(grep -c '^@st\[$' /tmp/a.out)"
    check "fentry:vfs_write kstack: counts sum" "$(sed -n 's/^\]: //p' /tmp/a.out | awk '{s+=$1} END {print s+0}')" 100
    check "fentry:__do_sys_getppid count" "$(val a @g)" 1000
    check "fexit:__do_sys_getppid retval (ppid)" "$(val a "@gr\[$$\]")" 1000
    ok_rc a
}

# 1b. fexit's retval through its BTF pointer type: inet_csk_accept returns the struct sock * of the
# connection it accepted; shapes makes one loopback connection to port 47403 (args.sk is the
# listener). (This block first traced do_filp_open, which the test shell itself runs for every
# command; one CI boot of 6.1 under TCG locked up in the shell while that block attached.)
ip link set lo up 2>/dev/null
start o 1 'fexit:inet_csk_accept /comm == "shapes"/ { @lport[retval->__sk_common.skc_num] = count(); @fam[retval->__sk_common.skc_family] = count(); @listener[args.sk->__sk_common.skc_num] = count(); }' && {
    shapes --now connect 47403
    stop o
    check "fexit:inet_csk_accept retval->__sk_common.skc_num" "$(val o '@lport\[47403\]')" 1
    check "fexit:inet_csk_accept retval->__sk_common.skc_family (AF_INET)" "$(val o '@fam\[2\]')" 1
    check "fexit:inet_csk_accept args.sk->__sk_common.skc_num" "$(val o '@listener\[47403\]')" 1
    ok_rc o
}

# 2. kstack in a kprobe (same workload): every stack goes through ksys_write.
start k 1 'kprobe:vfs_write /comm == "shapes"/ { @st[kstack] = count(); }' && {
    shapes --now writes 100
    stop k
    check "kprobe:vfs_write kstack: stacks through ksys_write" "$(grep -c 'ksys_write' /tmp/k.out)" "$(grep -c '^@st\[$' /tmp/k.out)"
    check "kprobe:vfs_write kstack: counts sum" "$(sed -n 's/^\]: //p' /tmp/k.out | awk '{s+=$1} END {print s+0}')" 100
    ok_rc k
}

# 3. A module's function through its split BTF: the vhost module's (Debian's build). vhost_exceeds_weight runs once per packet loop of
# handle_tx/handle_rx: fentry, fexit and a kprobe on it count the same; args.vq is a struct of the
# module's own BTF, whose `num` is the ring size (--ring 256).
if [ -e /sys/kernel/btf/vhost ]; then
    start m 5 'fentry:vhost:vhost_exceeds_weight { @f = count(); @num[args.vq->num] = count(); }
fexit:vhost:vhost_exceeds_weight { @x = count(); @r[retval] = count(); }
kprobe:vhost:vhost_exceeds_weight { @k = count(); }
kprobe:vhost_net:handle_tx { @kp_tx = count(); } tracepoint:vhost_net:vhost_net_tx_end { @tp_tx = count(); }' && {
        vhost-traffic --tx 100 --rx 50 --tx-size 256 --rx-size 256 --ring 256 >/tmp/traffic.out 2>&1 || { cat /tmp/traffic.out; fails=$((fails+1)); }
        stop m
        grep '^@' /tmp/m.out
        check "fentry:vhost:vhost_exceeds_weight == kprobe count" "$(val m @f)" "$(val m @k)"
        check "fexit:vhost:vhost_exceeds_weight == kprobe count" "$(val m @x)" "$(val m @k)"
        check "fentry:vhost:vhost_exceeds_weight ran" "$([ "$(val m @f)" -gt 0 ] 2>/dev/null && echo yes)" yes
        check "fentry:vhost args.vq->num (module BTF type) == ring size" "$(val m '@num\[256\]')" "$(val m @f)"
        check "fexit:vhost retval false every time" "$(val m '@r\[0\]')" "$(val m @x)"
        check "kprobe:vhost_net:handle_tx == tracepoint tx runs" "$(val m @kp_tx)" "$(val m @tp_tx)"
        ok_rc m
    }
else
    echo "check: no /sys/kernel/btf/vhost: module fentry not checked MISMATCH"; fails=$((fails+1))
fi

# 4. The patched vhost_net's own functions (module/build.sh gives it BTF with pahole): the workers'
# runs by fentry/fexit equal the tracepoints' (which fire once at the end of every handle_tx/handle_rx
# run) and the kprobes'; args.net is the module's struct vhost_net, whose dev has 2 virtqueues.
if [ -e /sys/kernel/btf/vhost_net ]; then
    start n 8 'fentry:vhost_net:handle_tx { @f_tx = count(); @nvqs[args.net->dev.nvqs] = count(); }
fexit:vhost_net:handle_rx { @x_rx = count(); }
kfunc:vhost_net:handle_tx_kick { @f_kick = count(); }
kprobe:vhost_net:handle_tx_kick { @k_kick = count(); }
kprobe:vhost_net:handle_tx { @k_tx = count(); } kprobe:vhost_net:handle_rx { @k_rx = count(); }
tracepoint:vhost_net:vhost_net_tx_end { @tp_tx = count(); } tracepoint:vhost_net:vhost_net_rx_end { @tp_rx = count(); }' && {
        vhost-traffic --tx 100 --rx 50 --tx-size 256 --rx-size 256 --ring 256 >/tmp/traffic.out 2>&1 || { cat /tmp/traffic.out; fails=$((fails+1)); }
        stop n
        grep '^@' /tmp/n.out
        check "fentry:vhost_net:handle_tx == tracepoint tx runs" "$(val n @f_tx)" "$(val n @tp_tx)"
        check "fentry:vhost_net:handle_tx == kprobe" "$(val n @f_tx)" "$(val n @k_tx)"
        check "fexit:vhost_net:handle_rx == tracepoint rx runs" "$(val n @x_rx)" "$(val n @tp_rx)"
        check "fexit:vhost_net:handle_rx == kprobe" "$(val n @x_rx)" "$(val n @k_rx)"
        check "kfunc:vhost_net:handle_tx_kick == kprobe" "$(val n @f_kick)" "$(val n @k_kick)"
        check "fentry:vhost_net:handle_tx args.net->dev.nvqs == 2" "$(val n '@nvqs\[2\]')" "$(val n @f_tx)"
        ok_rc n
    }
else
    echo "check: no /sys/kernel/btf/vhost_net (module/build.sh's pahole step): vhost_net fentry not checked MISMATCH"; fails=$((fails+1))
fi

# 5. Refusals: one error line each, a failure status, no panic.
refused "missing function" 'fentry:vt_no_such_function { }' "-e:1:8: error: the kernel has no function \`vt_no_such_function\` in its BTF"
refused "module function missing" 'fexit:vhost:vt_nothing { }' "-e:1:13: error: module vhost has no function \`vt_nothing\` in its BTF"
refused "module not loaded" 'fentry:vt_nomodule:handle_tx_kick { }' "-e:1:8: error: no module \`vt_nomodule\` with BTF is loaded"
# x86's trampolines in 6.1 pass at most 6 arguments: refused when attached, saying so.
refused "seven arguments" 'fentry:vhost:vhost_get_vq_desc { }' "vt: cannot attach fentry:vhost:vhost_get_vq_desc: \`vhost_get_vq_desc\` takes 7 arguments"
refused "unknown parameter" 'fentry:vfs_write { print(args.size) }' "-e:1:31: error: function vfs_write has no parameter \`size\`"

# 6. Listing.
check "vt -l 'fentry:vfs_rea?'" "$(vt -l 'fentry:vfs_rea?' | tr '\n' ' ')" "fentry:vfs_read "
check "vt -l 'fexit:vhost:vhost_exceeds_w*'" "$(vt -l 'fexit:vhost:vhost_exceeds_w*' | tr '\n' ' ')" "fexit:vhost:vhost_exceeds_weight "
[ -e /sys/kernel/btf/vhost_net ] && check "vt -l 'fentry:vhost_net:handle_?x'" "$(vt -l 'fentry:vhost_net:handle_?x' | sort | tr '\n' ' ')" "fentry:vhost_net:handle_rx fentry:vhost_net:handle_tx "
echo "fentry tests: $fails failed"
exit $fails
