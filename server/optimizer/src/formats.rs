//! Readers for the public benchmark formats, producing validated [`Problem`]s.
//!
//! Both formats become jobs of chained tasks (task `k` of job `j` is `J{j}-{k}`, finish-to-start
//! with no lag) on machines `M{m}`; ids are 1-based in both for readability.

use crate::problem::{
    Duration, JobId, JobSpec, MachineId, MachineSpec, ModeSpec, PrecedenceSpec, Problem,
    ProblemError, ProblemSpec, TaskId, TaskSpec,
};

/// A malformed instance file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// A syntax or count error on a line (1-based).
    #[error("line {line}: {message}")]
    Line {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The data parsed but breaks a problem rule.
    #[error(transparent)]
    Invalid(#[from] ProblemError),
}

fn err(line: usize, message: impl Into<String>) -> FormatError {
    FormatError::Line {
        line,
        message: message.into(),
    }
}

/// Non-empty lines with their 1-based numbers.
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty())
}

fn numbers(line_no: usize, line: &str) -> Result<Vec<i64>, FormatError> {
    line.split_whitespace()
        .map(|tok| {
            tok.parse::<i64>()
                .map_err(|_| err(line_no, format!("`{tok}` is not an integer")))
        })
        .collect()
}

fn chained_job(spec: &mut ProblemSpec, job: usize, ops: Vec<Vec<(MachineId, Duration)>>) {
    let job_id = JobId(format!("J{job}"));
    spec.jobs.push(JobSpec {
        id: job_id.clone(),
        release: None,
        due: None,
        deadline: None,
        weight: 1,
    });
    for (k, modes) in ops.into_iter().enumerate() {
        let id = TaskId(format!("J{job}-{}", k + 1));
        let after = if k == 0 {
            Vec::new()
        } else {
            vec![PrecedenceSpec {
                task: TaskId(format!("J{job}-{k}")),
                min_lag: Duration(0),
            }]
        };
        spec.tasks.push(TaskSpec {
            id,
            job: Some(job_id.clone()),
            modes: modes
                .into_iter()
                .map(|(machine, duration)| ModeSpec { machine, duration })
                .collect(),
            skill: None,
            setup_family: None,
            preemptible: false,
            after,
            release: None,
            deadline: None,
            max_span: None,
            status: Default::default(),
            fixed: None,
        });
    }
}

fn header(text: &str, what: &str) -> Result<(usize, usize, usize), FormatError> {
    let (line_no, first) = lines(text).next().ok_or_else(|| err(1, "empty file"))?;
    let head: Vec<&str> = first.split_whitespace().collect();
    if head.len() < 2 {
        return Err(err(line_no, format!("expected `{what}`")));
    }
    let parse = |s: &str, name: &str| {
        s.parse::<usize>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| err(line_no, format!("{name} `{s}` is not a positive integer")))
    };
    Ok((
        line_no,
        parse(head[0], "job count")?,
        parse(head[1], "machine count")?,
    ))
}

fn machines(n: usize) -> Vec<MachineSpec> {
    (1..=n)
        .map(|m| MachineSpec {
            id: MachineId(format!("M{m}")),
            unavailable: Vec::new(),
            setups: Vec::new(),
        })
        .collect()
}

/// Parses the OR-Library / Taillard job-shop format: `jobs machines`, then per job the pairs
/// `machine duration` (machines from 0).
pub fn parse_jobshop(text: &str) -> Result<Problem, FormatError> {
    let (_, n_jobs, n_machines) = header(text, "jobs machines")?;
    let mut spec = ProblemSpec {
        machines: machines(n_machines),
        ..Default::default()
    };
    let mut count = 0;
    for (line_no, line) in lines(text).skip(1) {
        count += 1;
        if count > n_jobs {
            return Err(err(
                line_no,
                format!("more job lines than the {n_jobs} declared"),
            ));
        }
        let nums = numbers(line_no, line)?;
        if nums.len() % 2 != 0 {
            return Err(err(
                line_no,
                "odd number of values; expected `machine duration` pairs",
            ));
        }
        let mut ops = Vec::new();
        for pair in nums.chunks(2) {
            let (m, d) = (pair[0], pair[1]);
            if m < 0 || m >= n_machines as i64 {
                return Err(err(line_no, format!("machine {m} outside 0..{n_machines}")));
            }
            if d <= 0 {
                return Err(err(line_no, format!("duration {d} must be positive")));
            }
            ops.push(vec![(MachineId(format!("M{}", m + 1)), Duration(d))]);
        }
        if ops.is_empty() {
            return Err(err(line_no, "job without operations"));
        }
        chained_job(&mut spec, count, ops);
    }
    if count < n_jobs {
        return Err(err(
            text.lines().count().max(1),
            format!("expected {n_jobs} job lines, found {count}"),
        ));
    }
    Ok(Problem::new(spec)?)
}

