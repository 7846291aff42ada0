//! What a tagging run would cost, for `--dry-run`. The one place prices live.
//!
//! Source: cloud.google.com/vision/pricing, read 2026-11-24. Google bills
//! per feature per image ("unit"); list price per 1000 units for units
//! 1,001–5,000,000 of a month (the first 1,000 units of each feature each
//! month are free; cheaper tiers above 5M are ignored here). SafeSearch is
//! free when Label Detection is bought for the same image.
//!
//! Clarifai's prices depend on the plan and have changed often, so no
//! figure is given for it: the estimate points to the vendor's page.
//! OpenAI-compatible servers are usually local (Ollama, vLLM, LM Studio):
//! no price.

/// Google Cloud Vision list prices, US dollars per 1000 units.
const GOOGLE_PER_1000: &[(&str, f64)] = &[
    ("label", 1.50),
    ("text", 1.50),
    ("safe", 1.50),
    ("web", 3.50),
];

/// A cost estimate for `images` images, in words.
pub fn estimate(backend: &str, features: &[&str], images: u64) -> String {
    match backend {
        "google" => {
            let mut total = 0.0;
            for feature in features {
                if *feature == "safe" && features.contains(&"label") {
                    continue;
                }
                if let Some((_, price)) = GOOGLE_PER_1000.iter().find(|(f, _)| f == feature) {
                    total += price * images as f64 / 1000.0;
                }
            }
            format!(
                "about ${total:.2} at Google's list prices (cloud.google.com/vision/pricing, read 2026-11-24; the first 1000 units of each feature per month are free)"
            )
        }
        "clarifai" => {
            format!("{images} Clarifai operations: see vendor pricing at clarifai.com/pricing")
        }
        "openai" => "no price: OpenAI-compatible servers are usually local; for a paid service see its pricing".into(),
        _ => "no price: runs locally".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn google_bills_per_feature_and_safe_search_rides_free_with_labels() {
        // 2000 images × (1.50 label + 3.50 web) / 1000 = 10.00; safe is free with label.
        let s = estimate("google", &["label", "web", "safe"], 2000);
        assert!(s.starts_with("about $10.00 "), "{s}");
        // Without labels, safe search is billed: 1000 × 1.50 / 1000.
        let s = estimate("google", &["safe"], 1000);
        assert!(s.starts_with("about $1.50 "), "{s}");
    }

    #[test]
    fn clarifai_points_to_the_vendor() {
        assert!(estimate("clarifai", &[], 10).contains("see vendor pricing"));
    }
}
