//! The draft-length policy: how many tokens to draft at each step (0 = plain decoding).
//!
//! It learns online from the timings the generator measures, and picks the k that maximises
//! the expected tokens per second of one step,
//!
//! ```text
//! rate(k)       = E_tokens(k) / (E_forwards(k) · forward_cost + E[verify_cost(1 + drafted)])
//! E_tokens(k)   = 1 + g₀α₀ + g₀α₀g₁α₁ + … + g₀α₀…g_{k-1}α_{k-1}
//! E_forwards(k) = 1 + g₀ + g₀g₁ + … + g₀…g_{k-2}
//! ```
//!
//! where g_j is the chance the drafter proposes position j given it proposed the ones
//! before (a draft model stops where it doubts its guess; prompt lookup never does), and
//! α_j the chance the target accepts it given it accepted the ones before. A draft model
//! runs one forward per position it weighs, so a draft it stops early costs less than k
//! forwards, and `drafted`, the tokens verified beside the target's own, may be short of k.
//! Plain decoding runs at 1 / verify_cost(1), timed by a plain step now and then even while
//! speculation wins. When no k beats plain by `MARGIN` it decodes plainly, and probes again
//! after a number of plain steps that doubles while probes keep failing, so it notices when
//! speculation starts to pay.
//!
//! A draft model that stops where it doubts its next guess is asked for `max` whenever the
//! policy speculates with it (see the generator): its doubt judges each draft's length, and
//! the policy's part is whether to speculate at all. Its estimates still model that stop
//! through g_j.

use serde::{Deserialize, Serialize};

use crate::drafter::DrafterKind;

/// How the number of drafted tokens per step is chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DraftLength {
    /// Always draft exactly this many (0 = plain decoding).
    Fixed(usize),
    /// Learn the best length, at most `max`, including 0.
    Auto { max: usize },
}

impl Default for DraftLength {
    fn default() -> Self {
        DraftLength::Auto { max: 8 }
    }
}

/// What one step cost and achieved; the generator measures it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct StepTiming {
    /// The drafter asked, `None` for a plain step.
    pub drafter: Option<DrafterKind>,
    /// The k that was asked of the drafter.
    pub requested: usize,
    /// Tokens it actually proposed (`<= requested`).
    pub drafted: usize,
    /// Proposed tokens the target accepted.
    pub accepted: usize,
    /// Forward calls of the draft model that drafting took (see [`Proposal::forwards`]).
    ///
    /// [`Proposal::forwards`]: crate::Proposal::forwards
    pub forwards: usize,
    /// Tokens the drafter had to process before drafting (see [`Drafter::backlog`]).
    ///
    /// [`Drafter::backlog`]: crate::Drafter::backlog
    pub backlog: usize,
    pub draft_ms: f64,
    /// Wall time of the target call over `1 + drafted` tokens.
    pub verify_ms: f64,
}

/// Speculation must beat plain decoding by this fraction to be chosen: estimates are noisy
/// and a wasted draft costs real time.
const MARGIN: f64 = 0.05;
/// Draft length tried before anything is known about a drafter.
const INITIAL_K: usize = 4;
/// Largest draft length of a probe after a plain stretch.
const PROBE_K: usize = 3;
/// Plain steps before the first probe, and the most between two probes.
const PROBE_BASE: usize = 16;
const PROBE_MAX: usize = 1024;
/// Plain steps before a drafter that guesses (a model) has a quick probe, such as an answer's
/// start probe (see [`Probes::quick`]). The first tokens of an answer are the hardest to guess
/// (a greeting, the opening of a code block): on the bench prompt `code-sql` a probe at
/// the first token failed on every run, and the doubled interval then kept the draft model
/// out of the whole answer. Prompt lookup does not guess: a match means the answer is
/// already repeating earlier text, so its start probe is not delayed.
const START_PROBE_AFTER: usize = 2;
/// A drafter that would first have to catch up on more tokens than this is not tried
/// out (explored or probed): a draft model that sat out a plain stretch needs one forward
/// over all of it. On a CPU that forward costs about 2 ms a token (Qwen2.5 0.5B draft for
/// its 1.5B target; 17 tokens take about 1.5 plain target steps), a tenth of the time the
/// target took to write them, so probes whose interval doubles stay cheap. But the answer
/// pauses while it runs, so longer stretches wait for the start of the next answer: 64
/// tokens pause it about as long as five target steps. (32 left the draft model out of
/// whole answers beside prompt lookup, whose steps add several tokens each to the draft
/// model's backlog and none to its probe count: by the time a probe was due, it was 40
/// tokens behind. A smaller limit starved it too: one unlucky first try, then a backlog
/// that only grew.)
const MAX_TRIAL_BACKLOG: usize = 64;
/// The most tokens a draft model catches up on between two speculative steps: the target's
/// own token, plus the last draft when all were accepted. A step behind more than this
/// comes after a plain stretch, and its draft time is mostly catching up: learning the cost
/// per drafted token from it made one 17-token catch-up read as 3.5 times the cost of a
/// draft, which kept the draft model out of answers where it was right 80% of the time.
pub(crate) const STEADY_BACKLOG: usize = 2;
/// Smallest EMA weight in steady state (a horizon of about ten steps).
const EMA_WEIGHT: f64 = 0.1;
/// Per-position estimates are trusted once they have this many observations.
const MIN_POSITION_OBS: u32 = 4;
/// Assumed relative cost of each extra verified token until two lengths have been measured.
/// On a CPU each extra token costs a quarter to a third of a one-token call (measured with
/// `tandem bench-verify`); a cheaper guess makes the first answer speculate where it loses.
const PRIOR_SLOPE: f64 = 0.3;
/// A per-length verify timing is used directly once it has this many observations;
/// otherwise the linear fit over all lengths fills in.
const MIN_COST_OBS: u32 = 3;
/// While speculating, a target call over one token is timed again after this many calls
/// over more (see [`Policy::next_k`]).
const PLAIN_RECHECK: usize = 64;

