/* link_host: the other way to use mtalog, linked at build time (-lmtalog) instead of
 * dlopened. Creates a postfix_logger writing into a temporary directory, logs one
 * delivery, closes it and prints the line that was written.
 *
 *   cc -I../include link_host.c -L../target/release -Wl,-rpath,... -lmtalog
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mtalog.h"

int main(void) {
    char dir[] = "/tmp/mtalog-link-XXXXXX";
    char config[512], path[256], line[1024];
    logging_infrastructure *li;
    mtalog_message m;
    mtalog_domain d;
    struct timeval now = {1700000000, 0};
    FILE *f;
    int rc, status = 0;

    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    printf("mtalog %s\n", mtalog_version());
    li = mtalog_new("postfix_logger", "link_host");
    if (li == NULL) {
        fprintf(stderr, "mtalog_new: %s\n", mtalog_last_error(NULL));
        return 1;
    }
    snprintf(config, sizeof config,
             "mainlog = \"%s/mainlog\"\npaniclog = \"%s/paniclog\"\nmyhostname = mx.example\npid = 1234\n",
             dir, dir);
    rc = li->shared.log_init(li, config);
    if (rc != 0) {
        fprintf(stderr, "log_init: %d: %s\n", rc, mtalog_last_error(li));
        mtalog_free(li);
        return 1;
    }

    memset(&m, 0, sizeof m);
    memset(&d, 0, sizeof d);
    m.id = "10/00-01234-0F1E5356";
    m.batch_id = m.id;
    m.mail_from = "sender@example.org";
    m.rcpt_to = "user@example.com";
    m.size = 1234;
    m.received.tv_sec = now.tv_sec - 2;
    d.name = "example.com";
    d.mx_host = "mx.example.com";
    d.mx_ip = "203.0.113.25";
    d.mx_port = 25;
    li->log_delivery(li, (abstract_message *)&m, (domain_record *)&d, &now, "250 2.0.0 Ok", 12);

    rc = li->log_close(li);
    if (rc != 0) {
        fprintf(stderr, "log_close: %d: %s\n", rc, mtalog_last_error(li));
        status = 1;
    }
    mtalog_free(li);

    snprintf(path, sizeof path, "%s/mainlog", dir);
    f = fopen(path, "r");
    if (f == NULL) {
        perror(path);
        return 1;
    }
    while (fgets(line, sizeof line, f) != NULL) {
        fputs(line, stdout);
    }
    fclose(f);
    unlink(path);
    snprintf(path, sizeof path, "%s/paniclog", dir);
    unlink(path);
    rmdir(dir);
    return status;
}
