//! Promotions: the closed set of promotion types, what each takes and when it applies, and the
//! checked rule the engine prices with.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;

/// The kinds of promotion a price book may hold. Every property of a type is an exhaustive
/// `match` here, so a new type makes the compiler list each place to decide.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PromotionType {
    PercentOff,
    AmountOff,
    BuyXGetY,
    MultiBuy,
    Threshold,
}

/// When a promotion is applied to a cart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PromotionStage {
    /// First: groups units across the lines of its SKUs.
    Pooled,
    /// Then: the best one for each line's units not taken by a pooled promotion.
    PerLine,
    /// Last: at most one, on the cart's subtotal net of item promotions.
    Threshold,
}

impl PromotionType {
    /// Every type, in the order the price book documentation lists them.
    pub const ALL: [PromotionType; 5] = [
        PromotionType::PercentOff,
        PromotionType::AmountOff,
        PromotionType::BuyXGetY,
        PromotionType::MultiBuy,
        PromotionType::Threshold,
    ];

    /// The `type` as written in the price book.
    pub fn as_str(self) -> &'static str {
        match self {
            PromotionType::PercentOff => "percentOff",
            PromotionType::AmountOff => "amountOff",
            PromotionType::BuyXGetY => "buyXGetY",
            PromotionType::MultiBuy => "multiBuy",
            PromotionType::Threshold => "threshold",
        }
    }

    pub fn parse(text: &str) -> Option<PromotionType> {
        PromotionType::ALL
            .into_iter()
            .find(|kind| kind.as_str() == text)
    }

    /// The optional fields of a promotion entry this type takes; any other is refused.
    pub fn fields(self) -> &'static [&'static str] {
        match self {
            PromotionType::PercentOff => &["percent", "skus"],
            PromotionType::AmountOff => &["amount", "skus"],
            PromotionType::BuyXGetY => &["buy", "get", "percent", "skus"],
            PromotionType::MultiBuy => &["quantity", "price", "skus"],
            PromotionType::Threshold => &["minSubtotal", "amount"],
        }
    }

    /// Whether the promotion must list the SKUs it applies to (an item promotion).
    pub fn needs_skus(self) -> bool {
        match self {
            PromotionType::PercentOff
            | PromotionType::AmountOff
            | PromotionType::BuyXGetY
            | PromotionType::MultiBuy => true,
            PromotionType::Threshold => false,
        }
    }

    pub fn stage(self) -> PromotionStage {
        match self {
            PromotionType::BuyXGetY | PromotionType::MultiBuy => PromotionStage::Pooled,
            PromotionType::PercentOff | PromotionType::AmountOff => PromotionStage::PerLine,
            PromotionType::Threshold => PromotionStage::Threshold,
        }
    }
}

impl std::fmt::Display for PromotionType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A promotion's rule, checked: one variant per [`PromotionType`], with its amounts.
#[derive(Clone, Debug, PartialEq)]
pub enum PromotionRule {
    PercentOff {
        percent: Decimal,
    },
    AmountOff {
        amount: Decimal,
    },
    BuyXGetY {
        buy: u32,
        get: u32,
        percent: Decimal,
    },
    MultiBuy {
        quantity: u32,
        price: Decimal,
    },
    Threshold {
        min_subtotal: Decimal,
        amount: Decimal,
    },
}

impl PromotionRule {
    pub fn promotion_type(&self) -> PromotionType {
        match self {
            PromotionRule::PercentOff { .. } => PromotionType::PercentOff,
            PromotionRule::AmountOff { .. } => PromotionType::AmountOff,
            PromotionRule::BuyXGetY { .. } => PromotionType::BuyXGetY,
            PromotionRule::MultiBuy { .. } => PromotionType::MultiBuy,
            PromotionRule::Threshold { .. } => PromotionType::Threshold,
        }
    }

    pub fn stage(&self) -> PromotionStage {
        self.promotion_type().stage()
    }

    /// The fraction of a price a percentage rule takes off (`percent / 100`); zero for rules
    /// without a percentage.
    pub fn fraction(&self) -> Decimal {
        match self {
            PromotionRule::PercentOff { percent } | PromotionRule::BuyXGetY { percent, .. } => {
                *percent / Decimal::ONE_HUNDRED
            }
            PromotionRule::AmountOff { .. }
            | PromotionRule::MultiBuy { .. }
            | PromotionRule::Threshold { .. } => Decimal::ZERO,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Promotion {
    pub id: String,
    /// Shared with every wire line that carries the promotion.
    pub description: Arc<str>,
    pub rule: PromotionRule,
    pub stores: Option<HashSet<String>>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    /// Larger wins; missing is 0.
    pub priority: i64,
    /// Position in the file: the last tie-breaker.
    pub position: usize,
    /// `percent / 100` of a `percentOff` or `buyXGetY`, worked out once at load.
    pub fraction: Decimal,
}

impl Promotion {
    /// Whether the promotion applies at `store_id` for a trip that ended at `trip_end`.
    /// Windows are half open: `startsAt ≤ endTime < endsAt`.
    pub fn is_active(&self, store_id: &str, trip_end: DateTime<Utc>) -> bool {
        self.stores
            .as_ref()
            .is_none_or(|stores| stores.contains(store_id))
            && self.starts_at.is_none_or(|start| start <= trip_end)
            && self.ends_at.is_none_or(|end| trip_end < end)
    }
}
