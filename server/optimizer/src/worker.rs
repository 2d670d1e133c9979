//! Solving in a child process of our own binary (the hidden `solve-worker` subcommand).
//!
//! Why a child: a fatal error in the native library then kills the child, not the server; a
//! solve can be cancelled (the child calls `SolveCpStopSearch` and still returns the best
//! schedule so far); and the child can stream live progress parsed from CP-SAT's search log.
//!
//! Protocol (all integers little-endian):
//! * parent → child stdin: `TAKT1`, `u32` model length, `CpModelProto` bytes, `u32` params
//!   length, `SatParameters` bytes; afterwards a single byte `S` asks the solve to stop, and
//!   end-of-file (the parent went away) stops it as well;
//! * child → parent stdout: frames `tag u8, u32 length, payload`: `P` a progress point (JSON),
//!   `R` the encoded `CpSolverResponse`, `E` an error message.
//!
//! The native log goes to file descriptor 1, which the child redirects into a pipe it reads
//! itself; the protocol uses a duplicate of the original stdout.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration as StdDuration, Instant};

use prost::Message;

use crate::cpsat::{CpModelBuilder, CpSolution, SatParams};
use crate::error::OptimizerError;
use crate::ffi::{self, StopHandle};
use crate::problem::Problem;
use crate::proto;
use crate::solve::{self, Backend, ProgressPoint, SolveParams, SolveResult};

const MAGIC: &[u8; 5] = b"TAKT1";
/// Seconds a child may overrun its time limit (or ignore a stop) before it is killed.
const CHILD_GRACE_S: f64 = 30.0;
/// Upper bound on a frame or request part, so a broken peer cannot make us allocate wildly.
const MAX_FRAME: u32 = 1 << 30;

/// How to start the worker: the server passes its own executable and `["solve-worker"]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkerCommand {
    /// Program path.
    pub program: PathBuf,
    /// Arguments.
    pub args: Vec<String>,
}

impl WorkerCommand {
    /// `program args...`.
    pub fn new(program: impl Into<PathBuf>, args: &[&str]) -> Self {
        Self {
            program: program.into(),
            args: args.iter().map(|s| (*s).to_owned()).collect(),
        }
    }
}

/// Cancels a solve from another thread; the solve returns the best schedule found so far.
#[derive(Clone, Debug, Default)]
pub struct CancelHandle(Arc<AtomicBool>);

