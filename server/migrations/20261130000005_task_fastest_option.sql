-- Skill demand sums the fastest machine option of every open task (75,000 on the large
-- factory); looking each one up in task_machine_options took 170 ms of operator load's 250.
-- The fastest option is kept on the task itself, by statement triggers on the options, so
-- demand reads one partial index. NULL: the task has no machine option (yet).
ALTER TABLE tasks ADD COLUMN fastest_option_s INTEGER CHECK (fastest_option_s > 0);

UPDATE tasks t SET fastest_option_s = m.s
FROM (SELECT task_id, min(duration_s) AS s FROM task_machine_options GROUP BY task_id) m
WHERE m.task_id = t.id;

-- Recomputes the tasks whose options a statement changed; writes only where the value moved
-- (a bulk load that already sets it costs one index probe per task, no writes). Each trigger
-- names only its own transition tables, so each is read in its own branch.
CREATE FUNCTION tasks_keep_fastest_option() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed BIGINT[] := '{}';
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        changed := changed || ARRAY(SELECT DISTINCT task_id FROM options_before);
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        changed := changed || ARRAY(SELECT DISTINCT task_id FROM options_after);
    END IF;
    UPDATE tasks t SET fastest_option_s = m.s
    FROM (SELECT c.task_id,
                 (SELECT min(o.duration_s) FROM task_machine_options o WHERE o.task_id = c.task_id) AS s
          FROM (SELECT DISTINCT unnest(changed) AS task_id) c) m
    WHERE t.id = m.task_id AND t.fastest_option_s IS DISTINCT FROM m.s;
    RETURN NULL;
END $$;

CREATE TRIGGER task_machine_options_insert AFTER INSERT ON task_machine_options
    REFERENCING NEW TABLE AS options_after
    FOR EACH STATEMENT EXECUTE FUNCTION tasks_keep_fastest_option();
CREATE TRIGGER task_machine_options_update AFTER UPDATE ON task_machine_options
    REFERENCING OLD TABLE AS options_before NEW TABLE AS options_after
    FOR EACH STATEMENT EXECUTE FUNCTION tasks_keep_fastest_option();
CREATE TRIGGER task_machine_options_delete AFTER DELETE ON task_machine_options
    REFERENCING OLD TABLE AS options_before
    FOR EACH STATEMENT EXECUTE FUNCTION tasks_keep_fastest_option();

-- Open work per department and skill with its fastest option: skill demand from the index alone.
CREATE INDEX tasks_open_skill_demand ON tasks (department_id, required_skill_id)
    INCLUDE (fastest_option_s)
    WHERE status IN ('pending', 'ready', 'in_progress');
