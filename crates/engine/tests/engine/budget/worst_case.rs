//! The worst case a call reserves, and the cost of usage.

use gateway_engine::budget::{
    cost_micro_usd, input_token_bound, usage_of_answer, worst_case, Usage,
};
use gateway_engine::{Endpoint, LlmCall};
use gateway_policy::catalog::{ModelInfo, ModelKind, Prices, Provider};
use serde_json::json;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

fn model(context_window: u32) -> ModelInfo {
    ModelInfo {
        provider: Provider::Openai,
        upstream_model: "m".to_owned(),
        kind: ModelKind::Chat,
        premium: false,
        context_window,
        max_output_tokens: 16_384,
        usd_per_million_tokens: Prices {
            input: 2.5,
            output: 10.0,
        },
    }
}

fn chat(body: serde_json::Value) -> LlmCall {
    LlmCall::parse(Endpoint::ChatCompletions, body.to_string().as_bytes()).unwrap()
}

#[test]
fn the_input_bound_is_never_below_the_estimate_and_counts_a_token_a_byte() {
    let text = "Ünïcödé and plain words, 12345, {\"json\": true}";
    let call = chat(json!({"model": "m", "messages": [{"role": "user", "content": text}]}));
    let bound = input_token_bound(&call, &model(128_000));
    assert!(bound >= call.estimated_input_tokens());
    assert!(bound >= text.len() as u64);
}

#[test]
fn a_chat_prompt_is_bounded_by_the_context_window() {
    let text = "word ".repeat(10_000);
    let call = chat(json!({"model": "m", "messages": [{"role": "user", "content": text}]}));
    assert_eq!(input_token_bound(&call, &model(1_000)), 1_000);
}

#[test]
fn the_worst_case_output_is_every_choice_at_its_limit_or_the_models() {
    let call = chat(json!({"model": "m", "n": 3, "max_tokens": 100,
        "messages": [{"role": "user", "content": "hi"}]}));
    assert_eq!(worst_case(&call, &model(128_000)).output_tokens, 300);
    let call = chat(json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]}));
    assert_eq!(worst_case(&call, &model(128_000)).output_tokens, 16_384);
}

#[test]
fn cost_is_tokens_times_price_per_million_in_micro_usd_rounded_up() {
    let prices = Prices {
        input: 2.5,
        output: 10.0,
    };
    assert_eq!(cost_micro_usd(&prices, 1_000, 100), 2_500 + 1_000);
    assert_eq!(cost_micro_usd(&prices, 1, 0), 3);
    assert_eq!(cost_micro_usd(&prices, 0, 0), 0);
    let free = Prices {
        input: 0.0,
        output: 0.0,
    };
    assert_eq!(cost_micro_usd(&free, u64::MAX, u64::MAX), 0);
}

#[test]
fn huge_counts_saturate_at_the_largest_exact_count() {
    let prices = Prices {
        input: 1e12,
        output: 1e12,
    };
    let max = (1u64 << 53) - 1;
    assert_eq!(cost_micro_usd(&prices, u64::MAX, u64::MAX), max);
    let amount = Usage {
        input_tokens: u64::MAX,
        output_tokens: u64::MAX,
    }
    .amount(&prices);
    assert_eq!(
        (amount.requests, amount.tokens, amount.micro_usd),
        (1, max, max)
    );
}

#[test]
fn whole_answers_report_their_usage_in_each_providers_fields() {
    let openai = json!({"choices": [], "usage": {"prompt_tokens": 12, "completion_tokens": 30}});
    assert_eq!(
        usage_of_answer(Provider::Openai, openai.to_string().as_bytes()),
        Some(Usage {
            input_tokens: 12,
            output_tokens: 30
        })
    );
    let embeddings = json!({"data": [], "usage": {"prompt_tokens": 8, "total_tokens": 8}});
    assert_eq!(
        usage_of_answer(Provider::Openai, embeddings.to_string().as_bytes()),
        Some(Usage {
            input_tokens: 8,
            output_tokens: 0
        })
    );
    let anthropic = json!({"content": [], "usage": {"input_tokens": 5,
        "cache_creation_input_tokens": 100, "cache_read_input_tokens": 1000, "output_tokens": 7}});
    assert_eq!(
        usage_of_answer(Provider::Anthropic, anthropic.to_string().as_bytes()),
        Some(Usage {
            input_tokens: 1_105,
            output_tokens: 7
        })
    );
    assert_eq!(
        usage_of_answer(Provider::Openai, b"{\"choices\": []}"),
        None
    );
    assert_eq!(usage_of_answer(Provider::Anthropic, b"not json"), None);
}
