//! The configuration-file form of a [`RetryPolicy`]: every key optional, durations as human
//! strings (`"250ms"`, `"1s"`, `"2m"`), unknown keys rejected with their name, and the result
//! checked by the same builder as a policy written in code.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{Jitter, PolicyError, RetryPolicy};

/// The table a configuration file writes, e.g. `retry = { attempts = 3, base_delay = "1s" }`.
/// Missing keys take the defaults; unknown keys are an error naming the key.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RetryPolicyConfig {
    #[serde(
        default,
        alias = "max_attempts",
        skip_serializing_if = "Option::is_none"
    )]
    attempts: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    base_delay: Option<HumanDuration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    factor: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_delay: Option<HumanDuration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    jitter: Option<Jitter>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_elapsed: Option<HumanDuration>,
}

impl TryFrom<RetryPolicyConfig> for RetryPolicy {
    type Error = PolicyError;

    fn try_from(config: RetryPolicyConfig) -> Result<Self, PolicyError> {
        let defaults = RetryPolicy::default();
        RetryPolicy::builder()
            .max_attempts(config.attempts.unwrap_or(defaults.max_attempts))
            .base_delay(config.base_delay.map_or(defaults.base_delay, |d| d.0))
            .factor(config.factor.unwrap_or(defaults.factor))
            .max_delay(config.max_delay.map_or(defaults.max_delay, |d| d.0))
            .jitter(config.jitter.unwrap_or(defaults.jitter))
            .max_elapsed(config.max_elapsed.map(|d| d.0))
            .build()
    }
}

impl From<RetryPolicy> for RetryPolicyConfig {
    fn from(policy: RetryPolicy) -> Self {
        Self {
            attempts: Some(policy.max_attempts),
            base_delay: Some(HumanDuration(policy.base_delay)),
            factor: Some(policy.factor),
            max_delay: Some(HumanDuration(policy.max_delay)),
            jitter: Some(policy.jitter),
            max_elapsed: policy.max_elapsed.map(HumanDuration),
        }
    }
}

/// A duration written as a human string ("250ms", "1s", "2m", "1h 30m").
#[derive(Debug, Clone, Copy)]
struct HumanDuration(Duration);

impl Serialize for HumanDuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&humantime::format_duration(self.0))
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(HumanDurationVisitor)
    }
}

struct HumanDurationVisitor;

impl serde::de::Visitor<'_> for HumanDurationVisitor {
    type Value = HumanDuration;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(r#"a duration with a unit, such as "250ms", "1s" or "2m""#)
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<HumanDuration, E> {
        humantime::parse_duration(text)
            .map(HumanDuration)
            .map_err(|cause| {
                E::custom(format_args!(
                    r#"invalid duration "{text}" ({cause}); write a number and a unit, such as "250ms", "1s" or "2m""#
                ))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from_toml(text: &str) -> Result<RetryPolicy, toml::de::Error> {
        toml::from_str(text)
    }

    #[test]
    fn empty_table_gives_the_defaults() {
        assert_eq!(from_toml("").unwrap(), RetryPolicy::default());
    }

    #[test]
    fn human_durations_are_read() {
        let policy = from_toml(
            r#"
            attempts = 4
            base_delay = "250ms"
            factor = 1.5
            max_delay = "2m"
            jitter = "none"
            max_elapsed = "1h 30m"
            "#,
        )
        .unwrap();
        assert_eq!(policy.max_attempts(), 4);
        assert_eq!(policy.base_delay(), Duration::from_millis(250));
        assert_eq!(policy.factor(), 1.5);
        assert_eq!(policy.max_delay(), Duration::from_secs(120));
        assert_eq!(policy.jitter(), Jitter::None);
        assert_eq!(policy.max_elapsed(), Some(Duration::from_secs(5400)));
    }

    #[test]
    fn max_attempts_is_accepted_as_an_alias() {
        assert_eq!(from_toml("max_attempts = 7").unwrap().max_attempts(), 7);
    }

    #[test]
    fn unknown_key_is_named() {
        let err = from_toml("attempt = 3").unwrap_err().to_string();
        assert!(err.contains("unknown field `attempt`"), "{err}");
    }

    #[test]
    fn duration_without_unit_says_what_to_write() {
        let err = from_toml(r#"base_delay = "5""#).unwrap_err().to_string();
        assert!(err.contains(r#"invalid duration "5""#), "{err}");
        assert!(err.contains(r#""250ms""#), "{err}");
    }

    #[test]
    fn bare_number_for_a_duration_is_rejected() {
        let err = from_toml("max_delay = 30").unwrap_err().to_string();
        assert!(err.contains(r#"such as "250ms""#), "{err}");
    }

    #[test]
    fn invalid_values_fail_with_the_policy_error() {
        let err = from_toml("attempts = 0").unwrap_err().to_string();
        assert!(err.contains("max_attempts must be at least 1"), "{err}");
        let err = from_toml(r#"base_delay = "1m""#).unwrap_err().to_string();
        assert!(err.contains("longer than max_delay"), "{err}");
    }

    #[test]
    fn json_round_trips() {
        let policy = RetryPolicy::builder()
            .max_attempts(5)
            .base_delay(Duration::from_millis(250))
            .max_elapsed(Some(Duration::from_secs(90)))
            .build()
            .unwrap();
        let json = serde_json::to_value(policy).unwrap();
        assert_eq!(json["base_delay"], "250ms");
        assert_eq!(json["max_elapsed"], "1m 30s");
        assert_eq!(serde_json::from_value::<RetryPolicy>(json).unwrap(), policy);
    }
}
