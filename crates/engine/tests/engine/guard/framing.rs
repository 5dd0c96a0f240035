//! SSE framing: the same events however the bytes are chunked, and a bound on an event.

use gateway_engine::guard::sse::{Event, Framer};
#[cfg(target_arch = "wasm32")]
use wasm_bindgen_test::wasm_bindgen_test as test;

#[test]
fn the_framer_yields_the_same_events_however_the_bytes_are_chunked() {
    let stream = b"event: message_start\ndata: {\"a\":1}\n\n: a comment\ndata: one\ndata: two\n\n\
        data: {\"b\":2}\r\n\r\nevent: ping\ndata: {}\n\n";
    let mut whole = Framer::new(1 << 20);
    let expected = whole.push(stream).unwrap();
    assert_eq!(expected.len(), 4);
    assert_eq!(expected[0].name.as_deref(), Some("message_start"));
    assert_eq!(expected[1].data, "one\ntwo");
    assert_eq!(expected[2].data, "{\"b\":2}");
    for size in 1..=9 {
        let mut framer = Framer::new(1 << 20);
        let mut events: Vec<Event> = Vec::new();
        for chunk in stream.chunks(size) {
            events.extend(framer.push(chunk).unwrap());
        }
        assert!(framer.finish().is_none());
        assert_eq!(events, expected, "chunk size {size}");
    }
}

#[test]
fn the_framer_refuses_an_endless_event() {
    let mut framer = Framer::new(1024);
    assert!(framer.push(&[b'x'; 600]).is_ok());
    assert!(framer.push(&[b'x'; 600]).is_err());
}
