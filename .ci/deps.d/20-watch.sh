# Sourced by .ci/run. The live guard: libpcap-dev builds the default `live-capture` feature;
# nftables + iproute2 for the network-namespace tests (kamailio, sipsak, sipvicious come from
# 10-lab.sh).
ci_apt libpcap-dev nftables iproute2
