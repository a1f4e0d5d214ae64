//! The local checkout worker (`jwo serve`): what the table's stream and the schedule are in
//! AWS, in one task. It checks out each purchase the store queues as inserted ready for
//! checkout, and sweeps every few seconds; the first sweep, at start, resumes whatever was
//! Open when the connector last stopped.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jwo_domain::ports::{Alerts, CheckoutService, CurrentPriceBook, PurchaseStore};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;

use crate::Checkout;

#[derive(Debug, Clone, Copy)]
pub struct WorkerSettings {
    /// One checkout may take this long, retries included (its deadline).
    pub checkout_window: Duration,
    /// How often Open purchases are swept: retries of failed checkouts, stuck alerts.
    pub sweep_every: Duration,
    /// At shutdown, checkouts under way get this long to finish; any still running then is
    /// resumed at the next start (its lease expires).
    pub shutdown_grace: Duration,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        WorkerSettings {
            checkout_window: Duration::from_secs(10),
            sweep_every: Duration::from_secs(5),
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// Runs until `shutdown` completes, then lets the checkouts under way finish (within the grace).
pub async fn run<S: PurchaseStore, A: Alerts, C: CheckoutService, B: CurrentPriceBook>(
    checkout: Arc<Checkout<S, A, C, B>>,
    mut ready: mpsc::UnboundedReceiver<String>,
    settings: WorkerSettings,
    shutdown: impl Future<Output = ()>,
) {
    let permits = Arc::new(Semaphore::new(checkout.config.concurrency));
    let mut in_flight = JoinSet::new();
    let mut sweeping: Option<tokio::task::JoinHandle<()>> = None;
    // The first tick is immediate: the sweep at start, which resumes everything Open. Later
    // sweeps leave what the queue is handling alone.
    let mut idle_for = chrono::Duration::zero();
    let mut sweeps = tokio::time::interval(settings.sweep_every);
    sweeps.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            Some(purchase_id) = ready.recv() => {
                let permit = Arc::clone(&permits).acquire_owned().await.expect("never closed");
                let checkout = Arc::clone(&checkout);
                in_flight.spawn(async move {
                    let deadline = Instant::now() + settings.checkout_window;
                    // A failure is logged by check_out and retried by a later sweep.
                    let _ = checkout.check_out(&purchase_id, deadline).await;
                    drop(permit);
                });
            }
            _ = sweeps.tick() => {
                // One sweep at a time.
                if sweeping.as_ref().is_none_or(|sweep| sweep.is_finished()) {
                    let checkout = Arc::clone(&checkout);
                    let deadline = Instant::now() + settings.checkout_window;
                    sweeping = Some(tokio::spawn(async move {
                        // A failure is logged by sweep; the next tick tries again.
                        let _ = checkout.sweep(deadline, idle_for).await;
                    }));
                    idle_for = chrono::Duration::from_std(settings.checkout_window)
                        .unwrap_or(chrono::Duration::MAX);
                }
            }
            Some(_) = in_flight.join_next() => {}
        }
    }
    let drained = async {
        while in_flight.join_next().await.is_some() {}
        if let Some(sweep) = sweeping {
            let _ = sweep.await;
        }
    };
    if tokio::time::timeout(settings.shutdown_grace, drained)
        .await
        .is_err()
    {
        tracing::warn!("checkouts still under way at shutdown resume at the next start");
    }
}
