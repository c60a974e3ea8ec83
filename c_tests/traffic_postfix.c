/* Drives a postfix_logger through the C ABI (dlopen) with a known traffic mix; the Rust
 * test tests/postfix_pflogsumm.rs runs pflogsumm on the result and checks its report.
 * Usage: traffic_postfix LIBPATH OUTDIR DAYSTART [EXTRA]
 * EXTRA: configuration lines added to the stanza; a key may be given only once, so a
 * default line whose key EXTRA gives is left out (e.g. a mainlog that names a syslog
 * destination; tests/syslog_tcp.rs).
 * Traffic: 20 messages, one per hour from DAYSTART (epoch seconds, local midnight), to
 * d0/d1/d2.example by i % 3; i % 5 == 0 bounces (550), i % 5 == 1 is deferred once (451)
 * then delivered, the rest are delivered; plus 4 rejections (RCPT, relaying denied). */
#define _POSIX_C_SOURCE 200809L
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mtalog.h"

/* Does the configuration text `cfg` have a line that sets `key`? */
static int sets_key(const char *cfg, const char *key) {
    size_t n = strlen(key);
    const char *p = cfg;
    while (p != NULL && *p != 0) {
        while (*p == ' ' || *p == '\t') p++;
        if (strncmp(p, key, n) == 0 && (p[n] == ' ' || p[n] == '\t' || p[n] == '=')) return 1;
        p = strchr(p, '\n');
        if (p != NULL) p++;
    }
    return 0;
}

static void reject(logging_infrastructure *li, struct timeval *tv, accept_construct *ac,
                   validate_context *v, int phase, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    li->log_rejection(li, tv, ac, v, phase, fmt, ap);
    va_end(ap);
}

int main(int argc, char **argv) {
    char cfg[4096], id[64], rcpt[64], from[64], mid[64], dom[32];
    logging_infrastructure *(*new_fn)(const char *, const char *);
    void (*free_fn)(logging_infrastructure *);
    logging_infrastructure *li;
    void *lib;
    long day;
    int i, rc;

    if (argc != 4 && argc != 5) return 2;
    day = atol(argv[3]);
    lib = dlopen(argv[1], RTLD_NOW);
    if (lib == NULL) { fprintf(stderr, "dlopen: %s\n", dlerror()); return 1; }
    *(void **)&new_fn = dlsym(lib, "mtalog_new");
    *(void **)&free_fn = dlsym(lib, "mtalog_free");
    li = new_fn("postfix_logger", "pf");
    {
        const char *extra = argc == 5 ? argv[4] : "";
        size_t len = 0;
        cfg[0] = 0;
        if (!sets_key(extra, "mainlog"))
            len += (size_t)snprintf(cfg + len, sizeof cfg - len, "mainlog = \"%s/mainlog\"\n", argv[2]);
        if (!sets_key(extra, "paniclog"))
            len += (size_t)snprintf(cfg + len, sizeof cfg - len, "paniclog = \"%s/paniclog\"\n", argv[2]);
        if (!sets_key(extra, "myhostname"))
            len += (size_t)snprintf(cfg + len, sizeof cfg - len, "myhostname = mx.example.test\n");
        if (!sets_key(extra, "pid"))
            len += (size_t)snprintf(cfg + len, sizeof cfg - len, "pid = 4242\n");
        if (len + strlen(extra) + 1 >= sizeof cfg) { fprintf(stderr, "EXTRA too long\n"); return 2; }
        strcat(cfg, extra);
    }
    rc = li->shared.log_init(li, cfg);
    if (rc != 0) { fprintf(stderr, "log_init: %d\n", rc); return 1; }
    for (i = 0; i < 20; i++) {
        mtalog_message m;
        mtalog_domain d;
        mtalog_accept a;
        struct timeval t;
        memset(&m, 0, sizeof m);
        memset(&d, 0, sizeof d);
        memset(&a, 0, sizeof a);
        snprintf(id, sizeof id, "%02X/00-04242-%08X", i, (unsigned)(day + i));
        snprintf(dom, sizeof dom, "d%d.example", i % 3);
        snprintf(rcpt, sizeof rcpt, "user%d@%s", i, dom);
        snprintf(from, sizeof from, "sender%d@src.example", i % 2);
        snprintf(mid, sizeof mid, "<m%d@src.example>", i);
        m.id = id; m.batch_id = id; m.mail_from = from; m.rcpt_to = rcpt; m.message_id_header = mid;
        m.size = 1000 + (uint64_t)i; m.nrcpt = 1; m.esmtp = 1;
        m.received.tv_sec = day + i * 3600;
        a.peer_ip = "192.0.2.10"; a.peer_name = "client.src.example"; a.helo = "client.src.example";
        a.protocol = "esmtp";
        d.name = dom; d.mx_host = "mx.dest.example"; d.mx_ip = "198.51.100.5"; d.mx_port = 25;
        t.tv_sec = day + i * 3600; t.tv_usec = 0;
        li->log_reception(li, (accept_construct *)&a, (abstract_message *)&m, &t, NULL, 0);
        t.tv_sec += 2;
        if (i % 5 == 0) {
            d.smtp_command = "RCPT TO";
            li->log_permanent_failure(li, (abstract_message *)&m, (domain_record *)&d, &t, "550 5.1.1 No such user", 22);
            continue;
        }
        if (i % 5 == 1) {
            li->log_transient_failure(li, (abstract_message *)&m, (domain_record *)&d, &t, "451 4.7.1 Try again later", 25);
            t.tv_sec += 300;
            m.retries = 1;
        }
        li->log_delivery(li, (abstract_message *)&m, (domain_record *)&d, &t, "250 2.0.0 Ok", 12);
    }
    for (i = 0; i < 4; i++) {
        mtalog_accept a;
        mtalog_validate v;
        struct timeval t;
        memset(&a, 0, sizeof a);
        memset(&v, 0, sizeof v);
        a.peer_ip = "203.0.113.7"; a.helo = "bad.example";
        v.mail_from = "spam@bad.example"; v.rcpt_to = "x@d0.example"; v.code = 554;
        t.tv_sec = day + 20 * 3600 + i; t.tv_usec = 0;
        reject(li, &t, (accept_construct *)&a, (validate_context *)&v, 6, "554 5.7.1 <%s>: Relay access denied", "x@d0.example");
    }
    rc = li->log_close(li);
    free_fn(li);
    dlclose(lib);
    return rc == 0 ? 0 : 1;
}
