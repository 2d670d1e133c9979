//! Bulk load of a generated factory with `COPY … FROM STDIN`, in one transaction, so a large
//! plant loads in minutes and a failed load leaves the database as it was.

use std::collections::HashMap;
use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::generate::{Factory, Ts};
use super::GenerateOptions;

const CHUNK: usize = 1 << 20;

/// One COPY text row being written: tab-separated, `\N` for NULL.
struct Row<'a> {
    out: &'a mut String,
    first: bool,
}

impl<'a> Row<'a> {
    fn new(out: &'a mut String) -> Self {
        Self { out, first: true }
    }
    fn sep(&mut self) {
        if !self.first {
            self.out.push('\t');
        }
        self.first = false;
    }
    fn int(mut self, v: i64) -> Self {
        self.sep();
        let _ = write!(self.out, "{v}");
        self
    }
    fn opt_int(mut self, v: Option<i64>) -> Self {
        self.sep();
        match v {
            Some(v) => {
                let _ = write!(self.out, "{v}");
            }
            None => self.out.push_str("\\N"),
        }
        self
    }
    fn num(mut self, v: f64) -> Self {
        self.sep();
        let _ = write!(self.out, "{v:.3}");
        self
    }
    fn text(mut self, v: &str) -> Self {
        self.sep();
        for c in v.chars() {
            match c {
                '\\' => self.out.push_str("\\\\"),
                '\t' => self.out.push_str("\\t"),
                '\n' => self.out.push_str("\\n"),
                '\r' => self.out.push_str("\\r"),
                c => self.out.push(c),
            }
        }
        self
    }
    fn ts(self, v: Ts) -> Self {
        let text = DateTime::<Utc>::from_timestamp(v, 0)
            .unwrap_or_default()
            .format("%Y-%m-%d %H:%M:%S+00")
            .to_string();
        self.text(&text)
    }
    fn opt_ts(self, v: Option<Ts>) -> Self {
        match v {
            Some(v) => self.ts(v),
            None => self.raw("\\N"),
        }
    }
    fn bool(self, v: bool) -> Self {
        self.raw(if v { "t" } else { "f" })
    }
    fn raw(mut self, v: &str) -> Self {
        self.sep();
        self.out.push_str(v);
        self
    }
    fn end(self) {
        self.out.push('\n');
    }
}

