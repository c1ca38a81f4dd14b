# Sourced by .ci/run. The live guard's nftables owner (crates/sipsentry-nft) drives the real `nft`
# binary inside network namespaces its tests create (`ip netns`, veth); the benchmark compares with
# fail2ban's nftables action (fail2ban itself is already listed by 00-core.sh).
ci_apt nftables iproute2