/// An exponential moving average with weight [`EMA_WEIGHT`] that is the plain mean of its
/// first observations, and again of those after a restart (see [`Ema::learn`]).
#[derive(Clone, Copy, Debug, Default)]
struct Ema {
    value: f64,
    /// Observations ever: how far the value can be trusted.
    count: u32,
    /// Observations since the first or the last restart: the next one's weight is
    /// `1 / (recent + 1)` until that falls to [`EMA_WEIGHT`].
    recent: u32,
}

impl Ema {
    /// Adds an observation; `restart` first makes the value count as one observation, so
    /// that the next ones are averaged with it as equals (weights 1/2, 1/3, ...) until the
    /// steady weight takes over.
    fn learn(&mut self, x: f64, restart: bool) {
        if restart {
            self.recent = self.recent.min(1);
        }
        self.count = self.count.saturating_add(1);
        self.recent = self.recent.saturating_add(1);
        let w = (1.0 / self.recent as f64).max(EMA_WEIGHT);
        self.value += w * (x - self.value);
    }

    /// Moves the value toward `x` as one steady observation would, without counting one.
    fn drift(&mut self, x: f64) {
        self.value += EMA_WEIGHT * (x - self.value);
    }

    /// Takes `x` as the value, a fresh start after the old one went stale.
    fn replace(&mut self, x: f64) {
        self.count = self.count.saturating_add(1);
        self.recent = 1;
        self.value = x;
    }
}

/// What the policy knows about one drafter.
#[derive(Clone, Debug, Default)]
struct DrafterStats {
    /// Milliseconds per forward call of the draft model. Per requested token it read too
    /// cheap: a draft of eight that the model's doubt stopped at three ran four forwards,
    /// and counted as eight made drafting look half its cost, which kept the draft model in
    /// answers where it was right a third of the time (bench prompt `zh-explain`).
    cost_per_forward: Ema,
    /// Acceptance over all positions; stands in for positions with few observations.
    alpha: Acceptance,
    /// Conditional acceptance by draft position (α_j above).
    alpha_at: Vec<Ema>,
    /// By draft position, how often the drafter went on to propose it when asked, having
    /// proposed the ones before (g_j above); taken as 1 until observed. Asking a draft model
    /// for two and getting one costs a second forward for the chance of one token: blind to
    /// it, the policy kept asking for two on `zh-explain`, where one paid.
    proposes_at: Vec<Ema>,
    /// When to try this drafter again while it does not pay.
    probes: Probes,
}

/// Accepted drafts over tested positions, each an EMA of per-step counts, so that a step's
/// verdict counts as a whole: updating once per position in order let a probe's final
/// rejection outweigh the acceptances before it (accepted, accepted, rejected took 0.6 to
/// 0.45 at a probe's weight).
#[derive(Clone, Copy, Debug, Default)]
struct Acceptance {
    accepted: Ema,
    tested: Ema,
}

impl Acceptance {
    fn learn(&mut self, accepted: usize, tested: usize, restart: bool) {
        self.accepted.learn(accepted as f64, restart);
        self.tested.learn(tested as f64, restart);
    }

    fn value(&self) -> f64 {
        if self.tested.value > 0.0 {
            self.accepted.value / self.tested.value
        } else {
            0.0
        }
    }

    fn known(&self) -> bool {
        self.tested.count > 0
    }
}

/// A drafter's probe schedule. Per drafter, because a hybrid offers prompt lookup and the
/// draft model in turn, and one failing must not delay trying the other.
#[derive(Clone, Copy, Debug)]
struct Probes {
    /// Plain steps, with this drafter on offer, since it last drafted.
    plain_run: usize,
    /// Plain steps to take before the next probe; doubles while probes keep failing.
    every: usize,
    /// Owed a quick probe: at the start of an answer (see [`Policy::start_answer`]), or
    /// after a probe whose drafts were all accepted but did not make speculating win. One
    /// draft right is thin evidence, and a second look is cheap while the draft model is
    /// only a few tokens behind. (Bench prompt `code-sql` after `email-delay`: the start
    /// probe was right, left the estimate just short of winning, and 16 plain steps
    /// followed at the start of an answer the draft model gets 80% right.)
    quick: bool,
    /// While the speculative steps a probe started go on: the milliseconds they saved so
    /// far against plain decoding (negative while they cost more).
    trial: Option<f64>,
}

/// The probe the last handed-out length is.
#[derive(Clone, Copy, Debug)]
struct Probe {
    kind: DrafterKind,
    /// A quick probe (see [`Probes::quick`]): one look at a new text or a second look
    /// after good news, so failing it does not double the interval. (Doubled past
    /// [`MAX_TRIAL_BACKLOG`], it would leave a draft model out for the rest of the answer.)
    quick: bool,
}

impl Default for Probes {
    fn default() -> Self {
        Probes { plain_run: 0, every: PROBE_BASE, quick: false, trial: None }
    }
}

impl DrafterStats {
    fn alpha_at(&self, j: usize) -> f64 {
        match self.alpha_at.get(j) {
            Some(e) if e.count >= MIN_POSITION_OBS => e.value,
            _ => self.alpha.value(),
        }
    }

    fn proposes_at(&self, j: usize) -> f64 {
        match self.proposes_at.get(j) {
            Some(e) if e.count >= MIN_POSITION_OBS => e.value,
            _ => 1.0,
        }
    }
}

