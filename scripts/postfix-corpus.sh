#!/usr/bin/env bash
# Build a corpus of logs written by real Postfix (Debian's postfix 3.7) and
# the reports that the real pflogsumm prints for them.
#
# Runs as root.  Everything happens inside private namespaces
# (unshare --mount --pid --net --uts --ipc): the private network namespace
# has only a loopback interface, so no packet can leave the machine; all the
# servers (Postfix, the smtp-sink "remote" servers, a policy daemon, a milter,
# a SASL server and an rsyslogd) listen on 127.0.0.0/8 of that namespace.
# The system's /etc/hosts, /etc/passwd, /etc/postfix, /var/spool/postfix,
# /var/lib/postfix, /var/mail, /var/log and /dev are never written: the
# instance sees private copies from a temporary directory, bind-mounted over
# those paths inside the mount namespace only.
#
# Three runs, each a few minutes long, one per way of capturing the log:
#   maillog                  Postfix's own maillog_file (postlogd)
#   syslog-traditional       rsyslogd, RSYSLOG_TraditionalFileFormat
#   syslog-rfc3339-long-ids  rsyslogd, RSYSLOG_FileFormat (RFC 3339),
#                            with enable_long_queue_ids = yes
# For each log, pflogsumm is run four ways (plain, --smtpd-stats, -e,
# --smtpd-stats -e).  See tests/corpus/postfix/README.md.
#
# Usage: scripts/postfix-corpus.sh [-o DIR] [--runs "NAME ..."] [--keep-packages]
#   -o DIR           where to write the logs and reports
#                    (default: tests/corpus/postfix of this repository)
#   --runs LIST      which runs to make (default: all three)
#   --keep-packages  keep the Debian packages that this script installed
#                    (by default it purges them again at the end, with the
#                    users, groups and files their installation created)
set -euo pipefail

PROG=${0##*/}
SELF=$(readlink -f "$0")
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export LC_ALL=C

ALL_RUNS="maillog syslog-traditional syslog-rfc3339-long-ids"

say() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { say "error: $*"; exit 1; }

# ---------------------------------------------------------------------------
# Timing of one run (seconds).  Postfix's queue lifetimes are set so that
# deferred mail expires and bounces within the run.
# ---------------------------------------------------------------------------
QUEUE_LIFETIME=150      # maximal_queue_lifetime = bounce_queue_lifetime
RUN_LIMIT=480           # give up waiting for the queue to drain after this

# ===========================================================================
# Inner part: runs as PID 1 of the private namespaces.
# ===========================================================================
inner() {
    local mode=$1 T=$2
    local long_ids=no syslog=no
    case $mode in
        maillog) ;;
        syslog-traditional) syslog=traditional ;;
        syslog-rfc3339-long-ids) syslog=rfc3339; long_ids=yes ;;
        *) die "unknown run $mode" ;;
    esac
    cd "$T"

    # --- network: loopback only ---------------------------------------
    ip link set lo up
    hostname mail

    # --- private files over the system paths (this namespace only) ----
    mkdir -p etc spool lib mail log home rsyslog bin run dev
    chmod 755 "$T" etc spool lib log home rsyslog bin run
    chmod 1777 mail
    chown postfix:postfix lib
    cp -a /etc/postfix/. etc/
    rm -f etc/main.cf etc/master.cf

    cat > hosts <<'EOF'
127.0.0.1	localhost
127.0.0.1	mail.example.test mail
127.0.0.2	ws1.example.test
127.0.0.3	ws2.example.test
127.0.1.10	mx.friend.example
127.0.1.11	spam.bad.example
127.0.1.13	mail.shady.example
127.0.1.14	pipeline.example
127.0.1.15	roaming.isp.example
127.0.2.1	mx.accept.example accept.example friend.example mass.example lookalike.example
127.0.2.2	slow.example
127.0.2.3	reject.example
127.0.2.4	contentfilter.example
127.0.2.5	dead.example
127.0.2.6	tempfail.example
127.0.2.7	mx.partner.example
127.0.2.8	late.example
127.0.2.9	mx.secure.example secure.example
EOF
    # No name server: host names come from the file above only.
    printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' > resolv.conf
    cp /etc/passwd passwd
    cat >> passwd <<EOF
alice:x:2001:100:Alice Example:$T/home/alice:/usr/sbin/nologin
bob:x:2002:100:Bob Example:$T/home/bob:/usr/sbin/nologin
carol:x:2003:100:Carol Example:$T/home/carol:/usr/sbin/nologin
EOF
    for u in alice:2001 bob:2002 carol:2003; do
        mkdir -p "home/${u%%:*}"; chown "${u#*:}:100" "home/${u%%:*}"
    done
    printf '\\bob, bob.offsite@accept.example\n' > home/bob/.forward
    chown 2002:100 home/bob/.forward

    # /dev: a private directory with the few device nodes needed and a
    # /dev/log that belongs to this namespace only.
    local n
    for n in null zero full random urandom tty; do
        touch "dev/$n"; mount --bind "/dev/$n" "dev/$n"
    done
    ln -s /proc/self/fd dev/fd
    ln -s /proc/self/fd/0 dev/stdin
    ln -s /proc/self/fd/1 dev/stdout
    ln -s /proc/self/fd/2 dev/stderr
    mkdir dev/shm dev/pts

    for n in /etc/hosts /etc/passwd /etc/postfix /var/spool/postfix /var/lib/postfix \
             /var/mail /var/log; do
        [ -e "$n" ] || die "$n does not exist: nothing to mount the private copy on"
    done
    mount --bind hosts /etc/hosts
    [ -e /etc/resolv.conf ] && mount --bind resolv.conf /etc/resolv.conf
    mount --bind passwd /etc/passwd
    mount --bind etc /etc/postfix
    mount --bind spool /var/spool/postfix
    mount --bind lib /var/lib/postfix
    mount --bind mail /var/mail
    mount --bind log /var/log
    mount --rbind dev /dev
    [ ! -e /dev/log ] || die "/dev/log exists in the private namespace"

    write_postfix_config "$mode" "$long_ids"
    write_servers

    # --- syslog: an rsyslogd of our own on the private /dev/log ---------
    local rsyslog_pid=
    if [ "$syslog" != no ]; then
        local tmpl=RSYSLOG_TraditionalFileFormat
        [ "$syslog" = rfc3339 ] && tmpl=RSYSLOG_FileFormat
        cat > rsyslog.conf <<EOF
