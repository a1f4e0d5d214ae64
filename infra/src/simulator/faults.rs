//! Faults the simulator injects, each drawn at random per request.

use std::time::Duration;

/// Faults to inject, each drawn at random per request.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// Percent of requests answered with one of `statuses` (without charging).
    pub failure_percent: u32,
    /// The failure statuses to pick from (429, 500, 503).
    pub statuses: Vec<u16>,
    /// `Retry-After` seconds on a 429.
    pub retry_after_seconds: u64,
    /// Percent of requests that hang for `hang` and are then dropped (504), without charging.
    pub timeout_percent: u32,
    pub hang: Duration,
    /// Added to every answer.
    pub latency: Duration,
    /// Every this-many-th first charge of a trip (or accepted catalog upload) has its answer
    /// lost: the trip is charged (the ingestion made), then the answer waits for `hang` (longer
    /// than the client waits), as when a connection drops after the charge. 0: none.
    pub lose_answer_every: u32,
    /// How a repeat of a trip already charged is answered.
    pub repeat: RepeatAnswer,
}

/// How the Checkout Service answers a repeat of a trip it already charged. Amazon's pages do
/// not say; the connector must be right under each.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RepeatAnswer {
    /// 201 with the first orderId.
    #[default]
    SameOrder,
    /// 409.
    Conflict,
    /// 400 "already checked out".
    AlreadyCheckedOut,
}

impl std::str::FromStr for RepeatAnswer {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "201" => Ok(RepeatAnswer::SameOrder),
            "409" => Ok(RepeatAnswer::Conflict),
            "400" => Ok(RepeatAnswer::AlreadyCheckedOut),
            other => Err(format!(
                "'{other}' is not a repeat answer; use 201 (the first orderId), 409 or 400"
            )),
        }
    }
}

impl Faults {
    /// The transient faults Amazon's service can give: `failure_percent` of requests answered
    /// 429, 500 or 503 (a 429 with `Retry-After: 0`), and `timeout_percent` left hanging for
    /// `hang`.
    pub fn transient(failure_percent: u32, timeout_percent: u32, hang: Duration) -> Faults {
        Faults {
            failure_percent,
            statuses: vec![429, 500, 503],
            retry_after_seconds: 0,
            timeout_percent,
            hang,
            ..Faults::default()
        }
    }
}

/// A fault drawn for one request.
pub enum InjectedFault {
    /// The request hung for `hang` (already waited): answer 504, or drop it.
    Timeout,
    /// Answer this status, with this `Retry-After` header on a 429.
    Status(u16, Option<(&'static str, String)>),
}

impl Faults {
    /// Draws this request's fault, if any; a timeout has hung for `hang` when this returns.
    pub async fn inject(&self) -> Option<InjectedFault> {
        if self.timeout_percent > 0 && fastrand::u32(0..100) < self.timeout_percent {
            tokio::time::sleep(self.hang).await;
            return Some(InjectedFault::Timeout);
        }
        if self.failure_percent > 0
            && !self.statuses.is_empty()
            && fastrand::u32(0..100) < self.failure_percent
        {
            let status = self.statuses[fastrand::usize(..self.statuses.len())];
            let retry_after =
                (status == 429).then(|| ("retry-after", self.retry_after_seconds.to_string()));
            return Some(InjectedFault::Status(status, retry_after));
        }
        None
    }
}
