/* Runs one command and prints "<wall ns> <peak RSS KiB> <exit status> <settled ns>" on stdout.
 *
 *     spawn STDOUT_FILE STDERR_FILE COMMAND [ARG...]
 *
 * Why not Python's own fork: a child's ru_maxrss counts the memory of the image it was forked from until
 * exec, so a command forked from Python never shows less than Python's RSS (~15 MiB). Forked from this
 * tiny process it starts near 1 MiB. Wall time runs from just before fork to the reap in wait4.
 * "Settled" runs on until every process the command left behind has exited too: this launcher is a
 * child subreaper, so orphans (vt's closer, which finishes the kernel's detaching after vt exits) come
 * back to it, and the next measured run never overlaps their work.
 * SPAWN_TIMEOUT=<seconds> kills the command with SIGKILL when it runs longer.
 * Build: gcc -O2 -o spawn spawn.c (compare.py does this itself).
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static pid_t child;

static void on_alarm(int sig) {
    (void)sig;
    kill(child, SIGKILL);
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s STDOUT_FILE STDERR_FILE COMMAND [ARG...]\n", argv[0]);
        return 2;
    }
    struct timespec t0, t1, t2;
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    if (pid < 0) { perror("fork"); return 1; }
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        int out = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int err = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (in < 0 || out < 0 || err < 0) _exit(126);
        dup2(in, 0);
        dup2(out, 1);
        dup2(err, 2);
        execvp(argv[3], argv + 3);
        _exit(127);
    }
    child = pid;
    if (getenv("SPAWN_TIMEOUT")) {
        signal(SIGALRM, on_alarm);
        alarm(atoi(getenv("SPAWN_TIMEOUT")));
    }
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0) { perror("wait4"); return 1; }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    while (wait(NULL) > 0) {}
    clock_gettime(CLOCK_MONOTONIC, &t2);
    long long ns = (t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
    long long settled = (t2.tv_sec - t0.tv_sec) * 1000000000LL + (t2.tv_nsec - t0.tv_nsec);
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    printf("%lld %ld %d %lld\n", ns, ru.ru_maxrss, code, settled);
    return 0;
}
