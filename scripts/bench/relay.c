/* The floor for scripts/bench-gate.sh (issue 17): a do-nothing stdio relay. It spawns
 * COMMAND ARGS with its stdin/stdout on pipes and copies bytes both ways (read, write, no
 * parsing), so "gate minus relay" is what the gate's checks cost, not what a process in the
 * middle costs. Build: cc -O2 -o relay relay.c -lpthread. Usage: relay COMMAND ARGS... */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static int copy(int from, int to) {
    char buf[65536];
    for (;;) {
        ssize_t n = read(from, buf, sizeof buf);
        if (n <= 0) return 0;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(to, buf + off, (size_t)(n - off));
            if (w <= 0) return -1;
            off += w;
        }
    }
}

static int to_child;
static void *client_to_child(void *arg) {
    (void)arg;
    copy(0, to_child);
    close(to_child);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: relay COMMAND ARGS...\n"); return 2; }
    int in[2], out[2];
    if (pipe(in) || pipe(out)) { perror("pipe"); return 2; }
    signal(SIGPIPE, SIG_IGN);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(in[0], 0); dup2(out[1], 1);
        close(in[0]); close(in[1]); close(out[0]); close(out[1]);
        execvp(argv[1], argv + 1);
        perror("exec");
        _exit(127);
    }
    close(in[0]); close(out[1]);
    to_child = in[1];
    pthread_t t;
    pthread_create(&t, NULL, client_to_child, NULL);
    copy(out[0], 1);
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}
