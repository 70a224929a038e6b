//! App settings: JSON values under string keys.

use std::collections::BTreeMap;

use sqlx::Row;

use crate::error::StoreError;
use crate::store::Store;
use crate::time::now_ms;

fn parse(key: &str, text: &str) -> Result<serde_json::Value, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("setting {key:?}: {e}")))
}

impl Store {
    /// The value of `key`, `None` when it was never set.
    pub fn setting(&self, key: &str) -> Result<Option<serde_json::Value>, StoreError> {
        self.run(async {
            let text: Option<String> = sqlx::query_scalar("SELECT value FROM app_settings WHERE key = ?")
                .bind(key)
                .fetch_optional(self.pool())
                .await?;
            text.map(|t| parse(key, &t)).transpose()
        })
    }

    /// Sets `key` to `value`, replacing what was there.
    pub fn set_setting(&self, key: &str, value: &serde_json::Value) -> Result<(), StoreError> {
        self.run(async {
            sqlx::query(
                "INSERT INTO app_settings (key, value, updated_at) VALUES (?, ?, ?)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            )
            .bind(key)
            .bind(value.to_string())
            .bind(now_ms())
            .execute(self.pool())
            .await?;
            Ok(())
        })
    }

    /// Every setting.
    pub fn settings(&self) -> Result<BTreeMap<String, serde_json::Value>, StoreError> {
        self.run(async {
            let rows = sqlx::query("SELECT key, value FROM app_settings").fetch_all(self.pool()).await?;
            rows.iter()
                .map(|r| {
                    let key: String = r.try_get("key")?;
                    let value = parse(&key, r.try_get("value")?)?;
                    Ok((key, value))
                })
                .collect()
        })
    }
}
