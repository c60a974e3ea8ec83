/*
 * What fork() costs a host that runs mtalog loggers: the time of fork(), _exit(0) in the
 * child and waitpid() in the parent (a child that only execs pays about this), with 0, 1
 * and 5 ec_loggers running; `make bench` runs it after the table.
 *
 *   fork_cost [-l libmtalog.so] [-o outdir]
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mtalog.h"

#define FORKS 300

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* The median of FORKS fork+_exit+waitpid rounds, in microseconds. */
static double fork_us(void) {
    static double t[FORKS];
    for (int i = 0; i < FORKS; i++) {
        double t0 = now();
        pid_t p = fork();
        if (p == 0)
            _exit(0);
        if (p < 0 || waitpid(p, NULL, 0) != p)
            return -1;
        t[i] = (now() - t0) * 1e6;
    }
    for (int i = 1; i < FORKS; i++)
        for (int j = i; j > 0 && t[j - 1] > t[j]; j--) {
            double x = t[j];
            t[j] = t[j - 1];
            t[j - 1] = x;
        }
    return t[FORKS / 2];
}

int main(int argc, char **argv) {
    const char *lib = "target/release/libmtalog.so", *out = "bench/out";
    int c;
    while ((c = getopt(argc, argv, "l:o:")) != -1) {
        if (c == 'l')
            lib = optarg;
        else if (c == 'o')
            out = optarg;
        else {
            fprintf(stderr, "usage: fork_cost [-l libmtalog.so] [-o outdir]\n");
            return 2;
        }
    }
    void *h = dlopen(lib, RTLD_NOW);
    if (!h) {
        fprintf(stderr, "fork_cost: %s\n", dlerror());
        return 1;
    }
    logging_infrastructure *(*new_logger)(const char *, const char *);
    *(void **)&new_logger = dlsym(h, "mtalog_new");
    void (*free_logger)(logging_infrastructure *);
    *(void **)&free_logger = dlsym(h, "mtalog_free");
    if (!new_logger || !free_logger) {
        fprintf(stderr, "fork_cost: no mtalog_new or mtalog_free in %s\n", lib);
        return 1;
    }
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/fork_cost", out);
    mkdir(out, 0755);
    mkdir(dir, 0755);
    logging_infrastructure *li[5];
    int running = 0;
    printf("fork()+_exit()+waitpid(), median of %d, with ec_loggers running:", FORKS);
    for (int want = 0; want <= 5; want += want == 0 ? 1 : 4) {
        while (running < want) {
            char name[32], cfg[4096];
            snprintf(name, sizeof name, "fork%d", running);
            snprintf(cfg, sizeof cfg,
                     "mainlog = %s/main%d.ec\nrejectlog = %s/reject%d.ec\npaniclog = %s/panic%d.ec\n",
                     dir, running, dir, running, dir, running);
            li[running] = new_logger("ec_logger", name);
            if (!li[running] || li[running]->shared.log_init(li[running], cfg) != 0) {
                fprintf(stderr, "fork_cost: log_init failed\n");
                return 1;
            }
            running++;
        }
        printf(" %d: %.0f us%s", want, fork_us(), want == 5 ? "\n" : ",");
    }
    for (int i = 0; i < running; i++) {
        li[i]->log_close(li[i]);
        free_logger(li[i]);
    }
    return 0;
}