global(workDirectory="$T/rsyslog")
module(load="imuxsock" SysSock.Name="/dev/log" SysSock.RateLimit.Interval="0")
mail.*	action(type="omfile" file="/var/log/mail.log" template="$tmpl")
EOF
        rsyslogd -n -f "$T/rsyslog.conf" -i "$T/run/rsyslogd.pid" &
        rsyslog_pid=$!
        for n in $(seq 50); do [ -S /dev/log ] && break; sleep 0.1; done
        [ -S /dev/log ] || die "rsyslogd did not create /dev/log"
    fi

    # --- the "remote" servers: smtp-sink on 127.0.2.x:25 ----------------
    declare -A SINK
    sink() {   # name addr args...
        local name=$1 addr=$2; shift 2
        smtp-sink -u nobody "$@" "$addr:25" 64 >/dev/null 2>&1 &
        SINK[$name]=$!
    }
    sink accept 127.0.2.1 -h mx.accept.example
    sink slow 127.0.2.2 -h mx.slow.example -r rcpt \
        -b "450 4.2.0 Recipient address rejected: Greylisted, please try again later"
    sink reject 127.0.2.3 -h mx.reject.example -f rcpt \
        -B "550 5.1.1 Recipient address rejected: User unknown in virtual mailbox table"
    sink content 127.0.2.4 -h mx.contentfilter.example -f . \
        -B "554 5.7.1 Message rejected: content looks like spam"
    sink tempfail 127.0.2.6 -h mx.tempfail.example -r rcpt \
        -b "452 4.2.2 Mailbox full, try again later"
    sink partner 127.0.2.7 -h mx.partner.example
    python3 bin/tls_sink.py 127.0.2.9 25 mx.secure.example /etc/postfix/tls/remote.pem &
    SINK[secure]=$!
    # dead.example (127.0.2.5): nothing listens, ever.
    # late.example (127.0.2.8): nothing listens until phase 2.

    # --- policy service, milter, SASL server -----------------------------
    python3 bin/policy.py 127.0.0.1 10040 &
    local policy_pid=$!
    python3 bin/milter.py 127.0.0.1 8891 &
    local milter_pid=$!
    python3 bin/saslauth.py 127.0.0.1 12345 &
    local sasl_pid=$!
    sleep 1

    # --- Postfix ----------------------------------------------------------
    postfix check || true
    postfix start
    sleep 3

    say "[$mode] phase 1: traffic"
    local start=$SECONDS
    python3 bin/traffic.py phase1 1 &
    local traffic_pid=$!
    sleep 5
    # mail submitted with sendmail(1): pickup
    sendmail_msg root alice@example.test "Nightly backup report" 1200
    sendmail_msg root nosuchuser@example.test "Cron <root@mail> run-parts" 600
    sendmail_msg alice@example.test old@retired.example "Are you still there?" 300
    sendmail -f alice@example.test -t -oi <<EOF
From: Alice Example <alice@example.test>
To: ann@accept.example, bo@partner.example
Cc: bob@example.test
Subject: Minutes of the meeting

Hello, the minutes are below.
$(seq 1 40 | sed 's/^/ item /')
EOF
    wait "$traffic_pid" || true

    sleep 10
    say "[$mode] hold queue: postsuper -H / -d"
    hold_actions
    # a deferred message put on hold by hand and released again
    local qid
    qid=$(queue_ids deferred tempfail.example | head -n 1)
    if [ -n "$qid" ]; then postsuper -h "$qid"; fi

    # phase 2: the greylisting server now accepts, late.example comes up,
    # Postfix reloads its configuration.
    while [ $((SECONDS - start)) -lt 80 ]; do sleep 1; done
    kill "${SINK[slow]}"; wait "${SINK[slow]}" 2>/dev/null || true
    sink slow 127.0.2.2 -h mx.slow.example
    sink late 127.0.2.8 -h mx.late.example
    postfix reload
    [ -n "$qid" ] && postsuper -H "$qid"

    say "[$mode] phase 2: traffic"
    python3 bin/traffic.py phase2 2 || true
    sendmail_msg root alice@example.test "Logwatch for mail" 4000
    # a smtpd with a broken setting (master.cf, port 2525): fatal error,
    # then the master daemon's warnings about it
    python3 bin/traffic.py broken 3 || true
    # Postfix has no switch that makes a daemon panic; postlog(1) writes a
    # line with the panic severity through the same logging path.
    postlog -p panic "corpus: a panic-level message written with postlog(1)" || true
    postqueue -f

    say "[$mode] waiting for the queue to drain (deferred mail expires after ${QUEUE_LIFETIME}s)"
    while [ $((SECONDS - start)) -lt $RUN_LIMIT ]; do
        [ -z "$(queue_ids any)" ] && break
        sleep 5
    done
    if [ -n "$(queue_ids any)" ]; then
        say "[$mode] warning: queue not empty at the end:"; postqueue -p >&2 || true
    fi
    sleep 2
    postfix stop
    sleep 2

    # --- stop everything we started, by pid --------------------------------
    local p
    for p in "${SINK[@]}" "$policy_pid" "$milter_pid" "$sasl_pid"; do
        kill "$p" 2>/dev/null || true
    done
    for p in "${SINK[@]}" "$policy_pid" "$milter_pid" "$sasl_pid"; do
        wait "$p" 2>/dev/null || true
    done
    if [ -n "$rsyslog_pid" ]; then
        sleep 1
        kill "$rsyslog_pid"; wait "$rsyslog_pid" 2>/dev/null || true
    fi
    # collect
    mkdir -p out
    if [ "$mode" = maillog ]; then
        cp log/postfix.log out/log
    else
        cp log/mail.log out/log
    fi
}

