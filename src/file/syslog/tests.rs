use super::*;
use crate::event::Timestamp;
use crate::format::FixedZone;

#[test]
fn values_that_name_syslog_destinations() {
    assert_eq!(Endpoint::parse("/var/log/mainlog"), None);
    assert_eq!(Endpoint::parse("syslogfile"), None);
    assert_eq!(
        Endpoint::parse("syslog:"),
        Some(Ok(Endpoint::Local(PathBuf::from("/dev/log"))))
    );
    assert_eq!(
        Endpoint::parse("syslog:/run/x.sock"),
        Some(Ok(Endpoint::Local(PathBuf::from("/run/x.sock"))))
    );
    assert!(matches!(Endpoint::parse("syslog:relative"), Some(Err(_))));
    assert!(matches!(
        Endpoint::parse("syslog+udp://h:514"),
        Some(Err(_))
    ));
}

#[test]
fn options_and_their_defaults() {
    let parse = |text: &str| {
        let entries = crate::config::parse_init(text, "ec_logger", "x").unwrap();
        let mut o = Options::new(&entries);
        SyslogOptions::parse(&mut o)
    };
    assert_eq!(parse("").unwrap(), SyslogOptions::default());
    let d = SyslogOptions::default();
    assert_eq!((d.facility, d.connect_timeout), (2, Duration::from_secs(5)));
    let o = parse("syslog_facility = local3\nsyslog_hostname = mx1\nconnect_timeout = 250ms\n")
        .unwrap();
    assert_eq!(o.facility, 19);
    assert_eq!(o.hostname.as_deref(), Some("mx1"));
    assert_eq!(o.connect_timeout, Duration::from_millis(250));
    assert!(parse("syslog_facility = mial\n").is_err());
    assert!(parse("syslog_hostname = \"a b\"\n").is_err());
    assert!(parse("connect_timeout = 0\n").is_err());
}

fn dest(app: Option<&'static str>, hostname: Option<&str>) -> Syslog {
    let opts = SyslogOptions {
        hostname: hostname.map(str::to_owned),
        ..SyslogOptions::default()
    };
    let style = LineStyle {
        app,
        pid: "42".into(),
        hostname: "host.example".into(),
    };
    let mut s = Syslog::open(
        "syslog:/nonexistent",
        &Endpoint::Local("/nonexistent".into()),
        &opts,
        style,
        false,
    )
    .unwrap();
    s.header = Header::new(Box::new(FixedZone(0)));
    s
}

const META: Meta = Meta {
    severity: 4,
    time: Timestamp {
        sec: 1_795_432_137,
        usec: 5,
    },
};

#[test]
fn a_postfix_line_is_sent_under_its_own_tag() {
    let mut s = dest(None, None);
    s.compose(
        Target::Main,
        b"Nov 23 11:08:57 mx postfix/smtp[4242]: ABC: to=<a@b>, status=sent (ok)",
        META,
    );
    assert_eq!(
        s.scratch,
        b"<20>Nov 23 11:08:57 postfix/smtp[4242]: ABC: to=<a@b>, status=sent (ok)"
    );
}

#[test]
fn other_lines_are_sent_whole_under_the_kinds_name() {
    let mut s = dest(Some("ecelerity"), None);
    s.compose(Target::Reject, b"1795432137@x@R@...", META);
    assert_eq!(
        s.scratch,
        b"<20>Nov 23 11:08:57 ecelerity[42]: 1795432137@x@R@..."
    );
}
