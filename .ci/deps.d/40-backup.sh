# Sourced by .ci/run (as root). `sipsentry backup` tests need:
# - age: the archive-format interop proof (Debian's age CLI decrypts ours, we read its files);
# - postgresql: the restore drill restores pg_dump files into a throw-away cluster
#   (initdb/pg_ctl/pg_restore under /usr/lib/postgresql/*/bin);
# - tar: interop test unpacks age's output with GNU tar;
# - openssh-server/-client: the SFTP target test starts its own sshd on 127.0.0.83 and uses sftp;
# - moto[server]: a real S3 implementation with Object Lock (refuses to delete locked versions),
#   served on 127.0.0.80:5080 for the object-lock tests.
ci_apt age postgresql tar openssh-server openssh-client
ci_pip 'moto[server]==5.2.1'

backup_start_moto() {
  if (exec 3<>/dev/tcp/127.0.0.80/5080) 2>/dev/null; then
    echo "moto_server already listening on 127.0.0.80:5080"
    return 0
  fi
  nohup python3 -m moto.server -H 127.0.0.80 -p 5080 >/tmp/sipsentry-moto.log 2>&1 &
  for _ in $(seq 1 60); do
    if (exec 3<>/dev/tcp/127.0.0.80/5080) 2>/dev/null; then
      echo "moto_server up on 127.0.0.80:5080"
      return 0
    fi
    sleep 0.5
  done
  echo "moto_server did not start; log:" >&2
  cat /tmp/sipsentry-moto.log >&2
  return 1
}
ci_after_install backup_start_moto