async fn copy<T>(
    conn: &mut sqlx::PgConnection,
    statement: &str,
    rows: &[T],
    write: impl Fn(Row<'_>, &T),
) -> Result<(), sqlx::Error> {
    let mut sink = conn.copy_in_raw(statement).await?;
    let mut buf = String::with_capacity(CHUNK + 4096);
    for r in rows {
        write(Row::new(&mut buf), r);
        if buf.len() >= CHUNK {
            sink.send(buf.as_bytes()).await?;
            buf.clear();
        }
    }
    if !buf.is_empty() {
        sink.send(buf.as_bytes()).await?;
    }
    sink.finish().await?;
    Ok(())
}

pub async fn load(
    pool: &PgPool,
    f: &Factory,
    options: &GenerateOptions,
) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    let c = &mut *tx;
    copy(
        c,
        "COPY departments (id, code, name) FROM STDIN",
        &f.departments,
        |r, d| r.int(d.id).text(d.code).text(d.name).end(),
    )
    .await?;
    copy(c, "COPY machines (id, code, name, department_id, machine_type, ideal_units_per_hour, status, commissioned_on) FROM STDIN", &f.machines, |r, m| {
        r.int(m.id).text(&m.code).text(&m.name).int(m.department_id).text(m.machine_type)
            .num(m.ideal_units_per_hour).text(m.status).text(&m.commissioned_on.to_string()).end()
    })
    .await?;
    copy(
        c,
        "COPY machine_downtimes (id, machine_id, kind, starts_at, ends_at, reason) FROM STDIN",
        &f.downtimes,
        |r, d| {
            r.int(d.id)
                .int(d.machine_id)
                .text(d.kind)
                .ts(d.starts_at)
                .ts(d.ends_at)
                .text(d.reason)
                .end()
        },
    )
    .await?;
    copy(
        c,
        "COPY shift_definitions (code, name, starts_local, ends_local, weekdays) FROM STDIN",
        &f.shifts,
        |r, s| {
            r.text(s.code)
                .text(s.name)
                .text(&s.starts_local.to_string())
                .text(&s.ends_local.to_string())
                .raw("{1,2,3,4,5}")
                .end()
        },
    )
    .await?;
    copy(
        c,
        "COPY skills (id, code, name, department_id) FROM STDIN",
        &f.skills,
        |r, s| {
            r.int(s.id)
                .text(s.code)
                .text(s.name)
                .int(s.department_id)
                .end()
        },
    )
    .await?;
    copy(c, "COPY operators (id, code, name, department_id, shift_pattern, contracted_hours_per_week, overtime_eligible) FROM STDIN", &f.operators, |r, o| {
        r.int(o.id).text(&o.code).text(&o.name).int(o.department_id).text(o.shift_pattern)
            .num(o.contracted_hours_per_week).bool(o.overtime_eligible).end()
    })
    .await?;
    copy(
        c,
        "COPY operator_skills (operator_id, skill_id, level) FROM STDIN",
        &f.operator_skills,
        |r, s| {
            r.int(s.operator_id)
                .int(s.skill_id)
                .int(s.level as i64)
                .end()
        },
    )
    .await?;
    copy(
        c,
        "COPY operator_absences (id, operator_id, kind, starts_at, ends_at) FROM STDIN",
        &f.absences,
        |r, a| {
            r.int(a.id)
                .int(a.operator_id)
                .text(a.kind)
                .ts(a.starts_at)
                .ts(a.ends_at)
                .end()
        },
    )
    .await?;
    copy(
        c,
        "COPY products (id, code, name) FROM STDIN",
        &f.products,
        |r, p| r.int(p.id).text(&p.code).text(&p.name).end(),
    )
    .await?;
    copy(c, "COPY jobs (id, code, product_id, quantity, released_at, due_at, priority, is_rush, status, completed_at) FROM STDIN", &f.jobs, |r, j| {
        r.int(j.id).text(&j.code).int(j.product_id).int(j.quantity as i64).ts(j.released_at).ts(j.due_at)
            .int(j.priority as i64).bool(j.is_rush).text(j.status).opt_ts(j.completed_at).end()
    })
    .await?;
    // The options' trigger keeps each task's fastest option; written here too, it has nothing to
    // rewrite after the bulk load.
    let mut fastest: HashMap<i64, i64> = HashMap::new();
    for o in &f.task_machine_options {
        let s = fastest.entry(o.task_id).or_insert(o.duration_s as i64);
        *s = (*s).min(o.duration_s as i64);
    }
    copy(c, "COPY tasks (id, job_id, sequence, name, department_id, required_skill_id, min_skill_level, setup_family, preemptible, status, fastest_option_s) FROM STDIN", &f.tasks, |r, t| {
        r.int(t.id).int(t.job_id).int(t.sequence as i64).text(&t.name).int(t.department_id)
            .int(t.required_skill_id).int(t.min_skill_level as i64).text(t.setup_family).bool(t.preemptible).text(t.status)
            .opt_int(fastest.get(&t.id).copied()).end()
    })
    .await?;
    copy(
        c,
        "COPY task_machine_options (task_id, machine_id, duration_s) FROM STDIN",
        &f.task_machine_options,
        |r, o| {
            r.int(o.task_id)
                .int(o.machine_id)
                .int(o.duration_s as i64)
                .end()
        },
    )
    .await?;
    copy(
        c,
        "COPY task_precedences (predecessor_id, successor_id, min_lag_s) FROM STDIN",
        &f.precedences,
        |r, p| {
            r.int(p.predecessor_id)
                .int(p.successor_id)
                .int(p.min_lag_s as i64)
                .end()
        },
    )
    .await?;
    copy(
        c,
        "COPY setup_times (machine_type, from_family, to_family, setup_s) FROM STDIN",
        &f.setup_times,
        |r, s| {
            r.text(s.machine_type)
                .text(s.from_family)
                .text(s.to_family)
                .int(s.setup_s as i64)
                .end()
        },
    )
    .await?;
    let schedule_id: i64 = sqlx::query_scalar(
        "INSERT INTO schedules (name, is_live, created_by, objective) VALUES ('Live plan', TRUE, 'planner', 'demo generator: first come, first served') RETURNING id",
    )
    .fetch_one(&mut *c)
    .await?;
    let statement = "COPY assignments (id, schedule_id, task_id, machine_id, operator_id, scheduled_start, scheduled_end, setup_s, actual_start, actual_end, good_qty, scrap_qty) FROM STDIN";
    copy(c, statement, &f.assignments, |r, a| {
        r.int(a.id)
            .int(schedule_id)
            .int(a.task_id)
            .int(a.machine_id)
            .int(a.operator_id)
            .ts(a.scheduled_start)
            .ts(a.scheduled_end)
            .int(a.setup_s as i64)
            .opt_ts(a.actual_start)
            .opt_ts(a.actual_end)
            .opt_int(a.good_qty.map(i64::from))
            .opt_int(a.scrap_qty.map(i64::from))
            .end()
    })
    .await?;
    // Identity columns continue after the loaded ids.
    for table in [
        "departments",
        "machines",
        "machine_downtimes",
        "skills",
        "operators",
        "operator_absences",
        "products",
        "jobs",
        "tasks",
        "assignments",
    ] {
        sqlx::query(&format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), GREATEST((SELECT max(id) FROM {table}), 1))"
        ))
        .execute(&mut *c)
        .await?;
    }
    sqlx::query(
        "INSERT INTO domain_events (aggregate_type, aggregate_id, event_type, actor, payload) VALUES ('plant', 'demo', 'DemoFactorySeeded', 'planner', $1)",
    )
    .bind(serde_json::json!({
        "seed": options.seed,
        "size": format!("{:?}", options.size),
        "now": options.now,
        "machines": f.machines.len(),
        "jobs": f.jobs.len(),
        "assignments": f.assignments.len(),
    }))
    .execute(&mut *c)
    .await?;
    tx.commit().await?;
    sqlx::query("ANALYZE").execute(pool).await?;
    Ok(())
}
