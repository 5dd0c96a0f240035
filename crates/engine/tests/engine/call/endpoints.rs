//! Endpoints: request paths, Cedar actions, wire formats and upstream paths.

use gateway_engine::Endpoint;
use gateway_policy::catalog::Provider;
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

#[test]
fn endpoints_map_paths_to_actions_wire_formats_and_upstream_paths() {
    let table = [
        (
            "/v1/chat/completions",
            Endpoint::ChatCompletions,
            "chat.completion",
            Provider::Openai,
            "/chat/completions",
        ),
        (
            "/v1/embeddings",
            Endpoint::Embeddings,
            "embedding",
            Provider::Openai,
            "/embeddings",
        ),
        (
            "/v1/messages",
            Endpoint::Messages,
            "message",
            Provider::Anthropic,
            "/messages",
        ),
    ];
    for (path, endpoint, action, provider, upstream) in table {
        assert_eq!(Endpoint::from_path(path), Some(endpoint));
        assert_eq!(endpoint.action(), action);
        assert_eq!(endpoint.wire_format(), provider);
        assert_eq!(endpoint.upstream_path(), upstream);
    }
    for path in [
        "/v1/completions",
        "/v1/chat/completions/",
        "/chat/completions",
        "/v1/Messages",
        "",
    ] {
        assert_eq!(Endpoint::from_path(path), None, "{path:?}");
    }
}
