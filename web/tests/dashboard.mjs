// Browser tests of the dashboard: headless Debian chromium driven by playwright-core.
// Usage: node tests/web/dashboard.mjs BASE_URL TOKEN SCREENSHOT_DIR
// Prints one TAP line per check (the suite runner counts them) and exits 1 on a failure.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';

const [base, token, shots] = process.argv.slice(2);
let n = 0, failed = 0;
const ok = (cond, desc, detail) => {
  n++;
  if (cond) console.log(`ok ${n} - ${desc}`);
  else { failed++; console.log(`not ok ${n} - ${desc}${detail ? ' # ' + detail : ''}`); }
};

fs.mkdirSync(shots, { recursive: true });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
         '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const errors = [];
try {
  for (const [label, viewport] of [['desktop', { width: 1280, height: 900 }], ['phone', { width: 390, height: 844 }]]) {
    const page = await browser.newPage({ viewport });
    page.on('pageerror', e => errors.push(`${label}: ${e.message}`));
    page.on('console', m => { if (m.type() === 'error') errors.push(`${label} console: ${m.text()}`); });
    await page.goto(`${base}/#token=${token}`);

    // Overview: the index and one bar per tension
    await page.waitForSelector('[data-testid="sbi"]', { timeout: 15000 });
    const sbi = await page.textContent('[data-testid="sbi"]');
    ok(/^0\.\d{3}$|^1\.000$/.test(sbi.trim()), `${label}: overview shows the balance index (${sbi.trim()})`);
    ok(await page.locator('.tension .bar').count() >= 1, `${label}: overview shows a bar per tension`);
    ok(await page.locator('nav a[aria-current="page"]').count() === 1, `${label}: current page marked for screen readers`);
    await page.screenshot({ path: path.join(shots, `${label}-overview.png`), fullPage: true });

    // Model: searchable table
    await page.click('nav a[data-page="model"]');
    await page.waitForSelector('#model-q');
    const all = await page.locator('tbody tr').count();
    await page.fill('#model-q', 'cash');
    const some = await page.locator('tbody tr').count();
    ok(all > 20 && some > 0 && some < all, `${label}: model page lists ${all} variables, search narrows to ${some}`);
    await page.screenshot({ path: path.join(shots, `${label}-model.png`), fullPage: true });

    // Scenarios: a fan chart
    await page.click('nav a[data-page="scenarios"]');
    await page.waitForSelector('#sc-var');
    await page.fill('#sc-runs', '200');
    await page.click('#sc-go');
    await page.waitForSelector('[data-testid="fan"] canvas', { timeout: 30000 });
    ok(true, `${label}: scenarios page draws a fan chart`);
    await page.screenshot({ path: path.join(shots, `${label}-scenarios.png`), fullPage: true });

    // Levers: move a slider, the chart is redrawn with new data
    await page.click('nav a[data-page="levers"]');
    await page.waitForSelector('[data-testid="lever-chart"][data-version]', { timeout: 30000 });
    const v1 = await page.getAttribute('[data-testid="lever-chart"]', 'data-version');
    const slider = page.locator('input[type="range"]').first();
    await slider.focus();
    for (let i = 0; i < 5; i++) await page.keyboard.press('ArrowRight'); // keyboard-usable
    await page.waitForFunction(v => document.querySelector('[data-testid="lever-chart"]').dataset.version !== v, v1, { timeout: 30000 });
    ok(true, `${label}: moving a lever with the keyboard redraws the chart`);
    await page.screenshot({ path: path.join(shots, `${label}-levers.png`), fullPage: true });

    // Scorecard: upload a KPI file, the page updates (a new latest churn changes the total)
    await page.click('nav a[data-page="scorecard"]');
    await page.waitForSelector('[data-testid="total"]');
    const before = await page.textContent('[data-testid="total"]');
    const churn = label === 'desktop' ? '0.2' : '0.001';
    await page.setInputFiles('#kpi-file', { name: 'kpis.csv', mimeType: 'text/csv',
      buffer: Buffer.from(`date,kpi,value\n2031-01,logo_churn,${churn}\n`) });
    await page.click('#kpi-upload');
    await page.waitForFunction(() => /Imported \d+ rows/.test(document.getElementById('status').textContent), null, { timeout: 15000 });
    const after = await page.textContent('[data-testid="total"]');
    ok(after !== before, `${label}: KPI upload updates the scorecard (total ${before} -> ${after})`);
    await page.screenshot({ path: path.join(shots, `${label}-scorecard.png`), fullPage: true });

    // KPI page: control chart of the uploaded KPI
    await page.click('nav a[data-page="kpi"]');
    await page.waitForSelector('#kpi-pick');
    ok(await page.locator('#kpi-pick option').count() >= 1, `${label}: KPI page lists the uploaded KPI`);
    await page.screenshot({ path: path.join(shots, `${label}-kpi.png`), fullPage: true });
    await page.close();
  }
  ok(errors.length === 0, 'no script errors in the pages', errors.slice(0, 3).join(' | '));
} catch (e) {
  ok(false, 'browser session', e.message.split('\n')[0]);
} finally {
  await browser.close();
}
console.log(`1..${n}`);
process.exit(failed ? 1 : 0);
