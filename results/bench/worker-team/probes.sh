#!/bin/bash
# The micro-kernel's rate on one and two cores (kernel-rate-harness.cs.txt: one product shape repeated, GFLOP/s against
# the FMA peak measured in the same process), and the read rate of 4 KB against 2 MB pages (huge-pages-harness.cs.txt).
# usage: probes.sh KERNEL_RATE_BIN HUGE_PAGES_BIN
rate=$1 huge=$2
{ echo "# $(date -u '+%F %T') UTC; before: $(uptime)"
  for round in 1 2; do
    "$rate" 1 480 256 480 1 3; "$rate" 2 960 256 480 1 3          # A and B in each core's L2
    "$rate" 1 480 768 3072 1 3; "$rate" 2 960 768 3072 1 3        # GPT-2's MLP map, in L3
    "$rate" 1 512 768 3072 12 3; "$rate" 2 512 768 3072 12 3      # twelve such maps in turn: from memory
    echo "two processes, 1 thread each, at once:"; "$rate" 1 480 256 480 1 3 & "$rate" 1 480 256 480 1 3; wait
  done
  "$huge"
  echo "# after: $(uptime)"; } > probes.txt 2>&1
