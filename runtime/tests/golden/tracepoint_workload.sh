#!/bin/sh
# The workload for tracepoint.bt: dd's writes to fd 1 are 300 of 1000 bytes, 50 of 70, 7 of 5000.
/bin/dd if=/dev/zero of=/dev/null bs=1000 count=300 2>/dev/null
/bin/dd if=/dev/zero of=/dev/null bs=70 count=50 2>/dev/null
/bin/dd if=/dev/zero of=/dev/null bs=5000 count=7 2>/dev/null
