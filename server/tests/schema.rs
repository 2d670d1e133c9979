//! The database enforces the factory's rules itself: one test per constraint, each inserting
//! a row that breaks exactly that rule into an otherwise valid plant.
// A failing test panics with the value it got; that is what unwrap is for here.
#![allow(clippy::unwrap_used)]

mod common;

use common::{another_task, constraint_of, minimal_plant};
use sqlx::PgPool;

#[sqlx::test(migrator = "takt_server::db::MIGRATOR")]
async fn migrations_apply_to_an_empty_database(pool: PgPool) {
    let tables: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(tables >= 18, "expected the factory tables, found {tables}");
}

#[sqlx::test(migrator = "takt_server::db::MIGRATOR")]
async fn department_codes_are_lowercase_slugs(pool: PgPool) {
    let err = sqlx::query("INSERT INTO departments (code, name) VALUES ('Paint Shop', 'Paint')")
        .execute(&pool)
        .await
        .unwrap_err();
    assert_eq!(constraint_of(err), "departments_code_check");
}

#[sqlx::test(migrator = "takt_server::db::MIGRATOR")]
async fn a_downtime_must_end_after_it_starts(pool: PgPool) {
    let p = minimal_plant(&pool).await;
    let err = sqlx::query(
        "INSERT INTO machine_downtimes (machine_id, kind, starts_at, ends_at) VALUES ($1, 'breakdown', '2026-11-02T10:00Z', '2026-11-02T09:00Z')",
    )
    .bind(p.machine)
    .execute(&pool)
    .await
    .unwrap_err();
    assert_eq!(constraint_of(err), "machine_downtime_ends_after_start");
}

#[sqlx::test(migrator = "takt_server::db::MIGRATOR")]
async fn an_absence_must_end_after_it_starts(pool: PgPool) {
    let p = minimal_plant(&pool).await;
    let err = sqlx::query(
        "INSERT INTO operator_absences (operator_id, kind, starts_at, ends_at) VALUES ($1, 'sick', '2026-11-02T10:00Z', '2026-11-02T10:00Z')",
    )
    .bind(p.operator)
    .execute(&pool)
    .await
    .unwrap_err();
    assert_eq!(constraint_of(err), "operator_absence_ends_after_start");
}

#[sqlx::test(migrator = "takt_server::db::MIGRATOR")]
async fn skill_levels_run_from_one_to_five(pool: PgPool) {
    let p = minimal_plant(&pool).await;
    for level in [0_i16, 6] {
        let err = sqlx::query(
            "INSERT INTO operator_skills (operator_id, skill_id, level) VALUES ($1, $2, $3)",
        )
        .bind(p.operator)
        .bind(p.skill)
        .bind(level)
        .execute(&pool)
        .await
        .unwrap_err();
        assert_eq!(
            constraint_of(err),
            "operator_skills_level_check",
            "level {level}"
        );
    }
    sqlx::query("INSERT INTO operator_skills (operator_id, skill_id, level) VALUES ($1, $2, 5)")
        .bind(p.operator)
        .bind(p.skill)
        .execute(&pool)
        .await
        .expect("level 5 is allowed");
}

#[sqlx::test(migrator = "takt_server::db::MIGRATOR")]
async fn a_task_needs_a_minimum_level_from_one_to_five(pool: PgPool) {
    let p = minimal_plant(&pool).await;
    let err = sqlx::query(
        "INSERT INTO tasks (job_id, sequence, name, department_id, required_skill_id, min_skill_level, setup_family) VALUES ($1, 9, 'x', $2, $3, 0, 'steel')",
    )
    .bind(p.job)
    .bind(p.department)
    .bind(p.skill)
    .execute(&pool)
    .await
    .unwrap_err();
    assert_eq!(constraint_of(err), "tasks_min_skill_level_check");
}

