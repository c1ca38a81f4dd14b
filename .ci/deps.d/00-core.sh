# Sourced by .ci/run (as root). Packages the analyze/log tests need:
# tshark (analyze vs tshark on every shared capture) and fail2ban (fail2ban-regex vs our log parser).
ci_apt tshark fail2ban
