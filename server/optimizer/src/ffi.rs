//! The only module with `unsafe`: loading `libortools.so.9`, calling CP-SAT's C API, and the
//! file-descriptor plumbing the worker needs to capture the native search log.
//!
//! Why `libloading` rather than link-time binding: the library comes from a Python wheel whose
//! location differs per machine, and a missing library must be a typed error at start, not a
//! loader failure before `main`.
#![allow(unsafe_code)]

use std::ffi::{c_int, c_void};
use std::fs::File;
use std::os::fd::FromRawFd;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use crate::error::OptimizerError;

/// File name of the CP-SAT library inside the wheel's `ortools/.libs` folder.
pub const LIB_NAME: &str = "libortools.so.9";

type NewEnvFn = unsafe extern "C" fn() -> *mut c_void;
type DestroyEnvFn = unsafe extern "C" fn(*mut c_void);
type StopFn = unsafe extern "C" fn(*mut c_void);
type InterruptibleFn = unsafe extern "C" fn(
    *mut c_void,
    *const c_void,
    c_int,
    *const c_void,
    c_int,
    *mut *mut c_void,
    *mut c_int,
);

/// The loaded library with the four entry points we use.
pub struct CpSatLibrary {
    path: PathBuf,
    new_env: NewEnvFn,
    destroy_env: DestroyEnvFn,
    stop: StopFn,
    solve: InterruptibleFn,
    // Keeps the function pointers above valid; never dropped while `self` lives.
    _lib: libloading::Library,
}

static LIBRARY: OnceLock<Result<CpSatLibrary, OptimizerError>> = OnceLock::new();