#[sqlx::test(migrator = "takt_server::db::MIGRATOR")]
async fn job_quantities_are_not_negative(pool: PgPool) {
    let p = minimal_plant(&pool).await;
    let err = sqlx::query(
        "INSERT INTO jobs (code, product_id, quantity, released_at, due_at) VALUES ('J-2', $1, -1, '2026-11-01T08:00Z', '2026-11-02T08:00Z')",
    )
    .bind(p.product)
    .execute(&pool)
    .await
    .unwrap_err();
    assert_eq!(constraint_of(err), "jobs_quantity_check");
}

#[sqlx::test(migrator = "takt_server::db::MIGRATOR")]
async fn a_job_is_due_after_its_release(pool: PgPool) {
    let p = minimal_plant(&pool).await;
    let err = sqlx::query(
        "INSERT INTO jobs (code, product_id, quantity, released_at, due_at) VALUES ('J-2', $1, 1, '2026-11-02T08:00Z', '2026-11-01T08:00Z')",
    )
    .bind(p.product)
    .execute(&pool)
    .await
    .unwrap_err();
    assert_eq!(constraint_of(err), "job_due_after_release");
}

#[sqlx::test(migrator = "takt_server::db::MIGRATOR")]
async fn a_completed_job_records_when(pool: PgPool) {
    let p = minimal_plant(&pool).await;
    let err = sqlx::query("UPDATE jobs SET status = 'completed' WHERE id = $1")
        .bind(p.job)
        .execute(&pool)
        .await
        .unwrap_err();
    assert_eq!(constraint_of(err), "job_completed_has_time");
}

#[sqlx::test(migrator = "takt_server::db::MIGRATOR")]
async fn processing_times_are_positive(pool: PgPool) {
    let p = minimal_plant(&pool).await;
    let err = sqlx::query(
        "INSERT INTO task_machine_options (task_id, machine_id, duration_s) VALUES ($1, $2, 0)",
    )
    .bind(p.task)
    .bind(p.machine)
    .execute(&pool)
    .await
    .unwrap_err();
    assert_eq!(constraint_of(err), "task_machine_options_duration_s_check");
}

#[sqlx::test(migrator = "takt_server::db::MIGRATOR")]
async fn a_task_cannot_precede_itself(pool: PgPool) {
    let p = minimal_plant(&pool).await;
    let err =
        sqlx::query("INSERT INTO task_precedences (predecessor_id, successor_id) VALUES ($1, $1)")
            .bind(p.task)
            .execute(&pool)
            .await
            .unwrap_err();
    assert_eq!(constraint_of(err), "precedence_not_self");
}

#[sqlx::test(migrator = "takt_server::db::MIGRATOR")]
async fn precedence_lags_are_not_negative(pool: PgPool) {
    let p = minimal_plant(&pool).await;
    let second = another_task(&pool, &p, 2).await;
    let err = sqlx::query("INSERT INTO task_precedences (predecessor_id, successor_id, min_lag_s) VALUES ($1, $2, -60)")
        .bind(p.task)
        .bind(second)
        .execute(&pool)
        .await
        .unwrap_err();
    assert_eq!(constraint_of(err), "task_precedences_min_lag_s_check");
}

#[sqlx::test(migrator = "takt_server::db::MIGRATOR")]
async fn tasks_belong_to_existing_jobs(pool: PgPool) {
    let p = minimal_plant(&pool).await;
    let err = sqlx::query(
        "INSERT INTO tasks (job_id, sequence, name, department_id, required_skill_id, min_skill_level, setup_family) VALUES (999999, 1, 'x', $1, $2, 1, 'steel')",
    )
    .bind(p.department)
    .bind(p.skill)
    .execute(&pool)
    .await
    .unwrap_err();
    assert_eq!(constraint_of(err), "tasks_job_id_fkey");
}

/// Inserts an assignment of the plant's task on its machine, 08:00–09:00 on 2 Nov, with extra
/// columns set, and returns the constraint that rejected it.
async fn rejected_assignment(
    pool: &PgPool,
    p: &common::Plant,
    columns: &str,
    values: &str,
) -> String {
    let err = sqlx::query(&format!(
        "INSERT INTO assignments (schedule_id, task_id, machine_id, scheduled_start, scheduled_end, {columns}) VALUES ($1, $2, $3, '2026-11-02T08:00Z', '2026-11-02T09:00Z', {values})"
    ))
    .bind(p.schedule)
    .bind(p.task)
    .bind(p.machine)
    .execute(pool)
    .await
    .unwrap_err();
    constraint_of(err)
}

