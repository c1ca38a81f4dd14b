//! Running `nft` and `ip` as child processes, optionally inside a network namespace, with every
//! byte read from them capped.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use crate::NftError;

/// Largest stdout accepted from a child (a listing of a million bans is ~100 MB of JSON).
pub(crate) const MAX_STDOUT: usize = 256 * 1024 * 1024;
/// Largest stderr kept (error messages only).
pub(crate) const MAX_STDERR: usize = 16 * 1024;

pub(crate) struct Output {
    pub stdout: Vec<u8>,
}

/// Builds `program args...`, or `ip netns exec NS program args...`. `LC_ALL=C` because a few
/// error texts (ENOENT on delete) are matched.
pub(crate) fn command(netns: Option<&str>, program: &Path, args: &[&str]) -> Command {
    let mut c = match netns {
        Some(ns) => {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", ns]).arg(program);
            c
        }
        None => Command::new(program),
    };
    c.args(args).env("LC_ALL", "C");
    c
}

/// Runs `cmd`, feeding `stdin`, and returns its stdout if it exits 0.
pub(crate) fn run(mut cmd: Command, stdin: Option<&[u8]>) -> Result<Output, NftError> {
    let program = describe(&cmd);
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|source| NftError::Spawn {
        program: program.clone(),
        source,
    })?;
    let stdin_pipe = child.stdin.take();
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let mut stderr = child.stderr.take().expect("stderr is piped");
    // Feed stdin and drain stderr on their own threads so a child blocked on one pipe can never
    // deadlock against us reading another.
    let script = stdin.map(<[u8]>::to_vec);
    let writer = std::thread::spawn(move || -> std::io::Result<()> {
        if let (Some(mut p), Some(s)) = (stdin_pipe, script) {
            p.write_all(&s)?;
        }
        Ok(())
    });
    let err_reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = (&mut stderr).take(MAX_STDERR as u64).read_to_end(&mut buf);
        // keep draining past the cap so the child never blocks on a full pipe
        let _ = std::io::copy(&mut stderr, &mut std::io::sink());
        buf
    });
    let mut out = Vec::new();
    let read = (&mut stdout)
        .take(MAX_STDOUT as u64 + 1)
        .read_to_end(&mut out);
    let too_large = out.len() > MAX_STDOUT;
    if too_large {
        let _ = child.kill();
    }
    let status = child.wait().map_err(NftError::Io)?;
    let write_res = writer.join().unwrap_or(Ok(()));
    let err = err_reader.join().unwrap_or_default();
    read.map_err(NftError::Io)?;
    if too_large {
        return Err(NftError::OutputTooLarge {
            program,
            limit: MAX_STDOUT,
        });
    }
    if !status.success() {
        return Err(NftError::Failed {
            program,
            status: status.to_string(),
            stderr: String::from_utf8_lossy(&err).trim().to_string(),
        });
    }
    // A child that exited 0 without reading its whole script did not run all of it.
    write_res.map_err(NftError::Io)?;
    Ok(Output { stdout: out })
}

fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}
