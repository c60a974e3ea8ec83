//! The classifier's own tests (the corpus is `tests/bounce_classes.rs`).

use super::*;

fn e(class: u8, subject: u16, detail: u16) -> Option<Enhanced> {
    Some(Enhanced::new(class, subject, detail))
}

#[test]
fn enhanced_codes_follow_the_rfc_3463_grammar() {
    assert_eq!(Enhanced::parse(b"5.1.1"), e(5, 1, 1));
    assert_eq!(Enhanced::parse(b"4.7.650"), e(4, 7, 650));
    assert_eq!(Enhanced::parse(b"2.0.0"), e(2, 0, 0));
    assert_eq!(Enhanced::parse(b"5.123.456"), e(5, 123, 456));
    for bad in [
        &b"3.1.1"[..],
        b"1.2.3",
        b"9.9.9",
        b"5.1",
        b"5..1",
        b"5.1.",
        b"5.1234.1",
        b"5.1.1234",
        b"51.1.1",
        b"5.1.1a",
        b"",
    ] {
        assert_eq!(
            Enhanced::parse(bad),
            None,
            "{:?}",
            String::from_utf8_lossy(bad)
        );
    }
    assert_eq!(
        Enhanced::parse_prefix(b"5.1.1 user"),
        Some((Enhanced::new(5, 1, 1), 5))
    );
    assert_eq!(
        Enhanced::parse_prefix(b"5.1.1."),
        Some((Enhanced::new(5, 1, 1), 5))
    );
    assert_eq!(Enhanced::parse_prefix(b"5.61.23.4 host"), None);
    assert_eq!(
        Enhanced::parse_prefix(b"5.1.1)"),
        Some((Enhanced::new(5, 1, 1), 5))
    );
}

#[test]
fn replies_give_their_codes() {
    let r = |t: &str| {
        let r = parse_reply(t.as_bytes());
        (r.code, r.enhanced)
    };
    assert_eq!(
        r("550 5.1.1 <x@y>: Recipient address rejected"),
        (Some(550), e(5, 1, 1))
    );
    assert_eq!(
        r("550-5.7.1 blocked\n550 5.7.1 see"),
        (Some(550), e(5, 7, 1))
    );
    assert_eq!(r("  #550 5.2.3 RESOLVER.RST"), (Some(550), e(5, 2, 3)));
    assert_eq!(r("smtp; 552 5.2.2 Over quota"), (Some(552), e(5, 2, 2)));
    assert_eq!(
        r("X-Postfix; host mx[192.0.2.1] said: 550 5.1.1 no"),
        (Some(550), e(5, 1, 1))
    );
    assert_eq!(r("5.1.0 550 The email account"), (Some(550), e(5, 1, 0)));
    assert_eq!(r("5.2.3 Message too large"), (None, e(5, 2, 3)));
    assert_eq!(
        r("511 sorry, no mailbox here by that name (#5.1.1)"),
        (Some(511), e(5, 1, 1))
    );
    assert_eq!(
        r("Sorry, no mailbox here by that name. vpopmail (#5.1.1)"),
        (None, e(5, 1, 1))
    );
    assert_eq!(r("554 delivery error: dd This user"), (Some(554), None));
    assert_eq!(r("550"), (Some(550), None));
    assert_eq!(r("I am out of the office until 02/02/2018"), (None, None));
    assert_eq!(
        r("Connected to 192.0.2.1 but connection died. (#4.4.2)"),
        (None, e(4, 4, 2))
    );
    assert_eq!(r("connect to 10.0.0.500:25"), (None, None));
    assert_eq!(r("ESMTP sendmail 8.14.7/8.14.7"), (None, None));
    assert_eq!(r("650 not a reply code"), (None, None));
    assert_eq!(r("571 5.7.1 refused"), (Some(571), e(5, 7, 1)));
    assert_eq!(r("5501 five digits"), (None, None));
}

