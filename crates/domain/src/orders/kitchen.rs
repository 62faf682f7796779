//! What the kitchen does with an order: each line goes to the station of its product (or
//! category), where it is started, finished, and bumped off the screen with the rest of
//! that station's ticket; a bump can be recalled for a while. When every line the kitchen
//! has is finished, the order is ready and the waiter is told. Each step is a command
//! that yields an event for the store's log, which is what the screens follow.

use super::commands::{Event, OrderError, event};
use super::lines::{LineStatus, OrderLine};
use super::{Order, OrderKind, OrderStatus};
use crate::ids::{OrderId, OrderLineId, TableId};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Where a line with no station of its own is made.
pub const DEFAULT_STATION: &str = "kitchen";

/// The screen that sees every station's lines.
pub const EXPO: &str = "expo";

/// How long after a bump the ticket can be brought back.
pub const RECALL_WINDOW: Duration = Duration::minutes(10);

/// A station's screen settings: when a ticket turns amber (`warn_after_s`) and red
/// (`late_after_s`). A station nobody configured shows with the defaults.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Station {
    pub code: String,
    pub name: String,
    pub warn_after_s: u32,
    pub late_after_s: u32,
    pub position: i32,
    /// 0 until first saved.
    pub version: i64,
}

impl Station {
    pub const DEFAULT_WARN_S: u32 = 8 * 60;
    pub const DEFAULT_LATE_S: u32 = 12 * 60;

    pub fn defaults(code: &str) -> Self {
        Self {
            code: code.to_owned(),
            name: code.to_owned(),
            warn_after_s: Self::DEFAULT_WARN_S,
            late_after_s: Self::DEFAULT_LATE_S,
            position: 0,
            version: 0,
        }
    }

    /// Checks what an operator sent: a name, and amber before red within a day.
    pub fn checked(self) -> Result<Self, crate::ValidationError> {
        let name = crate::validation::bounded_text("name", &self.name, 1, 60)?;
        if self.warn_after_s == 0 || self.warn_after_s >= self.late_after_s {
            return Err(crate::ValidationError::new(
                "warn_after_s",
                "invalid",
                "a ticket turns amber before it turns red",
            ));
        }
        if self.late_after_s > 24 * 3600 {
            return Err(crate::ValidationError::new(
                "late_after_s",
                "too_large",
                "at most a day",
            ));
        }
        Ok(Self { name, ..self })
    }
}

/// A line as a kitchen screen shows it: what to make, with modifiers and notes up front.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct KitchenLine {
    pub id: OrderLineId,
    pub name: String,
    pub quantity: i64,
    pub modifiers: Vec<String>,
    pub notes: Option<String>,
    pub seat: Option<u16>,
    pub course: Option<u8>,
    pub station: String,
    pub status: LineStatus,
    pub sent_at: Option<DateTime<Utc>>,
    pub done_at: Option<DateTime<Utc>>,
    /// Waiting for an earlier course: shown, not started.
    pub held: bool,
}

impl KitchenLine {
    pub fn of(line: &OrderLine) -> Self {
        Self {
            id: line.id,
            name: line.name.clone(),
            quantity: line.quantity,
            modifiers: line.modifiers.iter().map(|m| m.name.clone()).collect(),
            notes: line.notes.clone(),
            seat: line.seat,
            course: line.course,
            station: line.kitchen_station().to_owned(),
            status: line.status,
            sent_at: line.sent_at,
            done_at: line.done_at,
            held: line.held,
        }
    }
}

/// Who a ticket is for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TicketHeader {
    pub order_id: OrderId,
    pub number: i64,
    pub kind: OrderKind,
    pub table_id: Option<TableId>,
    pub guests: Option<u16>,
    pub notes: Option<String>,
    pub rush: bool,
}

/// One order's lines at one station (or all of them, for expo).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Ticket {
    #[serde(flatten)]
    pub header: TicketHeader,
    pub status: OrderStatus,
    /// When its oldest line still being made reached the kitchen: the ticket's age.
    pub since: Option<DateTime<Utc>>,
    pub lines: Vec<KitchenLine>,
}

