//! The same prompt answered plainly and speculatively, one after the other on the same
//! loaded pair, so a newcomer sees what speculation buys here (or that the policy chose
//! plain decoding: then the speculative run drafted nothing).

use serde::Serialize;
use tandem_models::ChatMessage;

use crate::app::App;
use crate::error::Result;
use crate::text::{GenEvent, StatsView};

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RaceResult {
    pub plain: StatsView,
    pub speculative: StatsView,
    /// Greedy speculative output equals plain output; with sampling they may differ.
    pub identical: bool,
}

impl App {
    pub fn race(
        &self,
        prompt: &str,
        on_plain: &mut dyn FnMut(GenEvent),
        on_speculative: &mut dyn FnMut(GenEvent),
    ) -> Result<RaceResult> {
        let mut engine = self.engine()?;
        let loaded = engine.as_mut().expect("checked by engine()");
        let ids = loaded.runtime.chat_prompt(&[ChatMessage::user(prompt.to_string())])?;
        let sampling = self.settings().sampling();
        let (plain_text, plain) = self.answer(loaded, &ids, &sampling, false, None, on_plain)?;
        let (spec_text, spec) = self.answer(loaded, &ids, &sampling, true, None, on_speculative)?;
        let (GenEvent::Done { stats: plain, .. }, GenEvent::Done { stats: speculative, .. }) = (plain, spec) else {
            unreachable!("answer returns Done")
        };
        Ok(RaceResult { identical: plain_text == spec_text, plain, speculative })
    }
}