impl CancelHandle {
    /// A fresh handle.
    pub fn new() -> Self {
        Self::default()
    }
    /// Requests cancellation.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
    /// Whether cancellation was requested.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Parses one line of CP-SAT's search log into a progress point, e.g.
/// `#12  0.50s best:1014  next:[808,1013] scheduling_precedences_lns`.
pub fn parse_progress_line(line: &str) -> Option<ProgressPoint> {
    let mut toks = line.split_whitespace();
    let head = toks.next()?;
    if !head.starts_with('#') || head == "#Model" {
        return None;
    }
    let time_s: f64 = toks.next()?.strip_suffix('s')?.parse().ok()?;
    let mut objective = None;
    let mut bound = None;
    let mut seen = false;
    for tok in toks {
        if let Some(b) = tok.strip_prefix("best:") {
            seen = true;
            objective = b.parse::<f64>().ok().filter(|v| v.is_finite());
        } else if let Some(n) = tok.strip_prefix("next:[") {
            bound = n
                .trim_end_matches(']')
                .split(',')
                .next()
                .and_then(|s| s.parse::<f64>().ok());
        }
    }
    seen.then_some(ProgressPoint {
        time_s,
        objective,
        bound,
    })
}

fn write_frame(out: &Mutex<std::fs::File>, tag: u8, payload: &[u8]) -> std::io::Result<()> {
    let len = u32::try_from(payload.len()).map_err(|_| std::io::Error::other("frame too large"))?;
    let mut buf = Vec::with_capacity(5 + payload.len());
    buf.push(tag);
    buf.extend_from_slice(&len.to_le_bytes());
    buf.extend_from_slice(payload);
    let mut f = out.lock().unwrap_or_else(|e| e.into_inner());
    f.write_all(&buf)?;
    f.flush()
}

fn read_u32(r: &mut impl Read) -> std::io::Result<u32> {
    let mut b = [0u8; 4];
    r.read_exact(&mut b)?;
    Ok(u32::from_le_bytes(b))
}

fn read_part(r: &mut impl Read) -> std::io::Result<Vec<u8>> {
    let len = read_u32(r)?;
    if len > MAX_FRAME {
        return Err(std::io::Error::other("part too large"));
    }
    let mut v = vec![0u8; len as usize];
    r.read_exact(&mut v)?;
    Ok(v)
}

/// Body of the hidden `takt solve-worker` subcommand.
pub fn run_worker() -> anyhow::Result<()> {
    let (proto_out, log_in) = ffi::capture_stdout()?;
    let out = Arc::new(Mutex::new(proto_out));
    let result = worker_main(&out, log_in);
    if let Err(e) = &result {
        let _ = write_frame(&out, b'E', e.to_string().as_bytes());
    }
    result
}

fn worker_main(out: &Arc<Mutex<std::fs::File>>, log_in: std::fs::File) -> anyhow::Result<()> {
    let mut stdin = std::io::stdin().lock();
    let mut magic = [0u8; 5];
    stdin.read_exact(&mut magic)?;
    anyhow::ensure!(&magic == MAGIC, "bad request header");
    let model_bytes = read_part(&mut stdin)?;
    let param_bytes = read_part(&mut stdin)?;
    // Decode and re-encode: the library aborts the process on bytes it cannot parse, so only
    // our own encoder's output ever reaches it.
    let model = proto::CpModelProto::decode(model_bytes.as_slice())?;
    let mut params = proto::SatParameters::decode(param_bytes.as_slice())?;
    params.log_search_progress = Some(true);
    params.log_to_stdout = Some(true);
    params.num_workers = Some(params.num_workers.unwrap_or(1).max(1));
    let model_bytes = model.encode_to_vec();
    let param_bytes = params.encode_to_vec();
    drop(stdin);

    let lib = ffi::library()?;
    let stop = StopHandle::new();
    {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut b = [0u8; 1];
            let mut input = std::io::stdin();
            loop {
                match input.read(&mut b) {
                    Ok(1) if b[0] == b'S' => break,
                    Ok(1) => continue,
                    _ => break,
                }
            }
            stop.stop();
        });
    }
    {
        let stop = stop.clone();
        let mut signals = signal_hook::iterator::Signals::new([
            signal_hook::consts::SIGTERM,
            signal_hook::consts::SIGINT,
        ])?;
        std::thread::spawn(move || {
            if signals.forever().next().is_some() {
                stop.stop();
            }
        });
    }
    let log_thread = {
        let out = Arc::clone(out);
        std::thread::spawn(move || {
            for line in BufReader::new(log_in).lines() {
                let Ok(line) = line else { break };
                if let Some(pt) = parse_progress_line(&line) {
                    if let Ok(json) = serde_json::to_vec(&pt) {
                        let _ = write_frame(&out, b'P', &json);
                    }
                }
            }
        })
    };
    let response = lib.solve(&model_bytes, &param_bytes, &stop)?;
    let _ = std::io::stdout().flush();
    ffi::close_stdout();
    let _ = log_thread.join();
    write_frame(out, b'R', &response)?;
    Ok(())
}

enum Frame {
    Progress(ProgressPoint),
    Response(Vec<u8>),
    Error(String),
}

/// Backend that runs each solve in a fresh worker child.
pub struct ChildBackend<'a> {
    cmd: &'a WorkerCommand,
    on_progress: &'a mut dyn FnMut(ProgressPoint),
    cancel: CancelHandle,
    /// Every progress point received, for the result.
    pub progress: Vec<ProgressPoint>,
}

impl<'a> ChildBackend<'a> {
    /// A backend spawning `cmd`.
    pub fn new(
        cmd: &'a WorkerCommand,
        on_progress: &'a mut dyn FnMut(ProgressPoint),
        cancel: CancelHandle,
    ) -> Self {
        Self {
            cmd,
            on_progress,
            cancel,
            progress: Vec::new(),
        }
    }
}

