/* A USDT probe with a semaphore: it fires only while a tracer has raised vt_guarded_semaphore. */
#if __has_include(<sys/sdt.h>)
#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>
/* Page-aligned: off the file page that the read-only-after-relocation segment also maps. Where the
 * semaphore shares that page, the kernel raises it, for a process started after attaching, in that
 * mapping instead of the one the program reads (bpftrace 0.17 then sees no guarded probe either). */
__extension__ volatile unsigned short vt_guarded_semaphore
    __attribute__((unused, section(".probes"), aligned(4096)));

long shapes_usdt_guarded(unsigned long i) {
    if (vt_guarded_semaphore) {
        STAP_PROBE2(vt, guarded, (long)i, -(short)i);
        return 1;
    }
    return 0;
}
#else
long shapes_usdt_guarded(unsigned long i) {
    (void)i;
    return 0;
}
#endif
