# Sourced by .ci/run (as root). `sipsentry audit` tests: nftables (nft) and iproute2 (ip netns)
# for the live-ruleset tests in a network namespace the test creates and deletes; python3 opens a
# listening socket inside that namespace.
ci_apt nftables iproute2 python3