sendmail_msg() {   # from to subject size
    local from=$1 to=$2 subject=$3 size=$4
    { printf 'From: %s\nTo: %s\nSubject: %s\n\n' "$from" "$to" "$subject"
      head -c "$size" /dev/zero | tr '\0' 'x' | fold -w 72; echo; } |
        sendmail -f "$from" -oi "$to"
}

# queue_ids QUEUE|any [DOMAIN]: queue IDs of messages in QUEUE (with a
# recipient in DOMAIN)
queue_ids() {
    postqueue -j 2>/dev/null | python3 -c '
import json, sys
q, dom = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else "")
for line in sys.stdin:
    m = json.loads(line)
    if q != "any" and m["queue_name"] != q:
        continue
    if dom and not any(r["address"].endswith("@" + dom) for r in m["recipients"]):
        continue
    print(m["queue_id"])
' "$@"
}

hold_actions() {
    local qid
    # quarantined by an access map: delete; the others: release
    for qid in $(queue_ids hold); do
        if postqueue -j | grep -F "\"$qid\"" | grep -q quarantine@; then
            postsuper -d "$qid"
        else
            postsuper -H "$qid"
        fi
    done
}

write_postfix_config() {
    local mode=$1 long_ids=$2 e=/etc/postfix
    mkdir -p $e/tls
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=mail.example.test \
        -keyout $e/tls/key.pem -out $e/tls/cert.pem >/dev/null 2>&1
    chmod 600 $e/tls/key.pem
    # for the "remote" server mx.secure.example
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=mx.secure.example \
        -keyout $e/tls/remote.pem -out $e/tls/remote.pem.crt >/dev/null 2>&1
    cat $e/tls/remote.pem.crt >> $e/tls/remote.pem
    rm $e/tls/remote.pem.crt

    cat > $e/main.cf <<EOF
compatibility_level = 3.6
myhostname = mail.example.test
mydomain = example.test
myorigin = \$mydomain
mydestination = \$myhostname, localhost.\$mydomain, localhost, \$mydomain
mynetworks = 127.0.0.0/30
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
smtp_bind_address = 127.0.0.1
queue_directory = /var/spool/postfix
data_directory = /var/lib/postfix
mail_owner = postfix
setgid_group = postdrop
biff = no
notify_classes = 2bounce, resource, software
append_dot_mydomain = no
recipient_delimiter = +
smtpd_banner = \$myhostname ESMTP
enable_long_queue_ids = $long_ids

alias_maps = hash:/etc/postfix/aliases
alias_database = hash:/etc/postfix/aliases
local_recipient_maps = proxy:unix:passwd.byname \$alias_maps
mail_spool_directory = /var/mail
transport_maps = hash:/etc/postfix/transport

# no DNS: next hops come from /etc/hosts
smtp_dns_support_level = disabled
smtp_connect_timeout = 5s

# short queue times, so that deferred mail expires during the run
maximal_queue_lifetime = ${QUEUE_LIFETIME}s
bounce_queue_lifetime = ${QUEUE_LIFETIME}s
delay_warning_time = 60s
queue_run_delay = 15s
minimal_backoff_time = 15s
maximal_backoff_time = 60s

message_size_limit = 10240000
header_checks = regexp:/etc/postfix/header_checks
body_checks = regexp:/etc/postfix/body_checks

smtpd_delay_reject = no
smtpd_helo_required = yes
smtpd_client_restrictions = permit_mynetworks,
    check_client_access hash:/etc/postfix/client_access
smtpd_helo_restrictions = permit_mynetworks, permit_sasl_authenticated,
    reject_invalid_helo_hostname, reject_non_fqdn_helo_hostname,
    check_helo_access hash:/etc/postfix/helo_access
smtpd_sender_restrictions = permit_mynetworks, permit_sasl_authenticated,
    reject_non_fqdn_sender,
    check_sender_access hash:/etc/postfix/sender_access,
    warn_if_reject check_sender_access hash:/etc/postfix/sender_warn
smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated,
    reject_unauth_destination
smtpd_recipient_restrictions = permit_mynetworks, permit_sasl_authenticated,
    check_recipient_access hash:/etc/postfix/recipient_access,
    check_policy_service inet:127.0.0.1:10040
smtpd_data_restrictions = reject_unauth_pipelining,
    reject_multi_recipient_bounce,
    check_client_access hash:/etc/postfix/data_access
smtpd_end_of_data_restrictions =
    check_sender_access hash:/etc/postfix/eod_access

smtpd_milters = inet:127.0.0.1:8891
milter_default_action = accept

smtpd_tls_cert_file = /etc/postfix/tls/cert.pem
smtpd_tls_key_file = /etc/postfix/tls/key.pem
smtpd_tls_security_level = may
smtpd_tls_loglevel = 1
smtp_tls_security_level = may
smtp_tls_loglevel = 1
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = inet:127.0.0.1:12345
smtpd_tls_auth_only = yes
EOF
    if [ "$mode" = maillog ]; then
        printf 'maillog_file = /var/log/postfix.log\n' >> $e/main.cf
    fi

    cat > $e/master.cf <<'EOF'
# service type  private unpriv  chroot  wakeup  maxproc command + args
smtp      inet  n       -       n       -       -       smtpd
submission inet n       -       n       -       -       smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_client_restrictions=
  -o smtpd_helo_restrictions=
  -o smtpd_sender_restrictions=
  -o smtpd_recipient_restrictions=
  -o smtpd_relay_restrictions=permit_mynetworks,permit_sasl_authenticated,reject
  -o smtpd_data_restrictions=
  -o smtpd_end_of_data_restrictions=
  -o smtpd_milters=
127.0.0.1:2525 inet n   -       n       -       -       smtpd
  -o smtpd_recipient_limit=lots
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF

    cat > $e/aliases <<'EOF'
postmaster: alice
MAILER-DAEMON: postmaster
root: alice
abuse: alice
info: alice, bob
sales: carol, sales-team@partner.example
support: helpdesk@partner.example
quarantine: alice
spamtrap: /dev/null
noreply: /dev/null
EOF
    cat > $e/transport <<'EOF'
partner.example      smtp:[mx.partner.example]
blackhole.example    discard:silently dropped
retired.example      error:5.1.1 this domain no longer receives mail
EOF
    cat > $e/client_access <<'EOF'
127.0.1.11           REJECT Your host is on our local blocklist
EOF
    cat > $e/helo_access <<'EOF'
localhost.localdomain REJECT You are not localhost
EOF
    cat > $e/sender_access <<'EOF'
spammer@junk.example REJECT Sender address blocked
junk.example         REJECT Sender domain blocked
EOF
    cat > $e/sender_warn <<'EOF'
shady.example        REJECT Sender domain under observation
EOF
    cat > $e/recipient_access <<'EOF'
quarantine@example.test HOLD Quarantined for review
spamtrap@example.test   DISCARD Spam trap
EOF
    cat > $e/data_access <<'EOF'
127.0.1.14           REJECT Data from this client is not accepted
EOF
    cat > $e/eod_access <<'EOF'
newsletter@mass.example REJECT Bulk mail is not accepted here
EOF
    cat > $e/header_checks <<'EOF'
/^Subject:.*cheap replica watches/     REJECT Message content rejected (subject)
/^Subject:.*urgent wire transfer/      WARN suspicious subject
/^Subject:.*invoice for review/        HOLD held for manual review
/^Subject:.*you have won/              DISCARD lottery spam
EOF
    cat > $e/body_checks <<'EOF'
/click here to claim your prize/       REJECT Message content rejected (body)
/verify your account password/         WARN possible phishing
/please review the attached contract/  HOLD body held for review
/unsubscribe from this mass mailing/   DISCARD bulk body
EOF
    local m
    for m in transport client_access helo_access sender_access \
             sender_warn recipient_access data_access eod_access; do
        postmap hash:$e/$m
    done
    postalias hash:$e/aliases
    # A table edited after postmap ran: every process that opens it warns.
    sleep 1; echo '# edited after postmap' >> $e/helo_access
}