/// Whether `line_station` shows on `screen`.
pub fn shows_on(screen: &str, line_station: &str) -> bool {
    screen == EXPO || screen == line_station
}

impl OrderLine {
    pub fn kitchen_station(&self) -> &str {
        self.station.as_deref().unwrap_or(DEFAULT_STATION)
    }

    /// Sent and not yet finished.
    pub fn in_kitchen(&self) -> bool {
        matches!(self.status, LineStatus::Sent | LineStatus::Preparing)
    }
}

impl Order {
    pub fn ticket_header(&self) -> TicketHeader {
        TicketHeader {
            order_id: self.id,
            number: self.number,
            kind: self.kind,
            table_id: self.table_id,
            guests: self.guests,
            notes: self.notes.clone(),
            rush: self.rush,
        }
    }

    /// The order's open ticket at `screen`: the lines still being made there, if any,
    /// with the ones voided after they were sent (struck through on the screen).
    pub fn open_ticket(&self, screen: &str) -> Option<Ticket> {
        let here = |l: &&OrderLine| shows_on(screen, l.kitchen_station());
        let making: Vec<KitchenLine> = self
            .lines
            .iter()
            .filter(here)
            .filter(|l| l.in_kitchen())
            .map(KitchenLine::of)
            .collect();
        if making.is_empty() {
            return None;
        }
        let since = making.iter().filter_map(|l| l.sent_at).min();
        let lines = self
            .lines
            .iter()
            .filter(here)
            .filter(|l| l.in_kitchen() || (l.status == LineStatus::Voided && l.sent_at.is_some()))
            .map(KitchenLine::of)
            .collect();
        Some(Ticket {
            header: self.ticket_header(),
            status: self.status,
            since,
            lines,
        })
    }

    /// The kitchen works on orders still open and on paid ones (a counter order is
    /// paid before it is made); finished orders are left alone.
    fn require_in_kitchen(&self) -> Result<(), OrderError> {
        if self.status == OrderStatus::Paid {
            return Ok(());
        }
        self.require_active()
    }

    fn kitchen_lines(
        &self,
        screen: &str,
        wanted: &[OrderLineId],
        status: impl Fn(&OrderLine) -> bool,
    ) -> Vec<usize> {
        self.lines
            .iter()
            .enumerate()
            .filter(|(_, l)| shows_on(screen, l.kitchen_station()) && status(l))
            .filter(|(_, l)| wanted.is_empty() || wanted.contains(&l.id))
            .map(|(i, _)| i)
            .collect()
    }

    /// A cook starts lines at a station (all of its waiting lines when `lines` is empty).
    pub fn start_lines(
        &mut self,
        screen: &str,
        lines: &[OrderLineId],
    ) -> Result<Event, OrderError> {
        self.require_in_kitchen()?;
        let found = self.kitchen_lines(screen, lines, |l| l.status == LineStatus::Sent && !l.held);
        if found.is_empty() {
            return Err(self.refuse("nothing_to_start", "no waiting lines at this station"));
        }
        let ids = self.set_lines(&found, LineStatus::Preparing, None);
        Ok(event(
            "kitchen_started",
            json!({ "station": screen, "line_ids": ids }),
        ))
    }

    /// The station has finished its lines of this order (or `lines` of them): they
    /// leave its screen. When nothing sent is left unfinished, the order is ready.
    pub fn bump(
        &mut self,
        screen: &str,
        lines: &[OrderLineId],
        at: DateTime<Utc>,
    ) -> Result<Event, OrderError> {
        self.require_in_kitchen()?;
        let found = self.kitchen_lines(screen, lines, |l| l.in_kitchen() && !l.held);
        if found.is_empty() {
            return Err(self.refuse(
                "nothing_to_bump",
                "nothing of this order is being made here",
            ));
        }
        let ids = self.set_lines(&found, LineStatus::Ready, Some(at));
        // How long each line took, for the preparation-time report.
        let prep: Vec<Value> = found
            .iter()
            .filter_map(|&i| self.lines.get(i))
            .map(|l| {
                let seconds = l
                    .sent_at
                    .map(|sent| (at - sent).num_milliseconds() as f64 / 1e3);
                json!({ "line_id": l.id, "product_id": l.product_id, "name": l.name,
                        "station": l.kitchen_station(), "seconds": seconds })
            })
            .collect();
        let fired = self.fire_due(None);
        let all_done = !self.lines.iter().any(OrderLine::in_kitchen);
        if all_done && self.status == OrderStatus::Sent {
            self.status = OrderStatus::Ready;
        }
        Ok(event(
            "bumped",
            json!({ "station": screen, "line_ids": ids, "at": at, "order_ready": all_done,
                    "fired": fired, "prep": prep }),
        ))
    }

