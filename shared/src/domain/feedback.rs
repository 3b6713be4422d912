//! After-delivery feedback: one question (how satisfied, 1 to 5) and a comment, asked a set
//! number of days after delivery through a signed, single-use link. CSAT is the share of
//! answers of 4 or 5.

use super::ids::{CustomerId, OrderId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Longest comment kept (characters).
pub const MAX_COMMENT: usize = 1000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Feedback {
    pub order_id: OrderId,
    pub customer_id: CustomerId,
    /// When the survey is to be sent (delivery plus the configured days).
    pub due_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    pub version: u64,
}

impl Feedback {
    pub fn due(order: &OrderId, customer: &CustomerId, at: DateTime<Utc>) -> Self {
        Feedback {
            order_id: order.clone(),
            customer_id: customer.clone(),
            due_at: at,
            requested_at: None,
            answered_at: None,
            score: None,
            comment: None,
            version: 1,
        }
    }

    /// Waiting to be sent (the sweep's index holds it until then).
    pub fn is_due(&self) -> bool {
        self.requested_at.is_none() && self.answered_at.is_none()
    }
}

/// CSAT over answers: how many, how many satisfied (4 or 5), the share, the mean and the
/// count per score.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Csat {
    pub answers: u32,
    pub satisfied: u32,
    pub csat: Option<f64>,
    pub average: Option<f64>,
    pub by_score: [u32; 5],
}

pub fn csat(answers: &[Feedback]) -> Csat {
    let scores: Vec<u8> = answers.iter().filter_map(|f| f.score).filter(|s| (1..=5).contains(s)).collect();
    let mut by_score = [0u32; 5];
    for s in &scores {
        by_score[usize::from(*s - 1)] += 1;
    }
    let n = scores.len() as u32;
    let satisfied = by_score[3] + by_score[4];
    let sum: u32 = scores.iter().map(|s| u32::from(*s)).sum();
    Csat {
        answers: n,
        satisfied,
        csat: (n > 0).then(|| f64::from(satisfied) / f64::from(n)),
        average: (n > 0).then(|| f64::from(sum) / f64::from(n)),
        by_score,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csat_is_the_share_of_fours_and_fives() {
        let t: DateTime<Utc> = "2026-12-01T10:00:00Z".parse().unwrap();
        let mk = |s: u8| Feedback {
            score: Some(s),
            answered_at: Some(t),
            ..Feedback::due(&OrderId::generate(), &CustomerId::parse("c").unwrap(), t)
        };
        let c = csat(&[mk(5), mk(4), mk(2), mk(1)]);
        assert_eq!(
            (c.answers, c.satisfied, c.csat, c.average, c.by_score),
            (4, 2, Some(0.5), Some(3.0), [1, 1, 0, 1, 1])
        );
        assert_eq!(csat(&[]).csat, None);
    }
}
