/* A USDT probe with a semaphore: it fires only while a tracer has raised vt_guarded_semaphore. */
#if __has_include(<sys/sdt.h>)
#define _SDT_HAS_SEMAPHORES 1
#include <sys/sdt.h>
__extension__ volatile unsigned short vt_guarded_semaphore __attribute__((unused, section(".probes")));

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
