-- Skill demand (operator load) summed the fastest machine option of every open task on each
-- ask: 75,000 index entries on the large factory, ~8 ms of its ~12. The sums are kept here per
-- department and skill by statement triggers on tasks, so an ask reads a few dozen rows.
-- `priced_tasks` counts the open tasks whose fastest option is known (a task without machine
-- options has no demand yet); rows at zero stay (departments × skills bound the table).
CREATE TABLE open_skill_demand (
    department_id   BIGINT NOT NULL REFERENCES departments (id) ON DELETE CASCADE,
    skill_id        BIGINT NOT NULL REFERENCES skills (id) ON DELETE CASCADE,
    -- No CHECK (>= 0): an upsert checks the row it proposes, which for a delta is negative.
    priced_tasks    BIGINT NOT NULL,
    demand_s        BIGINT NOT NULL,
    PRIMARY KEY (department_id, skill_id)
);

INSERT INTO open_skill_demand (department_id, skill_id, priced_tasks, demand_s)
SELECT department_id, required_skill_id, count(*), sum(fastest_option_s)
FROM tasks
WHERE status IN ('pending', 'ready', 'in_progress') AND fastest_option_s IS NOT NULL
GROUP BY 1, 2;

-- Adds what the statement's new rows bring and takes away what its old rows brought, per
-- department and skill, in key order (concurrent writers lock the rows in the same order).
-- Each trigger names only its own transition tables, so each is read in its own branch.
CREATE FUNCTION open_skill_demand_follow_tasks() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO open_skill_demand AS d (department_id, skill_id, priced_tasks, demand_s)
        SELECT department_id, required_skill_id, count(*), sum(fastest_option_s)
        FROM tasks_after
        WHERE status IN ('pending', 'ready', 'in_progress') AND fastest_option_s IS NOT NULL
        GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (department_id, skill_id) DO UPDATE
        SET priced_tasks = d.priced_tasks + excluded.priced_tasks,
            demand_s = d.demand_s + excluded.demand_s;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO open_skill_demand AS d (department_id, skill_id, priced_tasks, demand_s)
        SELECT department_id, skill_id, sum(n), sum(s) FROM (
            SELECT department_id, required_skill_id AS skill_id, 1 AS n, fastest_option_s::bigint AS s
            FROM tasks_after
            WHERE status IN ('pending', 'ready', 'in_progress') AND fastest_option_s IS NOT NULL
            UNION ALL
            SELECT department_id, required_skill_id, -1, -fastest_option_s::bigint
            FROM tasks_before
            WHERE status IN ('pending', 'ready', 'in_progress') AND fastest_option_s IS NOT NULL
        ) x
        GROUP BY 1, 2 HAVING sum(n) <> 0 OR sum(s) <> 0 ORDER BY 1, 2
        ON CONFLICT (department_id, skill_id) DO UPDATE
        SET priced_tasks = d.priced_tasks + excluded.priced_tasks,
            demand_s = d.demand_s + excluded.demand_s;
    ELSE
        UPDATE open_skill_demand d
        SET priced_tasks = d.priced_tasks - x.n, demand_s = d.demand_s - x.s
        FROM (SELECT department_id, required_skill_id AS skill_id, count(*) AS n,
                     sum(fastest_option_s) AS s
              FROM tasks_before
              WHERE status IN ('pending', 'ready', 'in_progress') AND fastest_option_s IS NOT NULL
              GROUP BY 1, 2 ORDER BY 1, 2) x
        WHERE d.department_id = x.department_id AND d.skill_id = x.skill_id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER tasks_open_skill_demand_insert AFTER INSERT ON tasks
    REFERENCING NEW TABLE AS tasks_after
    FOR EACH STATEMENT EXECUTE FUNCTION open_skill_demand_follow_tasks();
CREATE TRIGGER tasks_open_skill_demand_update AFTER UPDATE ON tasks
    REFERENCING OLD TABLE AS tasks_before NEW TABLE AS tasks_after
    FOR EACH STATEMENT EXECUTE FUNCTION open_skill_demand_follow_tasks();
CREATE TRIGGER tasks_open_skill_demand_delete AFTER DELETE ON tasks
    REFERENCING OLD TABLE AS tasks_before
    FOR EACH STATEMENT EXECUTE FUNCTION open_skill_demand_follow_tasks();

-- TRUNCATE fires no row or transition-table trigger: empty the sums with the tasks.
CREATE FUNCTION open_skill_demand_empty() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM open_skill_demand;
    RETURN NULL;
END $$;

CREATE TRIGGER tasks_open_skill_demand_truncate AFTER TRUNCATE ON tasks
    FOR EACH STATEMENT EXECUTE FUNCTION open_skill_demand_empty();
