/* Reference objects shared by the C test programs. */
#ifndef MTALOG_COMMON_H
#define MTALOG_COMMON_H

#include <string.h>
#include "mtalog.h"

#define IDS "60/00-31337-EF0F3556@60/00-31337-EF0F3556@1A/20-31337-821F3556"

static inline mtalog_message ref_message(void) {
    mtalog_message m;
    memset(&m, 0, sizeof m);
    m.id = "60/00-31337-EF0F3556";
    m.batch_id = m.id;
    m.conn_id = "1A/20-31337-821F3556";
    m.mail_from = "news@sender.example";
    m.rcpt_to = "alice@dest.example";
    m.size = 4821;
    m.received.tv_sec = 1699999997;
    m.received.tv_usec = 940000;
    m.binding_group = "group-a";
    m.binding = "vip-1";
    return m;
}

static inline mtalog_domain ref_domain(void) {
    mtalog_domain d;
    memset(&d, 0, sizeof d);
    d.name = "dest.example";
    d.mx_ip = "198.51.100.25";
    return d;
}

static inline mtalog_accept ref_accept(void) {
    mtalog_accept a;
    memset(&a, 0, sizeof a);
    a.peer_ip = "203.0.113.9";
    a.peer_port = 51234;
    a.local_ip = "192.0.2.1";
    a.local_port = 25;
    a.conn_id = "E0/00-31337-F51F3556";
    a.protocol = "ESMTP";
    return a;
}

static inline mtalog_validate ref_validate(void) {
    mtalog_validate v;
    memset(&v, 0, sizeof v);
    v.code = 550;
    v.module = "scriptlet";
    v.pathway = "default";
    v.pathway_group = "default";
    v.ctx_conn = "pathway=default";
    v.ctx_mess = "mailfrom_localpart=bob";
    return v;
}

#define MSG(m) ((abstract_message *)&(m))
#define DOM(d) ((domain_record *)&(d))
#define ACC(a) ((accept_construct *)&(a))
#define VAL(v) ((validate_context *)&(v))

#endif