impl Backend for ChildBackend<'_> {
    fn cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    fn run(
        &mut self,
        model: &CpModelBuilder,
        params: &SatParams,
    ) -> Result<CpSolution, OptimizerError> {
        let werr = |m: String| OptimizerError::Worker(m);
        let mut child = Command::new(&self.cmd.program)
            .args(&self.cmd.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| werr(format!("cannot start {}: {e}", self.cmd.program.display())))?;
        let mut stdin = child
            .stdin
            .take()
            .ok_or_else(|| werr("no stdin pipe".into()))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| werr("no stdout pipe".into()))?;
        let mut request = Vec::new();
        request.extend_from_slice(MAGIC);
        let m = model.encode();
        let p = params.encode();
        for part in [&m, &p] {
            let len = u32::try_from(part.len()).map_err(|_| OptimizerError::ModelTooLarge)?;
            request.extend_from_slice(&len.to_le_bytes());
            request.extend_from_slice(part);
        }
        // A child that died at once closes its stdin: report that below from its exit status.
        let write_ok = stdin
            .write_all(&request)
            .and_then(|()| stdin.flush())
            .is_ok();

        let (tx, rx) = mpsc::channel::<Frame>();
        let reader = std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            loop {
                let mut tag = [0u8; 1];
                if r.read_exact(&mut tag).is_err() {
                    break;
                }
                let Ok(payload) = read_part(&mut r) else {
                    break;
                };
                let frame = match tag[0] {
                    b'P' => match serde_json::from_slice::<ProgressPoint>(&payload) {
                        Ok(p) => Frame::Progress(p),
                        Err(_) => continue,
                    },
                    b'R' => Frame::Response(payload),
                    b'E' => Frame::Error(String::from_utf8_lossy(&payload).into_owned()),
                    _ => break,
                };
                if tx.send(frame).is_err() {
                    break;
                }
            }
        });

        let mut response = None;
        let mut error = None;
        let mut stop_sent: Option<Instant> = None;
        let mut killed = false;
        // Watchdog: a child that overruns its time limit by far, or ignores a stop request,
        // is killed rather than blocking the caller forever.
        let overrun = Instant::now()
            + StdDuration::from_secs_f64(params.max_time_in_seconds.max(0.0) + CHILD_GRACE_S);
        loop {
            if write_ok && stop_sent.is_none() && self.cancel.is_cancelled() {
                let _ = stdin.write_all(b"S").and_then(|()| stdin.flush());
                stop_sent = Some(Instant::now());
            }
            let stop_ignored =
                stop_sent.is_some_and(|t| t.elapsed() > StdDuration::from_secs_f64(CHILD_GRACE_S));
            if !killed && (Instant::now() > overrun || stop_ignored) {
                let _ = child.kill();
                killed = true;
            }
            match rx.recv_timeout(StdDuration::from_millis(50)) {
                Ok(Frame::Progress(p)) => {
                    self.progress.push(p);
                    (self.on_progress)(p);
                }
                Ok(Frame::Response(b)) => response = Some(b),
                Ok(Frame::Error(e)) => error = Some(e),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        drop(stdin);
        let _ = reader.join();
        let status = child
            .wait()
            .map_err(|e| werr(format!("waiting for the worker: {e}")))?;
        match (response, error) {
            (Some(bytes), _) => CpSolution::decode(&bytes),
            (None, Some(e)) => Err(werr(e)),
            (None, None) if killed => Err(werr(format!(
                "worker did not finish within its time limit plus {CHILD_GRACE_S}s and was killed"
            ))),
            (None, None) => Err(werr(format!("worker exited without a response ({status})"))),
        }
    }
}

/// Solves `problem` in a worker child. Blocking: call it from a blocking thread. Progress
/// points are delivered on the calling thread as they arrive; `cancel` stops the search and
/// the best schedule so far is returned.
pub fn solve_in_child(
    cmd: &WorkerCommand,
    problem: &Problem,
    params: &SolveParams,
    mut on_progress: impl FnMut(ProgressPoint),
    cancel: CancelHandle,
) -> Result<SolveResult, OptimizerError> {
    let mut backend = ChildBackend::new(cmd, &mut on_progress, cancel);
    let mut result = solve::solve_with(problem, params, &mut backend)?;
    result.progress = std::mem::take(&mut backend.progress);
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::parse_progress_line;

    #[test]
    fn parses_cp_sat_search_log_lines() {
        let p = parse_progress_line(
            "#12      0.50s best:1014  next:[808,1013] scheduling_precedences_lns (d=7.07e-01)",
        )
        .expect("solution line");
        assert_eq!(
            (p.time_s, p.objective, p.bound),
            (0.5, Some(1014.0), Some(808.0))
        );
        let b = parse_progress_line("#Bound   0.05s best:inf   next:[759,10000] max_lp")
            .expect("bound line");
        assert_eq!((b.objective, b.bound), (None, Some(759.0)));
        let d = parse_progress_line("#Done    3.00s best:930   next:[]  default_lp")
            .expect("done line");
        assert_eq!((d.objective, d.bound), (Some(930.0), None));
        assert!(parse_progress_line("#Model   0.02s var:101/101 constraints:210/210").is_none());
        assert!(parse_progress_line("#kNoOverlap: 10 (#intervals: 100)").is_none());
        assert!(parse_progress_line("Starting search at 0.00s with 2 workers.").is_none());
    }
}