write_servers() {
    local b=$T/bin
    # --- SMTP access policy delegation ----------------------------------
    cat > $b/policy.py <<'EOF'
import socketserver, sys

class Policy(socketserver.StreamRequestHandler):
    def handle(self):
        attrs = {}
        for raw in self.rfile:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if line:
                k, _, v = line.partition("=")
                attrs[k] = v
                continue
            sender = attrs.get("sender", "")
            if sender.endswith("@promo.example"):
                action = "REJECT Sender rejected by local policy"
            elif attrs.get("recipient", "") == "greylist-me@example.test":
                action = "DEFER_IF_PERMIT Policy says try again later"
            else:
                action = "DUNNO"
            self.wfile.write(("action=%s\n\n" % action).encode())
            self.wfile.flush()
            attrs = {}

class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

Server((sys.argv[1], int(sys.argv[2])), Policy).serve_forever()
EOF
    # --- a minimal milter (Sendmail milter protocol, version 6) ----------
    cat > $b/milter.py <<'EOF'
import socketserver, struct, sys

def packet(cmd, data=b""):
    return struct.pack("!I", len(data) + 1) + cmd + data

class Milter(socketserver.BaseRequestHandler):
    def recv(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.request.recv(n - len(buf))
            if not chunk:
                raise EOFError
            buf += chunk
        return buf

    def handle(self):
        sender = ""
        try:
            while True:
                (length,) = struct.unpack("!I", self.recv(4))
                body = self.recv(length)
                cmd, data = body[:1], body[1:]
                reply = b"c"
                rdata = b""
                if cmd == b"O":
                    reply, rdata = b"O", struct.pack("!III", 6, 0, 0)
                elif cmd in (b"D", b"A"):
                    continue
                elif cmd in (b"Q", b"K"):
                    if cmd == b"Q":
                        return
                    sender = ""
                    continue
                elif cmd == b"M":
                    sender = data.split(b"\0")[0].decode("utf-8", "replace").strip("<>").lower()
                    if sender.endswith("@virus.example"):
                        reply, rdata = b"y", b"550 5.7.1 Sender rejected by milter\0"
                elif cmd == b"E":
                    if sender.endswith("@lookalike.example"):
                        reply, rdata = b"y", b"550 5.7.1 Message rejected by milter: phishing\0"
                self.request.sendall(packet(reply, rdata))
        except (EOFError, ConnectionError):
            return

class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

Server((sys.argv[1], int(sys.argv[2])), Milter).serve_forever()
EOF
    # --- SASL: the Dovecot authentication protocol, PLAIN only -----------
    cat > $b/saslauth.py <<'EOF'
import base64, os, socketserver, sys

USERS = {"alice": "wonderland", "bob": "builder"}

class Auth(socketserver.StreamRequestHandler):
    def handle(self):
        self.wfile.write(("VERSION\t1\t2\nMECH\tPLAIN\tplaintext\nSPID\t%d\n"
                          "CUID\t1\nCOOKIE\t%s\nDONE\n" % (os.getpid(), "0" * 32)).encode())
        self.wfile.flush()
        for raw in self.rfile:
            f = raw.decode("utf-8", "replace").rstrip("\n").split("\t")
            if f[0] != "AUTH":
                continue
            rid = f[1]
            resp = [x[5:] for x in f if x.startswith("resp=")]
            if not resp:
                self.wfile.write(("CONT\t%s\t\n" % rid).encode())
                self.wfile.flush()
                continue
            try:
                _, user, pw = base64.b64decode(resp[0]).decode().split("\0")
            except Exception:
                user, pw = "", None
            if USERS.get(user) == pw:
                out = "OK\t%s\tuser=%s\n" % (rid, user)
            else:
                out = "FAIL\t%s\tuser=%s\treason=Authentication failed\n" % (rid, user)
            self.wfile.write(out.encode())
            self.wfile.flush()

class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

Server((sys.argv[1], int(sys.argv[2])), Auth).serve_forever()
EOF
    # --- a "remote" SMTP server with STARTTLS (smtp-sink has no TLS) -----
    cat > $b/tls_sink.py <<'EOF'
import socketserver, ssl, sys

ADDR, PORT, NAME, PEM = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
CTX = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
CTX.load_cert_chain(PEM)

class Sink(socketserver.BaseRequestHandler):
    def handle(self):
        sock = self.request
        f = sock.makefile("rb")
        def say(text):
            sock.sendall(text.encode() + b"\r\n")
        say("220 %s ESMTP" % NAME)
        tls = False
        while True:
            line = f.readline()
            if not line:
                return
            cmd = line.decode("utf-8", "replace").strip().upper()
            if cmd.startswith(("EHLO", "HELO")):
                if tls:
                    say("250-%s\r\n250-SIZE 52428800\r\n250 8BITMIME" % NAME)
                else:
                    say("250-%s\r\n250-SIZE 52428800\r\n250-STARTTLS\r\n250 8BITMIME" % NAME)
            elif cmd == "STARTTLS" and not tls:
                say("220 2.0.0 Ready to start TLS")
                sock = CTX.wrap_socket(sock, server_side=True)
                f = sock.makefile("rb")
                tls = True
            elif cmd.startswith(("MAIL", "RCPT", "RSET", "NOOP")):
                say("250 2.0.0 Ok")
            elif cmd == "DATA":
                say("354 End data with <CR><LF>.<CR><LF>")
                while True:
                    l = f.readline()
                    if not l or l in (b".\r\n", b".\n"):
                        break
                say("250 2.0.0 Ok: queued")
            elif cmd == "QUIT":
                say("221 2.0.0 Bye")
                return
            else:
                say("502 5.5.2 Error: command not recognized")

class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

Server((ADDR, PORT), Sink).serve_forever()
EOF
    # --- the SMTP clients ----------------------------------------------------
    cat > $b/traffic.py <<'EOF'
import email.utils, random, smtplib, socket, ssl, sys, time

SERVER = "127.0.0.1"
PHASE = sys.argv[1]
R = random.Random(int(sys.argv[2]))
CTX = ssl.create_default_context()
CTX.check_hostname = False
CTX.verify_mode = ssl.CERT_NONE

WS1 = ("127.0.0.2", "ws1.example.test")
WS2 = ("127.0.0.3", "ws2.example.test")
FRIEND = ("127.0.1.10", "mx.friend.example")
SPAM = ("127.0.1.11", "spam.bad.example")
UNKNOWN = ("127.0.1.12", "dsl-12.dynamic.example")
SHADY = ("127.0.1.13", "mail.shady.example")
PIPE = ("127.0.1.14", "pipeline.example")
ROAM = ("127.0.1.15", "laptop.example.test")

WORDS = ("the quick brown fox jumps over a lazy dog while mail servers "
         "queue deliver defer bounce and log every step of the way").split()

def note(*a):
    print("traffic:", *a, flush=True)

def text(size):
    lines, n = [], 0
    while n < size:
        line = " ".join(R.choice(WORDS) for _ in range(11))
        lines.append(line)
        n += len(line) + 2
    return "\r\n".join(lines)

def message(frm, rcpts, subject, size, body_line=""):
    dom = frm.split("@")[-1] if "@" in frm else "example.test"
    hdrs = [
        "From: <%s>" % frm if frm else "From: Mail Delivery System <MAILER-DAEMON@friend.example>",
        "To: %s" % ", ".join("<%s>" % r for r in rcpts),
        "Subject: %s" % subject,
        "Date: %s" % email.utils.formatdate(localtime=True),
        "Message-ID: %s" % email.utils.make_msgid(domain=dom),
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=us-ascii",
    ]
    body = (body_line + "\r\n" if body_line else "") + text(size)
    return "\r\n".join(hdrs) + "\r\n\r\n" + body + "\r\n"

def send(client, frm, rcpts, subject="Hello", size=800, port=25, tls=False,
         auth=None, body_line="", mail_options=(), pause=1.0):
    src, helo = client
    try:
        s = smtplib.SMTP(SERVER, port, local_hostname=helo, timeout=30, source_address=(src, 0))
        s.ehlo()
        if tls:
            s.starttls(context=CTX)
            s.ehlo()
        if auth:
            s.login(*auth)
        refused = s.sendmail(frm, rcpts, message(frm, rcpts, subject, size, body_line),
                             mail_options=list(mail_options))
        if refused:
            note(frm, "->", rcpts, "partly refused:", refused)
        s.quit()
    except (smtplib.SMTPException, OSError, ValueError) as e:
        note(frm, "->", rcpts, "failed:", type(e).__name__, str(e)[:120])
    time.sleep(pause)

def raw(client, steps, port=25, pause=1.0):
    """steps: list of strings to send; each is sent after reading a reply."""
    src, _ = client
    try:
        sock = socket.create_connection((SERVER, port), timeout=15, source_address=(src, 0))
        f = sock.makefile("rb")
        f.readline()
        for step in steps:
            if step is None:          # drop the connection
                break
            sock.sendall(step.encode())
            time.sleep(0.3)
            sock.settimeout(2)
            try:
                sock.recv(65536)
            except OSError:
                pass
        sock.close()
    except OSError as e:
        note("raw connection failed:", e)
    time.sleep(pause)

def dialog(client, fn, port=25, pause=1.0):
    src, helo = client
    try:
        s = smtplib.SMTP(SERVER, port, local_hostname=helo, timeout=30, source_address=(src, 0))
        fn(s)
        try:
            s.quit()
        except Exception:
            s.close()
    except (smtplib.SMTPException, OSError, ValueError) as e:
        note("dialog failed:", type(e).__name__, str(e)[:120])
    time.sleep(pause)

def phase1():
    # deferrals: expire (dead, tempfail), succeed later (slow, late)
    send(WS1, "alice@example.test", ["dave@dead.example"], "Project update", 1500)
    send(WS1, "bob@example.test", ["tom@tempfail.example"], "Re: your order", 2200)
    send(WS2, "alice@example.test", ["greg@slow.example"], "Lunch on Friday?", 600)
    send(WS1, "alice@example.test",
         ["ann@accept.example", "ben@accept.example", "cal@partner.example", "gil@slow.example"],
         "Quarterly figures", 5200)
    send(WS2, "bob@example.test", ["lou@late.example"], "Draft attached", 9000)
    # hard bounces: at RCPT (mixed with a good recipient), after DATA
    send(WS1, "carol@example.test", ["rick@reject.example", "amy@accept.example"], "Invitation", 900)
    send(WS2, "alice@example.test", ["cf@contentfilter.example"], "Offer", 700)
    # bounce whose non-delivery notice bounces too (double bounce)
    send(WS1, "ghost@reject.example", ["x@contentfilter.example"], "Hello again", 500)
    # unknown host, discard and error transports
    send(WS1, "alice@example.test", ["nobody@nosuch.example"], "Typo in the domain", 400)
    send(WS1, "bob@example.test", ["old@retired.example", "trash@blackhole.example"], "Old contacts", 300)
    # a remote server that offers STARTTLS
    send(WS2, "alice@example.test", ["team@secure.example", "lead@secure.example"], "Build results", 3000)
    # inbound mail: local delivery, aliases, .forward
    send(FRIEND, "partner@friend.example", ["alice@example.test"], "Re: contract", 2500)
    send(FRIEND, "partner@friend.example", ["info@example.test"], "Question about pricing", 1100)
    send(FRIEND, "partner@friend.example", ["sales@example.test"], "Request for quote", 1800)
    send(FRIEND, "partner@friend.example", ["bob@example.test"], "Weekend plans", 700)
    send(FRIEND, "partner@friend.example", ["support@example.test"], "Ticket 4711", 900)
    send(FRIEND, "partner@friend.example", ["noreply@example.test"], "Re: your notification", 600)
    # RCPT rejects: unknown local user (mixed with a good one), relay denied
    send(FRIEND, "partner@friend.example", ["nosuchuser@example.test", "alice@example.test"], "Hi", 500)
    send(FRIEND, "partner@friend.example", ["someone@elsewhere.example"], "Relay test", 300)
    # CONNECT reject
    dialog(SPAM, lambda s: (s.ehlo(), s.mail("bulk@bad.example"), s.rcpt("alice@example.test")))
    # HELO rejects
    dialog(("127.0.1.12", "bad_helo!"), lambda s: (s.ehlo(), s.mail("x@y.example"), s.rcpt("alice@example.test")))
    dialog(("127.0.1.12", "localhost.localdomain"), lambda s: (s.ehlo(), s.mail("x@y.example")))
    dialog(("127.0.1.12", "dynamic"), lambda s: (s.helo(), s.mail("x@y.example")))
    # MAIL rejects: access map, non-FQDN sender, message size
    dialog(UNKNOWN, lambda s: (s.ehlo(), s.mail("spammer@junk.example"), s.rcpt("alice@example.test")))
    dialog(UNKNOWN, lambda s: (s.ehlo(), s.mail("other@junk.example"), s.rcpt("bob@example.test")))
    dialog(UNKNOWN, lambda s: (s.ehlo(), s.mail("root@localhost-only"), s.rcpt("bob@example.test")))
    dialog(UNKNOWN, lambda s: (s.ehlo(), s.mail("big@friend.example", ["SIZE=99999999"])))
    # policy service reject (RCPT) and defer
    send(UNKNOWN, "offers@promo.example", ["alice@example.test"], "Special offer", 800)
    send(UNKNOWN, "deals@promo.example", ["bob@example.test", "carol@example.test"], "Deals", 800)
    send(FRIEND, "partner@friend.example", ["greylist-me@example.test"], "Greylist me", 300)
    # reject_warning (warn_if_reject): then delivered
    send(SHADY, "news@shady.example", ["alice@example.test"], "Newsletter", 3500)
    send(SHADY, "info@shady.example", ["bob@example.test", "carol@example.test"], "Newsletter 2", 3600)
    # DATA rejects: unauthorized pipelining, access map, multi-recipient bounce
    raw(PIPE, ["HELO pipeline.example\r\n",
               "MAIL FROM:<a@pipeline.example>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n",
               "QUIT\r\n"])
    send(PIPE, "b@pipeline.example", ["bob@example.test"], "Data reject", 300)
    send(FRIEND, "", ["alice@example.test", "bob@example.test"], "Undelivered Mail Returned to Sender", 600)
    # header/body checks: REJECT, WARN, HOLD, DISCARD
    send(FRIEND, "partner@friend.example", ["alice@example.test"], "cheap replica watches", 400)
    send(FRIEND, "partner@friend.example", ["alice@example.test"], "urgent wire transfer", 400)
    send(FRIEND, "partner@friend.example", ["bob@example.test"], "invoice for review", 1400)
    send(FRIEND, "partner@friend.example", ["carol@example.test"], "you have won", 400)
    send(FRIEND, "partner@friend.example", ["alice@example.test"], "Prize", 400, body_line="click here to claim your prize")
    send(FRIEND, "partner@friend.example", ["bob@example.test"], "Account", 400, body_line="verify your account password")
    send(FRIEND, "partner@friend.example", ["carol@example.test"], "Contract", 2400, body_line="please review the attached contract")
    send(FRIEND, "partner@friend.example", ["alice@example.test"], "News", 400, body_line="unsubscribe from this mass mailing")
    # END-OF-MESSAGE reject (smtpd_end_of_data_restrictions)
    send(FRIEND, "newsletter@mass.example", ["alice@example.test"], "Our newsletter", 6000)
    # milter: reject at MAIL, reject at end of message
    send(UNKNOWN, "malware@virus.example", ["alice@example.test"], "Invoice", 500)
    send(FRIEND, "security@lookalike.example", ["bob@example.test"], "Your account", 900)
    # access map HOLD and DISCARD at RCPT
    send(FRIEND, "partner@friend.example", ["quarantine@example.test"], "Please check", 700)
    send(FRIEND, "partner@friend.example", ["spamtrap@example.test"], "Trap", 500)
    # submission: STARTTLS + AUTH, relays to remote domains
    send(ROAM, "alice@example.test", ["ext1@accept.example", "ext2@partner.example"], "From my laptop", 4200,
         port=587, tls=True, auth=("alice", "wonderland"))
    send(ROAM, "bob@example.test", ["ext3@accept.example"], "Sent from the train", 1200,
         port=587, tls=True, auth=("bob", "builder"))
    # failed AUTH on port 25, then quit
    for pw in ("123456", "password"):
        dialog(UNKNOWN, lambda s, pw=pw: (s.ehlo(), s.starttls(context=CTX), s.ehlo(), s.login("admin", pw)))
    # non-SMTP command; dropped connections
    raw(UNKNOWN, ["GET / HTTP/1.0\r\n\r\n"])
    raw(UNKNOWN, ["EHLO dsl-12.dynamic.example\r\n", None])
    raw(FRIEND, ["EHLO mx.friend.example\r\n", "MAIL FROM:<partner@friend.example>\r\n",
                 "RCPT TO:<alice@example.test>\r\n", None])
    # plain deliveries to finish
    for i in range(6):
        send(WS1, "alice@example.test", ["ann@accept.example"], "Note %d" % i, R.randint(300, 9000), pause=2)

def phase2():
    senders = ["alice@example.test", "bob@example.test", "carol@example.test"]
    remote = ["ann@accept.example", "ben@accept.example", "cal@partner.example",
              "dora@partner.example", "greg@slow.example", "lou@late.example",
              "team@secure.example"]
    local = ["alice@example.test", "bob@example.test", "carol@example.test", "info@example.test",
             "sales@example.test", "postmaster@example.test"]
    for i in range(36):
        k = i % 6
        if k in (0, 1, 2):
            rc = R.sample(remote, R.choice([1, 1, 2, 3]))
            send(R.choice([WS1, WS2]), R.choice(senders), rc, "Update %d" % i, R.randint(300, 20000), pause=1.5)
        elif k in (3, 4):
            rc = R.sample(local, R.choice([1, 1, 2]))
            send(FRIEND, "partner@friend.example", rc, "Re: update %d" % i, R.randint(300, 12000), pause=1.5)
        else:
            rc = R.sample(remote, 1)
            send(ROAM, R.choice(["alice@example.test", "bob@example.test"]), rc, "Mobile %d" % i,
                 R.randint(300, 5000), port=587, tls=True,
                 auth=R.choice([("alice", "wonderland"), ("bob", "builder")]), pause=1.5)
    send(FRIEND, "partner@friend.example", ["nosuchuser@example.test"], "Hi", 500)
    send(UNKNOWN, "x@y.example", ["relay@elsewhere.example"], "Relay", 300)
    dialog(SPAM, lambda s: (s.ehlo(), s.mail("bulk@bad.example")))
    send(SHADY, "news@shady.example", ["carol@example.test"], "Newsletter 3", 3500)

def broken():
    # the smtpd on port 2525 has a bad setting: fatal error, master throttles
    try:
        socket.create_connection((SERVER, 2525), timeout=5, source_address=("127.0.1.10", 0)).recv(100)
    except OSError as e:
        note("port 2525:", e)
    time.sleep(2)

{"phase1": phase1, "phase2": phase2, "broken": broken}[PHASE]()
EOF
}

# ===========================================================================
# Outer part: packages, runs, reports, clean-up.
# ===========================================================================
NEEDED_PKGS="postfix pflogsumm rsyslog"
STATE=
TMPS=()
KEEP_PKGS=0
INSTALLED_BY_US=

pkg_installed() { dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q '^install ok installed$'; }

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    local t
    for t in "${TMPS[@]}"; do
        [ -n "$t" ] && [ -d "$t" ] && rm -rf --one-file-system "$t"
    done
    if [ -n "$INSTALLED_BY_US" ] && [ "$KEEP_PKGS" = 0 ]; then
        purge_ours
    elif [ -n "$INSTALLED_BY_US" ]; then
        say "kept the packages this script installed: $INSTALLED_BY_US"
    fi
    [ -n "$STATE" ] && rm -rf "$STATE"
    exit $rc
}

