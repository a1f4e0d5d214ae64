//! Alerts for a local connector: each one is logged (structured, at WARN) and kept in a
//! bounded list that `jwo serve` shows.

use std::collections::VecDeque;
use std::sync::Mutex;

use jwo_domain::alerts::{Alert, AlertError};
use jwo_domain::ports::Alerts;

pub struct LocalAlerts {
    recent: Mutex<VecDeque<Alert>>,
    capacity: usize,
}

impl LocalAlerts {
    pub fn new(capacity: usize) -> LocalAlerts {
        LocalAlerts {
            recent: Mutex::new(VecDeque::with_capacity(capacity.min(1024))),
            capacity,
        }
    }

    /// The most recent alerts, oldest first.
    pub fn recent(&self) -> Vec<Alert> {
        self.recent
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .iter()
            .cloned()
            .collect()
    }
}

impl Alerts for LocalAlerts {
    async fn publish(&self, alert: &Alert) -> Result<(), AlertError> {
        tracing::warn!(
            alert = ?alert.kind,
            purchase_id = alert.purchase_id.as_deref(),
            store_id = alert.store_id.as_deref(),
            detail = %alert.detail,
            "{}",
            alert.subject
        );
        let mut recent = self
            .recent
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if recent.len() == self.capacity {
            recent.pop_front();
        }
        recent.push_back(alert.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jwo_domain::alerts::AlertKind;

    #[tokio::test]
    async fn keeps_the_most_recent() {
        let alerts = LocalAlerts::new(2);
        for n in 0..3 {
            let alert = Alert {
                kind: AlertKind::PurchaseBlocked,
                subject: format!("alert {n}"),
                detail: String::new(),
                purchase_id: None,
                store_id: None,
            };
            alerts.publish(&alert).await.unwrap();
        }
        let subjects: Vec<String> = alerts.recent().into_iter().map(|a| a.subject).collect();
        assert_eq!(subjects, ["alert 1", "alert 2"]);
    }
}
