tracepoint:vhost_net:vhost_net_rx_end (tracepoint/vhost_net/vhost_net_rx_end, 70 insns):
   0: r6 = r1
   1: r1 = map[vt_scalars] ll
   3: r2 = map[.bss.vt_run][0]+0 ll
   5: call bpf_map_lookup_elem
   6: if r0 == 0 goto +61
   7: r9 = r0
   8: r7 = *(u32 *)(r6 +8)
   9: r7 <<= 32
  10: r7 s>>= 32
  11: if r7 s> 0 goto +3
  12: r7 s>>= 63
  13: r7 += 1
  14: goto +17
  15: r1 = r7
  16: r7 = 2
  17: if r1 < 65536 goto +2
  18: r1 >>= 16
  19: r7 += 16
  20: if r1 < 256 goto +2
  21: r1 >>= 8
  22: r7 += 8
  23: if r1 < 16 goto +2
  24: r1 >>= 4
  25: r7 += 4
  26: if r1 < 4 goto +2
  27: r1 >>= 2
  28: r7 += 2
  29: if r1 < 2 goto +2
  30: r1 >>= 1
  31: r7 += 1
  32: if r7 > 64 goto +5
  33: r7 <<= 3
  34: r7 += r9
  35: r1 = *(u64 *)(r7 +0)
  36: r1 += 1
  37: *(u64 *)(r7 +0) = r1
  38: r7 = *(u32 *)(r6 +12)
  39: r7 <<= 32
  40: r7 s>>= 32
  41: if r7 s> 0 goto +3
  42: r7 s>>= 63
  43: r7 += 1
  44: goto +17
  45: r1 = r7
  46: r7 = 2
  47: if r1 < 65536 goto +2
  48: r1 >>= 16
  49: r7 += 16
  50: if r1 < 256 goto +2
  51: r1 >>= 8
  52: r7 += 8
  53: if r1 < 16 goto +2
  54: r1 >>= 4
  55: r7 += 4
  56: if r1 < 4 goto +2
  57: r1 >>= 2
  58: r7 += 2
  59: if r1 < 2 goto +2
  60: r1 >>= 1
  61: r7 += 1
  62: if r7 > 64 goto +5
  63: r7 <<= 3
  64: r7 += r9
  65: r1 = *(u64 *)(r7 +520)
  66: r1 += 1
  67: *(u64 *)(r7 +520) = r1
  68: r0 = 0
  69: exit
tracepoint:vhost_net:vhost_net_tx_end (tracepoint/vhost_net/vhost_net_tx_end, 70 insns):
   0: r6 = r1
   1: r1 = map[vt_scalars] ll
   3: r2 = map[.bss.vt_run][0]+0 ll
   5: call bpf_map_lookup_elem
   6: if r0 == 0 goto +61
   7: r9 = r0
   8: r7 = *(u32 *)(r6 +8)
   9: r7 <<= 32
  10: r7 s>>= 32
  11: if r7 s> 0 goto +3
  12: r7 s>>= 63
  13: r7 += 1
  14: goto +17
  15: r1 = r7
  16: r7 = 2
  17: if r1 < 65536 goto +2
  18: r1 >>= 16
  19: r7 += 16
  20: if r1 < 256 goto +2
  21: r1 >>= 8
  22: r7 += 8
  23: if r1 < 16 goto +2
  24: r1 >>= 4
  25: r7 += 4
  26: if r1 < 4 goto +2
  27: r1 >>= 2
  28: r7 += 2
  29: if r1 < 2 goto +2
  30: r1 >>= 1
  31: r7 += 1
  32: if r7 > 64 goto +5
  33: r7 <<= 3
  34: r7 += r9
  35: r1 = *(u64 *)(r7 +1040)
  36: r1 += 1
  37: *(u64 *)(r7 +1040) = r1
  38: r7 = *(u32 *)(r6 +12)
  39: r7 <<= 32
  40: r7 s>>= 32
  41: if r7 s> 0 goto +3
  42: r7 s>>= 63
  43: r7 += 1
  44: goto +17
  45: r1 = r7
  46: r7 = 2
  47: if r1 < 65536 goto +2
  48: r1 >>= 16
  49: r7 += 16
  50: if r1 < 256 goto +2
  51: r1 >>= 8
  52: r7 += 8
  53: if r1 < 16 goto +2
  54: r1 >>= 4
  55: r7 += 4
  56: if r1 < 4 goto +2
  57: r1 >>= 2
  58: r7 += 2
  59: if r1 < 2 goto +2
  60: r1 >>= 1
  61: r7 += 1
  62: if r7 > 64 goto +5
  63: r7 <<= 3
  64: r7 += r9
  65: r1 = *(u64 *)(r7 +1560)
  66: r1 += 1
  67: *(u64 *)(r7 +1560) = r1
  68: r0 = 0
  69: exit
