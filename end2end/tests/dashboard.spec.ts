import { test, expect, type Page } from '@playwright/test';
import { execFileSync } from 'node:child_process';

// Counts taken straight from Postgres with psql, to compare against what the page shows.
function sql(query: string): number {
  const url = process.env.E2E_DATABASE_URL;
  if (!url) throw new Error('E2E_DATABASE_URL is not set');
  const out = execFileSync('psql', [url, '-Atc', query], { encoding: 'utf8' });
  return Number(out.trim());
}

function watchConsole(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  page.on('pageerror', (err) => errors.push(String(err)));
  return errors;
}

async function tile(page: Page, id: string): Promise<number> {
  const text = await page.getByTestId(id).locator('.tile-value').innerText();
  return Number(text.trim());
}

test('the dashboard shows live counts from Postgres and hydrates', async ({ page }) => {
  const errors = watchConsole(page);
  await page.goto('/');
  await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible();
  // Wait for hydration: the WASM bundle marks the document once it has attached.
  await page.waitForFunction(() => (window as any).__TAKT_HYDRATED === true, null, { timeout: 30_000 });

  const openJobs = sql("SELECT count(*) FROM jobs WHERE status IN ('planned','released','in_progress')");
  const inService = sql("SELECT count(*) FROM machines WHERE status <> 'retired'");
  expect(openJobs).toBeGreaterThan(0);
  expect(await tile(page, 'open-jobs')).toBe(openJobs);
  expect(await tile(page, 'machines-in-service')).toBe(inService);
  // Late jobs move with the clock; they can only grow between the page and this count.
  const late = await tile(page, 'late-jobs');
  expect(late).toBeLessThanOrEqual(sql("SELECT count(*) FROM jobs WHERE status IN ('planned','released','in_progress') AND due_at < now()"));
  expect(late).toBeGreaterThan(0);

  // An interaction only the hydrated app can do: pick a department, the counts follow.
  await page.getByTestId('department-picker').selectOption('paint');
  await expect(page).toHaveURL(/department=paint/);
  await expect(page.getByTestId('as-of')).toContainText('department paint');
  const paintMachines = sql("SELECT count(*) FROM machines m JOIN departments d ON d.id = m.department_id WHERE d.code = 'paint' AND m.status <> 'retired'");
  expect(await tile(page, 'machines-in-service')).toBe(paintMachines);
  const paintOpen = sql("SELECT count(*) FROM jobs j WHERE status IN ('planned','released','in_progress') AND EXISTS (SELECT 1 FROM tasks t JOIN departments d ON d.id = t.department_id WHERE t.job_id = j.id AND d.code = 'paint')");
  expect(await tile(page, 'open-jobs')).toBe(paintOpen);

  // Refresh re-counts without a reload.
  const before = await page.getByTestId('as-of').innerText();
  await page.waitForTimeout(1100);
  await page.getByTestId('refresh').click();
  await expect(page.getByTestId('as-of')).not.toHaveText(before);

  expect(errors).toEqual([]);
});

test('navigation reaches every page of the shell', async ({ page }) => {
  const errors = watchConsole(page);
  await page.goto('/');
  await page.waitForFunction(() => (window as any).__TAKT_HYDRATED === true, null, { timeout: 30_000 });
  for (const name of ['Gantt', 'Machines', 'Operators', 'Flow', 'Optimize']) {
    await page.getByRole('link', { name, exact: true }).click();
    await expect(page.getByRole('heading', { name })).toBeVisible();
  }
  await page.getByRole('link', { name: 'Dashboard', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Dashboard' })).toBeVisible();
  await expect(page.getByTestId('acting-user')).toHaveText('Local planner');
  expect(errors).toEqual([]);
});

test('the layout fits a 10-inch tablet', async ({ page }) => {
  await page.setViewportSize({ width: 800, height: 1280 });
  await page.goto('/');
  await expect(page.getByTestId('open-jobs')).toBeVisible();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
});