/// Target verification cost by number of tokens in the call.
#[derive(Clone, Debug, Default)]
struct VerifyCost {
    /// `by_n[n - 1]`: EMA of the wall time of an n-token call.
    by_n: Vec<Ema>,
    /// Calls over more than one token since the last over one; `None` before any.
    since_one: Option<usize>,
}

impl VerifyCost {
    /// A one-token call that comes after [`PLAIN_RECHECK`] longer ones replaces the stale
    /// one-token time.
    fn observe(&mut self, n: usize, ms: f64, restart: bool) {
        if self.by_n.len() < n {
            self.by_n.resize(n, Ema::default());
        }
        let stale = matches!(self.since_one, Some(c) if c >= PLAIN_RECHECK);
        if n == 1 && stale {
            self.by_n[0].replace(ms);
        } else {
            self.by_n[n - 1].learn(ms, restart);
        }
        self.since_one = if n == 1 { Some(0) } else { self.since_one.map(|c| c + 1) };
    }

    /// Whether the one-token time is unmeasured or older than [`PLAIN_RECHECK`] calls.
    fn one_is_stale(&self) -> bool {
        self.since_one.is_none_or(|c| c >= PLAIN_RECHECK)
    }

    /// Estimated milliseconds of an n-token call; `None` before any measurement.
    fn estimate(&self, n: usize) -> Option<f64> {
        if let Some(e) = self.by_n.get(n - 1).filter(|e| e.count >= MIN_COST_OBS) {
            return Some(e.value);
        }
        let seen: Vec<(f64, f64, f64)> = (self.by_n.iter().enumerate())
            .filter(|(_, e)| e.count > 0)
            .map(|(i, e)| ((i + 1) as f64, e.value, e.count.min(8) as f64))
            .collect();
        let (first_n, first_c, _) = *seen.first()?;
        let n = n as f64;
        if seen.len() == 1 {
            return Some(first_c * (1.0 + PRIOR_SLOPE * (n - 1.0)) / (1.0 + PRIOR_SLOPE * (first_n - 1.0)));
        }
        // Weighted least squares of cost = a + b·n; verifying more never costs less.
        let sw: f64 = seen.iter().map(|s| s.2).sum();
        let mean_n = seen.iter().map(|s| s.2 * s.0).sum::<f64>() / sw;
        let mean_c = seen.iter().map(|s| s.2 * s.1).sum::<f64>() / sw;
        let snn: f64 = seen.iter().map(|s| s.2 * (s.0 - mean_n).powi(2)).sum();
        let snc: f64 = seen.iter().map(|s| s.2 * (s.0 - mean_n) * (s.1 - mean_c)).sum();
        let b = (snc / snn).max(0.0);
        Some((mean_c + b * (n - mean_n)).max(f64::MIN_POSITIVE))
    }
}

/// The online draft-length policy. Keep one per target/drafter pair across generations so
/// what it learned carries over.
#[derive(Clone, Debug)]
pub struct Policy {
    length: DraftLength,
    verify: VerifyCost,
    drafters: [DrafterStats; 3],
    /// What the last length handed out probes.
    probing: Option<Probe>,
}

impl Policy {
    pub fn new(length: DraftLength) -> Self {
        Policy { length, verify: VerifyCost::default(), drafters: Default::default(), probing: None }
    }

    /// A new answer begins. How often drafts are accepted depends on the text (prompt
    /// lookup is right often in an edit of the prompt and seldom in new prose), so what
    /// the last answer taught may not hold for this one: probe intervals start over, and
    /// each drafter is probed at the first step that offers it and can try it cheaply
    /// (a draft model only after [`START_PROBE_AFTER`] such steps), unless the estimates
    /// already choose to speculate with it.
    ///
    /// Acceptance by draft position starts over too (the overall acceptance stands in until
    /// each position is seen again): a position only learns when drafts reach it, so a low
    /// estimate carried over for the second draft kept every draft of a new answer at one
    /// token, even with all of them accepted (bench prompt `code-sql`, 30 steps in a row).
    /// So does how far the drafter proposes, for the same reason.
    pub fn start_answer(&mut self) {
        for d in &mut self.drafters {
            d.probes = Probes { quick: true, ..Probes::default() };
            d.alpha_at.clear();
            d.proposes_at.clear();
        }
    }

    /// The configured mode.
    pub fn length(&self) -> DraftLength {
        self.length
    }

    /// Expected tokens per millisecond of asking `stats`' drafter for k tokens, for every k
    /// from 0 (plain) to `max`, with the expectations in the module's formula. One pass: the
    /// sums for k are those for k - 1 plus position k - 1, and each verify cost is estimated
    /// once. `None` before any verification was timed.
    fn rates(&self, stats: &DrafterStats, max: usize) -> Option<Vec<f64>> {
        let verify_ms: Vec<f64> = (1..=max + 1).map(|n| self.verify.estimate(n)).collect::<Option<_>>()?;
        let mut rates = Vec::with_capacity(max + 1);
        rates.push(1.0 / verify_ms[0]);
        let mut expected = 1.0;
        let mut all_accepted = 1.0;
        let mut forwards = 0.0;
        // Verification of the drafts that stopped short of k.
        let mut stopped_verify = 0.0;
        // The chance the drafter proposed every position before j.
        let mut reach = 1.0;
        for j in 0..max {
            // Position j is weighed (one forward) once the one before it was proposed.
            forwards += reach;
            let go_on = stats.proposes_at(j);
            // It stops here, with j tokens drafted.
            stopped_verify += reach * (1.0 - go_on) * verify_ms[j];
            reach *= go_on;
            all_accepted *= go_on * stats.alpha_at(j);
            expected += all_accepted;
            let verify = stopped_verify + reach * verify_ms[j + 1];
            rates.push(expected / (forwards * stats.cost_per_forward.value + verify));
        }
        Some(rates)
    }