# Purge the packages this script installed, except any that a package
# installed meanwhile by someone else depends on; then remove what the
# postfix package's installation left (users, groups, /etc/aliases, ...).
purge_ours() {
    local p go= keep=
    local ours
    ours=$(printf '%s\n' $INSTALLED_BY_US)
    for p in $INSTALLED_BY_US; do
        if apt-get -s purge "$p" 2>/dev/null | awk '/^(Purg|Remv) / {print $2}' |
                grep -vxF "$ours" | grep -q .; then
            keep="$keep $p"
        else
            go="$go $p"
        fi
    done
    [ -z "$keep" ] || say "keeping$keep: packages installed since then depend on them"
    [ -n "$go" ] || return 0
    say "purging what this script installed:$go"
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get purge -y -q $go >/dev/null ||
        { say "warning: apt-get purge failed"; return 0; }
    pkg_installed postfix && return 0
    local u g f
    # the postfix package's postrm removes these on purge; make sure
    for u in postfix; do
        if ! grep -qxF "$u" "$STATE/users" && getent passwd "$u" >/dev/null; then
            userdel "$u" 2>/dev/null || true
        fi
    done
    for g in postfix postdrop; do
        if ! grep -qxF "$g" "$STATE/groups" && getent group "$g" >/dev/null; then
            groupdel "$g" 2>/dev/null || true
        fi
    done
    while read -r f; do
        # only what no installed package owns
        if [ -e "$f" ] && ! dpkg-query -S "$f" >/dev/null 2>&1; then
            rm -rf --one-file-system "$f"
        fi
    done < <(comm -13 "$STATE/paths" <(list_paths))
}

