//! Step costs that stand in for the clock, so that draft-length policies can be compared
//! without the machine's noise (`tandem bench --simulate`). The drafts and verdicts stay
//! real; only the milliseconds the policy learns from, and the decode time, are computed.

use std::str::FromStr;

use serde::Serialize;

use crate::policy::STEADY_BACKLOG;

/// Costs of the two models' calls in milliseconds.
///
/// Invariant: `verify_ms` is non-empty, and every value is finite and not negative.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SimulatedCosts {
    /// One forward of the draft model.
    pub draft_forward_ms: f64,
    /// Each token a draft model catches up on beyond the two every speculative step brings
    /// (the target's own token and the last draft; see the policy's `STEADY_BACKLOG`).
    pub catch_up_ms: f64,
    /// A target call over 1, 2, … tokens; longer calls add the last difference per token.
    pub verify_ms: Vec<f64>,
}

impl SimulatedCosts {
    /// Drafting that took `forwards` draft-model calls, `backlog` tokens behind.
    pub fn draft(&self, forwards: usize, backlog: usize) -> f64 {
        if forwards == 0 {
            return 0.0;
        }
        forwards as f64 * self.draft_forward_ms + backlog.saturating_sub(STEADY_BACKLOG) as f64 * self.catch_up_ms
    }

    /// A target call over `n >= 1` tokens.
    pub fn verify(&self, n: usize) -> f64 {
        let v = &self.verify_ms;
        match v.get(n - 1) {
            Some(&ms) => ms,
            None => {
                let last = v[v.len() - 1];
                let step = if v.len() > 1 { last - v[v.len() - 2] } else { 0.0 };
                last + step * (n - v.len()) as f64
            }
        }
    }
}

/// Reads `draft=MS,catch-up=MS,verify=MS:MS:…` (the verify list for 1, 2, … tokens).
impl FromStr for SimulatedCosts {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (mut draft, mut catch_up, mut verify) = (None, None, None);
        for part in s.split(',') {
            let (key, value) = part.split_once('=').ok_or_else(|| format!("`{part}` is not key=value"))?;
            let number = |v: &str| match v.trim().parse::<f64>() {
                Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
                _ => Err(format!("`{v}` is not a number of milliseconds")),
            };
            match key.trim() {
                "draft" => draft = Some(number(value)?),
                "catch-up" => catch_up = Some(number(value)?),
                "verify" => verify = Some(value.split(':').map(number).collect::<Result<Vec<f64>, String>>()?),
                other => return Err(format!("unknown cost `{other}` (draft, catch-up, verify)")),
            }
        }
        Ok(SimulatedCosts {
            draft_forward_ms: draft.ok_or("missing draft=MS")?,
            catch_up_ms: catch_up.unwrap_or(0.0),
            verify_ms: verify.filter(|v| !v.is_empty()).ok_or("missing verify=MS:MS:…")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn costs_are_read_and_extended() {
        let c: SimulatedCosts = "draft=8.5,catch-up=2,verify=22:28:30".parse().unwrap();
        assert_eq!(c.draft(0, 9), 0.0, "prompt lookup runs no model");
        assert_eq!(c.draft(3, 2), 25.5);
        assert_eq!(c.draft(1, 17), 8.5 + 15.0 * 2.0);
        assert_eq!((c.verify(1), c.verify(3)), (22.0, 30.0));
        assert_eq!(c.verify(5), 34.0, "two more tokens at the last difference");
        let flat: SimulatedCosts = "draft=1,verify=5".parse().unwrap();
        assert_eq!((flat.catch_up_ms, flat.verify(4)), (0.0, 5.0));
        for bad in ["", "draft=1", "verify=3", "draft=x,verify=3", "draft=1,verify=3:-1", "draft=1,verify=3,speed=2"] {
            assert!(bad.parse::<SimulatedCosts>().is_err(), "{bad}");
        }
    }
}