END (raw_tp/vt_end, 467 insns):
   0: r6 = r1
   1: *(u64 *)(r10 -16) = 2
   2: *(u64 *)(r10 -8) = 0
   3: r1 = map[vt_events] ll
   5: r2 = r10
   6: r2 += -16
   7: r3 = 16
   8: r4 = 0
   9: call bpf_ringbuf_output
  10: if r0 s>= 0 goto +10
  11: *(u64 *)(r10 -24) = 0
  12: r1 = map[vt_lost] ll
  14: r2 = r10
  15: r2 += -24
  16: call bpf_map_lookup_elem
  17: if r0 == 0 goto +3
  18: r1 = *(u64 *)(r0 +0)
  19: r1 += 1
  20: *(u64 *)(r0 +0) = r1
  21: *(u64 *)(r10 -16) = 2
  22: *(u64 *)(r10 -8) = 1
  23: r1 = map[vt_events] ll
  25: r2 = r10
  26: r2 += -16
  27: r3 = 16
  28: r4 = 0
  29: call bpf_ringbuf_output
  30: if r0 s>= 0 goto +10
  31: *(u64 *)(r10 -24) = 0
  32: r1 = map[vt_lost] ll
  34: r2 = r10
  35: r2 += -24
  36: call bpf_map_lookup_elem
  37: if r0 == 0 goto +3
  38: r1 = *(u64 *)(r0 +0)
  39: r1 += 1
  40: *(u64 *)(r0 +0) = r1
  41: *(u64 *)(r10 -40) = 4
  42: *(u64 *)(r10 -32) = 0
  43: r1 = 0
  44: *(u64 *)(r10 -24) = r1
  45: r1 = 0
  46: *(u64 *)(r10 -16) = r1
  47: r1 = 3
  48: *(u64 *)(r10 -8) = r1
  49: r1 = map[vt_events] ll
  51: r2 = r10
  52: r2 += -40
  53: r3 = 40
  54: r4 = 0
  55: call bpf_ringbuf_output
  56: if r0 s>= 0 goto +10
  57: *(u64 *)(r10 -48) = 0
  58: r1 = map[vt_lost] ll
  60: r2 = r10
  61: r2 += -48
  62: call bpf_map_lookup_elem
  63: if r0 == 0 goto +3
  64: r1 = *(u64 *)(r0 +0)
  65: r1 += 1
  66: *(u64 *)(r0 +0) = r1
  67: *(u64 *)(r10 -16) = 2
  68: *(u64 *)(r10 -8) = 3
  69: r1 = map[vt_events] ll
  71: r2 = r10
  72: r2 += -16
  73: r3 = 16
  74: r4 = 0
  75: call bpf_ringbuf_output
  76: if r0 s>= 0 goto +10
  77: *(u64 *)(r10 -24) = 0
  78: r1 = map[vt_lost] ll
  80: r2 = r10
  81: r2 += -24
  82: call bpf_map_lookup_elem
  83: if r0 == 0 goto +3
  84: r1 = *(u64 *)(r0 +0)
  85: r1 += 1
  86: *(u64 *)(r0 +0) = r1
  87: *(u64 *)(r10 -16) = 2
  88: *(u64 *)(r10 -8) = 4
  89: r1 = map[vt_events] ll
  91: r2 = r10
  92: r2 += -16
  93: r3 = 16
  94: r4 = 0
  95: call bpf_ringbuf_output
  96: if r0 s>= 0 goto +10
  97: *(u64 *)(r10 -24) = 0
  98: r1 = map[vt_lost] ll
 100: r2 = r10
 101: r2 += -24
 102: call bpf_map_lookup_elem
 103: if r0 == 0 goto +3
 104: r1 = *(u64 *)(r0 +0)
 105: r1 += 1
 106: *(u64 *)(r0 +0) = r1
 107: *(u64 *)(r10 -16) = 2
 108: *(u64 *)(r10 -8) = 5
 109: r1 = map[vt_events] ll
 111: r2 = r10
 112: r2 += -16
 113: r3 = 16
 114: r4 = 0
 115: call bpf_ringbuf_output
 116: if r0 s>= 0 goto +10
 117: *(u64 *)(r10 -24) = 0
 118: r1 = map[vt_lost] ll
 120: r2 = r10
 121: r2 += -24
 122: call bpf_map_lookup_elem
 123: if r0 == 0 goto +3
 124: r1 = *(u64 *)(r0 +0)
 125: r1 += 1
 126: *(u64 *)(r0 +0) = r1
 127: *(u64 *)(r10 -40) = 4
 128: *(u64 *)(r10 -32) = 1
 129: r1 = 0
 130: *(u64 *)(r10 -24) = r1
 131: r1 = 0
 132: *(u64 *)(r10 -16) = r1
 133: r1 = 7
 134: *(u64 *)(r10 -8) = r1
 135: r1 = map[vt_events] ll
 137: r2 = r10
 138: r2 += -40
 139: r3 = 40
 140: r4 = 0
 141: call bpf_ringbuf_output
 142: if r0 s>= 0 goto +10
 143: *(u64 *)(r10 -48) = 0
 144: r1 = map[vt_lost] ll
 146: r2 = r10
 147: r2 += -48
 148: call bpf_map_lookup_elem
 149: if r0 == 0 goto +3
 150: r1 = *(u64 *)(r0 +0)
 151: r1 += 1
 152: *(u64 *)(r0 +0) = r1
 153: *(u64 *)(r10 -16) = 2
 154: *(u64 *)(r10 -8) = 7
 155: r1 = map[vt_events] ll
 157: r2 = r10
 158: r2 += -16
 159: r3 = 16
 160: r4 = 0
 161: call bpf_ringbuf_output
 162: if r0 s>= 0 goto +10
 163: *(u64 *)(r10 -24) = 0
 164: r1 = map[vt_lost] ll
 166: r2 = r10
 167: r2 += -24
 168: call bpf_map_lookup_elem
 169: if r0 == 0 goto +3
 170: r1 = *(u64 *)(r0 +0)
 171: r1 += 1
 172: *(u64 *)(r0 +0) = r1
 173: *(u64 *)(r10 -16) = 2
 174: *(u64 *)(r10 -8) = 8
 175: r1 = map[vt_events] ll
 177: r2 = r10
 178: r2 += -16
 179: r3 = 16
 180: r4 = 0
 181: call bpf_ringbuf_output
 182: if r0 s>= 0 goto +10
 183: *(u64 *)(r10 -24) = 0
 184: r1 = map[vt_lost] ll
 186: r2 = r10
 187: r2 += -24
 188: call bpf_map_lookup_elem
 189: if r0 == 0 goto +3
 190: r1 = *(u64 *)(r0 +0)
 191: r1 += 1
 192: *(u64 *)(r0 +0) = r1
 193: *(u64 *)(r10 -16) = 2
 194: *(u64 *)(r10 -8) = 9
 195: r1 = map[vt_events] ll
 197: r2 = r10
 198: r2 += -16
 199: r3 = 16
 200: r4 = 0
 201: call bpf_ringbuf_output
 202: if r0 s>= 0 goto +10
 203: *(u64 *)(r10 -24) = 0
 204: r1 = map[vt_lost] ll
 206: r2 = r10
 207: r2 += -24
 208: call bpf_map_lookup_elem
 209: if r0 == 0 goto +3
 210: r1 = *(u64 *)(r0 +0)
 211: r1 += 1
 212: *(u64 *)(r0 +0) = r1
 213: *(u64 *)(r10 -16) = 2
 214: *(u64 *)(r10 -8) = 10
 215: r1 = map[vt_events] ll
 217: r2 = r10
 218: r2 += -16
 219: r3 = 16
 220: r4 = 0
 221: call bpf_ringbuf_output
 222: if r0 s>= 0 goto +10
 223: *(u64 *)(r10 -24) = 0
 224: r1 = map[vt_lost] ll
 226: r2 = r10
 227: r2 += -24
 228: call bpf_map_lookup_elem
 229: if r0 == 0 goto +3
 230: r1 = *(u64 *)(r0 +0)
 231: r1 += 1
 232: *(u64 *)(r0 +0) = r1
 233: *(u64 *)(r10 -16) = 2
 234: *(u64 *)(r10 -8) = 11
 235: r1 = map[vt_events] ll
 237: r2 = r10
 238: r2 += -16
 239: r3 = 16
 240: r4 = 0
 241: call bpf_ringbuf_output
 242: if r0 s>= 0 goto +10
 243: *(u64 *)(r10 -24) = 0
 244: r1 = map[vt_lost] ll
 246: r2 = r10
 247: r2 += -24
 248: call bpf_map_lookup_elem
 249: if r0 == 0 goto +3
 250: r1 = *(u64 *)(r0 +0)
 251: r1 += 1
 252: *(u64 *)(r0 +0) = r1
 253: *(u64 *)(r10 -40) = 4
 254: *(u64 *)(r10 -32) = 2
 255: r1 = 0
 256: *(u64 *)(r10 -24) = r1
 257: r1 = 0
 258: *(u64 *)(r10 -16) = r1
 259: r1 = 13
 260: *(u64 *)(r10 -8) = r1
 261: r1 = map[vt_events] ll
 263: r2 = r10
 264: r2 += -40
 265: r3 = 40
 266: r4 = 0
 267: call bpf_ringbuf_output
 268: if r0 s>= 0 goto +10
 269: *(u64 *)(r10 -48) = 0
 270: r1 = map[vt_lost] ll
 272: r2 = r10
 273: r2 += -48
 274: call bpf_map_lookup_elem
 275: if r0 == 0 goto +3
 276: r1 = *(u64 *)(r0 +0)
 277: r1 += 1
 278: *(u64 *)(r0 +0) = r1
 279: *(u64 *)(r10 -16) = 2
 280: *(u64 *)(r10 -8) = 13
 281: r1 = map[vt_events] ll
 283: r2 = r10
 284: r2 += -16
 285: r3 = 16
 286: r4 = 0
 287: call bpf_ringbuf_output
 288: if r0 s>= 0 goto +10
 289: *(u64 *)(r10 -24) = 0
 290: r1 = map[vt_lost] ll
 292: r2 = r10
 293: r2 += -24
 294: call bpf_map_lookup_elem
 295: if r0 == 0 goto +3
 296: r1 = *(u64 *)(r0 +0)
 297: r1 += 1
 298: *(u64 *)(r0 +0) = r1
 299: *(u64 *)(r10 -16) = 2
 300: *(u64 *)(r10 -8) = 14
 301: r1 = map[vt_events] ll
 303: r2 = r10
 304: r2 += -16
 305: r3 = 16
 306: r4 = 0
 307: call bpf_ringbuf_output
 308: if r0 s>= 0 goto +10
 309: *(u64 *)(r10 -24) = 0
 310: r1 = map[vt_lost] ll
 312: r2 = r10
 313: r2 += -24
 314: call bpf_map_lookup_elem
 315: if r0 == 0 goto +3
 316: r1 = *(u64 *)(r0 +0)
 317: r1 += 1
 318: *(u64 *)(r0 +0) = r1
 319: *(u64 *)(r10 -16) = 2
 320: *(u64 *)(r10 -8) = 15
 321: r1 = map[vt_events] ll
 323: r2 = r10
 324: r2 += -16
 325: r3 = 16
 326: r4 = 0
 327: call bpf_ringbuf_output
 328: if r0 s>= 0 goto +10
 329: *(u64 *)(r10 -24) = 0
 330: r1 = map[vt_lost] ll
 332: r2 = r10
 333: r2 += -24
 334: call bpf_map_lookup_elem
 335: if r0 == 0 goto +3
 336: r1 = *(u64 *)(r0 +0)
 337: r1 += 1
 338: *(u64 *)(r0 +0) = r1
 339: *(u64 *)(r10 -40) = 4
 340: *(u64 *)(r10 -32) = 3
 341: r1 = 0
 342: *(u64 *)(r10 -24) = r1
 343: r1 = 0
 344: *(u64 *)(r10 -16) = r1
 345: r1 = 17
 346: *(u64 *)(r10 -8) = r1
 347: r1 = map[vt_events] ll
 349: r2 = r10
 350: r2 += -40
 351: r3 = 40
 352: r4 = 0
 353: call bpf_ringbuf_output
 354: if r0 s>= 0 goto +10
 355: *(u64 *)(r10 -48) = 0
 356: r1 = map[vt_lost] ll
 358: r2 = r10
 359: r2 += -48
 360: call bpf_map_lookup_elem
 361: if r0 == 0 goto +3
 362: r1 = *(u64 *)(r0 +0)
 363: r1 += 1
 364: *(u64 *)(r0 +0) = r1
 365: *(u64 *)(r10 -16) = 2
 366: *(u64 *)(r10 -8) = 17
 367: r1 = map[vt_events] ll
 369: r2 = r10
 370: r2 += -16
 371: r3 = 16
 372: r4 = 0
 373: call bpf_ringbuf_output
 374: if r0 s>= 0 goto +10
 375: *(u64 *)(r10 -24) = 0
 376: r1 = map[vt_lost] ll
 378: r2 = r10
 379: r2 += -24
 380: call bpf_map_lookup_elem
 381: if r0 == 0 goto +3
 382: r1 = *(u64 *)(r0 +0)
 383: r1 += 1
 384: *(u64 *)(r0 +0) = r1
 385: *(u64 *)(r10 -16) = 5
 386: *(u64 *)(r10 -8) = 0
 387: r1 = map[vt_events] ll
 389: r2 = r10
 390: r2 += -16
 391: r3 = 16
 392: r4 = 0
 393: call bpf_ringbuf_output
 394: if r0 s>= 0 goto +10
 395: *(u64 *)(r10 -24) = 0
 396: r1 = map[vt_lost] ll
 398: r2 = r10
 399: r2 += -24
 400: call bpf_map_lookup_elem
 401: if r0 == 0 goto +3
 402: r1 = *(u64 *)(r0 +0)
 403: r1 += 1
 404: *(u64 *)(r0 +0) = r1
 405: *(u64 *)(r10 -16) = 5
 406: *(u64 *)(r10 -8) = 1
 407: r1 = map[vt_events] ll
 409: r2 = r10
 410: r2 += -16
 411: r3 = 16
 412: r4 = 0
 413: call bpf_ringbuf_output
 414: if r0 s>= 0 goto +10
 415: *(u64 *)(r10 -24) = 0
 416: r1 = map[vt_lost] ll
 418: r2 = r10
 419: r2 += -24
 420: call bpf_map_lookup_elem
 421: if r0 == 0 goto +3
 422: r1 = *(u64 *)(r0 +0)
 423: r1 += 1
 424: *(u64 *)(r0 +0) = r1
 425: *(u64 *)(r10 -16) = 5
 426: *(u64 *)(r10 -8) = 2
 427: r1 = map[vt_events] ll
 429: r2 = r10
 430: r2 += -16
 431: r3 = 16
 432: r4 = 0
 433: call bpf_ringbuf_output
 434: if r0 s>= 0 goto +10
 435: *(u64 *)(r10 -24) = 0
 436: r1 = map[vt_lost] ll
 438: r2 = r10
 439: r2 += -24
 440: call bpf_map_lookup_elem
 441: if r0 == 0 goto +3
 442: r1 = *(u64 *)(r0 +0)
 443: r1 += 1
 444: *(u64 *)(r0 +0) = r1
 445: *(u64 *)(r10 -16) = 5
 446: *(u64 *)(r10 -8) = 3
 447: r1 = map[vt_events] ll
 449: r2 = r10
 450: r2 += -16
 451: r3 = 16
 452: r4 = 0
 453: call bpf_ringbuf_output
 454: if r0 s>= 0 goto +10
 455: *(u64 *)(r10 -24) = 0
 456: r1 = map[vt_lost] ll
 458: r2 = r10
 459: r2 += -24
 460: call bpf_map_lookup_elem
 461: if r0 == 0 goto +3
 462: r1 = *(u64 *)(r0 +0)
 463: r1 += 1
 464: *(u64 *)(r0 +0) = r1
 465: r0 = 0
 466: exit
