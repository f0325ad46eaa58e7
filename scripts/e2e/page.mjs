// What every UI e2e suite does with the workbench page (code-server in Chromium, driven by Playwright):
// named steps with a screenshot on failure, F1 commands, toasts, modal dialogs, quick picks, the SPtrader
// sidebar and the status bar. A suite makes one with `workbench(page, { results, resultsDir, prefix })`.
import { join } from 'node:path';

export function workbench(getPage, { results, resultsDir, prefix = '' }) {
  const page = () => getPage();

  /** Runs one named check; a failure is recorded (with a screenshot) and, if `required`, stops the run. */
  async function step(name, fn, { required = false } = {}) {
    const t0 = Date.now();
    try {
      const detail = await fn();
      results.push({ name, ok: true });
      console.log(`  ✔ ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)${detail ? `: ${detail}` : ''}`);
      return true;
    } catch (e) {
      results.push({ name, ok: false });
      console.log(
        `  ✘ ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s): ${String(e.message || e)
          .split('\n')
          .slice(0, 6)
          .join('\n      ')}`,
      );
      const slug = name
        .replace(/[^a-z0-9]+/gi, '-')
        .toLowerCase()
        .slice(0, 40);
      await page()
        ?.screenshot({ path: join(resultsDir, `${prefix}fail-${slug}.png`) })
        .catch(() => {});
      if (required) throw new Error(`required step failed: ${name}`);
      return false;
    }
  }

  /** Opens F1 and types `>title`; retried when the palette does not take typing (focus held elsewhere). */
  async function openPalette(title) {
    const input = page().locator('.quick-input-widget input.input');
    for (let attempt = 1; ; attempt++) {
      await page().keyboard.press('Escape');
      await page().keyboard.press('F1');
      try {
        await input.waitFor({ state: 'visible', timeout: 15_000 });
        await input.fill(`>${title}`, { timeout: 10_000 });
        return;
      } catch (e) {
        if (attempt >= 3) throw e;
        console.log(`    (the command palette did not take "${title}" (attempt ${attempt}): opening it again)`);
      }
    }
  }

  /** Runs a command from F1 by its palette title (chosen once; only opening and typing are retried). */
  async function runFromPalette(title) {
    await openPalette(title);
    const row = page().locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
    await row.waitFor({ state: 'visible', timeout: 15_000 });
    await row.click();
  }

  /** The open quick pick: its title and rows, once a row matches `re`. */
  async function quickPick(re, timeout = 30_000) {
    const widget = page().locator('.quick-input-widget');
    await widget.waitFor({ state: 'visible', timeout });
    const row = widget.locator('.quick-input-list .monaco-list-row', { hasText: re }).first();
    await row.waitFor({ state: 'visible', timeout });
    const title = (
      await widget
        .locator('.quick-input-title')
        .innerText()
        .catch(() => '')
    ).trim();
    const rows = (await widget.locator('.quick-input-list .monaco-list-row').allInnerTexts()).map((t) =>
      t.replace(/\s+/g, ' ').trim(),
    );
    return { widget, title, rows };
  }

  /** Picks the quick pick's row matching `re`. */
  async function pick(re, timeout = 30_000) {
    const { widget } = await quickPick(re, timeout);
    await widget.locator('.quick-input-list .monaco-list-row', { hasText: re }).first().click();
  }

  /** Types into an open input box (a showInputBox) and accepts it. */
  async function answer(text, timeout = 30_000) {
    const input = page().locator('.quick-input-widget input.input:visible').first();
    await input.waitFor({ state: 'visible', timeout });
    // Typed, not filled: the box may still be settling after the quick pick that opened it.
    await input.focus();
    await page().keyboard.press('Control+A');
    await page().keyboard.type(text);
    await page().keyboard.press('Enter');
  }

  /** The visible toast whose message matches `re` (toasts render only without the smoke-test driver flag). */
  async function toastItem(re, timeout = 30_000) {
    const deadline = Date.now() + timeout;
    for (;;) {
      const toasts = page().locator('.notifications-toasts .notification-toast');
      const n = await toasts.count();
      for (let i = 0; i < n; i++) {
        const t = toasts.nth(i);
        const text = await t
          .locator('.notification-list-item-message')
          .innerText({ timeout: 1000 })
          .catch(() => '');
        if (re.test(text)) return t;
      }
      if (Date.now() > deadline) {
        const all = await page()
          .locator('.notifications-toasts .notification-list-item-message')
          .allInnerTexts()
          .catch(() => []);
        throw new Error(`no notification ${re} within ${timeout / 1000}s (shown: ${all.join(' | ') || 'none'})`);
      }
      await page().waitForTimeout(200);
    }
  }

  async function toast(re, timeout) {
    const item = await toastItem(re, timeout);
    return (await item.locator('.notification-list-item-message').innerText()).replace(/\s+/g, ' ').trim();
  }

  async function clearNotifications() {
    await runFromPalette('Notifications: Clear All Notifications');
    await page().keyboard.press('Escape');
  }

  /** A modal dialog (code-server draws them in the DOM) whose text matches `re`. */
  async function dialog(re, timeout = 30_000) {
    const box = page().locator('.monaco-dialog-box');
    const deadline = Date.now() + timeout;
    while (!((await box.isVisible()) && re.test(await box.innerText()))) {
      if (Date.now() > deadline) throw new Error(`no dialog ${re} within ${timeout / 1000}s`);
      await page().waitForTimeout(200);
    }
    return box;
  }

  /** Confirms a modal dialog matching `re` with its button `label`; returns the dialog's text. */
  async function confirm(re, label, timeout = 30_000) {
    const box = await dialog(re, timeout);
    const text = (await box.innerText()).replace(/\s+/g, ' ').trim();
    await box.locator('.monaco-button', { hasText: label }).first().click();
    return text;
  }

  /** The SPtrader status bar item whose text matches `re`, once it shows. */
  async function statusItem(re, timeout = 30_000) {
    const item = page().locator('#workbench\\.parts\\.statusbar .statusbar-item', { hasText: re }).first();
    await item.waitFor({ state: 'visible', timeout });
    return item;
  }

  /** The rows of one SPtrader sidebar view (`Positions`, `Open Orders`…), once one matches `re`. */
  async function sidebarRows(view, re, timeout = 30_000) {
    const container = page().locator('[id="workbench.view.extension.sptrader"]');
    if (!(await container.isVisible())) {
      // Click the item, not its <a>: with a uri-icon the anchor can report no box to Playwright.
      await page().locator('.activitybar .action-item:has(a[aria-label^="SPtrader"])').first().click();
      await container.waitFor({ state: 'visible' });
    }
    const pane = container
      .locator('.pane', { has: page().locator('.pane-header', { hasText: new RegExp(view, 'i') }) })
      .first();
    const header = pane.locator('.pane-header');
    if ((await header.count()) > 0 && (await header.getAttribute('aria-expanded')) === 'false') await header.click();
    const row = pane.locator('.monaco-list-row', { hasText: re }).first();
    await row.waitFor({ state: 'visible', timeout });
    return (await pane.locator('.monaco-list-row').allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
  }

  return {
    step,
    openPalette,
    runFromPalette,
    quickPick,
    pick,
    answer,
    toastItem,
    toast,
    clearNotifications,
    dialog,
    confirm,
    statusItem,
    sidebarRows,
  };
}
