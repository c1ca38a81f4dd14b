#![no_main]
// The body lives in the library (`sipsentry_hep::fuzz_hep`) so that CI replays the corpus through exactly the
// same checks as ordinary tests.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    sipsentry_hep::fuzz_hep(data);
});