async fn assign(
    pool: &PgPool,
    schedule: i64,
    task: i64,
    machine: i64,
    operator: Option<i64>,
    start: &str,
    end: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO assignments (schedule_id, task_id, machine_id, operator_id, scheduled_start, scheduled_end) VALUES ($1, $2, $3, $4, $5::timestamptz, $6::timestamptz)",
    )
    .bind(schedule)
    .bind(task)
    .bind(machine)
    .bind(operator)
    .bind(start)
    .bind(end)
    .execute(pool)
    .await
    .map(|_| ())
}

#[sqlx::test(migrator = "takt_server::db::MIGRATOR")]
async fn an_assignment_ends_after_it_starts(pool: PgPool) {
    let p = minimal_plant(&pool).await;
    let err = assign(
        &pool,
        p.schedule,
        p.task,
        p.machine,
        None,
        "2026-11-02T10:00Z",
        "2026-11-02T08:00Z",
    )
    .await
    .unwrap_err();
    assert_eq!(constraint_of(err), "assignment_ends_after_start");
}

#[sqlx::test(migrator = "takt_server::db::MIGRATOR")]
async fn the_changeover_fits_inside_the_assignment(pool: PgPool) {
    let p = minimal_plant(&pool).await;
    assert_eq!(
        rejected_assignment(&pool, &p, "setup_s", "3600").await,
        "assignment_setup_fits"
    );
}

#[sqlx::test(migrator = "takt_server::db::MIGRATOR")]
async fn actual_times_end_after_they_start(pool: PgPool) {
    let p = minimal_plant(&pool).await;
    assert_eq!(
        rejected_assignment(
            &pool,
            &p,
            "actual_start, actual_end",
            "'2026-11-02T09:00Z', '2026-11-02T08:30Z'"
        )
        .await,
        "assignment_actual_ends_after_start"
    );
}

#[sqlx::test(migrator = "takt_server::db::MIGRATOR")]
async fn good_and_scrap_quantities_are_not_negative(pool: PgPool) {
    let p = minimal_plant(&pool).await;
    assert_eq!(
        rejected_assignment(&pool, &p, "good_qty, scrap_qty", "10, -1").await,
        "assignments_scrap_qty_check"
    );
}