/// Returns the process-wide library, loading it on first use from
/// [`crate::libpath::candidate_dirs`].
pub fn library() -> Result<&'static CpSatLibrary, OptimizerError> {
    LIBRARY
        .get_or_init(|| {
            // Only start `python3` when the cheap locations fail (it costs tens of ms).
            match load_from(&crate::libpath::quick_candidate_dirs()) {
                Err(OptimizerError::LibraryNotFound { mut tried }) => {
                    match crate::libpath::python_ortools_dir() {
                        Some(dir) => load_from(&[dir]).map_err(|e| match e {
                            OptimizerError::LibraryNotFound { tried: more } => {
                                tried.extend(more);
                                OptimizerError::LibraryNotFound { tried }
                            }
                            other => other,
                        }),
                        None => Err(OptimizerError::LibraryNotFound { tried }),
                    }
                }
                other => other,
            }
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// Loads the library from the first directory that contains it.
pub fn load_from(dirs: &[PathBuf]) -> Result<CpSatLibrary, OptimizerError> {
    let mut tried = Vec::new();
    for dir in dirs {
        let path = dir.join(LIB_NAME);
        if path.is_file() {
            return CpSatLibrary::open(&path);
        }
        tried.push(path);
    }
    Err(OptimizerError::LibraryNotFound { tried })
}

impl CpSatLibrary {
    fn open(path: &Path) -> Result<Self, OptimizerError> {
        let load_err = |e: libloading::Error| OptimizerError::LibraryLoad {
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        // SAFETY: loading runs the library's static initialisers; libortools is a regular C++
        // shared library whose initialisers only set up its own globals.
        let lib = unsafe { libloading::Library::new(path) }.map_err(load_err)?;
        // SAFETY: the signatures match `ortools/sat/c_api/cp_solver_c.h` of OR-Tools 9.15.
        unsafe {
            let new_env = *lib.get::<NewEnvFn>(b"SolveCpNewEnv\0").map_err(load_err)?;
            let destroy_env = *lib
                .get::<DestroyEnvFn>(b"SolveCpDestroyEnv\0")
                .map_err(load_err)?;
            let stop = *lib
                .get::<StopFn>(b"SolveCpStopSearch\0")
                .map_err(load_err)?;
            let solve = *lib
                .get::<InterruptibleFn>(b"SolveCpInterruptible\0")
                .map_err(load_err)?;
            Ok(Self {
                path: path.to_path_buf(),
                new_env,
                destroy_env,
                stop,
                solve,
                _lib: lib,
            })
        }
    }

    /// Where the library was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Solves encoded `CpModelProto` bytes with encoded `SatParameters` bytes and returns the
    /// encoded `CpSolverResponse`.
    ///
    /// A fresh environment is created for every call because reusing one crashed the library
    /// when this was tried. `stop` is armed for the duration of the solve so another thread can
    /// interrupt it; the caller must pass only bytes produced by our own prost encoder, since the
    /// library aborts the process on bytes it cannot parse.
    pub fn solve(
        &'static self,
        model: &[u8],
        params: &[u8],
        stop: &StopHandle,
    ) -> Result<Vec<u8>, OptimizerError> {
        let model_len = c_int::try_from(model.len()).map_err(|_| OptimizerError::ModelTooLarge)?;
        let params_len =
            c_int::try_from(params.len()).map_err(|_| OptimizerError::ModelTooLarge)?;
        // SAFETY: plain constructor without arguments.
        let env = unsafe { (self.new_env)() };
        if env.is_null() {
            return Err(OptimizerError::Native("SolveCpNewEnv returned null".into()));
        }
        stop.arm(self, env);
        let mut out: *mut c_void = std::ptr::null_mut();
        let mut out_len: c_int = 0;
        // SAFETY: `env` is live until destroyed below; the input slices outlive the call; the
        // out-pointers point at our locals.
        unsafe {
            (self.solve)(
                env,
                model.as_ptr().cast(),
                model_len,
                params.as_ptr().cast(),
                params_len,
                &mut out,
                &mut out_len,
            );
        }
        // Disarm before destroying so a late `stop()` can never touch a freed environment.
        stop.disarm();
        // SAFETY: `env` came from `new_env` and is destroyed exactly once.
        unsafe { (self.destroy_env)(env) };
        if out.is_null() {
            return Err(OptimizerError::Native(
                "CP-SAT returned no response buffer".into(),
            ));
        }
        let len = usize::try_from(out_len).unwrap_or(0);
        // SAFETY: the library malloc'ed `out_len` bytes at `out`; we copy them, then free once.
        let bytes = unsafe { std::slice::from_raw_parts(out.cast::<u8>(), len).to_vec() };
        // SAFETY: the buffer was allocated with malloc by the library.
        unsafe { libc::free(out) };
        Ok(bytes)
    }
}

#[derive(Default)]
struct StopState {
    env: Option<(usize, &'static CpSatLibrary)>,
    requested: bool,
}

/// Interrupts a running native solve from another thread; the solve then returns the best
/// solution found so far. Cheap to clone.
#[derive(Clone, Default)]
pub struct StopHandle {
    state: Arc<Mutex<StopState>>,
}

impl StopHandle {
    /// A fresh handle, not yet attached to a solve.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, StopState> {
        // A poisoned lock only means another thread panicked while holding it; the state itself
        // (an optional pointer and a flag) is still consistent.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn arm(&self, lib: &'static CpSatLibrary, env: *mut c_void) {
        let mut st = self.lock();
        st.env = Some((env as usize, lib));
        if st.requested {
            // SAFETY: env is live (armed just now, disarmed before destruction under this lock).
            unsafe { (lib.stop)(env) };
        }
    }

    fn disarm(&self) {
        self.lock().env = None;
    }

    /// Asks the running solve (or the next one using this handle) to stop.
    pub fn stop(&self) {
        let mut st = self.lock();
        st.requested = true;
        if let Some((env, lib)) = st.env {
            // SAFETY: while `env` is stored, the solve has not destroyed it (disarm takes this
            // lock before destruction).
            unsafe { (lib.stop)(env as *mut c_void) };
        }
    }

    /// Whether `stop` was called.
    pub fn is_requested(&self) -> bool {
        self.lock().requested
    }
}

/// Redirects this process's file descriptor 1 into a pipe so the native library's
/// `log_to_stdout` output can be read line by line; returns `(original_stdout, pipe_reader)`.
///
/// Why: the C API has no log callback, and the C++ logger writes to `std::cout`. Used only in
/// the worker child, whose real stdout is the protocol channel to the parent.
pub fn capture_stdout() -> std::io::Result<(File, File)> {
    let mut fds = [0 as c_int; 2];
    // SAFETY: plain POSIX calls on descriptors we own; results are checked.
    unsafe {
        let saved = libc::dup(1);
        if saved < 0 {
            return Err(std::io::Error::last_os_error());
        }
        if libc::pipe(fds.as_mut_ptr()) != 0 {
            let e = std::io::Error::last_os_error();
            libc::close(saved);
            return Err(e);
        }
        if libc::dup2(fds[1], 1) < 0 {
            let e = std::io::Error::last_os_error();
            libc::close(saved);
            libc::close(fds[0]);
            libc::close(fds[1]);
            return Err(e);
        }
        libc::close(fds[1]);
        Ok((File::from_raw_fd(saved), File::from_raw_fd(fds[0])))
    }
}

/// Closes descriptor 1 (the write end of the log pipe after `capture_stdout`) so the log
/// reader sees end-of-file once the library is done writing.
pub fn close_stdout() {
    // SAFETY: closing fd 1 is harmless for Rust's std (later writes to stdout fail with EBADF).
    unsafe {
        libc::close(1);
    }
}
