# Sourced by .ci/run. The live lab (real Kamailio, sipvicious, sipsak) used by the drift check and by
# the watch/scan integration tests; nftables + iproute2 for the network-namespace tests.
ci_apt kamailio kamailio-tls-modules sipsak iproute2 nftables python3-venv
ci_pip sipvicious==0.3.8