#[sqlx::test(migrator = "takt_server::db::MIGRATOR")]
async fn two_assignments_never_overlap_on_a_machine_in_one_schedule(pool: PgPool) {
    let p = minimal_plant(&pool).await;
    let second = another_task(&pool, &p, 2).await;
    assign(
        &pool,
        p.schedule,
        p.task,
        p.machine,
        None,
        "2026-11-02T08:00Z",
        "2026-11-02T10:00Z",
    )
    .await
    .expect("first assignment");
    let err = assign(
        &pool,
        p.schedule,
        second,
        p.machine,
        None,
        "2026-11-02T09:59Z",
        "2026-11-02T11:00Z",
    )
    .await
    .unwrap_err();
    assert_eq!(constraint_of(err), "assignment_no_machine_overlap");
    // Back to back is fine, and so is the same slot in a what-if schedule.
    assign(
        &pool,
        p.schedule,
        second,
        p.machine,
        None,
        "2026-11-02T10:00Z",
        "2026-11-02T11:00Z",
    )
    .await
    .expect("back to back");
    let scenario: i64 = sqlx::query_scalar(
        "INSERT INTO schedules (name, created_by) VALUES ('What if', 'planner') RETURNING id",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assign(
        &pool,
        scenario,
        p.task,
        p.machine,
        None,
        "2026-11-02T08:30Z",
        "2026-11-02T09:30Z",
    )
    .await
    .expect("another schedule");
}

#[sqlx::test(migrator = "takt_server::db::MIGRATOR")]
async fn an_operator_is_never_booked_twice_at_once(pool: PgPool) {
    let p = minimal_plant(&pool).await;
    let second = another_task(&pool, &p, 2).await;
    let other_machine: i64 = sqlx::query_scalar(
        "INSERT INTO machines (code, name, department_id, machine_type, ideal_units_per_hour, commissioned_on) VALUES ('LATHE-02', 'Lathe 2', $1, 'lathe', 12, '2020-01-01') RETURNING id",
    )
    .bind(p.department)
    .fetch_one(&pool)
    .await
    .unwrap();
    assign(
        &pool,
        p.schedule,
        p.task,
        p.machine,
        Some(p.operator),
        "2026-11-02T08:00Z",
        "2026-11-02T10:00Z",
    )
    .await
    .expect("first");
    let err = assign(
        &pool,
        p.schedule,
        second,
        other_machine,
        Some(p.operator),
        "2026-11-02T09:00Z",
        "2026-11-02T11:00Z",
    )
    .await
    .unwrap_err();
    assert_eq!(constraint_of(err), "assignment_no_operator_overlap");
}

#[sqlx::test(migrator = "takt_server::db::MIGRATOR")]
async fn only_one_schedule_is_live(pool: PgPool) {
    let _p = minimal_plant(&pool).await;
    let err = sqlx::query(
        "INSERT INTO schedules (name, is_live, created_by) VALUES ('Second live', TRUE, 'planner')",
    )
    .execute(&pool)
    .await
    .unwrap_err();
    assert_eq!(constraint_of(err), "schedules_one_live");
}

#[sqlx::test(migrator = "takt_server::db::MIGRATOR")]
async fn domain_events_are_append_only(pool: PgPool) {
    sqlx::query("INSERT INTO domain_events (aggregate_type, aggregate_id, event_type, actor) VALUES ('machine', 'LATHE-01', 'MachineBrokeDown', 'planner')")
        .execute(&pool)
        .await
        .expect("append");
    for statement in [
        "UPDATE domain_events SET event_type = 'Nothing'",
        "DELETE FROM domain_events",
        "TRUNCATE domain_events",
    ] {
        let err = sqlx::query(statement).execute(&pool).await.unwrap_err();
        let text = err.to_string();
        assert!(text.contains("append-only"), "{statement}: {text}");
    }
    let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM domain_events")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(kept, 1);
}

/// Skill demand reads each task's fastest machine option from the task; the options' triggers
/// keep it equal to the minimum over the options through inserts, updates and deletes.
#[sqlx::test(migrator = "takt_server::db::MIGRATOR")]
async fn a_task_knows_its_fastest_machine_option(pool: PgPool) {
    let p = minimal_plant(&pool).await;
    let second: i64 = sqlx::query_scalar(
        "INSERT INTO machines (code, name, department_id, machine_type, ideal_units_per_hour, commissioned_on)
         VALUES ('LATHE-02', 'Lathe 2', $1, 'lathe', 12, '2020-01-01') RETURNING id",
    )
    .bind(p.department)
    .fetch_one(&pool)
    .await
    .unwrap();
    let fastest = |pool: PgPool| async move {
        sqlx::query_scalar::<_, Option<i32>>("SELECT fastest_option_s FROM tasks WHERE id = $1")
            .bind(p.task)
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    assert_eq!(fastest(pool.clone()).await, None, "no option yet");
    sqlx::query("INSERT INTO task_machine_options (task_id, machine_id, duration_s) VALUES ($1, $2, 900), ($1, $3, 600)")
        .bind(p.task)
        .bind(p.machine)
        .bind(second)
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(fastest(pool.clone()).await, Some(600));
    sqlx::query("UPDATE task_machine_options SET duration_s = 1200 WHERE machine_id = $1")
        .bind(second)
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(
        fastest(pool.clone()).await,
        Some(900),
        "the other machine is now faster"
    );
    sqlx::query("DELETE FROM task_machine_options WHERE machine_id = $1")
        .bind(p.machine)
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(fastest(pool.clone()).await, Some(1200));
    sqlx::query("DELETE FROM task_machine_options")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(fastest(pool.clone()).await, None, "no option left");
}

/// Skill demand reads `open_skill_demand`, which statement triggers on `tasks` keep equal to
/// the open tasks' fastest options per department and skill: through new options, new tasks,
/// status changes, a move to another department and skill, deletes and a truncate.
#[sqlx::test(migrator = "takt_server::db::MIGRATOR")]
async fn open_skill_demand_follows_the_tasks(pool: PgPool) {
    let p = minimal_plant(&pool).await;
    let demand = |pool: PgPool| async move {
        sqlx::query_as::<_, (String, String, i64, i64)>(
            "SELECT d.code, s.code, o.priced_tasks, o.demand_s FROM open_skill_demand o
             JOIN departments d ON d.id = o.department_id JOIN skills s ON s.id = o.skill_id
             ORDER BY 1, 2",
        )
        .fetch_all(&pool)
        .await
        .unwrap()
    };
    let row = |d: &str, s: &str, n: i64, secs: i64| (d.to_string(), s.to_string(), n, secs);
    let run = |sql: &'static str, pool: PgPool| async move {
        sqlx::raw_sql(sql).execute(&pool).await.unwrap();
    };
    let run_on = |sql: &'static str, id: i64, pool: PgPool| async move {
        sqlx::query(sql).bind(id).execute(&pool).await.unwrap();
    };
    assert_eq!(demand(pool.clone()).await, vec![], "no option, no demand");
    let second = another_task(&pool, &p, 2).await;
    let third = another_task(&pool, &p, 3).await;
    sqlx::query(
        "INSERT INTO task_machine_options (task_id, machine_id, duration_s)
         VALUES ($1, $4, 600), ($2, $4, 900), ($3, $4, 1500)",
    )
    .bind(p.task)
    .bind(second)
    .bind(third)
    .bind(p.machine)
    .execute(&pool)
    .await
    .unwrap();
    assert_eq!(
        demand(pool.clone()).await,
        vec![row("machining", "turning", 3, 3000)]
    );
    run_on(
        "UPDATE tasks SET status = 'done' WHERE id = $1",
        second,
        pool.clone(),
    )
    .await;
    assert_eq!(
        demand(pool.clone()).await,
        vec![row("machining", "turning", 2, 2100)],
        "a finished task is no demand"
    );
    run("UPDATE tasks SET status = 'in_progress'", pool.clone()).await;
    assert_eq!(
        demand(pool.clone()).await,
        vec![row("machining", "turning", 3, 3000)],
        "an update of open and closed tasks at once"
    );
    run(
        "INSERT INTO departments (code, name) VALUES ('assembly', 'Assembly');
         INSERT INTO skills (code, name, department_id)
         SELECT 'fitting', 'Fitting', id FROM departments WHERE code = 'assembly'",
        pool.clone(),
    )
    .await;
    run_on(
        "UPDATE tasks SET department_id = (SELECT id FROM departments WHERE code = 'assembly'),
                          required_skill_id = (SELECT id FROM skills WHERE code = 'fitting')
         WHERE id = $1",
        third,
        pool.clone(),
    )
    .await;
    assert_eq!(
        demand(pool.clone()).await,
        vec![
            row("assembly", "fitting", 1, 1500),
            row("machining", "turning", 2, 1500)
        ]
    );
    run_on(
        "DELETE FROM task_machine_options WHERE task_id = $1",
        p.task,
        pool.clone(),
    )
    .await;
    assert_eq!(
        demand(pool.clone()).await,
        vec![
            row("assembly", "fitting", 1, 1500),
            row("machining", "turning", 1, 900)
        ],
        "the options' trigger updates the task, and the task's trigger the demand"
    );
    run("DELETE FROM task_machine_options", pool.clone()).await;
    run("DELETE FROM tasks", pool.clone()).await;
    assert_eq!(
        demand(pool.clone()).await,
        vec![
            row("assembly", "fitting", 0, 0),
            row("machining", "turning", 0, 0)
        ]
    );
    run("TRUNCATE tasks CASCADE", pool.clone()).await;
    assert_eq!(demand(pool.clone()).await, vec![]);
}
