//! The person's settings, kept in the history database so they survive restarts.

use serde::{Deserialize, Serialize};
use tandem_store::Store;

use crate::error::Result;
use crate::runtime::{DrafterChoice, Sampling};

const KEY: &str = "app.settings";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Settings {
    pub drafter: DrafterChoice,
    /// `"auto"` lets the policy choose (and fall back to plain decoding); a number fixes it.
    #[serde(with = "draft_length")]
    pub draft_length: Option<usize>,
    pub temperature: f32,
    pub top_p: f32,
    pub seed: Option<u64>,
    pub max_tokens: usize,
    pub system_prompt: String,
    pub language: String,
    pub theme: String,
    /// Keep rejected guesses on screen (struck through) instead of letting them fade.
    pub keep_rejected: bool,
    pub target_device: String,
    pub draft_device: String,
    pub hf_token: Option<String>,
    pub hf_endpoint: Option<String>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            drafter: DrafterChoice::Auto,
            draft_length: None,
            temperature: 0.0,
            top_p: 1.0,
            seed: None,
            max_tokens: 1024,
            system_prompt: String::new(),
            language: "en".into(),
            theme: "system".into(),
            keep_rejected: false,
            target_device: "auto".into(),
            draft_device: "auto".into(),
            hf_token: None,
            hf_endpoint: None,
        }
    }
}

impl Settings {
    /// The saved settings, or the defaults when there are none yet (`None` = first run).
    pub fn load(store: &Store) -> Result<Option<Settings>> {
        Ok(store.setting(KEY)?.map(|v| serde_json::from_value(v).unwrap_or_default()))
    }

    pub fn save(&self, store: &Store) -> Result<()> {
        store.set_setting(KEY, &serde_json::to_value(self).expect("plain data serialises"))?;
        Ok(())
    }

    /// Checks values a person could have typed wrong.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: &str| Err(crate::SessionError::invalid(m));
        if !(0.0..=2.0).contains(&self.temperature) {
            return bad("temperature must be between 0 and 2");
        }
        if !(self.top_p > 0.0 && self.top_p <= 1.0) {
            return bad("top-p must be above 0 and at most 1");
        }
        if self.draft_length.is_some_and(|k| !(1..=16).contains(&k)) {
            return bad("the draft length must be between 1 and 16, or automatic");
        }
        if !(1..=8192).contains(&self.max_tokens) {
            return bad("the answer length must be between 1 and 8192 tokens");
        }
        // Whether the device is present is checked when a pair is loaded, with its memory.
        tandem_models::DeviceChoice::parse(&self.target_device)?;
        tandem_models::DeviceChoice::parse(&self.draft_device)?;
        Ok(())
    }

    pub fn sampling(&self) -> Sampling {
        Sampling {
            max_tokens: self.max_tokens,
            temperature: self.temperature,
            top_p: self.top_p,
            seed: self.seed.unwrap_or(0),
            stop: Vec::new(),
        }
    }
}

mod draft_length {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &Option<usize>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            None => s.serialize_str("auto"),
            Some(k) => s.serialize_u64(*k as u64),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<usize>, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Auto(String),
            Fixed(usize),
        }
        match Raw::deserialize(d)? {
            Raw::Fixed(k) => Ok(Some(k)),
            Raw::Auto(s) if s == "auto" => Ok(None),
            Raw::Auto(s) => {
                Err(serde::de::Error::custom(format!("draft length must be \"auto\" or a number, not {s:?}")))
            }
        }
    }
}
