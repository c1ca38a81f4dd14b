#![no_main]
// The body lives in the library (`sipsentry_capture::fuzz_reassembly`) so that CI replays the corpus through exactly the
// same checks as ordinary tests.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    sipsentry_capture::fuzz_reassembly(data);
});