list_paths() {
    local p
    for p in /etc/aliases /etc/aliases.db /etc/mailname /etc/postfix /var/spool/postfix \
             /var/lib/postfix /etc/rsyslog.conf /etc/rsyslog.d /var/spool/rsyslog \
             /etc/logrotate.d/rsyslog /var/lib/logrotate; do
        if [ -e "$p" ]; then echo "$p"; fi
    done | sort
}

outer() {
    local out=
    local runs=$ALL_RUNS
    while [ $# -gt 0 ]; do
        case $1 in
            -o) out=$2; shift 2 ;;
            --runs) runs=$2; shift 2 ;;
            --keep-packages) KEEP_PKGS=1; shift ;;
            -h|--help) sed -n '2,/^set -euo/p' "$SELF" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
            *) die "unknown argument: $1 (see --help)" ;;
        esac
    done
    [ "$(id -u)" = 0 ] || die "must run as root (it starts a private Postfix instance)"
    [ -n "$out" ] || out=$(cd "$(dirname "$SELF")/.." && pwd)/tests/corpus/postfix
    local r
    for r in $runs; do
        case " $ALL_RUNS " in *" $r "*) ;; *) die "unknown run: $r" ;; esac
    done
    for r in unshare ip python3 openssl; do
        command -v $r >/dev/null || die "$r is needed (packages util-linux, iproute2, python3, openssl)"
    done

    STATE=$(mktemp -d /tmp/postfix-corpus-state.XXXXXX)
    trap cleanup EXIT
    trap 'exit 130' INT TERM
    cut -d: -f1 /etc/passwd | sort > "$STATE/users"
    cut -d: -f1 /etc/group | sort > "$STATE/groups"
    list_paths > "$STATE/paths"

    local missing=
    for r in $NEEDED_PKGS; do pkg_installed "$r" || missing="$missing $r"; done
    if [ -n "$missing" ]; then
        say "installing with apt-get:$missing"
        dpkg-query -W -f='${Package} ${Status}\n' | awk '$4 == "installed" {print $1}' | sort > "$STATE/pkgs"
        echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
        DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null
        # shellcheck disable=SC2086
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >/dev/null
        INSTALLED_BY_US=$(comm -13 "$STATE/pkgs" <(dpkg-query -W -f='${Package} ${Status}\n' |
            awk '$4 == "installed" {print $1}' | sort) | tr '\n' ' ')
        say "installed: $INSTALLED_BY_US"
    fi
    say "Postfix $(postconf -d -h mail_version 2>/dev/null), $(pflogsumm --version 2>&1 | head -n 1)"

    mkdir -p "$out"
    local T name log
    for r in $runs; do
        T=$(mktemp -d /tmp/postfix-corpus.XXXXXX)
        TMPS+=("$T")
        say "run $r (a few minutes)"
        unshare --mount --pid --net --uts --ipc --kill-child --mount-proc --propagation private \
            "$SELF" --inner "$r" "$T"
        name=$r.log
        [ "$r" = maillog ] && name=maillog.log
        log=$out/$name
        cp "$T/out/log" "$log"
        chmod 644 "$log"
        ( cd "$out"
          pflogsumm "$name" > "$name.pflogsumm"
          pflogsumm --smtpd-stats "$name" > "$name.pflogsumm-smtpd"
          pflogsumm -e "$name" > "$name.pflogsumm-e"
          pflogsumm --smtpd-stats -e "$name" > "$name.pflogsumm-smtpd-e" )
        rm -rf --one-file-system "$T"
        say "wrote $log ($(wc -l < "$log") lines) and its pflogsumm reports"
    done
    say "done; files are in $out"
}

if [ "${1:-}" = --inner ]; then
    shift
    inner "$@"
else
    outer "$@"
fi
