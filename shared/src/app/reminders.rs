//! Abandoned-cart reminders: carts idle past each configured threshold, with items and a known
//! e-mail, not converted and not yet reminded at that stage, get one reminder. Served by the
//! sparse idle-cart index (never a Scan); running twice sends nothing new.

use super::Oms;
use crate::domain::Notification;
use crate::ports::Queue;
use crate::ports::StoreError;
use chrono::Duration;
use std::sync::Arc;

#[derive(Clone)]
pub struct Reminders {
    pub oms: Oms,
    pub notifications: Arc<dyn Queue>,
    /// (stage name, idle threshold), ascending.
    pub stages: Vec<(String, Duration)>,
}

/// Parses `4h,24h,3d`.
pub fn parse_stages(s: &str) -> Result<Vec<(String, Duration)>, String> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (n, unit) = part.split_at(part.len() - 1);
        let n: i64 = n.parse().map_err(|_| format!("bad reminder stage {part:?}"))?;
        let d = match unit {
            "m" => Duration::minutes(n),
            "h" => Duration::hours(n),
            "d" => Duration::days(n),
            _ => return Err(format!("bad reminder stage {part:?}: use m, h or d")),
        };
        out.push((part.to_owned(), d));
    }
    out.sort_by_key(|(_, d)| *d);
    if out.is_empty() {
        return Err("no reminder stages".into());
    }
    Ok(out)
}

impl Reminders {
    /// One scheduler tick; returns how many reminders were enqueued.
    pub async fn run(&self) -> Result<usize, String> {
        let now = self.oms.clock.now();
        let first = self.stages.first().map(|(_, d)| *d).ok_or("no stages")?;
        let carts = self.oms.store.idle_carts(now - first).await.map_err(|e| e.to_string())?;
        let mut sent = 0;
        for mut cart in carts {
            let idle = now - cart.last_activity;
            let reached: Vec<&String> = self.stages.iter().filter(|(_, d)| *d <= idle).map(|(n, _)| n).collect();
            let Some(stage) = reached.last() else { continue };
            if cart.reminded.iter().any(|r| r == *stage)
                || cart.items.is_empty()
                || cart.email.is_none()
                || cart.converted_order.is_some()
            {
                continue;
            }
            let n = Notification::cart_reminder(&cart.id, stage, &cart.last_activity);
            let body = serde_json::to_string(&n).map_err(|e| e.to_string())?;
            self.notifications.send(&body).await?;
            cart.reminded = reached.iter().map(|s| s.to_string()).collect();
            match self.oms.store.save_cart(&mut cart).await {
                // The customer came back meanwhile: their activity wins; the notifier's dedupe
                // key makes a re-sent reminder harmless.
                Ok(()) | Err(StoreError::StaleVersion) => {}
                Err(e) => return Err(e.to_string()),
            }
            sent += 1;
        }
        tracing::info!(sent, "cart reminders");
        Ok(sent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_parse_and_sort() {
        let s = parse_stages("24h, 4h").unwrap();
        assert_eq!(s.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), vec!["4h", "24h"]);
        assert!(parse_stages("4x").is_err());
        assert!(parse_stages("").is_err());
    }
}