#[test]
fn names_codes_and_categories_follow_the_spec_table() {
    let table = [
        (1, "Undetermined", Category::Undetermined),
        (10, "Invalid Recipient", Category::Hard),
        (20, "Soft Bounce", Category::Soft),
        (21, "DNS Failure", Category::Soft),
        (22, "Mailbox Full", Category::Soft),
        (23, "Too Large", Category::Soft),
        (24, "Timeout", Category::Soft),
        (25, "Admin Failure", Category::Admin),
        (30, "Generic Bounce: No RCPT", Category::Hard),
        (40, "Generic Bounce", Category::Soft),
        (50, "Mail Block", Category::Block),
        (51, "Spam Block", Category::Block),
        (52, "Spam Content", Category::Block),
        (53, "Prohibited Attachment", Category::Block),
        (54, "Relaying Denied", Category::Block),
        (60, "Auto-Reply", Category::Soft),
        (70, "Transient Failure", Category::Soft),
        (80, "Subscribe", Category::Admin),
        (90, "Unsubscribe", Category::Hard),
        (100, "Challenge-Response", Category::Soft),
    ];
    assert_eq!(table.len(), BounceClass::ALL.len());
    for (c, (code, name, cat)) in BounceClass::ALL.iter().zip(table) {
        assert_eq!((c.code(), c.name(), c.category()), (code, name, cat));
        assert_eq!(BounceClass::from_code(code), Some(*c));
    }
    assert_eq!(BounceClass::from_code(2), None);
}

#[test]
fn the_enhanced_code_decides_when_the_text_says_nothing_more() {
    let c = |code, e, t: &str| classify(code, e, t.as_bytes()).code();
    assert_eq!(c(Some(550), e(5, 1, 1), "550 5.1.1 <x@example.com>"), 10);
    assert_eq!(c(Some(552), e(5, 2, 2), "552 5.2.2 x"), 22);
    assert_eq!(c(Some(550), e(5, 7, 1), "550 5.7.1 x"), 50);
    assert_eq!(c(Some(450), e(4, 7, 1), "450 4.7.1 x"), 70);
    assert_eq!(c(Some(554), e(5, 4, 7), "554 5.4.7 x"), 24);
    assert_eq!(c(Some(550), None, "550 x"), 40);
    assert_eq!(c(Some(421), None, "421 x"), 70);
    assert_eq!(c(None, None, "x"), 1);
    assert_eq!(c(None, None, ""), 1);
    // The text wins over the code when it is more specific.
    assert_eq!(
        c(
            Some(552),
            e(5, 1, 1),
            "552 5.1.1 Boite du destinataire pleine. Recipient overquota"
        ),
        22
    );
    assert_eq!(
        c(
            Some(554),
            e(5, 7, 1),
            "554 5.7.1 <x@y>: Recipient address rejected: User unknown"
        ),
        10
    );
}

#[test]
fn phrases_match_at_word_starts_only() {
    assert_eq!(classify_reply(b"550 User-Unknown").code(), 10);
    assert_eq!(classify_reply(b"550 superuser unknownish").code(), 40);
    assert_eq!(classify_reply(b"552 mailbox is full ").code(), 22);
    // "unsubscribe" is not "subscribe"; "subscribed" is not "subscribe ".
    assert_eq!(classify_reply(b"unsubscribe").code(), 90);
    assert_eq!(classify_reply(b"subscribe").code(), 80);
    assert_eq!(classify_reply(b"SUBSCRIBE list").code(), 80);
    // Message types only apply to texts without a code.
    assert_eq!(classify_reply(b"550 unsubscribe").code(), 40);
}

#[test]
fn addresses_and_unicode_punctuation_are_not_words() {
    // An address between the words of a phrase is left out.
    assert_eq!(
        classify_reply(b"550 User (jdoe@example.com) unknown.").code(),
        10
    );
    assert_eq!(classify_reply(b"550 Mailbox <a@b.c> not found").code(), 10);
    // An address at the end leaves nothing behind that could complete a phrase.
    assert_eq!(
        classify_reply(b"550 sorry user <unknown@example.com>").code(),
        40
    );
    // En dash, curly apostrophe and no-break space separate words.
    assert_eq!(
        classify_reply("551 Invalid Address \u{2013}relay Denied".as_bytes()).code(),
        54
    );
    assert_eq!(
        classify_reply("550 This user doesn\u{2019}t have a yahoo.com account".as_bytes()).code(),
        10
    );
    assert_eq!(
        classify_reply("552 mailbox\u{a0}full".as_bytes()).code(),
        22
    );
}

#[test]
fn long_and_odd_texts_are_safe() {
    let long = vec![b'a'; 10 * SCAN_BYTES];
    assert_eq!(classify_reply(&long).code(), 1);
    let mut long = b"550 ".to_vec();
    long.extend(std::iter::repeat_n(b"x@ ".as_slice(), 2000).flatten());
    assert_eq!(classify_reply(&long).code(), 40);
    let bytes: Vec<u8> = (0..=255).collect();
    let _ = classify_reply(&bytes);
    assert_eq!(classify_reply("réponse automatique".as_bytes()).code(), 60);
    assert_eq!(
        classify_reply("Réponse automatique : x".as_bytes()).code(),
        60
    );
}
