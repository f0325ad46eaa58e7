// What every UI e2e suite does with the workbench page (code-server in Chromium, driven by Playwright):
// named steps with a screenshot on failure, F1 commands, toasts, modal dialogs, quick picks, the SPtrader
// sidebar and the status bar. A suite makes one with `workbench(page, { results, resultsDir, prefix })`.
// Past 450 lines on purpose: every suite drives the one workbench page through these steps, and each step's waits
// (what code-server shows when, and what to do when a row will not hold still) belong beside the others.
import { join } from 'node:path';

/**
 * Chooses a row of the open quick input (the palette or a quick pick): a click, and where the list will not
 * hold still for one ("element is not stable", seen in clean-clone CI runs), the keyboard: the input keeps
 * focus, so Down moves the list's focus until the focused row is the one named, and Enter chooses it.
 */
export async function chooseRow(page, row, name, { clickTimeout = 8_000 } = {}) {
  try {
    await row.click({ timeout: clickTimeout });
    return;
  } catch (e) {
    if (!/stable|visible|intercepts|Timeout/i.test(String(e.message || e))) throw e;
  }
  const widget = page.locator('.quick-input-widget');
  const matches = (label) => (name instanceof RegExp ? name.test(label) : label.includes(name));
  const seen = [];
  for (let i = 0; i < 60; i++) {
    const label =
      (await widget
        .locator('.quick-input-list .monaco-list-row.focused')
        .first()
        .getAttribute('aria-label', { timeout: 2_000 })
        .catch(() => '')) ?? '';
    if (matches(label)) {
      await widget.locator('input.input').first().press('Enter');
      console.log(`    (the row "${label}" would not hold still for a click: chosen with the keyboard)`);
      return;
    }
    seen.push(label);
    await widget.locator('input.input').first().press('ArrowDown');
  }
  throw new Error(
    `no row ${name} to choose in the quick input (focus went through: ${[...new Set(seen)].join(' | ')})`,
  );
}

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
    await chooseRow(page(), row, title);
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
    await chooseRow(page(), widget.locator('.quick-input-list .monaco-list-row', { hasText: re }).first(), re);
  }

  /** Types into an open input box (a showInputBox) and accepts it. */
  async function answer(text, timeout = 30_000) {
    const input = page().locator('.quick-input-widget input.input:visible').first();
    await input.waitFor({ state: 'visible', timeout });
    // The quick pick that ran the command shares the widget and stays visible for a moment after its
    // row is chosen: typing then goes to the closing pick, and the input box that opens after it waits
    // forever. An input box has no rows, so wait until none is shown.
    const rows = page().locator('.quick-input-widget .quick-input-list .monaco-list-row:visible');
    const deadline = Date.now() + timeout;
    while ((await rows.count()) > 0) {
      if (Date.now() > deadline) throw new Error(`no input box within ${timeout / 1000}s (a quick pick is still open)`);
      await page().waitForTimeout(50);
    }
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

  /**
   * Opens a workspace file by its path through Quick Open (Ctrl+P) in the first editor group, as a user
   * clicking into their code does, and focuses its editor. (Quick Open opens in the active group: from the
   * result panel's group it would hide the panel behind the file, and the next run would wait for its
   * webview to be made again.)
   */
  async function openFile(name) {
    await runFromPalette('View: Focus First Editor Group').catch(() => undefined);
    await runFromPalette('Go to File...').catch(async () => {
      await page().keyboard.press('Escape');
      await page().keyboard.press('Control+P');
    });
    const input = page().locator('.quick-input-widget input.input');
    await input.waitFor({ state: 'visible', timeout: 15_000 });
    await input.fill(name);
    // The row of the file named exactly so: 'spread_guarded_market.py' is also part of 'test_spread_guarded_market.py',
    // which Quick Open may list first (recently opened).
    const exact = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
    const row = page()
      .locator('.quick-input-list .monaco-list-row')
      .filter({ has: page().locator('.label-name', { hasText: exact }) })
      .first();
    await row.waitFor({ state: 'visible', timeout: 15_000 });
    await chooseRow(page(), row, name);
    // The file opens in the active editor group (a result panel may have taken another group).
    const group = page().locator('.editor-group-container.active');
    await group.locator('.tabs-container .tab.active', { hasText: name }).first().waitFor({ state: 'visible' });
    const editor = group.locator('.monaco-editor .view-lines').first();
    await editor.waitFor({ state: 'visible' });
    // Quick Open leaves the focus in the editor: no click (one in the editor can land on a CodeLens and run
    // it). From the top, where the CodeLenses are (an editor shown again keeps where it was scrolled to).
    await group.locator('.monaco-editor.focused').first().waitFor({ state: 'visible', timeout: 10_000 });
    await page().keyboard.press('Control+Home');
  }

  /** The inner documents of the open webviews (each webview is two nested iframes). */
  async function webviewFrames() {
    const outer = page().locator('iframe.webview.ready');
    const n = await outer.count();
    return Array.from({ length: n }, (_, i) =>
      outer.nth(i).contentFrame().locator('iframe#active-frame').contentFrame(),
    );
  }

  /** What identifies a shown result: its headline and run time, once it has finished running. */
  async function resultKey(inner) {
    // The elements' text as the page holds it (textContent): the same text watchPaint compares in the frame.
    const [headline, ranAt, running] = await inner
      .locator('body')
      .evaluate(
        () => ['headline', 'ran-at', 'running'].map((id) => document.getElementById(id)?.textContent ?? ''),
        undefined,
        { timeout: 2000 },
      )
      .catch(() => ['', '', 'x']);
    return {
      headline: headline.trim(),
      key: `${headline}\n${ranAt}`,
      done: headline.trim() !== '' && running.trim() === '',
    };
  }

  /** The newest result panel's headline once it matches `re` and differs from `previous` (a key). */
  async function resultHeadline(re, previous, timeout = 90_000) {
    const deadline = Date.now() + timeout;
    for (;;) {
      for (const inner of await webviewFrames()) {
        const r = await resultKey(inner);
        if (r.done && r.key !== previous && re.test(r.headline))
          return { headline: r.headline, key: r.key, frame: inner };
      }
      if (Date.now() > deadline) throw new Error(`no new result matching ${re} within ${timeout / 1000}s`);
      await page().waitForTimeout(250);
    }
  }

  /**
   * In a result frame: notes (in window.__sptraderPainted) when a finished result other than `previous`
   * is painted (the frame after the DOM change), or now if one already shows. Watched before a click
   * (`[previous, true]`), what the frame shows then never counts: only a result drawn after it. Run with
   * Locator.evaluate, whose function gets the element first.
   */
  const watchPaint = (_body, [previous, beforeClick]) => {
    const text = (id) => document.getElementById(id)?.textContent ?? '';
    const keyNow = () => `${text('headline')}\n${text('ran-at')}`;
    const shown = beforeClick ? keyNow() : undefined;
    const check = () => {
      if (window.__sptraderPainted !== undefined) return;
      const headline = text('headline');
      const key = keyNow();
      if (headline.trim() === '' || text('running').trim() !== '' || key === previous || key === shown) return;
      window.__sptraderPainted = null;
      window.__sptraderShownInDom = Date.now();
      requestAnimationFrame(() => setTimeout(() => (window.__sptraderPainted = Date.now()), 0));
    };
    window.__sptraderPainted = undefined;
    window.__sptraderObserver?.disconnect();
    window.__sptraderObserver = new MutationObserver(check);
    window.__sptraderObserver.observe(document.body, { subtree: true, childList: true, characterData: true });
    check();
    return true;
  };

  /**
   * Clicks `target` and measures the time from the click to the painted result: a finished result panel
   * showing a headline matching `re` other than `previous`. The click's time is taken just before Playwright
   * clicks (the system clock the page and its frames share): the page's own pointerdown was seen to arrive
   * after a CodeLens's run had already been painted, so it cannot anchor the figure; this one errs on the
   * slow side by Playwright's own click. A panel open before the click is watched from the click; a panel
   * that opens after it is watched from when it is found, so for a first run the figure is at most one poll
   * (50 ms) late. Returns `ms`, and the times of the click, of the result entering the panel's DOM and of
   * its paint.
   */
  /**
   * Watches the page, from now, for the first frame in which a notification toast whose text matches `re`
   * is drawn (toasts already on screen do not count); `toastShownAt()` reads that time (undefined until then).
   */
  async function watchToast(re) {
    await page().evaluate((source) => {
      const wanted = new RegExp(source);
      const message = (t) => t.querySelector('.notification-list-item-message')?.textContent ?? '';
      const before = new Set(
        [...document.querySelectorAll('.notifications-toasts .notification-toast')].filter((t) =>
          wanted.test(message(t)),
        ),
      );
      window.__sptraderToastAt = undefined;
      const tick = () => {
        const shown = [...document.querySelectorAll('.notifications-toasts .notification-toast')].some(
          (t) => !before.has(t) && t.getClientRects().length > 0 && wanted.test(message(t)),
        );
        if (shown) {
          window.__sptraderToastAt = Date.now();
          return;
        }
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    }, re.source);
  }

  const toastShownAt = () => page().evaluate(() => window.__sptraderToastAt);

  /**
   * Clicks `target` and measures the time to the paint of a new result matching `re` in the result panel;
   * with `toastRe`, also to the first frame showing a notification matching it (`toastMs`, null if none
   * came within a few seconds of the panel's result).
   */
  async function clickToResult(target, re, previous, timeout = 90_000, toastRe = undefined) {
    // Evaluated in a result frame; a frame being replaced answers undefined.
    const inFrame = (inner, fn, arg) =>
      inner
        .locator('body')
        .evaluate(fn, arg, { timeout: 2000 })
        .catch(() => undefined);
    const results = async () => {
      const frames = [];
      for (const inner of await webviewFrames()) {
        const headlines = await inner
          .locator('#headline')
          .count()
          .catch(() => 0);
        if (headlines > 0) frames.push(inner);
      }
      return frames;
    };
    // Every open panel is watched before the click (a watch that failed would leave an earlier run's paint).
    for (const inner of await results())
      for (let attempt = 0; (await inFrame(inner, watchPaint, [previous, true])) !== true; attempt++)
        if (attempt >= 5) throw new Error('the result panel could not be watched before the click');
    if (toastRe) await watchToast(toastRe);
    // The click is the page's pointerdown (the editor runs a CodeLens on it): Playwright may first wait for
    // the element to be stable, which no user waits for. Before the click, the time just before it stands in.
    await page().evaluate(() => {
      window.__sptraderClickAt = undefined;
      const at = () => (window.__sptraderClickAt ??= Date.now());
      document.addEventListener('pointerdown', at, { capture: true, once: true });
      document.addEventListener('mousedown', at, { capture: true, once: true });
    });
    const beforeClick = Date.now();
    await target.click();
    const clickAt = (await page().evaluate(() => window.__sptraderClickAt)) ?? beforeClick;
    const deadline = Date.now() + timeout;
    for (;;) {
      for (const inner of await results()) {
        const painted = await inFrame(inner, () =>
          window.__sptraderObserver === undefined ? 'unwatched' : (window.__sptraderPainted ?? 'waiting'),
        );
        if (painted === 'unwatched') await inFrame(inner, watchPaint, [previous, false]);
        if (typeof painted !== 'number') continue;
        const r = await resultKey(inner);
        if (!r.done || r.key === previous || !re.test(r.headline)) continue;
        if (painted < clickAt)
          throw new Error(
            `a paint from before the click (${clickAt - painted} ms) was seen: ${JSON.stringify(r.key)} after ${JSON.stringify(previous)}`,
          );
        const inDomAt = await inFrame(inner, () => {
          window.__sptraderObserver?.disconnect();
          return window.__sptraderShownInDom;
        });
        // The page's own record of the paint (result.ts marks it, with the headline and run time it drew): the
        // watcher above sees a panel that opened after the click only once a poll finds its frame (up to ~0.9 s
        // late on a loaded machine), the page's mark when it was drawn. Taken when it is this result's, after the click.
        const own = await inFrame(inner, () => {
          const m = performance.getEntriesByName('sptrader:painted').pop();
          return m ? { at: performance.timeOrigin + m.startTime, key: m.detail } : undefined;
        });
        const ownAt =
          own && own.key === r.key && own.at >= clickAt && own.at <= painted ? Math.round(own.at) : undefined;
        let toastMs = null;
        if (toastRe) {
          const toastDeadline = Date.now() + 5000;
          let at;
          while ((at = await toastShownAt()) === undefined && Date.now() < toastDeadline)
            await page().waitForTimeout(50);
          if (at !== undefined) toastMs = at - clickAt;
        }
        return {
          ms: (ownAt ?? painted) - clickAt,
          /** When the test's watcher saw the paint (later than the page's own mark when the panel opened after the click). */
          seenMs: painted - clickAt,
          /** Whether `ms` is the page's own mark of the paint. */
          pageMark: ownAt !== undefined,
          toastMs,
          clickAt,
          /** How long Playwright took to press after it was asked (element stability): not in `ms`. */
          pressWaitMs: clickAt - beforeClick,
          inDomAt,
          paintedAt: ownAt ?? painted,
          headline: r.headline,
          key: r.key,
          frame: inner,
        };
      }
      if (Date.now() > deadline) throw new Error(`no new result matching ${re} within ${timeout / 1000}s of the click`);
      await page().waitForTimeout(50);
    }
  }

  /**
   * Clicks `target` and measures the time from the click (the page's mousedown) to the frame in which a
   * quick pick row matching `re` is drawn: the editor's round trip through the extension host with no work
   * behind it, the floor beside clickToResult's figures.
   */
  async function clickToQuickPick(target, re, timeout = 30_000) {
    // A quick pick closed keeps its rows in the page: only a shown one counts.
    await page().locator('.quick-input-widget').waitFor({ state: 'hidden', timeout });
    await page().evaluate((source) => {
      const rowShown = new RegExp(source);
      window.__sptraderClickAt = undefined;
      window.__sptraderShownAt = undefined;
      const at = () => (window.__sptraderClickAt ??= Date.now());
      // pointerdown first: the editor runs a CodeLens on it and may cancel the mousedown that follows.
      document.addEventListener('pointerdown', at, { capture: true, once: true });
      document.addEventListener('mousedown', at, { capture: true, once: true });
      const tick = () => {
        const widget = document.querySelector('.quick-input-widget');
        const shown =
          widget !== null && widget.getClientRects().length > 0 && getComputedStyle(widget).display !== 'none';
        const rows = shown ? [...widget.querySelectorAll('.quick-input-list .monaco-list-row')] : [];
        if (window.__sptraderClickAt !== undefined && rows.some((r) => rowShown.test(r.textContent ?? ''))) {
          window.__sptraderShownAt = Date.now();
          return;
        }
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    }, re.source);
    // Timed from just before Playwright clicks, as clickToResult is (the same clock).
    const clickAt = Date.now();
    await target.click();
    await page().waitForFunction(() => window.__sptraderShownAt !== undefined, undefined, { timeout });
    return (await page().evaluate(() => window.__sptraderShownAt)) - clickAt;
  }

  return {
    openFile,
    clickToQuickPick,
    webviewFrames,
    resultHeadline,
    clickToResult,
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
