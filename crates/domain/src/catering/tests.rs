use super::*;
use crate::Currency;

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

fn at(d: NaiveDate, h: u32, min: u32) -> NaiveDateTime {
    d.and_hms_opt(h, min, 0).expect("time")
}

/// Weekdays, R$ 25.00 a meal, 50-200 a day (120 by default), two days' notice by 10:00.
fn terms() -> Terms {
    Terms {
        starts_on: date(2026, 12, 1),
        ends_on: Some(date(2027, 3, 31)),
        weekdays: Weekdays::of(&[
            Weekday::Mon,
            Weekday::Tue,
            Weekday::Wed,
            Weekday::Thu,
            Weekday::Fri,
        ]),
        price_per_meal: Money::new(2_500, Currency::Brl),
        min_daily: 50,
        max_daily: 200,
        default_daily: 120,
        notice_days: 2,
        cutoff: NaiveTime::from_hms_opt(10, 0, 0).expect("time"),
    }
}

#[test]
fn terms_are_checked() {
    assert!(terms().validate().is_ok());
    let bad = |change: fn(&mut Terms), field: &str| {
        let mut t = terms();
        change(&mut t);
        match t.validate() {
            Err(CateringError::Invalid { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{field}: {other:?}"),
        }
    };
    bad(|t| t.ends_on = Some(date(2026, 11, 1)), "ends_on");
    bad(|t| t.weekdays = Weekdays::default(), "weekdays");
    bad(|t| t.price_per_meal.amount = 0, "price_per_meal");
    bad(|t| t.min_daily = 300, "min_daily");
    bad(|t| t.default_daily = 10, "default_daily");
    bad(|t| t.max_daily = 0, "max_daily");
    bad(|t| t.notice_days = 90, "notice_days");
}

#[test]
fn service_days_fall_on_the_contract_weekdays_within_its_term() {
    let t = terms();
    // 2026-12-01 is a Tuesday; the week before it is outside the term.
    let days = t.service_dates(date(2026, 11, 24), date(2026, 12, 7));
    assert_eq!(
        days,
        [
            date(2026, 12, 1),
            date(2026, 12, 2),
            date(2026, 12, 3),
            date(2026, 12, 4),
            date(2026, 12, 7)
        ]
    );
    assert_eq!(
        t.service_dates(date(2027, 3, 30), date(2027, 4, 30)).len(),
        2,
        "ends 31 March"
    );
    let open = Terms {
        ends_on: None,
        ..terms()
    };
    assert_eq!(
        open.service_dates(date(2026, 12, 1), date(2030, 1, 1))
            .len(),
        262,
        "a year at most"
    );
}

#[test]
fn quantities_change_until_the_cutoff_and_within_limits() {
    let t = terms();
    let friday = date(2026, 12, 4);
    assert_eq!(t.cutoff_of(friday), at(date(2026, 12, 2), 10, 0));
    let mut day = ServiceDay::scheduled(friday, &t);
    assert_eq!((day.expected, day.status), (120, DayStatus::Scheduled));
    assert_eq!(
        day.confirm(&t, 250, at(date(2026, 12, 1), 9, 0)),
        Err(CateringError::OutOfRange {
            quantity: 250,
            min: 50,
            max: 200
        })
    );
    day.confirm(&t, 140, at(date(2026, 12, 2), 10, 0))
        .expect("at the cutoff itself");
    assert_eq!((day.expected, day.status), (140, DayStatus::Confirmed));
    assert!(matches!(
        day.confirm(&t, 150, at(date(2026, 12, 2), 10, 1)),
        Err(CateringError::PastCutoff { .. })
    ));
    assert_eq!(day.expected, 140, "a refused change changes nothing");
}

#[test]
fn a_day_closes_once_confirmed_and_served_and_disputes_hold_it_open() {
    let t = terms();
    let friday = date(2026, 12, 4);
    let mut day = ServiceDay::scheduled(friday, &t);
    assert!(
        day.record_served(&t, 100, at(date(2026, 12, 3), 12, 0))
            .is_err(),
        "not before the day"
    );
    day.confirm(&t, 140, at(date(2026, 12, 1), 8, 0))
        .expect("confirm");
    day.record_served(&t, 150, at(friday, 14, 0))
        .expect("served");
    assert_eq!(day.status, DayStatus::Closed);
    assert_eq!(
        day.billed(),
        150,
        "more served than ordered: the extra is billed"
    );
    assert!(day.confirm(&t, 100, at(friday, 8, 0)).is_err(), "closed");

    let mut other = ServiceDay::scheduled(date(2026, 12, 7), &t);
    // Never confirmed: the default stands once the cut-off passed.
    other
        .record_served(&t, 90, at(date(2026, 12, 7), 14, 0))
        .expect("served");
    assert_eq!(
        (other.status, other.expected, other.billed()),
        (DayStatus::Closed, 120, 120)
    );

    let mut disputed = ServiceDay::scheduled(date(2026, 12, 8), &t);
    disputed
        .confirm(&t, 100, at(date(2026, 12, 1), 8, 0))
        .expect("confirm");
    assert!(disputed.raise_dispute("nothing served yet").is_err());
    disputed
        .record_served(&t, 180, at(date(2026, 12, 8), 15, 0))
        .expect("served");
    assert_eq!(disputed.status, DayStatus::Closed);
    disputed
        .raise_dispute("we counted 110 trays")
        .expect("a closed day may be disputed");
    assert_eq!(disputed.status, DayStatus::Disputed);
    disputed
        .resolve_dispute(&t, 110, at(date(2026, 12, 9), 9, 0))
        .expect("resolved");
    assert_eq!(
        (disputed.status, disputed.served, disputed.billed()),
        (DayStatus::Closed, Some(110), 110)
    );
}

#[test]
fn statements_bill_closed_days_and_list_the_rest() {
    let t = terms();
    let mut days = Vec::new();
    for (d, confirm, served) in [
        (1, 100, Some(100)),
        (2, 80, Some(95)),
        (3, 120, None),
        (31, 60, Some(40)),
    ] {
        let mut day = ServiceDay::scheduled(date(2026, 12, d), &t);
        day.confirm(&t, confirm, at(date(2026, 11, 20), 9, 0))
            .expect("confirm");
        if let Some(s) = served {
            day.record_served(&t, s, at(date(2026, 12, d), 15, 0))
                .expect("served");
        }
        days.push(day);
    }
    let mut cancelled = ServiceDay::scheduled(date(2026, 12, 4), &t);
    cancelled.cancel().expect("cancel");
    days.push(cancelled);
    days.push(ServiceDay::scheduled(date(2027, 1, 4), &t));
    let s = Statement::of(&t, 2026, 12, days).expect("statement");
    assert_eq!(s.days.len(), 5, "January is another statement");
    assert_eq!((s.expected, s.served, s.billed), (360, 235, 375));
    // Closed: 100 + 95 + 60 meals at R$ 25.00; the 3rd is still to serve.
    assert_eq!(s.amount_due, Money::new(255 * 2_500, Currency::Brl));
    assert_eq!(s.open_days, 1);
}

#[test]
fn weekdays_read_and_write_as_names() {
    let w: Weekdays = serde_json::from_str(r#"["mon","fri"]"#).expect("days");
    assert_eq!(w.days(), [Weekday::Mon, Weekday::Fri]);
    assert_eq!(serde_json::to_string(&w).expect("json"), r#"["mon","fri"]"#);
    assert!(serde_json::from_str::<Weekdays>(r#"["funday"]"#).is_err());
}