    /// Brings back what the station bumped in the last [`RECALL_WINDOW`].
    pub fn recall(&mut self, screen: &str, at: DateTime<Utc>) -> Result<Event, OrderError> {
        self.require_in_kitchen()?;
        let found = self.kitchen_lines(screen, &[], |l| {
            l.status == LineStatus::Ready
                && l.done_at.is_some_and(|done| at - done <= RECALL_WINDOW)
        });
        if found.is_empty() {
            return Err(self.refuse(
                "nothing_to_recall",
                "nothing was bumped here in the last 10 minutes",
            ));
        }
        let ids = self.set_lines(&found, LineStatus::Sent, None);
        if self.status == OrderStatus::Ready {
            self.status = OrderStatus::Sent;
        }
        Ok(event(
            "recalled",
            json!({ "station": screen, "line_ids": ids, "at": at }),
        ))
    }

    /// Fires the held courses up to `course` now, without waiting for the earlier ones.
    pub fn fire(&mut self, course: u8) -> Result<Event, OrderError> {
        self.require_in_kitchen()?;
        let fired = self.fire_due(Some(course));
        if fired.is_empty() {
            return Err(self.refuse("nothing_to_fire", "no held lines up to this course"));
        }
        Ok(event(
            "fired",
            json!({ "course": course, "line_ids": fired }),
        ))
    }

    /// The earliest course the kitchen still has.
    fn current_course(&self) -> Option<u8> {
        self.lines
            .iter()
            .filter(|l| l.in_kitchen())
            .filter_map(|l| l.course)
            .min()
    }

    /// Holds the lines just sent whose course comes after one the kitchen still has.
    pub(super) fn hold_later_courses(&mut self, sent: &[OrderLineId]) {
        let Some(current) = self.current_course() else {
            return;
        };
        for line in &mut self.lines {
            if sent.contains(&line.id) && line.course.is_some_and(|c| c > current) {
                line.held = true;
            }
        }
    }

    /// Releases held lines: those of the course now current, or up to `upto`.
    fn fire_due(&mut self, upto: Option<u8>) -> Vec<OrderLineId> {
        let due = upto.or(self.current_course());
        let mut fired = Vec::new();
        for line in &mut self.lines {
            let now_due = match (line.course, due) {
                (Some(course), Some(due)) => course <= due,
                _ => true,
            };
            if line.held && now_due {
                line.held = false;
                fired.push(line.id);
            }
        }
        fired
    }

    /// Marks the order (or clears it) as one the kitchen takes first.
    pub fn set_rush(&mut self, rush: bool) -> Result<Event, OrderError> {
        self.require_in_kitchen()?;
        self.rush = rush;
        Ok(event("rush", json!({ "rush": rush })))
    }

