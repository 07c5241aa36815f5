//! Replays the committed fuzz corpora and crash regressions through the same entry points the
//! fuzz targets use (`mailcheck::fuzzing`), so CI checks every input a fuzzer ever kept without
//! a fuzzing toolchain; and property tests over generated, well-formed records.

use std::fmt::Write as _;
use std::path::Path;

use mailcheck::fuzzing::TARGETS;
use proptest::prelude::*;

fn inputs(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect()
}

#[test]
fn every_corpus_and_regression_input_replays_cleanly() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut total = 0;
    for (name, run) in TARGETS {
        let corpus = inputs(&root.join("corpus").join(name));
        assert!(!corpus.is_empty(), "no committed corpus for {name}");
        let regressions = inputs(&root.join("regressions").join(name));
        for (path, data) in corpus.iter().chain(&regressions) {
            let outcome = std::panic::catch_unwind(|| run(data));
            assert!(outcome.is_ok(), "{name}: {path} fails");
            total += 1;
        }
    }
    // Every fuzz binary has an entry point here, and the other way round.
    let bins = std::fs::read_dir(root.join("fuzz_targets"))
        .unwrap()
        .count();
    assert_eq!(
        bins,
        TARGETS.len(),
        "fuzz_targets/ and fuzzing::TARGETS agree"
    );
    assert!(total > TARGETS.len());
}

/// A term of an SPF record that is valid by RFC 7208's grammar.
fn spf_term() -> impl Strategy<Value = String> {
    let qualifier = prop::sample::select(vec!["", "+", "-", "~", "?"]);
    let domain = "[a-z]{1,10}(\\.[a-z]{1,10}){1,3}";
    let mechanism = prop_oneof![
        Just("all".to_owned()),
        Just("a".to_owned()),
        Just("mx".to_owned()),
        domain.prop_map(|d| format!("include:{d}")),
        domain.prop_map(|d| format!("a:{d}/24")),
        (0u8..=255, 0u8..=255, 0u8..=32).prop_map(|(a, b, l)| format!("ip4:192.{a}.{b}.0/{l}")),
        (0u16..=0xffff, 0u8..=128).prop_map(|(h, l)| format!("ip6:2001:db8:{h:x}::/{l}")),
        Just("exists:%{i}.%{l1r-}.%{d2}".to_owned()),
    ];
    (qualifier, mechanism).prop_map(|(q, m)| format!("{q}{m}"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any sequence of valid terms parses, term for term, at the positions they were written.
    #[test]
    fn valid_spf_records_parse_term_for_term(terms in prop::collection::vec(spf_term(), 0..12)) {
        let text = std::iter::once("v=spf1".to_owned()).chain(terms.iter().cloned())
            .collect::<Vec<_>>().join(" ");
        let record = mailcheck::checks::spf::parse::parse(text.as_bytes()).unwrap();
        let got: Vec<&str> = record.terms.iter().map(|t| t.text.as_str()).collect();
        prop_assert_eq!(got, terms.iter().map(String::as_str).collect::<Vec<_>>());
        mailcheck::fuzzing::spf_record(text.as_bytes());
    }

    /// No byte string makes any parser panic or break its invariants.
    #[test]
    fn arbitrary_bytes_never_break_a_parser(data in prop::collection::vec(any::<u8>(), 0..300)) {
        for (_, run) in TARGETS {
            run(&data);
        }
    }

    /// Whatever remote text holds, the terminal sees no control or bidi character.
    #[test]
    fn sanitised_text_holds_no_terminal_controls(text in "\\PC*|[\\x00-\\x1f\\x7f-\\u{9f}\\u{200b}-\\u{200f}\\u{202a}-\\u{202e}a]{0,40}") {
        let out = mailcheck::report::sanitize(&text);
        let unsafe_char = |c: char| {
            c.is_control() || ('\u{202a}'..='\u{202e}').contains(&c) || ('\u{200b}'..='\u{200f}').contains(&c)
        };
        prop_assert!(!out.chars().any(unsafe_char), "escaped: {}", out);
    }

    /// A DMARC record built from known tags parses back to the same tags, in order.
    #[test]
    fn dmarc_tag_lists_round_trip(
        p in prop::sample::select(vec!["none", "quarantine", "reject"]),
        pct in 0u8..=100,
        adkim in prop::sample::select(vec!["r", "s"]),
        sep in prop::sample::select(vec![";", "; ", " ; "]),
    ) {
        let text = format!("v=DMARC1{sep}p={p}{sep}pct={pct}{sep}adkim={adkim}");
        let tags = mailcheck::checks::dmarc::parse::parse(&text).unwrap();
        let pairs: Vec<(String, String)> = tags.into_iter().map(|t| (t.name, t.value)).collect();
        let want: Vec<(String, String)> = [("v", "DMARC1".to_owned()), ("p", p.to_owned()), ("pct", pct.to_string()), ("adkim", adkim.to_owned())]
            .into_iter().map(|(n, v)| (n.to_owned(), v)).collect();
        prop_assert_eq!(pairs, want);
    }

    /// An MTA-STS policy written from parts parses back to those parts, with CRLF or LF.
    #[test]
    fn sts_policies_round_trip(
        mode in prop::sample::select(vec!["enforce", "testing", "none"]),
        mx in prop::collection::vec("(\\*\\.)?[a-z]{1,8}\\.example", 0..5),
        max_age in 0u64..=31_557_600,
        crlf in any::<bool>(),
    ) {
        let eol = if crlf { "\r\n" } else { "\n" };
        let mut body = format!("version: STSv1{eol}mode: {mode}{eol}");
        for m in &mx {
            let _ = write!(body, "mx: {m}{eol}");
        }
        let _ = write!(body, "max_age: {max_age}{eol}");
        let p = mailcheck::checks::sts_policy::parse(&body);
        prop_assert_eq!(p.mode.as_deref(), Some(mode));
        prop_assert_eq!(&p.mx, &mx);
        prop_assert_eq!(p.max_age, Some(max_age));
        prop_assert_eq!(p.bare_lf_lines, if crlf { 0 } else { mx.len() + 3 });
        for m in &mx {
            let host = m.replace("*.", "mx1.");
            prop_assert!(mailcheck::checks::sts_policy::mx_matches(m, &host), "{m} vs {host}");
        }
    }
}