    /// The number of tokens to draft for the next step with `drafter` (`None`: no drafter),
    /// which must first process `backlog` tokens it has not seen (see [`Drafter::backlog`]).
    ///
    /// [`Drafter::backlog`]: crate::Drafter::backlog
    pub fn next_k(&mut self, drafter: Option<DrafterKind>, backlog: usize) -> usize {
        let Some(kind) = drafter else { return 0 };
        let max = match self.length {
            DraftLength::Fixed(k) => return k,
            DraftLength::Auto { max } => max,
        };
        let known = self.drafters[kind.index()].alpha.known();
        let Some((best, wins)) = self.best(kind, max).filter(|_| known) else {
            // Nothing known yet: explore, where that is cheap.
            return if backlog <= MAX_TRIAL_BACKLOG { INITIAL_K.min(max) } else { 0 };
        };
        let probes = &mut self.drafters[kind.index()].probes;
        if wins {
            probes.plain_run = 0;
            probes.quick = false;
            // Speculating is chosen against the one-token time, which only plain steps
            // measure. A desktop's memory can get faster or slower under an answer (on the
            // machine the bench figures come from, plain decoding runs at 43 or 31 tokens a
            // second depending on it), and a time from the slow state makes plain decoding
            // look 40% dearer than it is in the fast one. So a policy that speculates for
            // long, or has never decoded plainly (the first answer after loading), takes a
            // plain step to time it: one step of speculation in PLAIN_RECHECK at most.
            if self.verify.one_is_stale() {
                return 0;
            }
            return best;
        }
        if let Some(saved) = probes.trial.take() {
            probes.every = if saved > 0.0 { PROBE_BASE } else { (probes.every * 2).min(PROBE_MAX) };
        }
        probes.plain_run += 1;
        let delay = if kind == DrafterKind::Ngram { 0 } else { START_PROBE_AFTER };
        let quick = probes.quick && probes.plain_run > delay;
        let due = probes.plain_run > probes.every || quick;
        if due && max > 0 && backlog <= MAX_TRIAL_BACKLOG {
            probes.plain_run = 0;
            probes.quick = false;
            self.probing = Some(Probe { kind, quick });
            return best.clamp(1, PROBE_K.min(max));
        }
        0
    }

    /// The best draft length for `kind` up to `max` (0 = plain), and whether it beats
    /// plain decoding by the margin; `None` before any verification was timed.
    fn best(&self, kind: DrafterKind, max: usize) -> Option<(usize, bool)> {
        let rates = self.rates(&self.drafters[kind.index()], max)?;
        let plain = rates[0];
        let mut best = (0, plain);
        for (k, &r) in rates.iter().enumerate().skip(1) {
            if r > best.1 {
                best = (k, r);
            }
        }
        Some((best.0, best.0 > 0 && best.1 > plain * (1.0 + MARGIN)))
    }

    /// Learns from one finished step.
    ///
    /// A probe restarts the averages it feeds: after a plain stretch they are stale, and the
    /// probe with the steps after it must show a change within a few steps, either way. (A
    /// probe weighted 0.5 followed by steps at the steady 0.1: one lucky probe on the bench
    /// prompt `zh-explain` lifted the first draft's acceptance from 0.57 to 0.79, and
    /// only four or five rejections in a row brought it back to where plain decoding won.)
    ///
    /// A probe that does not leave its drafter winning doubles that drafter's probe
    /// interval, unless it was a quick probe. One that does is judged when the
    /// speculative steps it started end: by whether they saved time against plain decoding,
    /// the probe's catching up included. Judged at once, a probe that happened to be right
    /// reset the interval, and on `zh-explain` (first drafts right about half the time) the
    /// draft model caught up on 17 tokens, about one and a half target steps, every 17
    /// steps for one or two speculative steps that did not pay.
    ///
    /// A probe whose drafts were all accepted but that left speculating short of winning
    /// is owed a quick second look (see [`Probes::quick`]).
    pub fn observe(&mut self, t: &StepTiming) {
        let probed = self.probing.take();
        self.learn(t, probed.is_some());
        let DraftLength::Auto { max } = self.length else { return };
        if let Some(probe) = probed {
            let wins = self.best(probe.kind, max).is_some_and(|(_, wins)| wins);
            let probes = &mut self.drafters[probe.kind.index()].probes;
            if probe.quick {
                probes.every = PROBE_BASE;
            } else if wins {
                probes.trial = Some(0.0);
            } else {
                probes.every = (probes.every * 2).min(PROBE_MAX);
            }
            probes.quick = !wins && t.drafted > 0 && t.accepted == t.drafted;
        }
        if let (Some(kind), Some(plain_ms)) = (t.drafter, self.verify.estimate(1)) {
            if let Some(saved) = &mut self.drafters[kind.index()].probes.trial {
                *saved += (t.accepted + 1) as f64 * plain_ms - (t.draft_ms + t.verify_ms);
            }
        }
    }

