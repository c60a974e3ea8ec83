/* minimal_host: the smallest complete mtalog host. It logs one delivery to mainlog.ec
 * (Momentum's ec_logger format) in the current directory and closes the logger.
 * `make examples` builds it against the library in target/release. */
#include <stdio.h>
#include <sys/time.h>

#include <mtalog.h>

int main(void) {
    logging_infrastructure *li = mtalog_new("ec_logger", "ec_logger1");
    int rc = li->shared.log_init(li,
        "ec_logger \"ec_logger1\" {\n"
        "  mainlog = \"mainlog.ec\"\n"
        "  rejectlog = \"rejectlog.ec\"\n"
        "  paniclog = \"paniclog.ec\"\n"
        "  heartbeat = 60\n"
        "}\n");
    if (rc != 0) {
        fprintf(stderr, "%s\n", mtalog_last_error(li));
        mtalog_free(li);
        return 1;
    }

    mtalog_message m = { .id = "60/00-31337-EF0F3556", .rcpt_to = "bob@dest.example", .size = 4821 };
    mtalog_domain d = { .name = "dest.example", .mx_ip = "198.51.100.25" };
    struct timeval now; gettimeofday(&now, NULL);
    li->log_delivery(li, (abstract_message *)&m, (domain_record *)&d, &now, "250 ok", 6);

    rc = li->log_close(li);   /* drains, flushes, fsyncs, joins the writer */
    mtalog_free(li);
    return rc == 0 ? 0 : 1;
}
