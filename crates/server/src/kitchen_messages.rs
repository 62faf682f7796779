//! Kitchen stream messages, rendered once per log event and screen: ten screens on the
//! grill share one rendering of each ticket instead of parsing its payload ten times.

use axum::response::sse::Event as SseEvent;
use comanda_domain::StoreId;
use comanda_domain::orders::chain::LoggedEvent;
use comanda_domain::orders::kitchen::{EXPO, shows_on};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Mutex;

/// Renderings kept before the cache starts over (a few seconds of a busy night).
const KEEP: usize = 16_384;

type Key = (StoreId, i64, String);

#[derive(Default)]
pub struct KitchenMessages {
    rendered: Mutex<HashMap<Key, Option<SseEvent>>>,
}

impl KitchenMessages {
    /// What `event` means to `screen`, if anything.
    pub fn render(&self, event: &LoggedEvent, screen: &str) -> Option<SseEvent> {
        let key = (event.store_id, event.seq, screen.to_owned());
        if let Some(known) = self.lock().get(&key) {
            return known.clone();
        }
        let message = message(event, screen);
        let mut rendered = self.lock();
        if rendered.len() >= KEEP {
            rendered.clear();
        }
        rendered.insert(key, message.clone());
        message
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Option<SseEvent>>> {
        self.rendered.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// What a log event means to `screen`, if anything.
fn message(event: &LoggedEvent, screen: &str) -> Option<SseEvent> {
    let payload: Value = serde_json::from_str(&event.payload).ok()?;
    let at_station = |p: &Value| {
        let station = p["station"].as_str().unwrap_or_default();
        screen == EXPO || station == EXPO || station == screen
    };
    let (kind, data) = match event.kind.as_str() {
        "sent" => {
            let lines: Vec<&Value> = payload["lines"]
                .as_array()?
                .iter()
                .filter(|l| shows_on(screen, l["station"].as_str().unwrap_or_default()))
                .collect();
            if lines.is_empty() {
                return None;
            }
            (
                "ticket",
                json!({ "ticket": payload["ticket"], "lines": lines, "at": payload["at"] }),
            )
        }
        "kitchen_started" | "recalled" if at_station(&payload) => (event.kind.as_str(), payload),
        // A bump elsewhere that fires a held course concerns every screen.
        "bumped"
            if at_station(&payload)
                || payload["fired"].as_array().is_some_and(|f| !f.is_empty()) =>
        {
            ("bumped", payload)
        }
        "line_voided" if at_station(&payload) => ("void", payload),
        "cancelled" | "rush" | "fired" => (event.kind.as_str(), payload),
        "ready" | "served" => ("order", json!({ "status": event.kind })),
        _ => return None,
    };
    let mut data = data;
    if let Some(fields) = data.as_object_mut() {
        fields.insert("order_id".into(), json!(event.order_id));
        fields.insert("seq".into(), json!(event.seq));
        fields.insert("logged_at".into(), json!(event.at));
    }
    Some(
        SseEvent::default()
            .id(event.seq.to_string())
            .event(kind)
            .data(data.to_string()),
    )
}
