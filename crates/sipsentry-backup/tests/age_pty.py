# Drives the `age` CLI through a pseudo-terminal: age reads passphrases only from a TTY.
# usage: age_pty.py ENV_VAR_WITH_PASSPHRASE age-args...
import os, pty, sys, time
# usage: agepty.py PASSPHRASE_ENV_NAME age-args...
pw = os.environ[sys.argv[1]].encode()
pid, fd = pty.fork()
if pid == 0:
    os.execvp("age", ["age"] + sys.argv[2:])
buf = b""
sent = 0
while True:
    try:
        d = os.read(fd, 1024)
    except OSError:
        break
    if not d:
        break
    buf += d
    if b"passphrase" in buf.lower().split(b"\n")[-1] or buf.lower().count(b"passphrase") > sent:
        os.write(fd, pw + b"\n")
        sent += 1
_, st = os.waitpid(pid, 0)
sys.stderr.write(buf.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(st))
