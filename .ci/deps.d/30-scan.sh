# Sourced by .ci/run. `sipsentry scan` integration tests (crates/sipsentry-scan/tests,
# crates/sipsentry-cli/tests/scan.rs): real Kamailio with the TLS and WebSocket modules (each test starts its
# own instances on 127.0.0.50-59 and stops them), openssl s_server for the legacy-TLS and
# NULL-cipher servers, and SIPVicious 0.3.8 for the side-by-side test (run through
# lab/sv_bind.py). Nothing is started here: the tests own their servers.
ci_apt kamailio kamailio-tls-modules kamailio-websocket-modules openssl
ci_pip sipvicious==0.3.8
