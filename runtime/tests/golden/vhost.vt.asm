tracepoint:vhost_net:vhost_net_rx_end (tracepoint/vhost_net/vhost_net_rx_end, 95 insns):
   0: r6 = r1
   1: r7 = *(u32 *)(r6 +8)
   2: r7 <<= 32
   3: r7 s>>= 32
   4: if r7 s> 0 goto +5
   5: if r7 == 0 goto +2
   6: r7 = 0
   7: goto +29
   8: r7 = 1
   9: goto +27
  10: r1 = 2
  11: r2 = r7
  12: r2 >>= 16
  13: if r2 == 0 goto +2
  14: r7 = r2
  15: r1 += 16
  16: r2 = r7
  17: r2 >>= 8
  18: if r2 == 0 goto +2
  19: r7 = r2
  20: r1 += 8
  21: r2 = r7
  22: r2 >>= 4
  23: if r2 == 0 goto +2
  24: r7 = r2
  25: r1 += 4
  26: r2 = r7
  27: r2 >>= 2
  28: if r2 == 0 goto +2
  29: r7 = r2
  30: r1 += 2
  31: r2 = r7
  32: r2 >>= 1
  33: if r2 == 0 goto +2
  34: r7 = r2
  35: r1 += 1
  36: r7 = r1
  37: *(u32 *)(r10 -8) = r7
  38: r1 = map[@rx_pkts] ll
  40: r2 = r10
  41: r2 += -8
  42: call bpf_map_lookup_elem
  43: if r0 == 0 goto +3
  44: r1 = *(u64 *)(r0 +0)
  45: r1 += 1
  46: *(u64 *)(r0 +0) = r1
  47: r7 = *(u32 *)(r6 +12)
  48: r7 <<= 32
  49: r7 s>>= 32
  50: if r7 s> 0 goto +5
  51: if r7 == 0 goto +2
  52: r7 = 0
  53: goto +29
  54: r7 = 1
  55: goto +27
  56: r1 = 2
  57: r2 = r7
  58: r2 >>= 16
  59: if r2 == 0 goto +2
  60: r7 = r2
  61: r1 += 16
  62: r2 = r7
  63: r2 >>= 8
  64: if r2 == 0 goto +2
  65: r7 = r2
  66: r1 += 8
  67: r2 = r7
  68: r2 >>= 4
  69: if r2 == 0 goto +2
  70: r7 = r2
  71: r1 += 4
  72: r2 = r7
  73: r2 >>= 2
  74: if r2 == 0 goto +2
  75: r7 = r2
  76: r1 += 2
  77: r2 = r7
  78: r2 >>= 1
  79: if r2 == 0 goto +2
  80: r7 = r2
  81: r1 += 1
  82: r7 = r1
  83: *(u32 *)(r10 -8) = r7
  84: r1 = map[@rx_len] ll
  86: r2 = r10
  87: r2 += -8
  88: call bpf_map_lookup_elem
  89: if r0 == 0 goto +3
  90: r1 = *(u64 *)(r0 +0)
  91: r1 += 1
  92: *(u64 *)(r0 +0) = r1
  93: r0 = 0
  94: exit
tracepoint:vhost_net:vhost_net_tx_end (tracepoint/vhost_net/vhost_net_tx_end, 95 insns):
   0: r6 = r1
   1: r7 = *(u32 *)(r6 +8)
   2: r7 <<= 32
   3: r7 s>>= 32
   4: if r7 s> 0 goto +5
   5: if r7 == 0 goto +2
   6: r7 = 0
   7: goto +29
   8: r7 = 1
   9: goto +27
  10: r1 = 2
  11: r2 = r7
  12: r2 >>= 16
  13: if r2 == 0 goto +2
  14: r7 = r2
  15: r1 += 16
  16: r2 = r7
  17: r2 >>= 8
  18: if r2 == 0 goto +2
  19: r7 = r2
  20: r1 += 8
  21: r2 = r7
  22: r2 >>= 4
  23: if r2 == 0 goto +2
  24: r7 = r2
  25: r1 += 4
  26: r2 = r7
  27: r2 >>= 2
  28: if r2 == 0 goto +2
  29: r7 = r2
  30: r1 += 2
  31: r2 = r7
  32: r2 >>= 1
  33: if r2 == 0 goto +2
  34: r7 = r2
  35: r1 += 1
  36: r7 = r1
  37: *(u32 *)(r10 -8) = r7
  38: r1 = map[@tx_pkts] ll
  40: r2 = r10
  41: r2 += -8
  42: call bpf_map_lookup_elem
  43: if r0 == 0 goto +3
  44: r1 = *(u64 *)(r0 +0)
  45: r1 += 1
  46: *(u64 *)(r0 +0) = r1
  47: r7 = *(u32 *)(r6 +12)
  48: r7 <<= 32
  49: r7 s>>= 32
  50: if r7 s> 0 goto +5
  51: if r7 == 0 goto +2
  52: r7 = 0
  53: goto +29
  54: r7 = 1
  55: goto +27
  56: r1 = 2
  57: r2 = r7
  58: r2 >>= 16
  59: if r2 == 0 goto +2
  60: r7 = r2
  61: r1 += 16
  62: r2 = r7
  63: r2 >>= 8
  64: if r2 == 0 goto +2
  65: r7 = r2
  66: r1 += 8
  67: r2 = r7
  68: r2 >>= 4
  69: if r2 == 0 goto +2
  70: r7 = r2
  71: r1 += 4
  72: r2 = r7
  73: r2 >>= 2
  74: if r2 == 0 goto +2
  75: r7 = r2
  76: r1 += 2
  77: r2 = r7
  78: r2 >>= 1
  79: if r2 == 0 goto +2
  80: r7 = r2
  81: r1 += 1
  82: r7 = r1
  83: *(u32 *)(r10 -8) = r7
  84: r1 = map[@tx_len] ll
  86: r2 = r10
  87: r2 += -8
  88: call bpf_map_lookup_elem
  89: if r0 == 0 goto +3
  90: r1 = *(u64 *)(r0 +0)
  91: r1 += 1
  92: *(u64 *)(r0 +0) = r1
  93: r0 = 0
  94: exit