    fn learn(&mut self, t: &StepTiming, restart: bool) {
        self.verify.observe(1 + t.drafted, t.verify_ms, restart);
        let Some(kind) = t.drafter.filter(|_| t.requested > 0) else { return };
        let stats = &mut self.drafters[kind.index()];
        if t.backlog <= STEADY_BACKLOG && t.forwards > 0 {
            stats.cost_per_forward.learn(t.draft_ms / t.forwards as f64, restart);
        }
        // The drafter was asked for position j and had proposed every earlier one: it went on
        // up to `drafted`, and stopped there if that is short of the request.
        let asked = (t.drafted + 1).min(t.requested);
        if stats.proposes_at.len() < asked {
            stats.proposes_at.resize(asked, Ema::default());
        }
        for (j, e) in stats.proposes_at[..asked].iter_mut().enumerate() {
            e.learn(if j < t.drafted { 1.0 } else { 0.0 }, restart);
        }
        // Proposed position j was tested if every earlier draft was accepted.
        let tested = t.drafted.min(t.accepted + 1);
        if stats.alpha_at.len() < tested {
            stats.alpha_at.resize(tested, Ema::default());
        }
        for (j, e) in stats.alpha_at[..tested].iter_mut().enumerate() {
            e.learn(if j < t.accepted { 1.0 } else { 0.0 }, restart);
        }
        // Every draft was accepted, so the position after them went untested; its estimate
        // drifts toward the drafter's overall acceptance. A position learns only when drafts
        // reach it, so without this a few early rejections there stood for the rest of the
        // answer: on the bench prompt `code-csv` the third draft's estimate stuck at 0.6 to
        // 0.75 while the first two ran at 0.9 and 0.98, and drafts stayed at two tokens for
        // the last 34 steps of the answer. Drifting back, it is tested again within ten or
        // so such steps.
        if t.drafted > 0 && t.accepted == t.drafted {
            let overall = stats.alpha.value();
            if let Some(next) = stats.alpha_at.get_mut(t.drafted) {
                next.drift(overall);
            }
        }
        if tested > 0 {
            stats.alpha.learn(t.accepted, tested, restart);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    /// A synthetic world: each draft position is accepted with probability `alpha(step)`,
    /// drafting costs `draft` ms per token and verifying n tokens costs `verify(n)` ms.
    struct World<'a> {
        alpha: &'a dyn Fn(usize) -> f64,
        draft: f64,
        verify: &'a dyn Fn(usize) -> f64,
    }

    #[derive(Default, Debug)]
    struct Run {
        tokens: f64,
        ms: f64,
        ks: Vec<usize>,
    }

    fn simulate(policy: &mut Policy, world: &World, steps: usize, seed: u64) -> Run {
        let mut rng = Rng::new(seed);
        let mut run = Run::default();
        for step in 0..steps {
            let k = policy.next_k(Some(DrafterKind::Model), 0);
            let mut accepted = 0;
            while accepted < k && rng.next_f64() < (world.alpha)(step) {
                accepted += 1;
            }
            let t = StepTiming {
                drafter: Some(DrafterKind::Model),
                requested: k,
                drafted: k,
                accepted,
                backlog: 0,
                forwards: k,
                draft_ms: k as f64 * world.draft,
                verify_ms: (world.verify)(k + 1),
            };
            policy.observe(&t);
            run.tokens += (accepted + 1) as f64;
            run.ms += t.draft_ms + t.verify_ms;
            run.ks.push(k);
        }
        run
    }

    fn plain_share(ks: &[usize]) -> f64 {
        ks.iter().filter(|&&k| k == 0).count() as f64 / ks.len() as f64
    }

    /// A step that drafted all `k` tokens asked of the draft model (a plain one for 0),
    /// `accepted` of them right, one token behind.
    fn full_draft_step(k: usize, accepted: usize, draft_ms: f64, verify_ms: f64) -> StepTiming {
        StepTiming {
            drafter: Some(DrafterKind::Model).filter(|_| k > 0),
            requested: k,
            drafted: k,
            accepted,
            forwards: k,
            backlog: 1,
            draft_ms,
            verify_ms,
        }
    }

    /// A plain step whose target call took `verify_ms`.
    fn plain_step(verify_ms: f64) -> StepTiming {
        StepTiming {
            drafter: None,
            requested: 0,
            drafted: 0,
            accepted: 0,
            forwards: 0,
            backlog: 0,
            draft_ms: 0.0,
            verify_ms,
        }
    }

    #[test]
    fn expensive_verification_and_low_acceptance_converge_to_plain() {
        let world = World { alpha: &|_| 0.3, draft: 8.0, verify: &|n| 20.0 + 10.0 * n as f64 };
        let mut p = Policy::new(DraftLength::Auto { max: 8 });
        let run = simulate(&mut p, &world, 3000, 1);
        let tail = &run.ks[1000..];
        assert!(plain_share(tail) > 0.97, "plain share {}", plain_share(tail));
        // It keeps probing, ever more rarely.
        let probes_early = run.ks[..1000].iter().filter(|&&k| k > 0).count();
        let probes_late = run.ks[2000..].iter().filter(|&&k| k > 0).count();
        assert!(probes_late >= 1 && probes_late <= probes_early, "{probes_early} then {probes_late}");
        // Throughput is close to plain decoding's 1/30 tokens per ms.
        assert!(run.tokens / run.ms > 0.95 / 30.0);
    }

    #[test]
    fn cheap_verification_and_high_acceptance_speculate() {
        let world = World { alpha: &|_| 0.9, draft: 1.0, verify: &|n| 30.0 + 1.0 * n as f64 };
        let mut p = Policy::new(DraftLength::Auto { max: 8 });
        let run = simulate(&mut p, &world, 500, 2);
        let tail = &run.ks[100..];
        assert!(plain_share(tail) < 0.05, "plain share {}", plain_share(tail));
        let mean_k = tail.iter().sum::<usize>() as f64 / tail.len() as f64;
        assert!(mean_k >= 4.0, "mean k {mean_k}");
        // Much better than plain (1/31 tokens per ms).
        assert!(run.tokens / run.ms > 2.0 / 31.0);
    }

    #[test]
    fn notices_when_speculation_starts_to_pay() {
        let world = World {
            alpha: &|step| if step < 1500 { 0.1 } else { 0.95 },
            draft: 1.0,
            verify: &|n| 30.0 + 2.0 * n as f64,
        };
        let mut p = Policy::new(DraftLength::Auto { max: 6 });
        let run = simulate(&mut p, &world, 3000, 3);
        assert!(plain_share(&run.ks[1000..1500]) > 0.9);
        assert!(plain_share(&run.ks[2500..]) < 0.05, "plain share {}", plain_share(&run.ks[2500..]));
    }

    #[test]
    fn every_answer_probes_again_at_its_start() {
        let mut p = Policy::new(DraftLength::Auto { max: 6 });
        let world = World { alpha: &|_| 0.05, draft: 30.0, verify: &|n| 50.0 + 20.0 * n as f64 };
        simulate(&mut p, &world, 3000, 7);
        p.drafters[DrafterKind::Model.index()].probes.plain_run = 0;
        assert_eq!(p.next_k(Some(DrafterKind::Model), 0), 0, "within an answer it stays plain");
        p.start_answer();
        for step in 0..START_PROBE_AFTER {
            assert_eq!(p.next_k(Some(DrafterKind::Model), 0), 0, "not at the answer's step {step}");
        }
        assert_eq!(p.next_k(Some(DrafterKind::Model), MAX_TRIAL_BACKLOG + 1), 0, "not behind a long backlog");
        assert!(p.next_k(Some(DrafterKind::Model), 0) > 0, "the next cheap step of a new answer probes");
        assert_eq!(p.next_k(Some(DrafterKind::Model), 0), 0, "once");
    }

    #[test]
    fn a_failed_start_probe_leaves_a_second_chance_within_the_answer() {
        let mut p = Policy::new(DraftLength::Auto { max: 6 });
        let world = World { alpha: &|_| 0.05, draft: 30.0, verify: &|n| 50.0 + 20.0 * n as f64 };
        simulate(&mut p, &world, 500, 13);
        p.start_answer();
        let mut backlog = 0;
        let k = loop {
            backlog += 1;
            match p.next_k(Some(DrafterKind::Model), backlog) {
                0 => continue,
                k => break k,
            }
        };
        p.observe(&StepTiming {
            drafter: Some(DrafterKind::Model),
            requested: k,
            drafted: k,
            accepted: 0,
            backlog: 3,
            forwards: k,
            draft_ms: 30.0 * k as f64,
            verify_ms: 50.0 + 20.0 * (k + 1) as f64,
        });
        // The draft model sat out the probe interval: that many tokens behind, a doubled
        // interval would have put it past the backlog a trial may have.
        let waited = (1..=MAX_TRIAL_BACKLOG).find(|&backlog| p.next_k(Some(DrafterKind::Model), backlog) > 0);
        assert_eq!(waited, Some(PROBE_BASE + 1));
    }

    #[test]
    fn a_failed_lookup_probe_leaves_the_draft_models_probe_for_the_answer() {
        let mut p = Policy::new(DraftLength::Auto { max: 6 });
        // Both drafters known to lose; then a new answer.
        let world = World { alpha: &|_| 0.05, draft: 30.0, verify: &|n| 50.0 + 20.0 * n as f64 };
        simulate(&mut p, &world, 500, 9);
        let lookup = StepTiming {
            drafter: Some(DrafterKind::Ngram),
            requested: 3,
            drafted: 3,
            accepted: 0,
            backlog: 0,
            forwards: 0,
            draft_ms: 0.0,
            verify_ms: 110.0,
        };
        p.observe(&lookup);
        p.start_answer();
        let k = p.next_k(Some(DrafterKind::Ngram), 0);
        assert!(k > 0, "prompt lookup is probed at the start");
        p.observe(&StepTiming { requested: k, drafted: k, ..lookup });
        let at = (1..=START_PROBE_AFTER + 1).find(|_| p.next_k(Some(DrafterKind::Model), 3) > 0);
        assert_eq!(at, Some(START_PROBE_AFTER + 1), "so is the draft model, once on offer as long");
        assert_eq!(p.next_k(Some(DrafterKind::Model), 3), 0, "once");
    }

    #[test]
    fn a_probes_last_rejection_does_not_outweigh_its_acceptances() {
        let mut p = Policy::new(DraftLength::Auto { max: 6 });
        let world = World { alpha: &|_| 0.5, draft: 1.0, verify: &|n| 30.0 + 1.0 * n as f64 };
        simulate(&mut p, &world, 400, 11);
        let model = DrafterKind::Model.index();
        let before = p.drafters[model].alpha.value();
        assert!((before - 0.5).abs() < 0.15 && before < 2.0 / 3.0, "learned {before}");
        p.probing = Some(Probe { kind: DrafterKind::Model, quick: false });
        p.observe(&StepTiming {
            drafter: Some(DrafterKind::Model),
            requested: 3,
            drafted: 3,
            accepted: 2,
            backlog: 0,
            forwards: 3,
            draft_ms: 90.0,
            verify_ms: 130.0,
        });
        assert!(p.drafters[model].alpha.value() > before, "two of three accepted raise {before}");
    }

    #[test]
    fn a_new_answer_does_not_inherit_a_positions_low_acceptance() {
        let mut p = Policy::new(DraftLength::Auto { max: 6 });
        let step =
            |k: usize, accepted: usize| full_draft_step(k, accepted, 5.0 * k as f64, 30.0 + 3.0 * (k + 1) as f64);
        p.observe(&plain_step(33.0));
        // An answer where the second draft was always wrong: drafts shrink to one token.
        for _ in 0..50 {
            let k = p.next_k(Some(DrafterKind::Model), 1).max(2);
            p.observe(&step(k, 1));
        }
        assert_eq!(p.next_k(Some(DrafterKind::Model), 1), 1);
        // The next answer's one-token drafts are all accepted: longer drafts are tried.
        p.start_answer();
        let longer = (0..20).any(|_| {
            let k = p.next_k(Some(DrafterKind::Model), 1);
            p.observe(&step(k, k));
            k > 1
        });
        assert!(longer, "drafts stayed at one token");
    }

    #[test]
    fn a_few_early_rejections_do_not_cap_the_draft_length() {
        // The third draft is rejected the first five times it is tested, then every draft is
        // right: drafts must grow past two tokens again within the answer.
        let mut p = Policy::new(DraftLength::Auto { max: 6 });
        let mut third_tests = 0;
        let mut ks = Vec::new();
        for _ in 0..200 {
            let k = p.next_k(Some(DrafterKind::Model), 1);
            let accepted = if k >= 3 && third_tests < 5 {
                third_tests += 1;
                2
            } else {
                k
            };
            p.observe(&full_draft_step(k, accepted, 5.0 * k as f64, 30.0 + 3.0 * (k + 1) as f64));
            ks.push(k);
        }
        assert_eq!(third_tests, 5, "{ks:?}");
        // Speculating throughout, but for plain decoding timed now and then.
        assert!(plain_share(&ks[100..]) < 0.05 && ks[100..].iter().all(|&k| k == 0 || k > 2), "{:?}", &ks[100..]);
    }

    #[test]
    fn plain_decoding_is_timed_again_while_speculating() {
        // Memory gets faster after 200 steps: a one-token call falls from 40 to 20 ms, and
        // longer calls by as much. Drafts pay at 40 ms and lose at 20, but only plain
        // steps show that plain decoding got cheaper.
        let mut p = Policy::new(DraftLength::Auto { max: 4 });
        let base = |step: usize| if step < 200 { 40.0 } else { 20.0 };
        let mut rng = Rng::new(5);
        let mut ks = Vec::new();
        for step in 0..400 {
            let k = p.next_k(Some(DrafterKind::Model), 1);
            let mut accepted = 0;
            while accepted < k && rng.next_f64() < 0.8 {
                accepted += 1;
            }
            let verify_ms = if k == 0 { base(step) } else { base(step) + 6.0 + 2.0 * (k - 1) as f64 };
            p.observe(&full_draft_step(k, accepted, 10.0 * k as f64, verify_ms));
            ks.push(k);
        }
        assert!(plain_share(&ks[100..200]) < 0.05, "{:?}", &ks[100..200]);
        assert!(plain_share(&ks[300..]) > 0.8, "{:?}", &ks[300..]);
    }

    #[test]
    fn a_draft_cut_short_by_doubt_is_not_asked_for_again() {
        // The draft model's first token is right 80% of the time, but it doubts every second
        // one and stops there: asking for two costs a second forward for nothing.
        let mut p = Policy::new(DraftLength::Auto { max: 6 });
        let mut rng = Rng::new(19);
        let mut ks = Vec::new();
        for _ in 0..200 {
            let k = p.next_k(Some(DrafterKind::Model), 1);
            let drafted = k.min(1);
            let forwards = k.min(2);
            p.observe(&StepTiming {
                drafter: Some(DrafterKind::Model).filter(|_| k > 0),
                requested: k,
                drafted,
                accepted: (drafted == 1 && rng.next_f64() < 0.8) as usize,
                forwards,
                backlog: 1,
                draft_ms: 10.0 * forwards as f64,
                verify_ms: 30.0 + 3.0 * (1 + drafted) as f64,
            });
            ks.push(k);
        }
        assert!(plain_share(&ks[100..]) < 0.05 && ks[100..].iter().all(|&k| k <= 1), "{:?}", &ks[100..]);
    }

    /// A policy that learned that first drafts are right a third of the time, where
    /// speculating pays above about a half, run plain up to its next probe, 17 tokens
    /// behind. Returns it with the probe's length and the probe interval it waited.
    fn at_a_probe_after_low_acceptance() -> (Policy, usize, usize) {
        let world = World { alpha: &|_| 0.35, draft: 11.0, verify: &|n| 30.0 + 3.0 * n as f64 };
        let mut p = Policy::new(DraftLength::Auto { max: 4 });
        let run = simulate(&mut p, &world, 400, 23);
        assert!(plain_share(&run.ks[200..]) > 0.9);
        let probes = &mut p.drafters[DrafterKind::Model.index()].probes;
        probes.plain_run = 0;
        probes.every = PROBE_BASE;
        let every = PROBE_BASE;
        for _ in 0..every {
            assert_eq!(p.next_k(Some(DrafterKind::Model), 1), 0);
            p.observe(&low_acceptance_step(0, 0, 1));
        }
        let k = p.next_k(Some(DrafterKind::Model), every + 1);
        assert!(k > 0, "the probe is due");
        (p, k, every)
    }

    /// A step of the world above, `behind` tokens behind (2.3 ms a token to catch up).
    fn low_acceptance_step(k: usize, accepted: usize, behind: usize) -> StepTiming {
        let catch_up = if behind > STEADY_BACKLOG { 2.3 * behind as f64 } else { 0.0 };
        StepTiming {
            backlog: behind,
            ..full_draft_step(k, accepted, 11.0 * k as f64 + catch_up, 30.0 + 3.0 * (k + 1) as f64)
        }
    }

    /// Takes the draft steps the policy asks for, step i's k drafts with `accepted(i, k)` of
    /// them accepted, until it decodes plainly or `limit` steps ran; returns how many ran.
    fn speculate_until_plain(p: &mut Policy, limit: usize, accepted: impl Fn(usize, usize) -> usize) -> usize {
        let mut steps = 0;
        while steps < limit {
            match p.next_k(Some(DrafterKind::Model), 1) {
                0 => break,
                k => p.observe(&low_acceptance_step(k, accepted(steps, k), 1)),
            }
            steps += 1;
        }
        steps
    }

    #[test]
    fn one_lucky_probe_does_not_outweigh_the_misses_after_it() {
        let (mut p, k, every) = at_a_probe_after_low_acceptance();
        // The probe's drafts are all accepted; every later one is not.
        p.observe(&low_acceptance_step(k, k, every + 1));
        let losing = speculate_until_plain(&mut p, 10, |_, _| 0);
        assert_eq!(losing, 1, "speculative steps after the probe, all rejected");
        // The probe and the step after it cost more than plain decoding, catching up
        // included: the next probe waits twice as long.
        let probes = p.drafters[DrafterKind::Model.index()].probes;
        assert_eq!(probes.every, (2 * every).min(PROBE_MAX));
    }

    #[test]
    fn a_probe_whose_steps_saved_time_keeps_probes_frequent() {
        let (mut p, k, every) = at_a_probe_after_low_acceptance();
        // The text changed: drafts are accepted for a while, then no more.
        p.observe(&low_acceptance_step(k, k, every + 1));
        let steps = speculate_until_plain(&mut p, 100, |i, k| if i < 10 { k } else { 0 });
        assert!((10..100).contains(&steps), "{steps} speculative steps");
        assert_eq!(p.drafters[DrafterKind::Model.index()].probes.every, PROBE_BASE);
    }

    #[test]
    fn drafting_cost_is_learned_per_forward() {
        let mut p = Policy::new(DraftLength::Auto { max: 8 });
        let cost = |p: &Policy| p.drafters[DrafterKind::Model.index()].cost_per_forward.value;
        // Asked for eight, the draft model doubted its fourth guess: four forwards, three drafts.
        p.observe(&StepTiming {
            drafter: Some(DrafterKind::Model),
            requested: 8,
            drafted: 3,
            accepted: 1,
            forwards: 4,
            backlog: 1,
            draft_ms: 40.0,
            verify_ms: 50.0,
        });
        assert_eq!(cost(&p), 10.0);
    }

    #[test]
    fn catching_up_is_not_taken_for_the_cost_of_drafting() {
        let mut p = Policy::new(DraftLength::Auto { max: 6 });
        let world = World { alpha: &|_| 0.8, draft: 15.0, verify: &|n| 30.0 + 5.0 * n as f64 };
        simulate(&mut p, &world, 300, 17);
        let cost = |p: &Policy| p.drafters[DrafterKind::Model.index()].cost_per_forward.value;
        let learned = cost(&p);
        assert!((learned - 15.0).abs() < 1e-6, "learned {learned}");
        // One token drafted after catching up on 17: mostly the catching up.
        let after_stretch = StepTiming {
            drafter: Some(DrafterKind::Model),
            requested: 1,
            drafted: 1,
            accepted: 1,
            backlog: PROBE_BASE + 1,
            forwards: 1,
            draft_ms: 70.0,
            verify_ms: 40.0,
        };
        p.observe(&after_stretch);
        assert_eq!(cost(&p), learned);
        p.observe(&StepTiming { backlog: STEADY_BACKLOG, draft_ms: 20.0, ..after_stretch });
        assert!(cost(&p) > learned, "a steady step is learned from");
    }

    #[test]
    fn trials_wait_until_catching_up_is_cheap() {
        let mut p = Policy::new(DraftLength::Auto { max: 6 });
        assert_eq!(
            p.next_k(Some(DrafterKind::Model), MAX_TRIAL_BACKLOG + 1),
            0,
            "no exploration behind a long backlog"
        );
        assert_eq!(p.next_k(Some(DrafterKind::Model), 1), INITIAL_K);
        // Teach it that speculation does not pay, then run past the probe interval.
        let world = World { alpha: &|_| 0.2, draft: 30.0, verify: &|n| 50.0 + 20.0 * n as f64 };
        simulate(&mut p, &world, 200, 5);
        let mut probes_behind_backlog = 0;
        for _ in 0..4 * PROBE_MAX {
            if p.next_k(Some(DrafterKind::Model), MAX_TRIAL_BACKLOG + 1) > 0 {
                probes_behind_backlog += 1;
            }
        }
        assert_eq!(probes_behind_backlog, 0, "a probe never starts behind a long backlog");
        // A draft model that sat out one probe interval of plain steps is 17 tokens behind:
        // one draft forward over them is cheap enough to try it again.
        assert!(
            p.next_k(Some(DrafterKind::Model), PROBE_BASE + 1) > 0,
            "the overdue probe runs once catching up is cheap"
        );
    }

    #[test]
    fn fixed_length_and_no_drafter_are_obeyed() {
        let mut p = Policy::new(DraftLength::Fixed(5));
        assert_eq!(p.next_k(Some(DrafterKind::Ngram), 0), 5);
        assert_eq!(p.next_k(None, 0), 0);
        let mut p = Policy::new(DraftLength::Auto { max: 0 });
        for _ in 0..100 {
            assert_eq!(p.next_k(Some(DrafterKind::Model), 0), 0);
        }
        let mut p = Policy::new(DraftLength::Auto { max: 2 });
        assert_eq!(p.next_k(Some(DrafterKind::Model), 0), 2, "exploration stays within max");
    }

    #[test]
    fn verify_cost_fills_unmeasured_lengths_linearly() {
        let mut v = VerifyCost::default();
        assert_eq!(v.estimate(1), None);
        v.observe(1, 40.0, false);
        // One length known: the prior slope extrapolates.
        assert!((v.estimate(3).unwrap() - 40.0 * (1.0 + 2.0 * PRIOR_SLOPE)).abs() < 1e-9);
        v.observe(5, 60.0, false);
        assert!((v.estimate(3).unwrap() - 50.0).abs() < 1e-9);
        assert!((v.estimate(9).unwrap() - 80.0).abs() < 1e-9);
        // A well-measured length uses its own average.
        for _ in 0..3 {
            v.observe(2, 70.0, false);
        }
        assert!((v.estimate(2).unwrap() - 70.0).abs() < 1e-9);
    }
}
