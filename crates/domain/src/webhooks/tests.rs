use super::*;

fn patterns(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn filters_match_exact_types_prefixes_and_everything() {
    let filter =
        EventFilter::parse("events", &patterns(&["order.paid", "shift.*"])).expect("valid");
    assert!(filter.matches("order.paid"));
    assert!(filter.matches("shift.closed"));
    assert!(!filter.matches("order.opened"));
    assert!(!filter.matches("stock.low"));
    let all = EventFilter::parse("events", &patterns(&["*"])).expect("valid");
    assert!(EVENT_TYPES.iter().all(|t| all.matches(t)));
}

#[test]
fn filters_refuse_unknown_types_and_empty_lists() {
    let unknown = EventFilter::parse("events", &patterns(&["order.paid", "order.eaten"]));
    assert_eq!(unknown.expect_err("unknown").field, "events[1]");
    // A prefix must end at a dot of a real type: "ord.*" is not "order.*".
    assert!(EventFilter::parse("events", &patterns(&["ord.*"])).is_err());
    assert!(EventFilter::parse("events", &patterns(&["order.*"])).is_ok());
    assert_eq!(
        EventFilter::parse("events", &[]).expect_err("empty").code,
        "required"
    );
}

#[test]
fn every_order_kind_that_goes_out_is_a_known_type() {
    for kind in [
        "opened",
        "sent",
        "ready",
        "served",
        "paid",
        "closed",
        "cancelled",
        "refunded",
        "line_voided",
        "moved",
        "merged_into",
        "split_out",
    ] {
        let t = order_event_type(kind).expect("mapped");
        assert!(EVENT_TYPES.contains(&t), "{t}");
    }
    assert_eq!(order_event_type("lines_added"), None);
}

#[test]
fn receiver_addresses_are_http_with_a_host_and_no_credentials() {
    for bad in [
        "ftp://example.com/x",
        "file:///etc/passwd",
        "example.com/hook",
        "https://user:pw@example.com/hook",
        "https://example.com/hook#frag",
        "gopher://example.com",
    ] {
        let e = ReceiverUrl::parse("url", bad, true).expect_err(bad);
        assert_eq!(e.code, "invalid_url", "{bad}");
    }
    let ok = ReceiverUrl::parse("url", "https://hooks.example.com/comanda?x=1", false)
        .expect("public https");
    assert_eq!(ok.as_str(), "https://hooks.example.com/comanda?x=1");
}

#[test]
fn private_and_local_receivers_are_refused_unless_allowed() {
    for private in [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://api.localhost/hook",
        "http://10.1.2.3/",
        "http://172.16.0.1/",
        "http://192.168.1.10/",
        "http://169.254.169.254/latest/meta-data",
        "http://100.64.0.1/",
        "http://0.0.0.0/",
        "http://[::1]/",
        "http://[fd00::1]/",
        "http://[fe80::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[64:ff9b::a00:1]/",
        "http://2130706433/",
        "http://0x7f.1/",
        "http://metadata.google.internal/",
        // Every special-purpose range, in every encoding the URL standard reads.
        "http://198.18.0.1/",
        "http://198.19.255.255/",
        "http://192.0.2.1/",
        "http://192.0.0.170/",
        "http://203.0.113.9/",
        "http://224.0.0.1/",
        "http://255.255.255.255/",
        "http://240.0.0.1/",
        "http://127.1/",
        "http://0177.0.0.1/",
        "http://0x7f000001/",
        "http://127.0.0.1./",
        "http://[::127.0.0.1]/",
        "http://[::ffff:0:127.0.0.1]/",
        "http://[0:0:0:0:0:ffff:8.8.8.8]/",
        "http://[2002:7f00:1::]/",
        "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",
        "http://[fec0::1]/",
        "http://[ff02::1]/",
        "http://[100::1]/",
        "http://[2001:db8::1]/",
        "http://[3fff::1]/",
        "http://[5f00::1]/",
        "http://[64:ff9b:1::a00:1]/",
        "http://[64:ff9b::7f00:1]/",
        "http://printer.home.arpa/",
        "http://hook.test/",
    ] {
        let e = ReceiverUrl::parse("url", private, false).expect_err(private);
        assert_eq!(e.code, "url_not_allowed", "{private}");
        assert!(
            ReceiverUrl::parse("url", private, true).is_ok(),
            "{private}"
        );
    }
    for public in [
        "http://93.184.216.34/",
        "https://[2606:2800:220:1:248:1893:25c8:1946]/",
        "http://[64:ff9b::5db8:d822]/",
    ] {
        assert!(ReceiverUrl::parse("url", public, false).is_ok(), "{public}");
    }
}

#[test]
fn backoff_doubles_up_to_the_cap_with_jitter_in_the_upper_half() {
    let policy = RetryPolicy {
        max_attempts: 6,
        base: Duration::from_secs(2),
        cap: Duration::from_secs(10),
    };
    let lowest = |n| policy.next_delay(n, 0).expect("left");
    let highest = |n| policy.next_delay(n, u64::MAX - 1).expect("left");
    assert_eq!(lowest(1), Duration::from_secs(1));
    assert_eq!(lowest(2), Duration::from_secs(2));
    assert_eq!(lowest(3), Duration::from_secs(4));
    assert_eq!(
        lowest(4),
        Duration::from_secs(5),
        "capped at 10 s, jittered down to half"
    );
    for n in 1..6 {
        assert!(highest(n) <= policy.cap);
        assert!(highest(n) >= lowest(n));
    }
    assert_eq!(policy.next_delay(6, 0), None, "six attempts made: dead");
}
