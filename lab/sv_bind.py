#!/usr/bin/env python3
"""Run a SIPVicious tool with its -b/--bindingip option actually honoured.

Why this exists: in sipvicious 0.3.8, svwar and svcrack parse -b BINDINGIP but
never pass it to their scanner class (TakeASip / ASipOfRedWine), so they bind
0.0.0.0 and the kernel picks 127.0.0.1 as the source address.  svmap is fine.
The lab needs every attacker on its own loopback address, so this wrapper
patches the constructor to default `bindingip` to the address given here, then
runs the unmodified tool's main() with the remaining arguments.  Nothing else
about the tool's behaviour (packets, timing, output) is changed.

usage: sv_bind.py BINDIP {svmap|svwar|svcrack} [tool args...]
"""
import importlib
import ipaddress
import sys

CLASSES = {"svmap": "DrinkOrSip", "svwar": "TakeASip", "svcrack": "ASipOfRedWine"}


def main() -> None:
    if len(sys.argv) < 3 or sys.argv[2] not in CLASSES:
        sys.exit(__doc__)
    bindip, tool, rest = sys.argv[1], sys.argv[2], sys.argv[3:]
    # lab network rule: loopback only, or the RFC 5737 documentation ranges that the watch
    # tests give to network namespaces they create themselves (never routed anywhere)
    ip = ipaddress.ip_address(bindip)
    test_nets = [ipaddress.ip_network(n) for n in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")]
    if not (ip.is_loopback or any(ip in n for n in test_nets)):
        sys.exit(f"refusing non-loopback bind address {bindip}")

    mod = importlib.import_module(f"sipvicious.{tool}")
    cls = getattr(mod, CLASSES[tool])
    orig_init = cls.__init__

    def init(self, *args, **kwargs):
        if not kwargs.get("bindingip"):
            kwargs["bindingip"] = bindip
        orig_init(self, *args, **kwargs)

    cls.__init__ = init
    # keep -b on the command line too, so the tool's own logic (e.g. deriving
    # the advertised external IP from the binding IP) sees the same value
    sys.argv = [f"sipvicious_{tool}", "-b", bindip] + rest
    mod.main()


if __name__ == "__main__":
    main()