    fn set_lines(
        &mut self,
        found: &[usize],
        status: LineStatus,
        done_at: Option<DateTime<Utc>>,
    ) -> Vec<OrderLineId> {
        let mut ids = Vec::with_capacity(found.len());
        for &i in found {
            if let Some(line) = self.lines.get_mut(i) {
                line.status = status;
                line.done_at = done_at;
                ids.push(line.id);
            }
        }
        ids
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::orders::lines::LineStatus;
    use crate::tax::TaxPolicy;
    use crate::{Currency, StoreId, clock};

    fn order_with(stations: &[Option<&str>]) -> Order {
        let mut order = Order::new(
            StoreId::new(),
            OrderKind::Counter,
            Currency::Brl,
            TaxPolicy::default(),
            None,
            clock::now(),
        );
        for (i, station) in stations.iter().enumerate() {
            let mut line = crate::orders::tests::line(1000, 1, 0, Vec::new(), 1);
            line.name = format!("item {i}");
            line.station = station.map(str::to_owned);
            order.lines.push(line);
        }
        order
    }

    #[test]
    fn bumping_every_station_makes_the_order_ready_and_recall_undoes_it() {
        let mut order = order_with(&[Some("grill"), Some("bar"), None]);
        let at = clock::now();
        order.send(at).expect("send");
        assert_eq!(order.open_ticket("grill").map(|t| t.lines.len()), Some(1));
        assert_eq!(
            order.open_ticket(DEFAULT_STATION).map(|t| t.lines.len()),
            Some(1)
        );
        assert_eq!(order.open_ticket(EXPO).map(|t| t.lines.len()), Some(3));
        assert!(order.open_ticket("cold").is_none());

        let mut voided = order.clone();
        let manager = crate::orders::commands::Actor {
            user: None,
            can_approve: true,
            approver: None,
        };
        let policy = crate::orders::commands::OrderPolicy::default();
        voided
            .void_line(voided.lines[0].id, "sem carne", manager, &policy)
            .expect("void");
        assert!(
            voided.open_ticket("grill").is_none(),
            "nothing left to make"
        );
        let expo = voided.open_ticket(EXPO).expect("expo");
        assert_eq!(expo.lines[0].status, LineStatus::Voided, "struck through");

        order.start_lines("grill", &[]).expect("start");
        assert_eq!(order.lines[0].status, LineStatus::Preparing);
        let bumped = order.bump("grill", &[], at).expect("bump");
        assert_eq!(bumped.payload["order_ready"], false);
        assert!(order.open_ticket("grill").is_none());
        assert_eq!(order.status, OrderStatus::Sent);
        assert!(matches!(
            order.bump("grill", &[], at),
            Err(OrderError::State {
                code: "nothing_to_bump",
                ..
            })
        ));

        order.bump("bar", &[], at).expect("bar");
        let last = order.bump(DEFAULT_STATION, &[], at).expect("kitchen");
        assert_eq!(last.payload["order_ready"], true);
        assert_eq!(order.status, OrderStatus::Ready);

        order
            .recall("bar", at + Duration::minutes(2))
            .expect("recall");
        assert_eq!(order.status, OrderStatus::Sent);
        assert_eq!(order.open_ticket("bar").map(|t| t.lines.len()), Some(1));
        assert!(matches!(
            order.recall("grill", at + Duration::minutes(11)),
            Err(OrderError::State {
                code: "nothing_to_recall",
                ..
            })
        ));
    }

    #[test]
    fn mains_wait_until_the_starters_are_bumped() {
        let mut order = order_with(&[Some("cold"), Some("grill"), Some("grill")]);
        order.lines[0].course = Some(1);
        order.lines[1].course = Some(2);
        order.lines[2].course = Some(3);
        let at = clock::now();
        order.send(at).expect("send");
        assert_eq!(
            order.lines.iter().map(|l| l.held).collect::<Vec<_>>(),
            [false, true, true]
        );
        assert!(matches!(
            order.start_lines("grill", &[]),
            Err(OrderError::State {
                code: "nothing_to_start",
                ..
            })
        ));
        let bumped = order.bump("cold", &[], at).expect("starters done");
        assert_eq!(bumped.payload["fired"], json!([order.lines[1].id]));
        assert!(!order.lines[1].held && order.lines[2].held);
        let fired = order.fire(3).expect("dessert now");
        assert_eq!(fired.payload["line_ids"], json!([order.lines[2].id]));
        assert!(order.fire(3).is_err());
    }

    #[test]
    fn the_sent_event_carries_the_ticket() {
        let mut order = order_with(&[Some("grill")]);
        order.lines[0].notes = Some("sem cebola".into());
        let sent = order.send(clock::now()).expect("send");
        assert_eq!(sent.payload["lines"][0]["notes"], "sem cebola");
        assert_eq!(sent.payload["lines"][0]["station"], "grill");
        assert_eq!(sent.payload["ticket"]["order_id"], json!(order.id));
    }
}
