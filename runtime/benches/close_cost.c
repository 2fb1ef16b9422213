/* What detaching N tracepoints costs, closed one after another or all at once from N threads.
 *
 * Opens one perf event per tracepoint (PERF_TYPE_TRACEPOINT, pid -1, cpu 0, as vt does) on the syscall
 * tracepoints named on the command line, attaches an empty BPF program to each (unless CLOSE_COST_NO_PROG
 * is set), then closes them and prints the milliseconds the closes took (CLOSE_COST_EACH=1: each one too):
 *
 *     close_cost seq|par sys_enter_getppid sys_enter_getpid ...
 *     close_cost raw sys_enter sys_exit ...     (raw tracepoint links instead, closed one after another)
 *
 * Two waits make such a close slow: taking the BPF program off the tracepoint waits for an RCU grace
 * period, and closing the last perf event of a tracepoint unregisters the probe and waits for more
 * (tracepoint_synchronize_unregister, under the kernel's event_mutex). CLOSE_COST_HOLD=1 opens a second,
 * program-less perf event on each tracepoint first and keeps it open, which leaves only the first wait.
 * Build: gcc -O2 -pthread -o close_cost close_cost.c (compare.py does this itself).
 */
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* `r0 = 0; exit`, loaded once and attached to every event, as a tracer's program would be. */
static int load_empty_prog(int type) {
    struct bpf_insn insns[2] = {
        {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0},
        {.code = BPF_JMP | BPF_EXIT},
    };
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.prog_type = type;
    attr.insns = (unsigned long)insns;
    attr.insn_cnt = 2;
    attr.license = (unsigned long)"GPL";
    int fd = syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof attr);
    if (fd < 0) { perror("BPF_PROG_LOAD"); exit(1); }
    return fd;
}

static int prog_fd = -1;

static int open_tracepoint(const char *name) {
    char path[256], buf[32];
    snprintf(path, sizeof path, "/sys/kernel/tracing/events/syscalls/%s/id", name);
    int fd = open(path, O_RDONLY);
    if (fd < 0) { perror(path); exit(1); }
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) { perror(path); exit(1); }
    buf[n] = 0;
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.type = PERF_TYPE_TRACEPOINT;
    attr.size = sizeof attr;
    attr.config = strtoull(buf, NULL, 10);
    attr.sample_period = 1;
    attr.sample_type = PERF_SAMPLE_RAW;
    int pfd = syscall(SYS_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
    if (pfd < 0) { perror("perf_event_open"); exit(1); }
    if (prog_fd >= 0 && ioctl(pfd, PERF_EVENT_IOC_SET_BPF, prog_fd) < 0) { perror("PERF_EVENT_IOC_SET_BPF"); exit(1); }
    ioctl(pfd, PERF_EVENT_IOC_ENABLE, 0);
    return pfd;
}

static int open_raw_tracepoint(const char *name) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.raw_tracepoint.name = (unsigned long)name;
    attr.raw_tracepoint.prog_fd = prog_fd;
    int fd = syscall(SYS_bpf, BPF_RAW_TRACEPOINT_OPEN, &attr, sizeof attr);
    if (fd < 0) { perror(name); exit(1); }
    return fd;
}

static void *closer(void *arg) {
    close((int)(long)arg);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: %s seq|par TRACEPOINT...\n", argv[0]); return 2; }
    int n = argc - 2, par = strcmp(argv[1], "par") == 0, raw = strcmp(argv[1], "raw") == 0;
    if (raw) prog_fd = load_empty_prog(BPF_PROG_TYPE_RAW_TRACEPOINT);
    else if (!getenv("CLOSE_COST_NO_PROG")) prog_fd = load_empty_prog(BPF_PROG_TYPE_TRACEPOINT);
    int *fds = calloc(n, sizeof *fds);
    pthread_t *th = calloc(n, sizeof *th);
    for (int i = 0; i < n; i++) fds[i] = raw ? open_raw_tracepoint(argv[i + 2]) : open_tracepoint(argv[i + 2]);
    if (getenv("CLOSE_COST_HOLD")) {
        int prog = prog_fd;
        prog_fd = -1;
        for (int i = 0; i < n; i++) open_tracepoint(argv[i + 2]);
        prog_fd = prog;
    }
    double t0 = now_ms();
    if (par) {
        for (int i = 0; i < n; i++) pthread_create(&th[i], NULL, closer, (void *)(long)fds[i]);
        for (int i = 0; i < n; i++) pthread_join(th[i], NULL);
    } else {
        for (int i = 0; i < n; i++) {
            if (getenv("CLOSE_COST_SLEEP_MS") && i) usleep(1000 * atoi(getenv("CLOSE_COST_SLEEP_MS")));
            double t = now_ms();
            close(fds[i]);
            if (getenv("CLOSE_COST_EACH")) fprintf(stderr, "%.1f ", now_ms() - t);
        }
    }
    printf("%.1f\n", now_ms() - t0);
    return 0;
}
