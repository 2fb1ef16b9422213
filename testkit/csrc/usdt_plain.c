/* USDT probes without a semaphore, for the usdt tests (`shapes usdt N`). Built without optimisation
 * so that the compiler passes arguments in memory (`-4@-20(%rbp)`) as well as in registers. */
#if __has_include(<sys/sdt.h>)
#include <sys/sdt.h>
#define VT_HAVE_SDT 1
#endif

/* A global the tests watch (`shapes watch N` writes it N times). */
volatile unsigned long shapes_watched;

void shapes_watch(unsigned long n) {
    for (unsigned long i = 1; i <= n; i++)
        shapes_watched = i;
}

long shapes_usdt_guarded(unsigned long i);

static const char *const NAMES[3] = {"alpha", "beta", "gamma"};

/* For i in 1..=n: vt:plain(-i as int, i * 1000000007 as u64, NAMES[i % 3], 42), and vt:guarded(i, -i)
 * when its semaphore is raised. Returns how many guarded probes fired, or -1 without <sys/sdt.h>. */
long shapes_usdt(unsigned long n) {
#ifdef VT_HAVE_SDT
    long guarded = 0;
    for (unsigned long i = 1; i <= n; i++) {
        int neg = -(int)i;
        unsigned long big = i * 1000000007UL;
        const char *name = NAMES[i % 3];
        STAP_PROBE4(vt, plain, neg, big, name, 42);
        guarded += shapes_usdt_guarded(i);
    }
    return guarded;
#else
    (void)n;
    (void)NAMES;
    return -1;
#endif
}