/// Parses the Brandimarte `.fjs` format: `jobs machines avg`, then per job `ops` and for each
/// operation `k` followed by `k` pairs `machine duration` (machines from 1).
pub fn parse_fjs(text: &str) -> Result<Problem, FormatError> {
    let (_, n_jobs, n_machines) = header(text, "jobs machines average_alternatives")?;
    let mut spec = ProblemSpec {
        machines: machines(n_machines),
        ..Default::default()
    };
    let mut count = 0;
    for (line_no, line) in lines(text).skip(1) {
        count += 1;
        if count > n_jobs {
            return Err(err(
                line_no,
                format!("more job lines than the {n_jobs} declared"),
            ));
        }
        let nums = numbers(line_no, line)?;
        let mut it = nums.into_iter();
        let n_ops = it.next().ok_or_else(|| err(line_no, "empty job line"))?;
        if n_ops <= 0 {
            return Err(err(
                line_no,
                format!("operation count {n_ops} must be positive"),
            ));
        }
        let mut ops = Vec::new();
        for op in 1..=n_ops {
            let k = it.next().ok_or_else(|| {
                err(
                    line_no,
                    format!("operation {op}: missing alternative count"),
                )
            })?;
            if k <= 0 {
                return Err(err(
                    line_no,
                    format!("operation {op}: alternative count {k} must be positive"),
                ));
            }
            let mut modes = Vec::new();
            for _ in 0..k {
                let (Some(m), Some(d)) = (it.next(), it.next()) else {
                    return Err(err(
                        line_no,
                        format!("operation {op}: fewer than {k} `machine duration` pairs"),
                    ));
                };
                if m < 1 || m > n_machines as i64 {
                    return Err(err(
                        line_no,
                        format!("operation {op}: machine {m} outside 1..={n_machines}"),
                    ));
                }
                if d <= 0 {
                    return Err(err(
                        line_no,
                        format!("operation {op}: duration {d} must be positive"),
                    ));
                }
                modes.push((MachineId(format!("M{m}")), Duration(d)));
            }
            ops.push(modes);
        }
        if it.next().is_some() {
            return Err(err(
                line_no,
                format!("values left over after {n_ops} operations"),
            ));
        }
        chained_job(&mut spec, count, ops);
    }
    if count < n_jobs {
        return Err(err(
            text.lines().count().max(1),
            format!("expected {n_jobs} job lines, found {count}"),
        ));
    }
    Ok(Problem::new(spec)?)
}

/// Which reader to use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// OR-Library / Taillard job shop.
    Jobshop,
    /// Brandimarte flexible job shop.
    Fjs,
    /// Takt's JSON problem format.
    Json,
}

impl Format {
    /// Guesses from the file extension: `.fjs` → fjs, `.json` → json, else jobshop.
    pub fn from_path(path: &std::path::Path) -> Format {
        match path.extension().and_then(|e| e.to_str()) {
            Some("fjs") => Format::Fjs,
            Some("json") => Format::Json,
            _ => Format::Jobshop,
        }
    }
}

/// Parses text in the given format; JSON errors carry serde's line and column.
pub fn parse(text: &str, format: Format) -> Result<Problem, FormatError> {
    match format {
        Format::Jobshop => parse_jobshop(text),
        Format::Fjs => parse_fjs(text),
        Format::Json => {
            serde_json::from_str::<Problem>(text).map_err(|e| err(e.line(), format!("{e}")))
        }
    }
}
